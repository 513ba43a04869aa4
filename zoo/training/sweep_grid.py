"""A sweep's grid: which settings vary, over which values, and the members (runs) they make.

Imports no JAX. ``zoo sweep beta-vae beta=1,2,4 seed=0,1`` gives two *axes* (``beta``: 1.0,
2.0, 4.0; ``seed``: 0, 1) and six members, the cartesian product in the order the axes were
given (the last axis varies fastest). Every member is an ordinary training run: its
:class:`~zoo.training.config.TrainConfig` and model overrides are exactly what ``zoo train``
would be given for it.

What can be swept (the rest is refused here, naming the setting, before anything is built):

- training settings ``seed`` and ``learning_rate``;
- model settings of type ``int``, ``float`` or ``bool`` that only the loss reads (beta, its
  annealing, capacity C_max and gamma, commitment cost...). Which ones qualify is checked by
  building and tracing (:mod:`zoo.training.sweep_checks`): a setting that changes the model's
  shapes or Python control flow is refused there.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.config import Config
from zoo.errors import ConfigError
from zoo.training.config import TrainConfig

__all__ = ["SWEEPABLE_TRAIN", "Grid", "Member", "make_grid", "member_name", "split_axes"]

#: Training settings a sweep can vary inside one program (the rest change the optimizer's
#: structure, the data pipeline or the number of steps).
SWEEPABLE_TRAIN = ("seed", "learning_rate")
_SCALARS = (int, float, bool)


def _is_tuple(hint: Any) -> bool:
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union,
                                                                  types.UnionType) else (hint,)
    return any(typing.get_origin(a) is tuple or a is tuple for a in args)


def split_axes(overrides: Mapping[str, str],
               field_types: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Command-line ``key=value`` strings -> (axes: ``key -> [value strings]`` for every value
    holding a comma, fixed settings: the others). A tuple-typed setting (``hidden_dims=32,64``)
    is always one fixed value: tuples change shapes and cannot be swept."""
    axes: dict[str, list[str]] = {}
    fixed: dict[str, str] = {}
    for key, text in overrides.items():
        if "," not in text or _is_tuple(field_types.get(key)):
            fixed[key] = text
            continue
        axes[key] = [part.strip() for part in text.split(",")]
        if any(not part for part in axes[key]):
            raise ConfigError(f"sweep setting {key}={text!r} has an empty value; list values "
                              f"separated by commas, e.g. {key}=1,2,4")
    return axes, fixed


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def member_name(values: Mapping[str, Any]) -> str:
    """A filesystem-safe directory name for a member, e.g. ``beta-2.0_seed-1``."""
    return "_".join(f"{k}-{_format(v)}" for k, v in values.items()).replace("/", "-")


@dataclasses.dataclass(frozen=True)
class Member:
    """One run of a sweep: its name, swept values, training config and model overrides (the
    fixed ones plus its swept model values)."""

    name: str
    values: dict[str, Any]
    train_config: TrainConfig
    model_overrides: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Grid:
    """The axes (``field -> values``, in the order given) and the members they make."""

    variant: str
    axes: dict[str, tuple[Any, ...]]
    train_config: TrainConfig
    model_overrides: dict[str, Any]
    members: tuple[Member, ...]

    @property
    def model_fields(self) -> list[str]:
        return [k for k in self.axes if k not in SWEEPABLE_TRAIN]

    def identity(self) -> dict[str, Any]:
        """``sweep.json``: what makes the sweep this sweep (a resume must match it)."""
        return {"variant": self.variant,
                "axes": {k: list(v) for k, v in self.axes.items()},
                "train_config": self.train_config.to_dict(),
                "model_overrides": {k: list(v) if isinstance(v, tuple) else v
                                    for k, v in self.model_overrides.items()},
                "members": [m.name for m in self.members]}


def _parse_values(owner: type[Config], field: str, values: Sequence[Any]) -> tuple[Any, ...]:
    hint = owner.field_types()[field]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise ConfigError(f"sweep setting {field!r} needs a non-empty list of values, got "
                          f"{values!r}; e.g. {field}=1,2,4")
    parsed = tuple(owner._convert(field, hint, v, from_string=isinstance(v, str))
                   for v in values)
    seen = [v for i, v in enumerate(parsed) if v in parsed[:i]]
    if seen:
        raise ConfigError(f"sweep setting {field!r} lists {_format(seen[0])} twice; give each "
                          "value once")
    refused = field not in SWEEPABLE_TRAIN if owner is TrainConfig else \
        not isinstance(parsed[0], _SCALARS)
    if refused:
        if owner is TrainConfig:
            why = ("it changes the optimizer, the data or the number of steps; sweepable "
                   f"training settings: {', '.join(SWEEPABLE_TRAIN)}")
        else:
            why = (f"it is a {type(parsed[0]).__name__} setting, which selects code paths "
                   "(Python control flow) or shapes; only int, float and bool settings that the "
                   "loss reads can be swept")
        raise ConfigError(f"cannot sweep {field!r}: {why}. Train separate runs (zoo train) "
                          "for its values instead")
    if any(isinstance(v, float) and not math.isfinite(v) for v in parsed):
        raise ConfigError(f"sweep setting {field!r} has a non-finite value; use finite numbers")
    return parsed


def make_grid(variant: str, config_class: type[Config], axes: Mapping[str, Sequence[Any]],
              train_config: TrainConfig, model_overrides: Mapping[str, Any],
              default_config: Config) -> Grid:
    """Check the axes (known, sweepable, non-empty, no duplicates; values parsed from strings
    by the field's type) and every member's configs (a value that fails validation names the
    member); return the grid."""
    if not axes:
        raise ConfigError("a sweep needs at least one setting with several values, e.g. "
                          "beta=1,2,4 (comma-separated)")
    train_keys, model_keys = set(TrainConfig.field_types()), set(config_class.field_types())
    parsed: dict[str, tuple[Any, ...]] = {}
    for field, values in axes.items():
        if field in train_keys:
            parsed[field] = _parse_values(TrainConfig, field, values)
        elif field in model_keys:
            parsed[field] = _parse_values(config_class, field, values)
        else:
            close = difflib.get_close_matches(field, sorted(train_keys | model_keys), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown sweep setting {field!r}.{hint} Sweepable: "
                              f"{', '.join(SWEEPABLE_TRAIN)} and the int, float and bool model "
                              f"settings of {variant} the loss reads")
    members = []
    for combo in itertools.product(*parsed.values()):
        values = dict(zip(parsed, combo, strict=True))
        name = member_name(values)
        train_values = {k: v for k, v in values.items() if k in train_keys}
        model_values = {k: v for k, v in values.items() if k not in train_keys}
        overrides = {**model_overrides, **model_values}
        try:
            tc = train_config.replace(**train_values)
            default_config.replace(**overrides)
        except ConfigError as exc:
            raise ConfigError(f"sweep member {name}: {exc}") from None
        members.append(Member(name, values, tc, overrides))
    return Grid(variant, parsed, train_config, dict(model_overrides), tuple(members))
