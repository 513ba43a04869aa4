"""Training throughput: images per second of training steps only."""

from __future__ import annotations

import time
from typing import Any

import jax

__all__ = ["TrainClock"]


class TrainClock:
    """Training-step throughput, excluding the first (compiling) step, validation and
    checkpoints. Device work is asynchronous, so every pause waits for it first."""

    def __init__(self) -> None:
        self.images, self.seconds, self.mark = 0, 0.0, None
        self.warm = False

    def stepped(self, images: int, outputs: Any) -> None:
        if not self.warm:  # the first step compiles: start timing after it
            jax.block_until_ready(outputs)
            self.warm, self.mark = True, time.perf_counter()
        else:
            self.images += images

    def pause(self, state: Any) -> None:
        if self.mark is not None:
            jax.block_until_ready(state)
            self.seconds += time.perf_counter() - self.mark
            self.mark = None

    def resume(self) -> None:
        if self.warm:
            self.mark = time.perf_counter()

    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0
