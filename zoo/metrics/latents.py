"""Latent-space diagnostics of a Gaussian-posterior VAE: active units, KL per dimension, and how
much each latent dimension tells about a label.

``mean`` and ``logvar`` are the posterior parameters over a whole split, [N, D].

Active units. Burda et al. (2016) call unit u active when A_u = Cov_x(E_{q(z|x)}[z_u]) > 0.01.
That covariance of a unit's posterior mean *with itself* is its variance across the data, so
"the covariance-based definition" and "the variance threshold" are one and the same rule:
:func:`active_units_variance` implements it (population variance, ddof=0; the threshold makes
ddof irrelevant in practice). The definition people use alongside it, and implemented here as the
complementary view, counts units whose KL to the prior, averaged over the data, exceeds a
threshold in nats (:func:`active_units_kl`): it also sees a unit whose mean barely moves but
whose variance shrinks below the prior's, and it is the quantity beta and capacity annealing act on.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo.errors import InputError
from zoo.losses import gaussian_kl
from zoo.metrics._checks import as_matrix, same_rows
from zoo.metrics.disentanglement import discretize

__all__ = [
    "active_units_kl",
    "active_units_variance",
    "kl_per_dimension",
    "mutual_information_with_labels",
]


def active_units_variance(means: Any, threshold: float = 0.01) -> tuple[np.ndarray, int]:
    """Active units by Burda et al.'s rule: Var_x(E_q[z_u]) > ``threshold``.

    This is the covariance-based definition A_u = Cov_x(E_{q(z|x)}[z_u]) (the diagonal of the
    covariance of posterior means) and the "variance threshold 0.01" of the seed: the same thing.

    Args:
        means: posterior means over a split, [N, D] (N >= 2).
        threshold: activity threshold (0.01 in the literature).
    Returns:
        (mask bool [D], number of active units).
    """
    means = as_matrix(means, "means", "active_units_variance").astype(np.float64)
    if means.shape[0] < 2:
        raise InputError("active_units_variance: needs at least 2 data points to measure spread")
    mask = np.var(means, axis=0) > threshold
    return mask, int(mask.sum())


def kl_per_dimension(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(q(z_d|x) || N(0, 1)) averaged over the data, per dimension: [N, D] -> [D] nats.

    Jit-safe; uses :func:`zoo.losses.gaussian_kl`. Sum the result for the mean KL per example.
    """
    mean, logvar = jnp.asarray(mean), jnp.asarray(logvar)
    if mean.ndim != 2:
        raise InputError(f"kl_per_dimension: expected mean and logvar [N, D], got {mean.shape}")
    return gaussian_kl(mean, logvar).mean(axis=0)


def active_units_kl(mean: Any, logvar: Any, threshold: float = 0.01) -> tuple[np.ndarray, int]:
    """Active units by KL: E_x[KL(q(z_u|x) || N(0, 1))] > ``threshold`` nats.

    Not the same rule as :func:`active_units_variance`: a collapsed unit (q = prior for every x)
    is inactive under both, but a unit with a fixed mean and a shrunken variance is active here
    only.

    Args:
        mean, logvar: posterior parameters over a split, [N, D].
        threshold: nats per unit (0.01 by convention).
    Returns:
        (mask bool [D], number of active units).
    """
    who = "active_units_kl"
    mean = as_matrix(mean, "mean", who)
    logvar = as_matrix(logvar, "logvar", who)
    if mean.shape != logvar.shape:
        raise InputError(f"{who}: mean and logvar shapes differ, {mean.shape} vs {logvar.shape}")
    kl = np.asarray(kl_per_dimension(mean.astype(np.float32), logvar.astype(np.float32)))
    mask = kl > threshold
    return mask, int(mask.sum())


def mutual_information_with_labels(codes: Any, labels: Any, num_bins: int = 20) -> np.ndarray:
    """I(code_d; label) in nats for each latent dimension d: [D].

    Each dimension is histogram-discretised on its own (:func:`~zoo.metrics.disentanglement.
    discretize`), then its MI with the labels is computed column by column: the discretised code
    column is the first argument, the labels the second. (Passing the whole code matrix, or the
    labels where the codes belong, is the mistake this function exists to avoid.)

    Args:
        codes: [N, D] codes (e.g. posterior means).
        labels: [N] class labels (any hashable values).
        num_bins: histogram bins per dimension.
    Returns:
        float64 [D]; each entry is in [0, min(H(code_d), H(label))].
    """
    from sklearn.metrics import mutual_info_score

    who = "mutual_information_with_labels"
    codes = as_matrix(codes, "codes", who)
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"{who}: labels must be 1-D [N], got shape {labels.shape}")
    same_rows(codes, labels, "codes and labels", who)
    binned = discretize(codes, num_bins)
    labels = np.unique(labels, return_inverse=True)[1].reshape(-1)  # any label values -> ids
    return np.array([mutual_info_score(binned[:, d], labels) for d in range(binned.shape[1])])
