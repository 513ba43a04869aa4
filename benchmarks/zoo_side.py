"""zoo's side of the benchmarks: the training loop's real step, fed the way the loop feeds it.

:class:`ZooTrainer` builds what :class:`zoo.training.loop.Loop` builds (the model in training
mode, ``nnx.Optimizer`` with Adam 1e-3 over ``nnx.Param``, ``nnx.split`` of both, and
``jax.jit(make_train_step(...), donate_argnums=0)``) and calls it as the loop does: host numpy
batches, the step's key ``fold_in(key(seed), step)`` and the Python int step, with no sync
between steps (metrics stay on the device). Imports no torch.
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

    def __init__(self, net: Network, *, seed: int = 0, learning_rate: float = 1e-3) -> None:
        import jax
        import optax
        from flax import nnx

        import zoo
        from zoo import building
        from zoo.training.steps import make_train_step

        self.spec = zoo.get_variant(net.variant)
        self.config = net.config()
        self.model = building.build(self.spec, self.config, seed=seed)
        self.model.train()
        opt = nnx.Optimizer(self.model, optax.adam(learning_rate), wrt=nnx.Param)
        graphdef, self.state = nnx.split((self.model, opt))
        self._step_fn = jax.jit(make_train_step(self.spec, self.config, graphdef),
                                donate_argnums=0)
        self._base_key = jax.random.key(seed)
        self.step = 0

    def run(self, batches: list[tuple[np.ndarray, np.ndarray]], steps: int) -> float:
        """Run ``steps`` training steps cycling over ``batches``; returns the seconds they took
        (until the last step's state is ready)."""
        import jax

        start = time.perf_counter()
        metrics: Any = None
        for i in range(steps):
            x, labels = batches[i % len(batches)]
            key = jax.random.fold_in(self._base_key, self.step)
            self.state, metrics = self._step_fn(self.state, x, labels, key, self.step)
            self.step += 1
        jax.block_until_ready((self.state, metrics))
        return time.perf_counter() - start


def time_zoo(net: Network, batch: int, steps: int, *, warmup: int = 1) -> float:
    """Images per second of ``steps`` steps of ``net``'s zoo training step at ``batch``, after
    ``warmup`` (compiling) steps. One measurement, not best-of-rounds."""
    trainer = ZooTrainer(net)
    data = synthetic_batches(trainer.config, batch)
    trainer.run(data, warmup)
    return batch * steps / trainer.run(data, steps)
