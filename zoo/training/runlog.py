"""Validation means as a run logs them, shared by ``zoo train``'s loop and ``zoo sweep`` (whose
every member is an ordinary run, so its ``val/`` rows must be computed the same way)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["validation_means"]


def validation_means(parts: Iterable[tuple[Mapping[str, Any], int]]) -> dict[str, float]:
    """Example-weighted means of per-batch metrics: ``parts`` holds ``(scalar metrics of a
    batch (host values), its number of examples)`` in batch order; sums in Python floats."""
    sums: dict[str, float] = {}
    n = 0
    for metrics, b in parts:
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + float(v) * b
        n += b
    return {k: v / n for k, v in sums.items()}
