"""Discretisation and discrete information measures behind MIG (and the latent MI of
:mod:`zoo.metrics.latents`).

Layout: ``codes`` are [N, D] (one row per data point) and ``factors`` [N, K] (discrete factor
values, one class per distinct value of a column). Mutual information and entropy are in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import mutual_info_score

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix, same_rows

__all__ = ["discrete_entropy", "discrete_mutual_info", "discretize"]


def discretize(codes: Any, num_bins: int = 20) -> np.ndarray:
    """Histogram-bin each latent dimension into ``num_bins`` equal-width bins over its own range
    (disentanglement_lib's ``_histogram_discretize``).

    Args:
        codes: [N, D] continuous codes.
        num_bins: bins per dimension (disentanglement_lib's MIG uses 20).
    Returns:
        int64 [N, D], bin indices in ``[0, num_bins)``. A constant dimension lands in one bin.
    """
    codes = as_matrix(codes, "codes", "discretize")
    if int(num_bins) != num_bins or num_bins < 1:
        raise InputError(f"discretize: num_bins must be a positive integer, got {num_bins!r}")
    out = np.empty(codes.shape, np.int64)
    for d in range(codes.shape[1]):
        column = codes[:, d]
        edges = np.histogram(column, int(num_bins))[1][:-1]
        out[:, d] = np.digitize(column, edges) - 1
    return out


def discrete_mutual_info(codes_discrete: Any, factors: Any) -> np.ndarray:
    """I(code_d; factor_k) in nats for every pair: [D, K].

    Args:
        codes_discrete: [N, D] discrete codes (e.g. from :func:`discretize`).
        factors: [N, K] discrete factor values.
    """
    who = "discrete_mutual_info"
    codes_discrete = as_matrix(codes_discrete, "codes_discrete", who)
    factors = as_matrix(factors, "factors", who)
    same_rows(codes_discrete, factors, "codes_discrete and factors", who)
    m = np.zeros((codes_discrete.shape[1], factors.shape[1]))
    for d in range(codes_discrete.shape[1]):
        for k in range(factors.shape[1]):
            m[d, k] = mutual_info_score(factors[:, k], codes_discrete[:, d])
    return m


def discrete_entropy(factors: Any) -> np.ndarray:
    """H(factor_k) in nats for each column of ``factors`` [N, K]: [K] (0 for a constant one)."""
    factors = as_matrix(factors, "factors", "discrete_entropy")
    return np.array([mutual_info_score(f, f) for f in factors.T], dtype=np.float64)
