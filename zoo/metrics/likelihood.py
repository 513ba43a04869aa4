"""Importance-weighted log-likelihood (Burda et al. 2016) and the Gaussian densities it needs.

With K samples z_k ~ q(z|x),

    log p(x) >= L_K = log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),

a lower bound that tightens as K grows (L_1 is the ELBO) and is exact for any K when q(z|x) is
the true posterior. Report the negative of its mean over a test set as "test NLL" (nats), stating
K (the literature uses 200 to 5,000). All functions are jit-safe.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from zoo.errors import InputError

__all__ = ["gaussian_log_density", "iwae_log_likelihood", "standard_normal_log_density"]

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(z: jax.Array, mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """log N(z; mean, diag(exp(logvar))) summed over the last axis: [..., D] -> [...].

    ``mean`` and ``logvar`` broadcast against ``z`` (e.g. z [K, B, D], mean [B, D]).
    """
    z, mean, logvar = jnp.asarray(z), jnp.asarray(mean), jnp.asarray(logvar)
    per_dim = -0.5 * (_LOG_2PI + logvar + jnp.square(z - mean) * jnp.exp(-logvar))
    return per_dim.sum(axis=-1)


def standard_normal_log_density(z: jax.Array) -> jax.Array:
    """log N(z; 0, I) summed over the last axis: [..., D] -> [...]."""
    z = jnp.asarray(z)
    return (-0.5 * (_LOG_2PI + jnp.square(z))).sum(axis=-1)


def iwae_log_likelihood(
    log_px_z: jax.Array, log_pz: jax.Array, log_qz_x: jax.Array
) -> jax.Array:
    """The importance-weighted estimate L_K of log p(x) per example: [K, B] x3 -> [B] nats.

    Args:
        log_px_z: log p(x | z_k), [K, B] (e.g. minus the Bernoulli NLL summed over pixels).
        log_pz: log p(z_k) under the prior, [K, B].
        log_qz_x: log q(z_k | x) under the encoder, [K, B], for the same samples z_k ~ q.
    Returns:
        [B]: logsumexp_k(log_px_z + log_pz - log_qz_x) - log K, computed stably.
    """
    shapes = {jnp.shape(a) for a in (log_px_z, log_pz, log_qz_x)}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise InputError(
            "iwae_log_likelihood: expected log_px_z, log_pz and log_qz_x all of shape "
            f"[num_samples, batch], got {jnp.shape(log_px_z)}, {jnp.shape(log_pz)}, "
            f"{jnp.shape(log_qz_x)}; put the importance samples on axis 0"
        )
    log_w = jnp.asarray(log_px_z) + jnp.asarray(log_pz) - jnp.asarray(log_qz_x)
    num_samples = log_w.shape[0]
    return jax.nn.logsumexp(log_w, axis=0) - math.log(num_samples)
