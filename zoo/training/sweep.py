"""``zoo sweep``: train every member of a grid at once, as one jitted program
(:mod:`~zoo.training.sweep_program`), into one ordinary run directory per member
(:mod:`~zoo.training.sweep_members`).

The loop mirrors ``zoo train``'s (:mod:`zoo.training.loop`) position for position: the members
share the step, epoch and batch; the host hands over ``chunk`` batches per dispatch and reads
nothing back until the next log, validation or checkpoint point, where it reads the members'
non-finite flags, logs each live member's row, validates them all in one vmapped pass,
promotes each one's ``best/`` and writes each one's checkpoint. A member that went non-finite
is stopped: never logged, checkpointed or promoted again (its
last good checkpoint is left intact), and is reported with its step; the others finish.
``run_sweep(..., resume=True)`` continues a stopped sweep; Ctrl-C checkpoints every member.
Each member's rows go to its own metrics loggers too (``loggers=``, a factory called with each
member's name; :mod:`~zoo.training.loggers`), closed when the sweep ends, however it ends.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo.data import batches
from zoo.training import checkpoints, runlog
from zoo.training.chunks import ALL_FINITE
from zoo.training.clock import TrainClock
from zoo.training.config import TrainingDiverged
from zoo.training.faults import diverged
from zoo.training.interrupts import StopFlag
from zoo.training.loggers import LoggerSet, MemberLoggers
from zoo.training.sweep_grid import Grid
from zoo.training.sweep_members import MemberRun, write_state
from zoo.training.sweep_program import SweepProgram
from zoo.training.sweep_report import summarise

__all__ = ["SweepResult", "run_sweep"]


class _StopRequested(Exception):
    """Ctrl-C arrived; raised between two dispatches."""


@dataclasses.dataclass
class SweepResult:
    """What a sweep did: its directory, the step its members reached, whether it finished,
    member-images per second, its members, and the error of each member that diverged."""

    out: Path
    step: int
    finished: bool
    images_per_second: float
    members: list[MemberRun]
    diverged: dict[str, str]
    #: ``summary.json``'s content (:mod:`~zoo.training.sweep_report`)
    summary: dict[str, Any]


class _SweepLoop:
    def __init__(self, program: SweepProgram, progress: bool) -> None:
        self.p, self.progress = program, progress
        self.iters: dict[int, Any] = {}
        self.device_pending: list[dict[str, Any]] = []
        self.errors: dict[str, str] = {}

    @property
    def live(self) -> list[int]:
        return [i for i, r in enumerate(self.p.runs) if r.diverged_at is None]

    # -- data --------------------------------------------------------------------------------------
    def _open(self) -> None:
        p, tc = self.p, self.p.tc
        self.iters = {s: batches(p.train_ds, tc.batch_size, seed=s, epoch=p.epoch,
                                 start_batch=p.batch_index, binarize=tc.binarize)
                      for s in p.seeds}

    def _close(self) -> None:
        for it in self.iters.values():
            it.close()
        self.iters = {}

    def _take(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``k`` batches of every seed: x [S, k, B, ...], labels [S, k, B]."""
        xs, labels = [], []
        for s in self.p.seeds:
            got = [next(self.iters[s]) for _ in range(k)]
            xs.append(np.stack([b["x"] for b in got]))
            labels.append(np.stack([b.get("labels", np.zeros(len(b["x"]), np.int32))
                                    for b in got]))
        return np.stack(xs), np.stack(labels)

    # -- training ----------------------------------------------------------------------------------
    def _next_event(self, stop: int) -> int:
        p, tc = self.p, self.p.tc
        after = [p.step - p.step % n + n for n in (tc.log_every, tc.eval_every,
                                                   tc.checkpoint_every)]
        return min(*after, stop, p.total, p.step + p.steps_per_epoch - p.batch_index)

    def _advance(self, n: int, clock: TrainClock) -> None:
        p, images = self.p, len(self.live) * self.p.tc.batch_size
        while n:
            k = p.chunk_size if n >= p.chunk_size > 1 else 1
            xs, labels = self._take(k)
            fn = p.chunk if k > 1 else p.single
            if k == 1:
                xs, labels = xs[:, 0], labels[:, 0]
            p.state, metrics, p.flags = fn(p.state, xs, labels, p.data_index, p.bases, p.step,
                                           p.flags, p.settings)
            self.device_pending.append(metrics)
            p.step, p.batch_index, n = p.step + k, p.batch_index + k, n - k
            clock.stepped(images * k, metrics)

    def _host_pending(self) -> None:
        """Hand the metrics of the dispatches since the last read to the live members."""
        for metrics in jax.device_get(self.device_pending):
            for i in self.live:
                self.p.runs[i].pending.add({k: v[i] for k, v in metrics.items()})
        self.device_pending = []

    def _diverge(self, i: int, step: int, error: TrainingDiverged) -> None:
        """Member ``i`` stops at ``step``: never written again (the device goes on computing
        it with the others, unread)."""
        r = self.p.runs[i]
        r.diverged_at = step
        r.pending.clear()
        self.p.flags = jnp.asarray(self.p.flags).at[i].set(step)
        self.errors[r.name] = f"sweep member {r.name}: {error}"
        write_state(self.p.out, {x.name: x.diverged_at for x in self.p.runs
                                 if x.diverged_at is not None})

    def _check_flags(self) -> None:
        """Members whose flag is set: stopped from now on, reported with their first bad step
        and the metrics that were non-finite."""
        flags = np.asarray(jax.device_get(self.p.flags))
        for i in self.live:
            if flags[i] != ALL_FINITE:
                r, step = self.p.runs[i], int(flags[i])
                bad = r.pending.non_finite() or ["a metric"]
                self._diverge(i, step, diverged(self.p.spec, bad, step, r.run_dir.last))

    def _sync(self, i: int, host: Any) -> None:
        self.p.runs[i].take(jax.tree.map(lambda a: jnp.asarray(a[i]), host))

    def _events(self, stop: int, clock: TrainClock) -> None:
        p, tc, s = self.p, self.p.tc, self.p.step
        log = s % tc.log_every == 0 or s == p.total
        evaluate = s % tc.eval_every == 0 or s == p.total
        save = s % tc.checkpoint_every == 0 or s == stop
        if not (log or evaluate or save):
            return
        clock.pause(p.state)
        self._host_pending()
        self._check_flags()
        if log:
            for i in self.live:
                r = p.runs[i]
                r.log({"step": s, "epoch": p.epoch, **r.pending.mean()})
                r.pending.clear()
        host = jax.device_get(p.state) if (evaluate and p.val_ds is not None) or save else None
        if evaluate and p.val_ds is not None:
            for i, metrics in self._validate().items():
                r = p.runs[i]
                if r.improves(metrics):
                    self._sync(i, host)
                try:
                    r.validated(s, metrics)
                except TrainingDiverged as exc:  # non-finite parameters
                    self._diverge(i, s, exc)
        if save:
            self._save(host)
        clock.resume()

    def _save(self, host: Any | None = None) -> None:
        p = self.p
        host = jax.device_get(p.state) if host is None else host
        for i in self.live:
            self._sync(i, host)
            try:
                p.runs[i].checkpoint(p.step, p.epoch, p.batch_index)
            except TrainingDiverged as exc:  # non-finite parameters: nothing written
                self._diverge(i, p.step, exc)

    def _validate(self) -> dict[int, dict[str, float]]:
        """Every live member's mean validation metrics (schedules at their final step)."""
        p, tc = self.p, self.p.tc
        parts: dict[int, list[tuple[dict[str, Any], int]]] = {i: [] for i in self.live}
        for j, batch in enumerate(batches(p.val_ds, tc.batch_size, seed=0, epoch=0,
                                          shuffle=False, drop_remainder=False,
                                          binarize=tc.binarize)):
            labels = batch.get("labels", np.zeros(len(batch["x"]), np.int32))
            metrics = jax.device_get(p.validate(p.state, batch["x"], labels, p.val_bases, j,
                                                p.total, p.settings))
            for i in parts:
                parts[i].append(({k: v[i] for k, v in metrics.items()}, len(batch["x"])))
        return {i: runlog.validation_means(v) for i, v in parts.items()}

    def run(self, until_step: int | None) -> SweepResult:
        from tqdm.auto import tqdm

        p = self.p
        stop = min(p.total, until_step) if until_step else p.total
        bar = tqdm(total=p.total, initial=p.step, disable=not self.progress, unit="step",
                   dynamic_ncols=True, desc=f"{p.spec.name} x{len(p.runs)}")
        clock = TrainClock()
        with StopFlag() as sigint:
            try:
                while p.step < stop and self.live:
                    if not self.iters:
                        self._open()
                    n = self._next_event(stop) - p.step
                    self._advance(n, clock)
                    bar.update(n)
                    self._events(stop, clock)
                    if p.step < stop and sigint.requested:
                        raise _StopRequested
                    if p.batch_index >= p.steps_per_epoch:
                        self._close()
                        p.epoch, p.batch_index = p.epoch + 1, 0
                clock.pause(p.state)
            except _StopRequested:
                bar.close()
                self._host_pending()
                self._check_flags()
                self._save()
                raise KeyboardInterrupt(
                    f"interrupted at step {p.step}; every member's checkpoint saved under "
                    f"{str(p.out)!r}; continue with resume=True (--resume)") from None
            finally:
                bar.close()
                self._close()
        return self._finish(clock.images_per_second())

    def _finish(self, ips: float) -> SweepResult:
        p = self.p
        finished = p.step >= p.total
        host = jax.device_get(p.state)
        for i in self.live:
            r = p.runs[i]
            r.final_step = p.step
            self._sync(i, host)
            if finished:
                if p.val_ds is None:  # nothing ranks checkpoints: the final model is best/
                    checkpoints.promote(r.run_dir, r.model)
                checkpoints.write_summary(r.run_dir, p.spec.name, p.step, p.epoch, r.best, ips)
        for r in p.runs:
            if r.diverged_at is not None and r.name not in self.errors:
                self.errors[r.name] = (f"sweep member {r.name}: its metrics became non-finite "
                                       f"at step {r.diverged_at} (found before this resume)")
        summary = summarise(p.out, p.spec.name, p.grid.axes, p.runs, p.total, ips)
        return SweepResult(p.out, p.step, finished, ips, p.runs, dict(self.errors), summary)


