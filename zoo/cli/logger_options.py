"""The metrics-logger options of ``zoo train`` (``--tensorboard DIR``) and the loggers they
build (:mod:`zoo.training.loggers`)."""

from __future__ import annotations

import argparse

from zoo.training.loggers import TENSORBOARD_EXTRA, MetricsLogger, TensorBoardLogger


def add_logger_options(p: argparse.ArgumentParser) -> None:
    """Add ``--tensorboard DIR`` to the parser of a training command."""
    p.add_argument("--tensorboard", metavar="DIR",
                   help="also write the logged metrics as TensorBoard scalars into DIR "
                   f"(needs {TENSORBOARD_EXTRA}; view with tensorboard --logdir DIR)")


def loggers_from_args(args: argparse.Namespace) -> list[MetricsLogger]:
    """The metrics loggers the options ask for (none by default); a missing library is an error
    naming the extra to install, raised before training starts."""
    loggers: list[MetricsLogger] = []
    if getattr(args, "tensorboard", None):
        loggers.append(TensorBoardLogger(args.tensorboard))
    return loggers
