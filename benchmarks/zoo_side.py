"""zoo's side of the benchmarks: the training loop's real step, fed the way the loop feeds it.

:class:`ZooTrainer` builds what :class:`zoo.training.loop.Loop` builds (the model in training
mode, ``nnx.Optimizer`` with Adam 1e-3 over ``nnx.Param``, ``nnx.split`` of both, and the two
jitted programs of :mod:`zoo.training.chunks` over ``make_train_step(...)``, state donated) and
calls them as the loop does: ``steps_per_dispatch`` host numpy batches stacked per call (single
steps for the rest), the step's key ``fold_in(key(seed), step)`` derived inside, the
non-finite flag carried along, no sync between calls (metrics stay on the device). Imports no
torch.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from networks import Network

__all__ = ["ZooTrainer", "synthetic_batches", "time_zoo"]


def synthetic_batches(config: Any, batch: int, count: int = 4, *, seed: int = 0,
                      num_classes: int = 10) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` random batches: images float32 [B, H, W, C] in [0, 1] and int32 labels [B]."""
    rng = np.random.default_rng(seed)
    shape = (batch, config.height, config.width, config.channels)
    classes = getattr(config, "num_classes", num_classes)
    return [(rng.random(shape, dtype=np.float32),
             rng.integers(0, classes, batch).astype(np.int32)) for _ in range(count)]


class ZooTrainer:
    """The loop's jitted training step for one network, with its own model and optimizer."""

    def __init__(self, net: Network, *, seed: int = 0, learning_rate: float = 1e-3,
                 steps_per_dispatch: int | None = None) -> None:
        import jax
        import optax
        from flax import nnx

        import zoo
        from zoo import building
        from zoo.training import DEFAULT_STEPS_PER_DISPATCH, chunks
        from zoo.training.steps import make_train_step

        self.spec = zoo.get_variant(net.variant)
        self.config = net.config()
        self.model = building.build(self.spec, self.config, seed=seed)
        self.model.train()
        opt = nnx.Optimizer(self.model, optax.adam(learning_rate), wrt=nnx.Param)
        graphdef, self.state = nnx.split((self.model, opt))
        step_fn = make_train_step(self.spec, self.config, graphdef)
        self._one = jax.jit(chunks.keyed(step_fn), donate_argnums=0)
        self._chunk = jax.jit(chunks.scan_steps(step_fn), donate_argnums=0)
        self._base = np.asarray(jax.random.key_data(jax.random.key(seed)))
        self._flag = np.int32(chunks.ALL_FINITE)
        self.steps_per_dispatch = chunks.resolve_steps_per_dispatch(
            steps_per_dispatch or DEFAULT_STEPS_PER_DISPATCH, self.model)
        self.step = 0

    def run(self, batches: list[tuple[np.ndarray, np.ndarray]], steps: int) -> float:
        """Run ``steps`` training steps cycling over ``batches``; returns the seconds they took
        (until the last step's state is ready)."""
        import jax

        k = self.steps_per_dispatch
        start = time.perf_counter()
        metrics: Any = None
        done = 0
        while done < steps:
            if k > 1 and steps - done >= k:
                group = [batches[(done + j) % len(batches)] for j in range(k)]
                x, labels = np.stack([g[0] for g in group]), np.stack([g[1] for g in group])
                fn, n = self._chunk, k
            else:
                (x, labels), fn, n = batches[done % len(batches)], self._one, 1
            self.state, metrics, self._flag = fn(self.state, x, labels, self._base, self.step,
                                                 self._flag)
            self.step += n
            done += n
        jax.block_until_ready((self.state, metrics))
        return time.perf_counter() - start


def time_zoo(net: Network, batch: int, steps: int, *, warmup: int = 1) -> float:
    """Images per second of ``steps`` steps of ``net``'s zoo training step at ``batch``, after
    ``warmup`` (compiling) steps. One measurement, not best-of-rounds."""
    trainer = ZooTrainer(net)
    data = synthetic_batches(trainer.config, batch)
    trainer.run(data, warmup)
    return batch * steps / trainer.run(data, steps)
