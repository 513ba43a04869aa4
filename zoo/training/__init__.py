"""Training as a service: configs (:mod:`~zoo.training.config`), the loop
(:mod:`~zoo.training.loop`, imports JAX), data parallelism (:mod:`~zoo.training.sharding`), one
process per host (:mod:`~zoo.training.multihost`), checkpoints
(:mod:`~zoo.training.checkpoints`), throughput (:mod:`~zoo.training.clock`), metrics loggers
(:mod:`~zoo.training.loggers`) and the command line that reproduces a run
(:mod:`~zoo.training.command`).

Importing this package is cheap; :func:`run_training` imports the loop (and JAX) when called.
The public entry point is :func:`zoo.train.train`, which also draws the run's pictures.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo.training.command import train_command_from_identity
from zoo.training.config import (
    DEFAULT_STEPS_PER_DISPATCH,
    TrainConfig,
    TrainingDiverged,
    TrainResult,
    fit_model_config,
    make_optimizer,
    parse_devices,
)
from zoo.training.loggers import MetricsLogger, MetricsLoggerWarning, TensorBoardLogger
from zoo.training.multihost import Cluster, ClusterError
from zoo.training.runlog import resolve_data

__all__ = ["DEFAULT_STEPS_PER_DISPATCH", "Cluster", "ClusterError", "MetricsLogger",
           "MetricsLoggerWarning", "TensorBoardLogger", "TrainConfig", "TrainResult",
           "TrainingDiverged", "fit_model_config", "make_optimizer", "parse_devices",
           "run_training", "train_command_from_identity"]


def run_training(variant: str, out: str | Path, train_config: TrainConfig | None = None,
                 model_overrides: dict[str, Any] | None = None, *, resume: bool = False,
                 until_step: int | None = None, progress: bool = True, devices: int | str = 1,
                 cluster: Cluster | None = None,
                 steps_per_dispatch: int = DEFAULT_STEPS_PER_DISPATCH,
                 loggers: Iterable[MetricsLogger] = ()) -> TrainResult:
    """Train ``variant`` into the run directory ``out``; no pictures (see
    :func:`zoo.train.train`). Each row of ``metrics.jsonl`` also goes to every one of
    ``loggers`` (:mod:`zoo.training.loggers`), which are closed when the run ends. Your own
    data (a path or arrays) is read and checked first (:func:`~zoo.training.runlog.resolve_data`).
    """
    train_config = resolve_data(train_config or TrainConfig())
    from zoo.training import loop  # imports JAX

    return loop.run_training(variant, out, train_config, model_overrides, resume=resume,
                             until_step=until_step, progress=progress, devices=devices,
                             cluster=cluster, steps_per_dispatch=steps_per_dispatch,
                             loggers=loggers)