def run_sweep(grid: Grid, out: str | Path, *, resume: bool = False,
              until_step: int | None = None, progress: bool = True,
              chunk: int | None = None, loggers: MemberLoggers | None = None) -> SweepResult:
    """Train every member of ``grid`` into ``out/<member>`` (see
    :mod:`zoo.training.sweep_members` for the layout). ``until_step`` stops (with every
    member's checkpoint) at that step; ``resume`` continues a stopped sweep; ``chunk`` steps
    run per dispatch (default: the largest that divides the log, validation and checkpoint
    intervals, at most 50). Members that diverge are listed in the result's ``diverged``.
    ``loggers`` (:data:`~zoo.training.loggers.MemberLoggers`) is called with each member's
    name, before anything is written, for the loggers of that member's rows; all are closed
    when the sweep ends, however it ends."""
    sinks: dict[str, LoggerSet] = {}
    try:
        for m in grid.members:
            sinks[m.name] = LoggerSet(loggers(m.name) if loggers is not None else (),
                                      owner=f"sweep member {m.name}")
        program = SweepProgram(grid, Path(out), resume=resume, chunk=chunk)
        for r in program.runs:
            r.loggers = sinks[r.name]
        return _SweepLoop(program, progress).run(until_step)
    finally:
        for sink in sinks.values():
            sink.close()
