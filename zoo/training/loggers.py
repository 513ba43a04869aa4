"""Metrics loggers: where a run's log rows go besides ``metrics.jsonl``.

A logger is any object with ``log(step, metrics)`` and ``close()`` (:class:`MetricsLogger`).
The loop hands every row it appends to ``metrics.jsonl`` to each logger, right after writing it:
the training rows (``epoch`` and the mean of each training metric, every ``log_every`` steps)
and the validation rows (``val/<metric>``, at each validation). Only process 0 of a multi-host
run logs; a resumed run logs only the rows it computes (those after its checkpoint).

A logger that raises is reported once (a :class:`MetricsLoggerWarning` naming it) and dropped:
the run goes on and ``metrics.jsonl`` keeps every row. Every logger is closed when the run ends,
however it ends.

A sweep (:func:`zoo.sweep.sweep`) takes a :data:`MemberLoggers` factory instead: each member
gets its own loggers, and its own rows, as if it were trained alone.

:class:`TensorBoardLogger` writes the rows as TensorBoard scalars (the optional extra
``vae-zoo[tensorboard]``, i.e. ``tensorboardX``).
"""

from __future__ import annotations

import contextlib
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from zoo.errors import InputError, ZooError
from zoo.runs import METRICS_FILE

__all__ = ["LoggerSet", "MemberLoggers", "MetricsLogger", "MetricsLoggerWarning",
           "TensorBoardLogger", "logger_name"]

#: The optional extra that brings the TensorBoard writer.
TENSORBOARD_EXTRA = "vae-zoo[tensorboard]"


@runtime_checkable
class MetricsLogger(Protocol):
    """Receives a run's log rows. ``metrics`` maps each name of the row (as in
    ``metrics.jsonl``, without ``step``) to a float; a logger may keep or change its own copy."""

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """One row of the run's log, at training step ``step``."""

    def close(self) -> None:
        """The run has ended (finished, stopped or failed): flush and release everything."""


#: A sweep's loggers: called once per member with the member's name (its run directory's name,
#: e.g. ``"beta-2.0_seed-1"``) before anything trains, it returns that member's own loggers,
#: which get exactly that member's rows. Each member needs its own sink (a TensorBoard log dir
#: per member, e.g. ``lambda name: [TensorBoardLogger(f"tb/{name}")]``).
MemberLoggers = Callable[[str], Iterable[MetricsLogger]]


class MetricsLoggerWarning(UserWarning):
    """A metrics logger failed and was dropped; the run went on."""


def logger_name(logger: object) -> str:
    """How a warning names ``logger``: its ``name`` attribute if it has one, else its class."""
    name = getattr(logger, "name", None)
    return name if isinstance(name, str) and name else type(logger).__qualname__


class LoggerSet:
    """The loggers of one run: each row to every live logger; one that raises is warned about
    once and dropped, the others (and the run) go on. ``owner`` names the run in the warning
    when several share a process (e.g. ``"sweep member beta-2.0_seed-1"``)."""

    def __init__(self, loggers: Iterable[MetricsLogger] = (), *, owner: str | None = None) -> None:
        self._owner = owner
        self._live: list[MetricsLogger] = list(loggers)
        for logger in self._live:
            if not (callable(getattr(logger, "log", None))
                    and callable(getattr(logger, "close", None))):
                raise InputError(f"{logger!r} is not a metrics logger: it needs log(step, "
                                 "metrics) and close() methods (zoo.training.loggers."
                                 "MetricsLogger)")

    @property
    def live(self) -> list[MetricsLogger]:
        """The loggers not dropped (nor closed) so far."""
        return list(self._live)

    def log(self, row: Mapping[str, Any]) -> None:
        """Hand one ``metrics.jsonl`` row (with its ``step``) to every live logger."""
        if not self._live:
            return
        step = int(row["step"])
        metrics = {k: float(v) for k, v in row.items() if k != "step"}
        for logger in list(self._live):
            try:
                logger.log(step, dict(metrics))
            except Exception as exc:
                self._drop(logger, f"at step {step}", exc)

    def close(self) -> None:
        """Close every live logger (one that raises is reported like a failed ``log``)."""
        loggers, self._live = self._live, []
        for logger in loggers:
            try:
                logger.close()
            except Exception as exc:
                self._report(logger, "while closing", exc)

    def _drop(self, logger: MetricsLogger, when: str, exc: Exception) -> None:
        self._live.remove(logger)
        self._report(logger, when, exc)
        with contextlib.suppress(Exception):  # reported as failed already: a courtesy
            logger.close()

    def _report(self, logger: object, when: str, exc: Exception) -> None:
        of = f" of {self._owner}" if self._owner else ""
        warnings.warn(f"metrics logger {logger_name(logger)}{of} failed {when} "
                      f"({type(exc).__name__}: {exc}); it is dropped for the rest of the run. "
                      f"Training goes on and {METRICS_FILE} keeps every row",
                      MetricsLoggerWarning, stacklevel=4)


class TensorBoardLogger:
    """Each row's metrics as TensorBoard scalars at its step, in an event file under
    ``logdir`` (tags: the names of ``metrics.jsonl``, e.g. ``loss``, ``val/loss``, ``epoch``).

    Needs ``tensorboardX`` (``pip install 'vae-zoo[tensorboard]'``): imported here, when the
    logger is built, so a missing install fails before training starts. The event file is
    opened at the first row and closed by :meth:`close`; a closed logger logs again into a new
    event file in the same ``logdir`` (TensorBoard reads them together). View with
    ``tensorboard --logdir LOGDIR``.
    """

    def __init__(self, logdir: str | Path, *, flush_secs: int = 10) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError as exc:
            raise ZooError(f"the TensorBoard logger needs tensorboardX, which is not installed "
                           f"({exc}); install it with: pip install '{TENSORBOARD_EXTRA}'"
                           ) from None
        self.logdir = Path(logdir)
        self.name = f"TensorBoardLogger({str(self.logdir)!r})"
        self._writer_class = SummaryWriter
        self._flush_secs = flush_secs
        self._writer: Any = None

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Write each metric as a scalar at ``step``."""
        if self._writer is None:
            self.logdir.mkdir(parents=True, exist_ok=True)
            # tensorboardX names a file by the second and host, and truncates an existing one:
            # a unique suffix keeps an earlier file of the same second (a quick resume)
            self._writer = self._writer_class(logdir=str(self.logdir),
                                              flush_secs=self._flush_secs,
                                              filename_suffix=f".{uuid.uuid4().hex[:12]}")
        for tag, value in metrics.items():
            self._writer.add_scalar(tag, value, global_step=step)

    def close(self) -> None:
        """Flush and close the event file (nothing to do before the first row)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
