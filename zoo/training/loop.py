"""The training loop: one jitted step, schedules as functions of the step, exact resume, safe
stops, validation, checkpoints and the metrics log of a run directory (:mod:`zoo.runs`).

The data order is a function of (seed, epoch) and the noise of step ``s`` is
``fold_in(key(seed), s)``, so a resumed run continues exactly where the interrupted one stopped.
Every step is data-parallel over a mesh of ``devices`` devices (:mod:`~zoo.training.sharding`;
one device is the mesh of one), in one process or several (:mod:`~zoo.training.multihost`:
process 0 alone touches the run directory). The loop draws no pictures: whoever calls it does
(:func:`zoo.train.train`).
"""

from __future__ import annotations

import json
import math
import signal
import threading
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from zoo import building
from zoo._io import atomic_write_text
from zoo.data import batches, load_dataset, num_batches
from zoo.errors import InputError
from zoo.plugins import get_manager
from zoo.runs import RunDir, RunError
from zoo.training import checkpoints, multihost
from zoo.training.clock import TrainClock
from zoo.training.config import TrainConfig, TrainResult, fit_model_config, identity, make_optimizer
from zoo.training.faults import diverged
from zoo.training.sharding import DataParallel, key_data, resolve_device_count, to_local
from zoo.training.steps import make_eval_step, make_train_step

__all__ = ["Loop", "run_training"]


class _StopRequested(Exception):
    """Ctrl-C arrived; raised between two steps."""


