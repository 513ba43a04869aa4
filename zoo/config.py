"""Frozen dataclass configs: typed overrides, validation and a JSON round trip.

Every variant's config is a frozen dataclass deriving from :class:`Config`. Values are checked
against the field's type annotation when the config is built, so a wrong type or an unknown key is
an error that names the field instead of a crash deep inside a model.

Supported annotations: ``int``, ``float``, ``bool``, ``str``, ``Literal[...]``,
``tuple[T, ...]`` of those, and ``T | None``.

Longer than 300 lines: the type machinery and the image fields every variant shares belong together.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin

from zoo.errors import ConfigError

__all__ = ["DEFAULT_HIDDEN_DIMS", "DSPRITES_NETWORK", "Config", "ImageModelConfig",
           "parse_overrides"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_NONE = {"none", "null"}


def _describe(hint: Any) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple:
        return f"a sequence of {_describe(args[0])}"
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


class _UnsupportedAnnotation(TypeError):
    """A config field's annotation is outside what :class:`Config` can check and parse."""


_SUPPORTED = ("bool, int, float, str, Literal[...], tuple[T, ...] (e.g. tuple[int, ...]), or any "
              "of these | None")


def _coerce(hint: Any, value: Any, *, from_string: bool) -> Any:
    """``value`` converted to ``hint``; ``TypeError``/``ValueError`` if it cannot be."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if type(None) in args and (
            value is None or (from_string and str(value).strip().lower() in _NONE)
        ):
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, from_string=from_string)
            except _UnsupportedAnnotation:
                raise
            except (TypeError, ValueError):
                continue
        raise ValueError(value)
    if origin is Literal:
        for option in args:
            if from_string and isinstance(value, str) and str(option) == value.strip():
                return option
            if type(option) is type(value) and option == value:
                return option
        raise ValueError(value)
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise _UnsupportedAnnotation(hint)
        if from_string and isinstance(value, str):
            text = value.strip().strip("()[]")
            value = [v for v in (p.strip() for p in text.split(",")) if v]
        if not isinstance(value, (list, tuple)):
            raise ValueError(value)
        return tuple(_coerce(args[0], v, from_string=from_string) for v in value)
    if hint is bool:
        if from_string and isinstance(value, str):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        if isinstance(value, bool):
            return value
        raise ValueError(value)
    if hint is int:
        if from_string and isinstance(value, str):
            return int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(value)
    if hint is float:
        if from_string and isinstance(value, str):
            return float(value.strip())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ValueError(value)
    if hint is str:
        if isinstance(value, str):
            return value
        raise ValueError(value)
    raise _UnsupportedAnnotation(hint)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of every zoo config: a frozen, validated, JSON-serialisable dataclass.

    Subclasses are ``@dataclasses.dataclass(frozen=True)`` classes whose fields all have defaults
    and supported annotations; they override :meth:`validate` for cross-field checks.
    """

    _hints_cache: ClassVar[dict[type, dict[str, Any]]] = {}

    # -- construction and checking -------------------------------------------------------------
    def __post_init__(self) -> None:
        hints = self.field_types()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            coerced = self._convert(field.name, hints[field.name], value, from_string=False)
            if coerced is not value:
                object.__setattr__(self, field.name, coerced)
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; raise :class:`ConfigError` naming the field. Override to extend."""

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        """Map each field name to its resolved type annotation."""
        if cls not in Config._hints_cache:
            hints = typing.get_type_hints(cls)
            Config._hints_cache[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
        return Config._hints_cache[cls]

    @classmethod
    def _convert(cls, name: str, hint: Any, value: Any, *, from_string: bool) -> Any:
        try:
            return _coerce(hint, value, from_string=from_string)
        except _UnsupportedAnnotation as exc:
            bad = exc.args[0]
            shown = bad.__name__ if isinstance(bad, type) else repr(bad)
            raise ConfigError(
                f"{cls.__name__}.{name}: zoo configs cannot check the annotation "
                f"{shown}; annotate the field as "
                f"{_SUPPORTED}"
            ) from None
        except (TypeError, ValueError):
            raise ConfigError(
                f"{cls.__name__}.{name}: expected {_describe(hint)}, got {value!r}"
            ) from None

    @classmethod
    def _check_keys(cls, keys: Iterable[str]) -> None:
        known = list(cls.field_types())
        unknown = [k for k in keys if k not in known]
        if not unknown:
            return
        parts = []
        for key in unknown:
            close = difflib.get_close_matches(key, known, n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            parts.append(f"{key!r}{hint}")
        raise ConfigError(
            f"unknown config key(s) for {cls.__name__}: {', '.join(parts)}. "
            f"Valid keys: {', '.join(known)}"
        )

    # -- overrides -------------------------------------------------------------------------------
    def replace(self, **overrides: Any) -> Self:
        """Return a copy with ``overrides`` applied (Python values, checked against the types)."""
        self._check_keys(overrides)
        return dataclasses.replace(self, **overrides)

    def replace_from_strings(self, overrides: Mapping[str, str]) -> Self:
        """Return a copy with ``key=value`` string overrides parsed by each field's type.

        ``"32,64"`` or ``"[32, 64]"`` give a tuple, ``true``/``false`` a bool, ``none`` a None.
        """
        self._check_keys(overrides)
        hints = self.field_types()
        parsed = {
            key: self._convert(key, hints[key], value, from_string=True)
            for key, value in overrides.items()
        }
        return dataclasses.replace(self, **parsed)

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a dict such as :meth:`to_dict` returns; missing keys take their defaults."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        cls._check_keys(data)
        return cls(**dict(data))

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Self:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{cls.__name__}: config is not valid JSON ({exc})") from None
        return cls.from_dict(data)


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """Split CLI ``key=value`` strings into a dict; a malformed item is a :class:`ConfigError`."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not of the form key=value (e.g. latent_dim=8)")
        key = key.strip()
        if key in out:
            raise ConfigError(f"override key {key!r} given twice")
        out[key] = value
    return out


