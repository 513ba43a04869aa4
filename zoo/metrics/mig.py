"""Mutual Information Gap (Chen et al. 2018) with disentanglement_lib's definition.

Layout: ``codes`` [N, D] (posterior means, usually) and ``factors`` [N, K] (ground-truth factor
values, any sortable dtype); mutual information and entropy are in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix, encode_columns, same_rows
from zoo.metrics._skips import skip_note
from zoo.metrics.mutual_info import discrete_entropy, discrete_mutual_info, discretize

__all__ = ["mig"]

#: Entropy below this (nats) means a factor takes a single value on the data.
_CONSTANT_ENTROPY = 1e-12


def mig(codes: Any, factors: Any, num_bins: int = 20) -> dict[str, Any]:
    """Mutual Information Gap (Chen et al. 2018) as disentanglement_lib computes it.

    For each factor k: (largest - second largest of I(code_d; factor_k) over d) / H(factor_k), with
    codes histogram-discretised (:func:`~zoo.metrics.mutual_info.discretize`); the score is the
    mean over factors. 1 means each factor is captured by one latent dimension alone; 0 means no
    single dimension stands out.

    A factor with a single value on the data (entropy 0) has no defined gap: it is skipped (never
    NaN) and listed under ``skipped_factors`` with a ``note``.

    Args:
        codes: [N, D] codes (posterior means), D >= 2.
        factors: [N, K] ground-truth factor values.
        num_bins: histogram bins per latent dimension (disentanglement_lib: 20, N = 10,000).
    Returns:
        dict with ``mig`` (float), ``per_factor`` (list of K floats, ``None`` for a skipped
        factor), ``mutual_info`` ([D, K] nats), ``entropy`` ([K] nats), ``skipped_factors``,
        ``note`` (None unless something was skipped), ``num_points``, ``num_bins``.
    """
    who = "mig"
    codes = as_matrix(codes, "codes", who)
    factors = as_matrix(factors, "factors", who)
    same_rows(codes, factors, "codes and factors", who)
    if codes.shape[1] < 2:
        raise InputError(f"{who}: needs at least 2 latent dimensions for a gap, got {codes.shape}")
    factors = encode_columns(factors)  # float factor values (dSprites' scales) become classes
    m = discrete_mutual_info(discretize(codes, num_bins), factors)
    h = discrete_entropy(factors)
    top = np.sort(m, axis=0)[::-1]
    scored = h > _CONSTANT_ENTROPY
    if not scored.any():
        raise InputError(
            f"{who}: every factor takes a single value on these {len(factors)} points, so MIG "
            "is undefined; pass data in which the factors vary"
        )
    gaps = np.where(scored, (top[0] - top[1]) / np.where(scored, h, 1.0), 0.0)
    skipped = [int(k) for k in np.flatnonzero(~scored)]
    return {
        "mig": float(np.mean(gaps[scored])),
        "per_factor": [float(g) if s else None for g, s in zip(gaps, scored, strict=True)],
        "mutual_info": m,
        "entropy": h,
        "skipped_factors": skipped,
        "note": skip_note(skipped, "take a single value (entropy 0)"),
        "num_points": int(codes.shape[0]),
        "num_bins": int(num_bins),
    }
