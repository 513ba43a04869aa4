"""The metrics of the steps since the last log row, left on the device until the row is due.

Each dispatch adds its scalar metrics: a single step adds scalars, a chunk of ``K`` steps
(:mod:`zoo.training.chunks`) adds arrays [K]. Nothing is copied to the host before
:meth:`Pending.mean` (a log row) or :meth:`Pending.rows` (a checkpoint), so training never waits
for its metrics between log points.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

__all__ = ["Pending"]


class Pending:
    """Per-dispatch metric dicts (device arrays, or host floats restored from a checkpoint)."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self._parts: list[dict[str, Any]] = list(rows or [])

    def __len__(self) -> int:
        return len(self._parts)

    def add(self, metrics: dict[str, Any]) -> None:
        """One dispatch's metrics: scalars (one step) or arrays [K] (a chunk)."""
        self._parts.append(metrics)

    def clear(self) -> None:
        self._parts = []

    def _columns(self) -> dict[str, np.ndarray]:
        """Metric name -> host values [steps], in step order."""
        host = jax.device_get(self._parts)
        if not host:
            return {}
        return {k: np.concatenate([np.atleast_1d(np.asarray(p[k], np.float64)) for p in host])
                for k in host[0]}

    def rows(self) -> list[dict[str, float]]:
        """One dict of floats per step (``trainer.json``'s ``pending``)."""
        columns = self._columns()
        steps = len(next(iter(columns.values()))) if columns else 0
        return [{k: float(v[i]) for k, v in columns.items()} for i in range(steps)]

    def mean(self) -> dict[str, float]:
        """Each metric's mean over the pending steps (a log row's values)."""
        return {k: float(np.mean(v)) for k, v in self._columns().items()}

    def non_finite(self) -> list[str]:
        """Names of the metrics that were NaN or infinite at some pending step."""
        return [k for k, v in self._columns().items()
                if not all(math.isfinite(x) for x in v)]