Activation = Literal["relu", "gelu", "silu", "elu", "leaky_relu", "tanh"]


#: Layer sizes used when ``hidden_dims`` is None: MLP widths, or CNN channels per stride-2 stage.
DEFAULT_HIDDEN_DIMS: dict[str, tuple[int, ...]] = {"mlp": (512, 256), "cnn": (32, 64)}

#: The standard dSprites network (Locatello et al. 2019, disentanglement_lib; Burgess et al.
#: 2018) as :class:`ImageModelConfig` settings: four 4x4 stride-2 convs of 32, 32, 64, 64
#: channels, dense 256, 10 Gaussian latents; the decoder mirrors it. 64x64 binary images.
DSPRITES_NETWORK: dict[str, object] = {
    "height": 64, "width": 64, "architecture": "cnn", "hidden_dims": (32, 32, 64, 64),
    "dense_dims": (256,), "mirror_decoder": True, "latent_dim": 10,
}


@dataclasses.dataclass(frozen=True)
class ImageModelConfig(Config):
    """Fields every image model in the zoo shares.

    ``hidden_dims`` are layer widths for ``architecture="mlp"`` and the channel count of each
    stride-2 stage for ``architecture="cnn"`` (so a CNN needs height and width divisible by
    ``2 ** len(hidden_dims)``). ``None`` picks the architecture's default
    (:data:`DEFAULT_HIDDEN_DIMS`); read the resolved sizes from :attr:`hidden`. CNN only:
    ``dense_dims`` are dense layers between the conv stack and the latent head (mirrored in the
    decoder); ``mirror_decoder`` makes the decoder's stages the encoder's in reverse, the last one
    giving the image (disentanglement_lib's deconv decoder) instead of ending in a full-resolution
    3x3 conv. The standard dSprites network is ``hidden_dims=(32, 32, 64, 64)``,
    ``dense_dims=(256,)``, ``mirror_decoder=True``.
    """

    height: int = 28
    width: int = 28
    channels: int = 1
    architecture: Literal["mlp", "cnn"] = "mlp"
    hidden_dims: tuple[int, ...] | None = None
    dense_dims: tuple[int, ...] = ()
    mirror_decoder: bool = False
    activation: Activation = "relu"
    reconstruction_loss: Literal["bernoulli", "mse"] = "bernoulli"

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        for field in ("height", "width", "channels"):
            if getattr(self, field) < 1:
                raise ConfigError(f"{name}.{field} must be >= 1")
        if self.hidden_dims is not None and (
            not self.hidden_dims or any(h < 1 for h in self.hidden_dims)
        ):
            raise ConfigError(
                f"{name}.hidden_dims must be a non-empty list of positive sizes (or none for "
                f"the architecture's default), got {self.hidden_dims!r}"
            )
        if any(d < 1 for d in self.dense_dims):
            raise ConfigError(f"{name}.dense_dims must be positive sizes, got {self.dense_dims!r}")
        if self.architecture != "cnn" and (self.dense_dims or self.mirror_decoder):
            raise ConfigError(f"{name}: dense_dims and mirror_decoder apply to architecture="
                              f"'cnn' only; for an MLP put every width in hidden_dims")
        if self.architecture == "cnn":
            factor = 2 ** len(self.hidden)
            if self.height % factor or self.width % factor:
                raise ConfigError(
                    f"{name}: architecture='cnn' with {len(self.hidden)} stride-2 stages "
                    f"needs height and width divisible by {factor}, got "
                    f"{self.height}x{self.width}; use fewer hidden_dims or resize the images"
                )

    @property
    def hidden(self) -> tuple[int, ...]:
        """The layer sizes in use: ``hidden_dims``, or the architecture's default."""
        if self.hidden_dims is not None:
            return self.hidden_dims
        return DEFAULT_HIDDEN_DIMS[self.architecture]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of one image."""
        return (self.height, self.width, self.channels)
