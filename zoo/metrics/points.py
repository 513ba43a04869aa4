"""Which examples the disentanglement metrics are measured on: one seeded draw, shared by
``zoo eval`` (:mod:`zoo.evaluate`), the factor pictures (:mod:`zoo.viz`) and the MIG-vs-steps
curve, so that a figure's MIG is the card's MIG."""

from __future__ import annotations

import numpy as np

from zoo.errors import InputError

__all__ = ["disentanglement_points"]


def disentanglement_points(n: int, seed: int, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``n`` examples: the ``points`` that MIG/DCI/SAP are trained on and the
    ``points // 2`` others that DCI and SAP are tested on (disentanglement_lib: 10,000 and
    5,000), from one seeded permutation.

    Returns:
        (idx [points], test_idx [points // 2]) int64, disjoint, in draw order.
    Raises:
        InputError: when ``n <= points`` leaves no test examples.
    """
    order = np.random.default_rng(seed).permutation(n)
    idx, test_idx = order[:points], order[points: points + points // 2]
    if len(test_idx) == 0:
        raise InputError(f"disentanglement metrics need more than {points} examples; got {n}")
    return idx, test_idx
