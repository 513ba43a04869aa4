"""What plugins register: variant and pretrained specs, and the name lookup over them."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

from zoo.config import Config
from zoo.errors import NameConflictError, PluginError, UnknownNameError

__all__ = ["PretrainedSpec", "Registry", "VariantSpec"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(
            f"{kind} name {name!r} is invalid: use lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (e.g. 'beta-vae')"
        )


@dataclasses.dataclass(frozen=True)
class VariantSpec:
    """A model variant a plugin provides.

    Attributes:
        name: registry name, e.g. ``"vqvae"``.
        config_class: the frozen :class:`~zoo.config.Config` subclass of this variant.
        default_config: an instance of ``config_class`` used when nothing is overridden.
        factory: ``factory(config, *, rngs: nnx.Rngs) -> nnx.Module``; the module must keep
            ``config`` as its ``config`` attribute.
        loss: ``loss(outputs, x, *, config, step) -> (scalar loss, metrics dict)`` where
            ``outputs`` is what the model's ``__call__`` returned for images ``x`` [B, H, W, C].
        conditional: whether the model's ``__call__`` takes integer ``labels`` [B].
        description: one line shown by ``zoo list`` and ``zoo info``.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    config_class: type[Config]
    default_config: Config
    factory: Callable[..., Any]
    loss: Callable[..., Any]
    conditional: bool = False
    description: str = ""
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        _check_name("variant", self.name)
        if not (isinstance(self.config_class, type) and issubclass(self.config_class, Config)):
            raise PluginError(
                f"variant {self.name!r}: config_class must be a zoo.config.Config subclass, "
                f"got {self.config_class!r}"
            )
        if not isinstance(self.default_config, self.config_class):
            raise PluginError(
                f"variant {self.name!r}: default_config must be an instance of "
                f"{self.config_class.__name__}, got {type(self.default_config).__name__}"
            )
        for attr in ("factory", "loss"):
            if not callable(getattr(self, attr)):
                raise PluginError(f"variant {self.name!r}: {attr} must be callable")


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """A pretrained model a plugin declares.

    Attributes:
        name: registry name, e.g. ``"vqvae-mnist"``.
        variant: the variant it instantiates.
        config: overrides applied to the variant's default config (JSON-ready values).
        repo_id: Hugging Face Hub repository, ``"org/name"``.
        revision: the pinned commit sha (40 hex digits) the weights come from.
        files: file name -> sha256 hex digest of every file the model needs.
        license: SPDX licence identifier of the weights.
        dataset: the dataset the weights were trained on.
        description: one line for listings.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    variant: str
    config: Mapping[str, Any]
    repo_id: str
    revision: str
    files: Mapping[str, str]
    license: str
    dataset: str
    description: str = ""
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        _check_name("pretrained model", self.name)
        if not re.match(r"^[\w.-]+/[\w.-]+$", self.repo_id or ""):
            raise PluginError(f"pretrained {self.name!r}: repo_id must look like 'org/name'")
        if not re.match(r"^[0-9a-f]{40}$", self.revision or ""):
            raise PluginError(
                f"pretrained {self.name!r}: revision must be a pinned 40-hex commit sha, "
                f"got {self.revision!r}"
            )
        if "model.safetensors" not in self.files or "config.json" not in self.files:
            raise PluginError(
                f"pretrained {self.name!r}: files must list model.safetensors and config.json"
            )
        for fname, digest in self.files.items():
            if not _SHA256.match(str(digest)):
                raise PluginError(
                    f"pretrained {self.name!r}: sha256 of {fname!r} must be 64 lowercase hex "
                    f"digits, got {digest!r}"
                )


class Registry:
    """Names -> specs, with conflicts kept aside and reported when the name is used."""

    def __init__(self) -> None:
        self.variants: dict[str, VariantSpec] = {}
        self.pretrained: dict[str, PretrainedSpec] = {}
        #: name -> plugins that all claimed it; such a name resolves to a NameConflictError.
        self.conflicts: dict[str, list[str]] = {}

    def _owner(self, name: str) -> str | None:
        spec = self.variants.get(name) or self.pretrained.get(name)
        return spec.plugin if spec is not None else None

    def add(self, spec: VariantSpec | PretrainedSpec) -> NameConflictError | None:
        """Add a validated spec; on a name another plugin has, drop it, return the conflict."""
        name = spec.name
        if name in self.conflicts:
            self.conflicts[name].append(spec.plugin)
            return self._conflict_error(name)
        owner = self._owner(name)
        if owner is not None:
            self.variants.pop(name, None)
            self.pretrained.pop(name, None)
            self.conflicts[name] = [owner, spec.plugin]
            return self._conflict_error(name)
        table = self.variants if isinstance(spec, VariantSpec) else self.pretrained
        table[name] = spec
        return None

    def _conflict_error(self, name: str) -> NameConflictError:
        plugins = " and ".join(repr(p) for p in self.conflicts[name])
        return NameConflictError(
            f"name {name!r} is registered by plugins {plugins}; zoo will not pick one silently. "
            "Uninstall one of them, or restrict loading with ZOO_PLUGINS=<plugin>[,<plugin>...]"
        )

    def names(self) -> list[str]:
        return sorted({*self.variants, *self.pretrained})

    def list_models(self, pattern: str = "*") -> list[str]:
        return [n for n in self.names() if fnmatch.fnmatchcase(n, pattern)]

    def _unknown(self, kind: str, name: str, candidates: list[str]) -> UnknownNameError:
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(candidates) if candidates else "none (is any zoo plugin installed?)"
        return UnknownNameError(
            f"unknown {kind} {name!r}.{hint} Known: {known}. "
            "Run `zoo list` to see all names and `zoo plugins` to see installed plugins."
        )

    def get_variant(self, name: str) -> VariantSpec:
        if name in self.conflicts:
            raise self._conflict_error(name)
        if name in self.variants:
            return self.variants[name]
        raise self._unknown("variant", name, sorted(self.variants))

    def get_pretrained(self, name: str) -> PretrainedSpec:
        if name in self.conflicts:
            raise self._conflict_error(name)
        if name in self.pretrained:
            return self.pretrained[name]
        raise self._unknown("pretrained model", name, sorted(self.pretrained))

    def lookup(self, name: str) -> VariantSpec | PretrainedSpec:
        """A variant or pretrained spec by name (one namespace for both)."""
        if name in self.conflicts:
            raise self._conflict_error(name)
        spec = self.variants.get(name) or self.pretrained.get(name)
        if spec is None:
            raise self._unknown("model", name, self.names())
        return spec
