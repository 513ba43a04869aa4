"""Named training recipes: ``zoo train VARIANT --preset NAME``.

A preset is a dict with optional ``"train"`` (TrainConfig fields) and ``"model"`` (fields of the
variant's config) overrides, optionally restricted to some ``"variants"``. Command-line
``key=value`` overrides win over the preset.
"""

from __future__ import annotations

from typing import Any

from zoo.errors import UnknownNameError

__all__ = ["PRESETS", "get_preset"]

PRESETS: dict[str, dict[str, Any]] = {
    # A minute-long end-to-end check of the whole pipeline on a small slice of the data.
    "smoke": {
        "train": {"max_steps": 40, "eval_every": 20, "checkpoint_every": 20, "log_every": 10,
                  "train_limit": 2048, "validation_size": 512, "batch_size": 64},
    },
}


def get_preset(name: str, variant: str) -> dict[str, Any]:
    """The preset ``name``; an unknown one (or one not meant for ``variant``) is an error."""
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    allowed = preset.get("variants")
    if allowed and variant not in allowed:
        raise UnknownNameError(
            f"preset {name!r} is for {', '.join(allowed)}, not {variant!r}"
        )
    return preset
