"""PyTorch's side of the benchmarks: a twin trained the standard way, eager or compiled.

One step is ``zero_grad(set_to_none=True)``, forward and loss, ``backward()``, the gradient's
global norm (zoo's step reports it too) and ``Adam(lr=1e-3).step()``. The loss weight of the
step (beta or the capacity C) is computed on the host and passed as a 0-d tensor, so a compiled
module is not specialised on its value. Batches are host tensors in NCHW, built before timing,
as zoo's are host numpy arrays. ``torch.compile`` compiles the module (forward and loss;
AOTAutograd compiles its backward) with static shapes (``dynamic=False``): each batch size gets
its own graph, as each gets its own XLA program on zoo's side.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from networks import Network
from twin_weights import load_zoo_weights
from twins import build_twin, schedule_weight

__all__ = ["ADAM_OPTIONS", "TorchTrainer", "torch_batches"]

#: Adam's implementation: the fused CPU kernel, the fastest of PyTorch's three on this machine
#: (for-loop, foreach, fused; see benchmarks/README.md).
ADAM_OPTIONS: dict[str, Any] = {"fused": True}


def torch_batches(batches: list[tuple[np.ndarray, np.ndarray]]
                  ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """zoo's host batches (NHWC float32, int32 labels) as PyTorch's: NCHW float32, int64."""
    return [(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
             torch.from_numpy(labels.astype(np.int64))) for x, labels in batches]


class TorchTrainer:
    """A twin of ``net`` starting from ``zoo_model``'s weights, with its own Adam."""

    def __init__(self, net: Network, zoo_model: Any, *, compiled: bool,
                 learning_rate: float = 1e-3) -> None:
        self.net, self.config = net, net.config()
        self.model = build_twin(net.variant, self.config)
        load_zoo_weights(self.model, zoo_model)
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=learning_rate, **ADAM_OPTIONS)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.forward = torch.compile(self.model, dynamic=False) if compiled else self.model
        self.step = 0

    def train_step(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimizer step; returns the step's scalar metrics (not synchronised)."""
        weight = torch.tensor(schedule_weight(self.net.variant, self.config, self.step))
        self.opt.zero_grad(set_to_none=True)
        loss, metrics = self.forward(x, labels, weight)
        loss.backward()
        metrics["grad_norm"] = torch.nn.utils.get_total_norm(
            [p.grad for p in self.params if p.grad is not None])
        self.opt.step()
        self.step += 1
        return metrics

    def run(self, batches: list[tuple[torch.Tensor, torch.Tensor]], steps: int) -> float:
        """Run ``steps`` steps cycling over ``batches``; returns the seconds they took."""
        start = time.perf_counter()
        for i in range(steps):
            self.train_step(*batches[i % len(batches)])
        return time.perf_counter() - start
