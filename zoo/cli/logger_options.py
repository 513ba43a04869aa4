"""The metrics-logger options of ``zoo train`` and ``zoo sweep`` (``--tensorboard DIR``) and
the loggers they build (:mod:`zoo.training.loggers`): a run's, or a factory of each sweep
member's, under ``DIR/<member>``."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.training.loggers import (
    TENSORBOARD_EXTRA,
    LoggerSet,
    MemberLoggers,
    MetricsLogger,
    TensorBoardLogger,
)


def add_logger_options(p: argparse.ArgumentParser, kind: str = "run") -> None:
    """Add ``--tensorboard DIR`` to the parser of a training command; ``kind`` ("run" or
    "sweep") says whether DIR gets the run's scalars or one log dir per sweep member."""
    where = "DIR/<member>, one log dir per member" if kind == "sweep" else "DIR"
    p.add_argument("--tensorboard", metavar="DIR",
                   help=f"also write the logged metrics as TensorBoard scalars into {where} "
                   f"(needs {TENSORBOARD_EXTRA}; view with tensorboard --logdir DIR)")


def loggers_from_args(args: argparse.Namespace, member: str | None = None
                      ) -> list[MetricsLogger]:
    """The metrics loggers the options ask for (none by default); a missing library is an error
    naming the extra to install, raised before training starts. ``member``: those of the sweep
    member of that name, writing under ``DIR/<member>``."""
    loggers: list[MetricsLogger] = []
    if getattr(args, "tensorboard", None):
        logdir = Path(args.tensorboard)
        loggers.append(TensorBoardLogger(logdir / member if member else logdir))
    return loggers


def member_loggers_from_args(args: argparse.Namespace) -> MemberLoggers | None:
    """The sweep's logger factory the options ask for (None by default): each member's
    :func:`loggers_from_args`. A missing library is an error here, before anything trains."""
    probe = loggers_from_args(args)  # builds (and imports) them once; they write nothing
    if not probe:
        return None
    LoggerSet(probe).close()

    def member_loggers(member: str) -> list[MetricsLogger]:
        return loggers_from_args(args, member)

    return member_loggers
