"""The training loop: one jitted step, schedules as functions of the step, exact resume, safe
stops, validation, checkpoints and the metrics log of a run directory (:mod:`zoo.runs`).

The data order is a function of (seed, epoch) and the noise of step ``s`` is
``fold_in(key(seed), s)``, so a resumed run continues exactly where the interrupted one stopped.
Steps run ``steps_per_dispatch`` at a time (:mod:`~zoo.training.chunks`: one ``lax.scan`` per
dispatch, no host sync between log points; the steps just before a log, validation or
checkpoint point, or the end of an epoch, run one by one; "auto" is 16 on GPU/TPU and for
conv-free models on CPU, 1 for convolutional ones on CPU), and an on-device flag records the
first step whose metrics were not finite: the loop stops at the next log point naming it, and
never checkpoints or promotes a state that came after it. Process 0 hands each row of
``metrics.jsonl`` to the run's metrics loggers too (:mod:`~zoo.training.loggers`).
Steps are data-parallel over ``devices`` devices (:mod:`~zoo.training.sharding`), in one
process or several (:mod:`~zoo.training.multihost`: process 0 alone touches the run directory).
A resume with only a longer length extends the run (:mod:`~zoo.training.extension`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from zoo import building
from zoo.data import batches, num_batches
from zoo.errors import InputError
from zoo.plugins import get_manager
from zoo.runs import RunDir, RunError
from zoo.training import checkpoints, chunks, extension, multihost, runlog
from zoo.training.clock import TrainClock
from zoo.training.config import (
    DEFAULT_STEPS_PER_DISPATCH,
    TrainConfig,
    TrainResult,
    fit_model_config,
    identity,
    make_optimizer,
)
from zoo.training.faults import check_parameters, diverged
from zoo.training.interrupts import StopFlag
from zoo.training.loggers import LoggerSet, MetricsLogger
from zoo.training.pending import Pending
from zoo.training.sharding import DataParallel, key_data, resolve_device_count, to_local
from zoo.training.steps import make_eval_step, make_train_step

__all__ = ["Loop", "run_training"]


class _StopRequested(Exception):
    """Ctrl-C arrived; raised between two steps."""


class Loop:
    """One training run: builds everything in ``__init__``, trains in :meth:`run`."""

    def __init__(self, variant: str, out: Path, tc: TrainConfig, overrides: dict[str, Any], *,
                 resume: bool, progress: bool, devices: int | str = 1,
                 cluster: multihost.Cluster | None = None,
                 steps_per_dispatch: int = DEFAULT_STEPS_PER_DISPATCH,
                 loggers: LoggerSet | None = None) -> None:
        if isinstance(steps_per_dispatch, bool) or not isinstance(steps_per_dispatch, int) \
                or steps_per_dispatch < 0:
            raise InputError(f"steps_per_dispatch must be an int >= 1, or 0 for auto; got "
                             f"{steps_per_dispatch!r}")
        if cluster is not None:
            multihost.start(cluster)  # before any JAX computation
        self.parallel = DataParallel(resolve_device_count(devices, tc.batch_size))
        self.writer = multihost.is_writer()
        self.loggers = loggers if loggers is not None else LoggerSet()
        registry = get_manager().registry
        self.tc, self.progress, self._batches = tc, progress and self.writer, batches
        self.spec = registry.get_variant(variant)
        ds_spec = registry.get_dataset(tc.dataset)
        self.train_ds, self.val_ds = runlog.load_splits(self.spec, tc)
        config = self.spec.default_config.replace(**overrides)
        self.config = fit_model_config(config, self.train_ds, ds_spec.num_classes, set(overrides))
        self.steps_per_epoch = num_batches(self.train_ds, tc.batch_size, drop_remainder=True)
        if self.steps_per_epoch == 0:
            raise InputError(f"batch_size {tc.batch_size} is larger than the training split "
                             f"({len(self.train_ds)} examples); lower it")
        self.total = tc.max_steps or tc.epochs * self.steps_per_epoch
        self.run_dir = RunDir(out)
        ident = identity(variant, self.config, tc, self.parallel.count)
        resuming = multihost.from_writer(lambda: self._claim(ident, resume))
        self.model = building.build(self.spec, self.config, seed=tc.seed)
        self.model.train()
        self.steps_per_dispatch = chunks.resolve_steps_per_dispatch(steps_per_dispatch,
                                                                    self.model)
        self.opt = nnx.Optimizer(self.model, make_optimizer(tc, self.total), wrt=nnx.Param)
        #: position; ``pending``: per-step metrics since the last log row (kept in checkpoints)
        self.step, self.epoch, self.batch_index, self.best = 0, 0, 0, math.inf
        self.pending = Pending()
        self.graphdef = nnx.graphdef((self.model, self.opt))
        if resuming:
            trainer = multihost.from_writer(
                lambda: checkpoints.restore(self.run_dir, self.model, self.opt))
            self.step, self.epoch, self.batch_index, self.best, pending = \
                checkpoints.position(trainer)
            self.pending = Pending(pending)
        # every process starts from process 0's state (built from the seed, or restored)
        self.state = self.parallel.replicate(
            multihost.share_arrays(nnx.state((self.model, self.opt))))
        self._keys = self.parallel.replicate({"train": key_data(tc.seed),
                                              "validation": key_data(tc.seed + 1)})
        train_step = make_train_step(self.spec, self.config, self.graphdef)
        self._one_step = self.parallel.jit_steps(chunks.keyed(train_step))
        self._chunk_step = self.parallel.jit_steps(chunks.scan_steps(train_step))
        #: the first non-finite step (1-based) or chunks.ALL_FINITE, on the device
        self._flag = self.parallel.replicate(np.int32(chunks.ALL_FINITE))
        self._eval_step = self.parallel.jit(make_eval_step(self.spec, self.config, self.graphdef))

    # -- the run directory (process 0's) -----------------------------------------------------------
    def _claim(self, ident: dict[str, Any], resume: bool) -> bool:
        """Claim the run directory (process 0 only); True when resuming."""
        old = self.run_dir.read_identity() if resume else None
        if old is not None and old.get("devices", 1) != ident["devices"]:
            raise RunError(f"cannot resume {str(self.run_dir.path)!r} on {ident['devices']} "
                           f"device(s): it ran on {old.get('devices', 1)}, and the count changes "
                           f"each step's sums; resume with --devices {old.get('devices', 1)}")
        if old is not None and "devices" not in old:
            del ident["devices"]  # a run from before the device count was recorded
        if old is not None and extension.only_length_differs(old, ident):  # train it longer
            return extension.claim_extended(self.run_dir, old, ident, self.total)
        return self.run_dir.claim(ident, resume=resume)

    def _sync(self) -> None:
        """The model and optimizer take host-local copies of the state (no other process)."""
        nnx.update((self.model, self.opt), to_local(self.state))

    def _checkpoint(self) -> None:
        self._check_finite()
        if not self.writer:
            return
        self._sync()
        check_parameters(self.spec, self.model, self.step, self.run_dir.last)
        trainer = checkpoints.trainer_json(self.step, self.epoch, self.batch_index, self.best,
                                           self.pending.rows())
        checkpoints.save(self.run_dir, self.model, self.opt, trainer)

    def _log(self, row: dict[str, Any]) -> None:
        if self.writer:
            self.run_dir.log([row])
            self.loggers.log(row)

    # -- evaluation --------------------------------------------------------------------------------
    def _inputs(self, batch: dict[str, Any]) -> tuple[jax.Array, jax.Array]:
        """Images [B, H, W, C] and labels [B] (zeros without labels) split over the mesh."""
        labels = batch.get("labels", np.zeros(len(batch["x"]), np.int32))
        return self.parallel.batch(batch["x"]), self.parallel.batch(labels)

    def validate(self) -> dict[str, float]:
        """Mean validation metrics. Schedules (beta, capacity) are taken at their final step, so
        the validation loss ranks checkpoints by the objective the run ends with: an early
        checkpoint of an annealed beta-VAE does not win because its beta was still small."""
        if self.val_ds is None:
            return {}
        parts = [(self._eval_step(self.state, *self._inputs(batch), self._keys["validation"],
                                  i, self.total), len(batch["x"]))
                 for i, batch in enumerate(self._batches(
                     self.val_ds, self.tc.batch_size, seed=0, epoch=0, shuffle=False,
                     drop_remainder=False, binarize=self.tc.binarize))]
        return runlog.validation_means(jax.device_get(parts))

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, until_step: int | None = None) -> TrainResult:
        from tqdm.auto import tqdm

        stop = min(self.total, until_step) if until_step else self.total
        bar = tqdm(total=self.total, initial=self.step, disable=not self.progress,
                   unit="step", dynamic_ncols=True, desc=self.spec.name)
        clock = TrainClock()
        with StopFlag() as ctrl_c:
            try:
                while self.step < stop:
                    it = self._batches(self.train_ds, self.tc.batch_size, seed=self.tc.seed,
                                       epoch=self.epoch, start_batch=self.batch_index,
                                       binarize=self.tc.binarize)
                    while self.step < stop and self.batch_index < self.steps_per_epoch:
                        group = [next(it) for _ in range(self._dispatch_length(stop))]
                        metrics = self._dispatch(group)
                        self.step += len(group)
                        self.batch_index += len(group)
                        self.pending.add(metrics)
                        bar.update(len(group))
                        clock.stepped(sum(len(b["x"]) for b in group), metrics)
                        if self.step % self.tc.log_every == 0 or self.step == self.total:
                            self._log(self._flush(bar))
                        evaluate = self.step % self.tc.eval_every == 0 or self.step == self.total
                        save = self.step % self.tc.checkpoint_every == 0 or self.step == stop
                        if evaluate or save:
                            clock.pause(self.state)
                            if evaluate:
                                self._after_validation(self.validate())
                            if save:
                                self._checkpoint()
                            clock.resume()
                        if ctrl_c.requested and self.step < stop:
                            raise _StopRequested
                    it.close()
                    if self.batch_index >= self.steps_per_epoch:
                        self.epoch, self.batch_index = self.epoch + 1, 0
                clock.pause(self.state)
            except _StopRequested:
                bar.close()
                self._checkpoint()  # the state is whole: the flag is only read between steps
                raise KeyboardInterrupt(
                    f"interrupted ({ctrl_c.signal_name}) at step {self.step}; checkpoint saved in "
                    f"{str(self.run_dir.last)!r}; continue with resume=True (--resume)"
                ) from None
            finally:
                bar.close()
                if self.writer:
                    self.run_dir.release()
        self._sync()
        ips = clock.images_per_second()
        finished = self.step >= self.total
        if finished and self.writer:
            if self.val_ds is None:  # nothing ranks checkpoints: the final model is best/
                checkpoints.promote(self.run_dir, self.model)
            checkpoints.write_summary(self.run_dir, self.spec.name, self.step, self.epoch,
                                      self.best, ips)
        return TrainResult(self.run_dir.path, self.model, self.step,
                           None if math.isinf(self.best) else self.best, ips, finished,
                           self.parallel.count, jax.process_index())

    def _dispatch_length(self, stop: int) -> int:
        tc = self.tc
        return chunks.dispatch_length(
            self.steps_per_dispatch, self.step,
            min(stop, self.total, self.step + self.steps_per_epoch - self.batch_index),
            (tc.log_every, tc.eval_every, tc.checkpoint_every))

    def _dispatch(self, group: list[dict[str, Any]]) -> dict[str, Any]:
        """Train on the batches of ``group`` (one step each) in one jitted call; the steps'
        scalar metrics (arrays [K] for a chunk), left on the device."""
        x = [b["x"] for b in group]
        labels = [b.get("labels", np.zeros(len(b["x"]), np.int32)) for b in group]
        key = self._keys["train"]
        if len(group) == 1:
            self.state, metrics, self._flag = self._one_step(
                self.state, self.parallel.batch(x[0]), self.parallel.batch(labels[0]), key,
                self.step, self._flag)
        else:
            self.state, metrics, self._flag = self._chunk_step(
                self.state, self.parallel.chunk(np.stack(x)),
                self.parallel.chunk(np.stack(labels)), key, self.step, self._flag)
        return metrics

    def _check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` if some step so far had non-finite metrics (it names
        the first), before anything is logged, saved or promoted."""
        first = int(jax.device_get(self._flag))
        if first != chunks.ALL_FINITE:
            bad = self.pending.non_finite() or ["a metric"]
            raise diverged(self.spec, bad, first, self.run_dir.last)

    def _flush(self, bar: Any) -> dict[str, Any]:
        self._check_finite()
        row: dict[str, Any] = {"step": self.step, "epoch": self.epoch, **self.pending.mean()}
        self.pending.clear()
        bar.set_postfix({k: f"{row[k]:.4g}" for k in ("loss", "reconstruction_loss", "kl_loss",
                                                       "perplexity") if k in row})
        return row

    def _after_validation(self, metrics: dict[str, float]) -> None:
        if not metrics:
            return
        self._log({"step": self.step, **{f"val/{k}": v for k, v in metrics.items()}})
        score = metrics["loss"]  # the objective at the end of its schedules (see validate)
        if math.isfinite(score) and score < self.best:
            self._check_finite()
            self.best = score
            if self.writer:
                self._sync()
                check_parameters(self.spec, self.model, self.step, self.run_dir.last)
                checkpoints.promote(self.run_dir, self.model)


def run_training(variant: str, out: str | Path, train_config: TrainConfig | None = None,
                 model_overrides: dict[str, Any] | None = None, *, resume: bool = False,
                 until_step: int | None = None, progress: bool = True, devices: int | str = 1,
                 cluster: multihost.Cluster | None = None,
                 steps_per_dispatch: int = DEFAULT_STEPS_PER_DISPATCH,
                 loggers: Iterable[MetricsLogger] = ()) -> TrainResult:
    """Train ``variant`` into ``out`` (see :func:`zoo.train.train`); closes the loggers."""
    sinks = LoggerSet(loggers)
    try:
        loop = Loop(variant, Path(out), train_config or TrainConfig(),
                    dict(model_overrides or {}), resume=resume, progress=progress,
                    devices=devices, cluster=cluster, steps_per_dispatch=steps_per_dispatch,
                    loggers=sinks)
        with multihost.peers_answering():
            return loop.run(until_step)
    finally:
        sinks.close()
