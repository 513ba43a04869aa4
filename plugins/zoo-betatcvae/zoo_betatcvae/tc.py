"""The beta-TCVAE decomposition of the KL term, estimated on a minibatch (Chen et al. 2018).

For a minibatch x_1..x_B with Gaussian posteriors q(z|x_j) = N(mean_j, diag(exp(logvar_j))) and
one sample z_i ~ q(z|x_i) per example, the KL term of the ELBO splits, per example, as

    log q(z_i|x_i) - log p(z_i)
      = [log q(z_i|x_i) - log q(z_i)]                  index-code mutual information
      + [log q(z_i) - sum_d log q(z_id)]               total correlation
      + [sum_d log q(z_id) - sum_d log p(z_id)]        dimension-wise KL

where q(z) = (1/N) sum_n q(z|x_n) is the aggregate posterior over the N training examples. The
identity telescopes, so it holds exactly for any estimate of log q(z) and log q(z_d): averaged
over the batch, the three terms always add up to the single-sample Monte-Carlo KL.

Both estimators of the paper are weighted log-sum-exps over the batch's [B, B, D] matrix
``log q(z_id | x_j)``:

- ``"mws"``, minibatch-weighted sampling: every weight is 1/(B N), so
  ``log q(z_i) = logsumexp_j sum_d log q(z_id|x_j) - log(B N)`` and
  ``log q(z_id) = logsumexp_j log q(z_id|x_j) - log(B N)``. It is a lower bound: each log q
  estimate sits roughly log N below the batch-average estimate, so, whatever the data, the
  reported terms carry the constant offsets MI + log N, TC + (D - 1) log N and
  dimKL - D log N (:func:`mws_offsets`; exactly, relative to the batch-average estimator whose
  weights are 1/B). Constants do not change the gradients, but the raw values are not the
  information-theoretic quantities (dimKL is typically negative), so the loss subtracts them.
- ``"mss"``, minibatch-stratified sampling: with M = B - 1, row i weighs its own posterior
  1/N, one other example (the next one, cyclically) (N - M) / (N M) and the remaining ones 1/M.
  Each row of weights sums to 1, so the estimates have no such offset (for N >> B they approach
  the leave-one-out batch average). It needs N >= B; a batch of one, with nothing to stratify,
  estimates q(z) by q(z|x) itself.

Everything here is a pure, jit-safe function; shapes are checked at the top (they are static
under ``jit``) so that errors stay readable.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "ESTIMATORS",
    "KLTerms",
    "gaussian_log_density",
    "kl_decomposition",
    "log_aggregate_posterior",
    "log_density_matrix",
    "log_importance_weights",
    "mws_offsets",
    "standard_normal_log_density",
]

Estimator = Literal["mws", "mss"]
#: The estimators of log q(z) and log q(z_d) this module implements.
ESTIMATORS: tuple[str, ...] = ("mws", "mss")
_LOG_2PI = math.log(2.0 * math.pi)


class KLTerms(NamedTuple):
    """Per-example terms of the decomposition, each [B] (reduce them yourself, e.g. ``.mean()``)."""

    index_code_mi: jax.Array
    total_correlation: jax.Array
    dimwise_kl: jax.Array


def _check_posterior(z: jax.Array, mean: jax.Array, logvar: jax.Array, who: str) -> None:
    if mean.ndim != 2:
        raise ValueError(f"{who}: expected mean of shape [B, D], got {tuple(mean.shape)}")
    if z.shape != mean.shape or logvar.shape != mean.shape:
        raise ValueError(
            f"{who}: z, mean and logvar must all have shape [B, D]; got {tuple(z.shape)}, "
            f"{tuple(mean.shape)} and {tuple(logvar.shape)}"
        )


def gaussian_log_density(z: jax.Array, mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """log N(z; mean, exp(logvar)) per element (broadcasting), in nats."""
    return -0.5 * (_LOG_2PI + logvar + jnp.square(z - mean) * jnp.exp(-logvar))


def standard_normal_log_density(z: jax.Array) -> jax.Array:
    """log N(z; 0, 1) per element, in nats."""
    return -0.5 * (_LOG_2PI + jnp.square(z))


def log_density_matrix(z: jax.Array, mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """``out[i, j, d] = log q(z_id | x_j)``: every sample under every posterior of the batch.

    Args:
        z: samples [B, D], z_i drawn from the posterior of example i.
        mean, logvar: posterior parameters [B, D].
    Returns:
        [B, B, D].
    """
    _check_posterior(z, mean, logvar, "log_density_matrix")
    return gaussian_log_density(z[:, None, :], mean[None, :, :], logvar[None, :, :])


def log_importance_weights(
    batch_size: int, dataset_size: int, estimator: Estimator = "mws"
) -> np.ndarray:
    """Log weights [B, B] (float64 numpy, a constant under ``jit``) of the estimator:
    ``log q(z_i) ~= logsumexp_j (w[i, j] + log q(z_i | x_j))``.

    ``"mws"``: every entry is -log(B N). ``"mss"``: see the module docstring; a batch of one
    gets weight 1/N under ``"mws"`` and 1 under ``"mss"`` (whose rows always sum to 1).
    """
    b, n = int(batch_size), int(dataset_size)
    if b < 1:
        raise ValueError(f"log_importance_weights: batch_size must be >= 1, got {b}")
    if n < 1:
        raise ValueError(f"log_importance_weights: dataset_size must be >= 1, got {n}")
    if estimator == "mws":
        return np.full((b, b), -math.log(b * n))
    if estimator != "mss":
        raise ValueError(f"unknown estimator {estimator!r}; use one of {ESTIMATORS}")
    if b > n:
        raise ValueError(
            f"minibatch-stratified sampling needs dataset_size >= batch size, got "
            f"dataset_size={n} for a batch of {b}; set dataset_size to the number of training "
            "examples"
        )
    if b == 1:  # no other example to stratify: q(z) is estimated by q(z|x) itself
        return np.zeros((1, 1))
    m = b - 1
    weights = np.full((b, b), 1.0 / m)
    rows = np.arange(b)
    weights[rows, (rows + 1) % b] = (n - m) / (n * m)
    weights[rows, rows] = 1.0 / n
    return np.log(weights)


def mws_offsets(latent_dim: int, dataset_size: int) -> KLTerms:
    """The constants (log N, (D - 1) log N, -D log N) by which the ``"mws"`` terms exceed the
    batch-average estimator's (every weight 1/B, so each row of weights sums to one).

    MWS's weights are those of the batch average times 1/N, so every log q estimate is exactly
    log N lower; the offsets follow by the definitions of the three terms. They sum to zero and
    depend on no parameter: subtracting them changes neither the total KL nor any gradient.
    """
    if latent_dim < 1 or dataset_size < 1:
        raise ValueError(
            f"mws_offsets: latent_dim and dataset_size must be >= 1, got {latent_dim} and "
            f"{dataset_size}"
        )
    log_n = math.log(dataset_size)
    return KLTerms(
        index_code_mi=log_n, total_correlation=(latent_dim - 1) * log_n,
        dimwise_kl=-latent_dim * log_n,
    )


def log_aggregate_posterior(
    z: jax.Array, mean: jax.Array, logvar: jax.Array, *, dataset_size: int,
    estimator: Estimator = "mws",
) -> tuple[jax.Array, jax.Array]:
    """Minibatch estimates of log q(z_i) and of log prod_d q(z_id), each [B].

    Args:
        z: samples [B, D], z_i drawn from the posterior of example i.
        mean, logvar: posterior parameters [B, D].
        dataset_size: N, the number of examples the batch was drawn from.
        estimator: ``"mws"`` or ``"mss"`` (module docstring).
    """
    _check_posterior(z, mean, logvar, "log_aggregate_posterior")
    matrix = log_density_matrix(z, mean, logvar)  # [B, B, D]
    log_w = jnp.asarray(log_importance_weights(z.shape[0], dataset_size, estimator), matrix.dtype)
    log_qz = jax.nn.logsumexp(log_w + matrix.sum(axis=-1), axis=1)
    log_prod_qzd = jax.nn.logsumexp(log_w[:, :, None] + matrix, axis=1).sum(axis=-1)
    return log_qz, log_prod_qzd


def kl_decomposition(
    z: jax.Array, mean: jax.Array, logvar: jax.Array, *, dataset_size: int,
    estimator: Estimator = "mws",
) -> KLTerms:
    """Index-code MI, total correlation and dimension-wise KL per example, each [B].

    Their sum is ``log q(z_i|x_i) - log p(z_i)`` exactly (up to rounding), whatever the estimator:
    the single-sample Monte-Carlo estimate of KL(q(z|x_i) || N(0, I)).
    """
    _check_posterior(z, mean, logvar, "kl_decomposition")
    log_qz, log_prod_qzd = log_aggregate_posterior(
        z, mean, logvar, dataset_size=dataset_size, estimator=estimator
    )
    log_qz_given_x = gaussian_log_density(z, mean, logvar).sum(axis=-1)
    log_pz = standard_normal_log_density(z).sum(axis=-1)
    return KLTerms(
        index_code_mi=log_qz_given_x - log_qz,
        total_correlation=log_qz - log_prod_qzd,
        dimwise_kl=log_prod_qzd - log_pz,
    )