class Loop:
    """One training run: builds everything in ``__init__``, trains in :meth:`run`."""

    def __init__(self, variant: str, out: Path, tc: TrainConfig, overrides: dict[str, Any], *,
                 resume: bool, progress: bool, devices: int | str = 1,
                 cluster: multihost.Cluster | None = None) -> None:
        if cluster is not None:
            multihost.start(cluster)  # before any JAX computation
        self.parallel = DataParallel(resolve_device_count(devices, tc.batch_size))
        self.writer = multihost.is_writer()
        registry = get_manager().registry
        self.tc, self.progress, self._batches = tc, progress and self.writer, batches
        self.spec = registry.get_variant(variant)
        ds_spec = registry.get_dataset(tc.dataset)
        split = {"validation_size": tc.validation_size}
        # train_limit: a seeded random subset, so that even factor-ordered data (dSprites) mixes
        self.train_ds = load_dataset(tc.dataset, "train", sample=tc.train_limit or None, **split)
        self.val_ds = None
        if tc.validation_size:
            self.val_ds = load_dataset(tc.dataset, "validation", **split)
        if self.spec.conditional and self.train_ds.labels is None:
            raise InputError(f"variant {variant!r} is conditional but dataset {tc.dataset!r} "
                             "has no labels; pick a labelled dataset")
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
        self.opt = nnx.Optimizer(self.model, make_optimizer(tc, self.total), wrt=nnx.Param)
        #: position; ``pending``: per-step metrics since the last log row (kept in checkpoints)
        self.step, self.epoch, self.batch_index, self.best = 0, 0, 0, math.inf
        self.pending: list[dict[str, Any]] = []
        self.graphdef = nnx.graphdef((self.model, self.opt))
        if resuming:
            trainer = multihost.from_writer(
                lambda: checkpoints.restore(self.run_dir, self.model, self.opt))
            self.step, self.epoch, self.batch_index, self.best, self.pending = \
                checkpoints.position(trainer)
        # every process starts from process 0's state (built from the seed, or restored)
        self.state = self.parallel.replicate(
            multihost.share_arrays(nnx.state((self.model, self.opt))))
        self._keys = self.parallel.replicate({"train": key_data(tc.seed),
                                              "validation": key_data(tc.seed + 1)})
        self._train_step = self.parallel.jit(
            make_train_step(self.spec, self.config, self.graphdef), donate_state=True)
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
        return self.run_dir.claim(ident, resume=resume)

    def _sync(self) -> None:
        """The model and optimizer take host-local copies of the state (no other process)."""
        nnx.update((self.model, self.opt), to_local(self.state))

    def _checkpoint(self) -> None:
        if not self.writer:
            return
        self._sync()
        trainer = checkpoints.trainer_json(self.step, self.epoch, self.batch_index, self.best,
                                           jax.device_get(self.pending))
        checkpoints.save(self.run_dir, self.model, self.opt, trainer)

    def _log(self, row: dict[str, Any]) -> None:
        if self.writer:
            self.run_dir.log([row])

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
        sums: dict[str, float] = {}
        n = 0
        for i, batch in enumerate(self._batches(self.val_ds, self.tc.batch_size, seed=0, epoch=0,
                                                shuffle=False, drop_remainder=False,
                                                binarize=self.tc.binarize)):
            m = self._eval_step(self.state, *self._inputs(batch), self._keys["validation"], i,
                                self.total)
            b = len(batch["x"])
            for k, v in jax.device_get(m).items():
                sums[k] = sums.get(k, 0.0) + float(v) * b
            n += b
        return {k: v / n for k, v in sums.items()}

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, until_step: int | None = None) -> TrainResult:
        from tqdm.auto import tqdm

        stop = min(self.total, until_step) if until_step else self.total
        bar = tqdm(total=self.total, initial=self.step, disable=not self.progress,
                   unit="step", dynamic_ncols=True, desc=self.spec.name)
        restore_sigint = self._catch_sigint()
        clock = TrainClock()
        try:
            while self.step < stop:
                it = self._batches(self.train_ds, self.tc.batch_size, seed=self.tc.seed,
                                   epoch=self.epoch, start_batch=self.batch_index,
                                   binarize=self.tc.binarize)
                for batch in it:
                    self.state, metrics = self._train_step(
                        self.state, *self._inputs(batch), self._keys["train"], self.step, self.step)
                    self.step += 1
                    self.batch_index += 1
                    self.pending.append(metrics)
                    bar.update(1)
                    clock.stepped(len(batch["x"]), metrics)
                    if self.step % self.tc.log_every == 0 or self.step == self.total:
                        self._log(self._flush(self.pending, bar))
                        self.pending = []
                    evaluate = self.step % self.tc.eval_every == 0 or self.step == self.total
                    save = self.step % self.tc.checkpoint_every == 0 or self.step == stop
                    if evaluate or save:
                        clock.pause(self.state)
                        if evaluate:
                            self._after_validation(self.validate())
                        if save:
                            self._checkpoint()
                        clock.resume()
                    if self.step >= stop:
                        break
                    if self._interrupted:
                        raise _StopRequested
                it.close()
                if self.batch_index >= self.steps_per_epoch:
                    self.epoch, self.batch_index = self.epoch + 1, 0
            clock.pause(self.state)
        except _StopRequested:
            bar.close()
            self._checkpoint()  # the state is whole: the flag is only read between steps
            raise KeyboardInterrupt(
                f"interrupted at step {self.step}; checkpoint saved in "
                f"{str(self.run_dir.last)!r}; continue with resume=True (--resume)"
            ) from None
        finally:
            bar.close()
            restore_sigint()
        self._sync()
        ips = clock.images_per_second()
        finished = self.step >= self.total
        if finished and self.writer:
            self._summarise(ips)
        return TrainResult(self.run_dir.path, self.model, self.step,
                           None if math.isinf(self.best) else self.best, ips, finished,
                           self.parallel.count, jax.process_index())

    def _catch_sigint(self) -> Any:
        """Turn Ctrl-C into a flag checked between steps (a step is never cut in half: its
        input buffers are donated). Returns the function that restores the old handler."""
        self._interrupted = False
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: Any) -> None:
            if self._interrupted:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._interrupted = True

        previous = signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, previous)

    def _flush(self, pending: list[dict[str, Any]], bar: Any) -> dict[str, Any]:
        host = jax.device_get(pending)
        row: dict[str, Any] = {"step": self.step, "epoch": self.epoch}
        for k in host[0]:
            row[k] = float(np.mean([h[k] for h in host]))
        bad = [k for k, v in row.items()
               if k not in ("step", "epoch") and isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise diverged(self.spec, bad, self.step, self.run_dir.last)
        bar.set_postfix({k: f"{row[k]:.4g}" for k in ("loss", "reconstruction_loss", "kl_loss",
                                                       "perplexity") if k in row})
        return row

    def _after_validation(self, metrics: dict[str, float]) -> None:
        if not metrics:
            return
        self._log({"step": self.step, **{f"val/{k}": v for k, v in metrics.items()}})
        score = metrics["loss"]  # the objective at the end of its schedules (see validate)
        if math.isfinite(score) and score < self.best:
            self.best = score
            if self.writer:
                self._sync()
                with self.run_dir.writing_checkpoint(self.run_dir.best) as tmp:
                    checkpoints.save_model(self.model, tmp)

    def _summarise(self, images_per_second: float) -> None:
        """Write summary.json. Without a validation split nothing ranks checkpoints, so the
        final model becomes ``best/`` (what zoo.load(RUN) and zoo eval RUN use)."""
        if self.val_ds is None:
            with self.run_dir.writing_checkpoint(self.run_dir.best) as tmp:
                checkpoints.save_model(self.model, tmp)
        history = self.run_dir.read_metrics()
        last_train = next((r for r in reversed(history) if "loss" in r), {})
        last_val = next((r for r in reversed(history) if "val/loss" in r), {})
        summary = {"variant": self.spec.name, "steps": self.step, "epochs": self.epoch,
                   "final_train": last_train, "final_validation": last_val,
                   "best_validation": None if math.isinf(self.best) else self.best,
                   "images_per_second": images_per_second}
        atomic_write_text(self.run_dir.path / "summary.json", json.dumps(summary, indent=2))


def run_training(variant: str, out: str | Path, train_config: TrainConfig | None = None,
                 model_overrides: dict[str, Any] | None = None, *, resume: bool = False,
                 until_step: int | None = None, progress: bool = True, devices: int | str = 1,
                 cluster: multihost.Cluster | None = None) -> TrainResult:
    """Train ``variant`` into the run directory ``out`` (see :func:`zoo.train.train`)."""
    loop = Loop(variant, Path(out), train_config or TrainConfig(), dict(model_overrides or {}),
                resume=resume, progress=progress, devices=devices, cluster=cluster)
    with multihost.peers_answering():
        return loop.run(until_step)
