"""What a training run is: its :class:`TrainConfig`, optimizer, result and identity.

Imports no JAX (optax is imported when the optimizer is made), so configs can be parsed and
listed cheaply; the loop itself is :mod:`zoo.training.loop`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

from zoo.config import Config, ImageModelConfig
from zoo.data.local import data_identity
from zoo.errors import ConfigError, ZooError

__all__ = ["DEFAULT_STEPS_PER_DISPATCH", "TrainConfig", "TrainResult", "TrainingDiverged",
           "fit_model_config", "identity", "make_optimizer", "parse_devices", "read_trainer_state"]

#: Training steps per jitted call unless asked otherwise (``--steps-per-dispatch``); 0 is
#: "auto" (:func:`zoo.training.chunks.resolve_steps_per_dispatch`: 16, but 1 for a model with
#: convolutions on CPU).
#: Not part of a run's identity: the steps compute the same function.
DEFAULT_STEPS_PER_DISPATCH = 0


@dataclasses.dataclass(frozen=True)
class TrainConfig(Config):
    """How to train (the model's own config says what to train).

    ``max_steps`` > 0 overrides ``epochs``. ``grad_clip_norm`` 0 disables clipping.
    ``train_limit`` > 0 trains on that many examples only (smoke runs and tests).
    The best model is the one with the lowest validation ``loss``, computed with the beta and
    capacity schedules at their final values (the objective the run ends with).
    """

    dataset: str = "mnist"
    batch_size: int = 128
    epochs: int = 10
    max_steps: int = 0
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    learning_rate: float = 1e-3
    lr_schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    grad_clip_norm: float = 0.0
    seed: int = 0
    validation_size: int = 10_000
    eval_every: int = 1000
    checkpoint_every: int = 1000
    log_every: int = 50
    binarize: bool = False
    train_limit: int = 0

    def validate(self) -> None:
        for name in ("batch_size", "eval_every", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("epochs", "max_steps", "warmup_steps", "validation_size", "train_limit"):
            if getattr(self, name) < 0:
                raise ConfigError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.epochs == 0 and self.max_steps == 0:
            raise ConfigError("TrainConfig: set epochs or max_steps to a positive number")
        if self.learning_rate <= 0:
            raise ConfigError(f"TrainConfig.learning_rate must be > 0, got {self.learning_rate}")
        if self.grad_clip_norm < 0 or self.weight_decay < 0:
            raise ConfigError("TrainConfig.grad_clip_norm and weight_decay must be >= 0")


class TrainingDiverged(ZooError):
    """The loss became NaN or infinite; the last good checkpoint is left intact."""


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    model: Any
    step: int
    best_validation: float | None
    images_per_second: float
    finished: bool
    #: devices the run was split over (its mesh), and this process's index (0: the writer)
    devices: int = 1
    process_index: int = 0


def make_optimizer(tc: TrainConfig, total_steps: int) -> Any:
    """The optax transformation ``tc`` describes (schedule, clipping, optimizer)."""
    import optax

    if tc.lr_schedule == "cosine":
        lr = optax.warmup_cosine_decay_schedule(
            0.0, tc.learning_rate, tc.warmup_steps, max(total_steps, tc.warmup_steps + 1)
        )
    elif tc.warmup_steps:
        lr = optax.linear_schedule(0.0, tc.learning_rate, tc.warmup_steps)
    else:
        lr = tc.learning_rate
    if tc.optimizer == "adam":
        opt = optax.adam(lr)
    elif tc.optimizer == "adamw":
        opt = optax.adamw(lr, weight_decay=tc.weight_decay)
    else:
        opt = optax.sgd(lr, momentum=0.9)
    if tc.grad_clip_norm > 0:
        opt = optax.chain(optax.clip_by_global_norm(tc.grad_clip_norm), opt)
    return opt


def fit_model_config(
    model_config: Config, dataset: Any, num_classes: int | None, explicit: set[str]
) -> Config:
    """Adapt image shape (and class count) to the dataset unless the user set them: for an
    :class:`~zoo.config.ImageModelConfig`, or any config with ``height``, ``width`` and
    ``channels`` fields (e.g. the classifier's)."""
    image_fields = {"height", "width", "channels"}
    if not (isinstance(model_config, ImageModelConfig)
            or image_fields <= set(type(model_config).field_types())):
        return model_config
    h, w, c = dataset.images.shape[1:]
    wanted = {"height": h, "width": w, "channels": c}
    if num_classes is not None and hasattr(model_config, "num_classes"):
        wanted["num_classes"] = num_classes
    clash = {k: v for k, v in wanted.items() if k in explicit and getattr(model_config, k) != v}
    if clash:
        raise ConfigError(
            f"the dataset has {', '.join(f'{k}={v}' for k, v in wanted.items())} but the model "
            f"was set to {', '.join(f'{k}={getattr(model_config, k)}' for k in clash)}; pass "
            f"{' '.join(f'{k}={v}' for k, v in clash.items())} to match the data, drop those "
            "settings (the model then takes the data's), or use a matching dataset"
        )
    return model_config.replace(**wanted)


def identity(variant: str, model_config: Config, tc: TrainConfig,
             devices: int = 1) -> dict[str, Any]:
    """What makes a run this run (``run.json``): a resume must match it. The device count is
    part of it: the order of float additions, hence the exact weights, depend on it. Your own
    data (a path or arrays) adds ``data``: its path, content sha256 and size
    (:func:`zoo.data.local.data_identity`), so that a resume on changed data is refused."""
    ident = {"variant": variant, "model_config": model_config.to_dict(),
             "train_config": tc.to_dict(), "devices": devices}
    data = data_identity(tc.dataset)
    if data is not None:
        ident["data"] = data
    return ident


def parse_devices(text: str | int) -> int | str:
    """``--devices``: a positive number, or ``"all"`` (every device of every process)."""
    if isinstance(text, str) and text.strip().lower() == "all":
        return "all"
    try:
        count = int(text)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise ConfigError(f"--devices takes a positive number or 'all', got {text!r}")
    return count


def read_trainer_state(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / "trainer.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ZooError(f"checkpoint {str(directory)!r} is incomplete ({exc}); "
                       "start a new run") from None
