"""Vector-quantisation math as pure functions.

``z`` are encoder outputs flattened to [N, D]; ``codebook`` is [K, D]; code indices are int32 [N].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = [
    "code_counts",
    "ema_codebook_update",
    "nearest_codes",
    "pairwise_sq_distances",
    "perplexity",
    "quantize",
    "straight_through",
]


def pairwise_sq_distances(z: jax.Array, codebook: jax.Array) -> jax.Array:
    """||z_i - e_k||^2 as [N, K] via ||z||^2 - 2 z e^T + ||e||^2 (no [N, K, D] intermediate)."""
    if z.ndim != 2 or codebook.ndim != 2 or z.shape[1] != codebook.shape[1]:
        raise ValueError(f"expected z [N, D] and codebook [K, D], got {z.shape}, {codebook.shape}")
    z_sq = jnp.sum(jnp.square(z), axis=1, keepdims=True)
    e_sq = jnp.sum(jnp.square(codebook), axis=1)
    cross = jnp.matmul(z, codebook.T, precision=jax.lax.Precision.HIGHEST)
    return jnp.maximum(z_sq - 2.0 * cross + e_sq[None, :], 0.0)


def nearest_codes(z: jax.Array, codebook: jax.Array) -> jax.Array:
    """Index of the nearest codebook row for each row of ``z``: int32 [N] (lowest index on ties).

    Same result as ``argmin`` over the distances, computed as a min followed by a min over the
    (float) indices that attain it: XLA CPU runs these two plain reductions about 3x faster than
    its variadic argmin reduction.
    """
    dist = pairwise_sq_distances(z, codebook)
    num_codes = dist.shape[1]
    best = jnp.min(dist, axis=1, keepdims=True)
    iota = jax.lax.broadcasted_iota(jnp.float32, dist.shape, 1)  # exact for K < 2**24
    first = jnp.min(jnp.where(dist <= best, iota, float(num_codes)), axis=1)
    # A NaN row matches nothing: clamp so the index stays in range.
    return jnp.minimum(first, num_codes - 1).astype(jnp.int32)


def quantize(z: jax.Array, codebook: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Replace each row of ``z`` [N, D] by its nearest code; returns (z_q [N, D], indices [N])."""
    indices = nearest_codes(z, codebook)
    return jnp.take(codebook, indices, axis=0), indices


def straight_through(z_e: jax.Array, z_q: jax.Array) -> jax.Array:
    """Forward value ``z_q``; gradient passed to ``z_e`` unchanged (identity Jacobian)."""
    return z_e + jax.lax.stop_gradient(z_q - z_e)


def code_counts(indices: jax.Array, num_codes: int) -> jax.Array:
    """How often each code is used: float32 [K] (a bincount, no one-hot matrix)."""
    flat = indices.reshape(-1)
    return jnp.zeros((num_codes,), jnp.float32).at[flat].add(1.0)


def perplexity(counts: jax.Array) -> jax.Array:
    """exp(entropy) of the code-usage distribution: 1 (one code) .. K (uniform use)."""
    total = jnp.maximum(jnp.sum(counts), 1.0)
    p = counts / total
    entropy = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
    return jnp.exp(entropy)


def ema_codebook_update(
    cluster_size: jax.Array,
    embed_sum: jax.Array,
    z: jax.Array,
    indices: jax.Array,
    *,
    decay: float,
    epsilon: float,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One EMA step of a VQ codebook (van den Oord et al. 2017, appendix), Laplace-smoothed.

    Args:
        cluster_size: EMA of code counts, [K].
        embed_sum: EMA of the sum of encoder outputs assigned to each code, [K, D].
        z: this batch's encoder outputs, [N, D] (gradients are stopped).
        indices: their code indices, [N].
    Returns:
        (new cluster_size [K], new embed_sum [K, D], new codebook [K, D]).
    """
    num_codes = cluster_size.shape[0]
    z = jax.lax.stop_gradient(z)
    counts = code_counts(indices, num_codes)
    sums = jnp.zeros_like(embed_sum).at[indices].add(z)
    cluster_size = decay * cluster_size + (1.0 - decay) * counts
    embed_sum = decay * embed_sum + (1.0 - decay) * sums
    n = jnp.sum(cluster_size)
    smoothed = (cluster_size + epsilon) / (n + num_codes * epsilon) * n
    codebook = embed_sum / smoothed[:, None]
    return cluster_size, embed_sum, codebook
