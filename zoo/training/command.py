"""The ``zoo train`` command line that reproduces a run, rendered from its ``run.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo.plugins import get_manager
from zoo.training.config import TrainConfig

__all__ = ["train_command_from_identity"]


def _cli_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


def train_command_from_identity(identity: Mapping[str, Any]) -> str:
    """The ``zoo train`` command of a run, from its ``run.json`` (settings that differ from the
    defaults, as ``key=value``; ``--devices`` when the run used more than one)."""
    variant = str(identity["variant"])
    train = dict(identity.get("train_config") or {})
    model = dict(identity.get("model_config") or {})
    spec = get_manager().registry.variants.get(variant)
    model_defaults = spec.default_config.to_dict() if spec is not None else {}
    parts = ["zoo", "train", variant, "--dataset", str(train.pop("dataset", "mnist"))]
    for settings, defaults in ((train, TrainConfig().to_dict()), (model, model_defaults)):
        parts += [f"{k}={_cli_value(v)}" for k, v in sorted(settings.items())
                  if k not in defaults or defaults[k] != v]
    devices = int(identity.get("devices", 1))
    parts += ["--devices", str(devices)] if devices != 1 else []
    return " ".join([*parts, "--out", "RUN"])
