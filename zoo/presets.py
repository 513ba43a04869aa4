"""Named training recipes (presets): ``zoo train VARIANT --preset NAME``.

A preset is a :class:`~zoo.specs.PresetSpec` that a plugin registers with the
``zoo_register_presets`` hook: the plugin that owns a variant ships its recipes, including the
recorded recipe of each of its pretrained models (a preset with a ``release``). Command-line
``key=value`` settings win over a preset's.

This module is also the core's built-in plugin ``"zoo-presets"`` (registered by
:func:`zoo.plugins.register_builtins`), which provides only the generic :data:`SMOKE` preset.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from typing import Any

from zoo.config import Config
from zoo.errors import ConfigError
from zoo.hookspecs import hookimpl
from zoo.plugins import get_manager, manager_for
from zoo.specs import PresetSpec, VariantSpec
from zoo.training.config import TrainConfig

__all__ = ["SMOKE", "check_preset", "get_preset", "list_presets", "preset_configs",
           "zoo_register_presets"]

#: A minute-long end-to-end check of the whole pipeline on a small slice of the data, for any
#: variant.
SMOKE = PresetSpec(
    name="smoke",
    description="a minute-long end-to-end check on a small slice of the data (any variant)",
    train={"max_steps": 40, "eval_every": 20, "checkpoint_every": 20, "log_every": 10,
           "train_limit": 2048, "validation_size": 512, "batch_size": 64},
)


@hookimpl
def zoo_register_presets(register: Any) -> None:
    register(SMOKE)


def _registry(name: str | None = None) -> Any:
    return (get_manager() if name is None else manager_for(name, "preset")).registry


def list_presets(variant: str | None = None) -> list[PresetSpec]:
    """Every registered preset (all plugins loaded), sorted by name; with ``variant``, only
    those usable with it."""
    presets = _registry().presets
    return [presets[n] for n in sorted(presets)
            if variant is None or not presets[n].variants or variant in presets[n].variants]


def _where(preset: PresetSpec) -> str:
    return f"preset {preset.name!r} (plugin {preset.plugin!r})"


def _fix(preset: PresetSpec) -> str:
    return (f"Fix the preset in plugin {preset.plugin!r} (its zoo_register_presets hook) or tell "
            "its authors; meanwhile give the settings as key=value instead of --preset")


def _check_keys(preset: PresetSpec, what: str, table: Mapping[str, Any],
                fields: list[str]) -> None:
    for key in table:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"{_where(preset)} sets unknown {what} setting {key!r}.{hint} Known {what} "
                f"settings: {', '.join(fields)}. {_fix(preset)}"
            )


def check_preset(preset: PresetSpec, spec: VariantSpec) -> tuple[TrainConfig, Config]:
    """Check that ``preset`` fits variant ``spec``; return the train config and model config
    it makes. Unknown keys and bad values are a :class:`ConfigError` naming the preset, its
    plugin and the key."""
    _check_keys(preset, "training", preset.train, sorted(TrainConfig.field_types()))
    _check_keys(preset, f"model ({spec.name})", preset.model,
                sorted(spec.config_class.field_types()))
    try:
        return TrainConfig().replace(**preset.train), spec.default_config.replace(**preset.model)
    except ConfigError as exc:
        raise ConfigError(f"{_where(preset)}: {exc}. {_fix(preset)}") from exc


def get_preset(name: str, variant: str) -> PresetSpec:
    """The preset ``name``, checked against ``variant``. Errors: an unknown preset (with close
    matches), one not meant for ``variant``, unknown keys or bad values in it."""
    preset = _registry(name).get_preset(name)
    if preset.variants and variant not in preset.variants:
        usable = ", ".join(p.name for p in list_presets(variant)) or "none"
        raise ConfigError(
            f"{_where(preset)} is for variant {', '.join(map(repr, preset.variants))}, not "
            f"{variant!r}. Presets for {variant!r}: {usable} (`zoo list --presets`)"
        )
    check_preset(preset, _variant(variant))
    return preset


def _variant(name: str) -> VariantSpec:
    return manager_for(name).registry.get_variant(name)


def preset_configs(name: str, variant: str) -> tuple[TrainConfig, Config]:
    """The train config and the model config of variant ``variant`` that preset ``name``
    makes (what ``zoo train VARIANT --preset NAME`` starts from)."""
    return check_preset(get_preset(name, variant), _variant(variant))


def __getattr__(name: str) -> Any:
    if name == "PRESETS":  # the core's old table of recipes; they now come from the plugins
        warnings.warn("zoo.presets.PRESETS is deprecated: presets come from plugins; use "
                      "zoo.presets.list_presets() or get_preset(name, variant)",
                      DeprecationWarning, stacklevel=2)
        return {p.name: {"variants": list(p.variants), "model": dict(p.model),
                         "train": dict(p.train)} for p in list_presets()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
