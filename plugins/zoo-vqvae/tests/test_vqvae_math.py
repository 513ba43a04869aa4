"""Property tests of the pure VQ math in zoo.vq that the VQ-VAE plugin relies on."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo import vq

SETTINGS = settings(max_examples=20, deadline=None)

# Shapes come from small fixed sets so that XLA compiles each function a few times only.
N_SIZES, K_SIZES, D_SIZES = (1, 5, 12), (1, 4, 10), (1, 3)
distances = jax.jit(vq.pairwise_sq_distances)
quantize = jax.jit(vq.quantize)
perplexity = jax.jit(vq.perplexity)
code_counts = jax.jit(vq.code_counts, static_argnums=1)
ema_update = jax.jit(vq.ema_codebook_update, static_argnames=("decay", "epsilon"))
straight_through = jax.jit(vq.straight_through)
# d/d(z, q) of sum(w * straight_through(z, q)).
straight_through_grads = jax.jit(
    jax.grad(lambda z, q, w: jnp.sum(w * vq.straight_through(z, q)), argnums=(0, 1))
)


@st.composite
def z_and_codebook(draw):
    """Float32 z [N, D] and codebook [K, D] with small integer seeds for reproducibility."""
    n = draw(st.sampled_from(N_SIZES))
    k = draw(st.sampled_from(K_SIZES))
    d = draw(st.sampled_from(D_SIZES))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    rng = np.random.default_rng(seed)
    z = (scale * rng.standard_normal((n, d))).astype(np.float32)
    codebook = (scale * rng.standard_normal((k, d))).astype(np.float32)
    return z, codebook


def brute_force_sq_distances(z: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    diff = z.astype(np.float64)[:, None, :] - codebook.astype(np.float64)[None, :, :]
    return np.sum(diff * diff, axis=-1)


@SETTINGS
@given(z_and_codebook())
def test_pairwise_distances_match_brute_force(data):
    z, codebook = data
    got = np.asarray(distances(jnp.asarray(z), jnp.asarray(codebook)))
    want = brute_force_sq_distances(z, codebook)
    assert got.shape == want.shape
    scale = 1.0 + np.max(np.sum(z.astype(np.float64) ** 2, 1)) + np.max(
        np.sum(codebook.astype(np.float64) ** 2, 1)
    )
    np.testing.assert_allclose(got, want, atol=1e-5 * scale, rtol=1e-5)
    assert np.all(got >= 0)


@SETTINGS
@given(z_and_codebook())
def test_quantize_returns_nearest_codebook_rows(data):
    z, codebook = data
    z_q, indices = quantize(jnp.asarray(z), jnp.asarray(codebook))
    z_q, indices = np.asarray(z_q), np.asarray(indices)
    assert indices.dtype == np.int32 and indices.shape == (z.shape[0],)
    assert np.all((indices >= 0) & (indices < codebook.shape[0]))
    np.testing.assert_array_equal(z_q, codebook[indices])  # exactly codebook rows
    dist = brute_force_sq_distances(z, codebook)
    chosen = dist[np.arange(z.shape[0]), indices]
    scale = 1.0 + np.max(np.sum(z.astype(np.float64) ** 2, 1)) + np.max(
        np.sum(codebook.astype(np.float64) ** 2, 1)
    )
    # The chosen code is the nearest one (up to float32 rounding on ties).
    np.testing.assert_allclose(chosen, dist.min(axis=1), atol=1e-5 * scale, rtol=1e-5)


@SETTINGS
@given(z_and_codebook())
def test_ties_go_to_the_lowest_index(data):
    z, codebook = data
    doubled = np.concatenate([codebook, codebook])  # every distance attained twice
    _, indices = quantize(jnp.asarray(z), jnp.asarray(doubled))
    assert np.all(np.asarray(indices) < codebook.shape[0])


def test_distances_never_form_an_n_by_k_by_d_intermediate():
    n, k, d = 7, 5, 3
    jaxpr = jax.make_jaxpr(vq.pairwise_sq_distances)(jnp.zeros((n, d)), jnp.zeros((k, d)))
    shapes = [tuple(v.aval.shape) for eqn in jaxpr.jaxpr.eqns for v in eqn.outvars]
    assert not any(len(s) == 3 for s in shapes), shapes


@SETTINGS
@given(z_and_codebook(), st.integers(0, 2**31 - 1))
def test_straight_through_gradient_is_identity(data, seed):
    z, codebook = data
    z_q = codebook[np.arange(z.shape[0]) % codebook.shape[0]]
    w = np.random.default_rng(seed).standard_normal(z.shape).astype(np.float32)
    value = straight_through(jnp.asarray(z), jnp.asarray(z_q))
    np.testing.assert_allclose(np.asarray(value), z_q, atol=1e-6 * (1 + np.abs(z).max()))
    grad_z, grad_q = straight_through_grads(jnp.asarray(z), jnp.asarray(z_q), jnp.asarray(w))
    np.testing.assert_array_equal(np.asarray(grad_z), w)
    np.testing.assert_array_equal(np.asarray(grad_q), np.zeros_like(w))


@SETTINGS
@given(
    st.sampled_from(K_SIZES).flatmap(
        lambda k: st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(sum)
    )
)
def test_perplexity_between_one_and_k(counts):
    p = float(perplexity(jnp.asarray(counts, jnp.float32)))
    assert 1.0 - 1e-4 <= p <= len(counts) + 1e-3


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(K_SIZES), st.integers(1, 9), st.integers(0, 63))
def test_perplexity_uniform_is_k_and_single_code_is_one(k, per_code, which):
    uniform = jnp.full((k,), float(per_code))
    np.testing.assert_allclose(float(perplexity(uniform)), k, rtol=1e-5)
    single = jnp.zeros((k,)).at[which % k].set(float(per_code))
    np.testing.assert_allclose(float(perplexity(single)), 1.0, rtol=1e-6)


@SETTINGS
@given(st.sampled_from(K_SIZES), st.sampled_from(N_SIZES), st.integers(0, 2**31 - 1))
def test_code_counts_is_a_bincount(k, n, seed):
    indices = np.random.default_rng(seed).integers(0, k, n).astype(np.int32)
    counts = np.asarray(code_counts(jnp.asarray(indices), k))
    np.testing.assert_array_equal(counts, np.bincount(indices, minlength=k))


@SETTINGS
@given(z_and_codebook())
def test_ema_with_zero_decay_gives_mean_of_assigned_vectors(data):
    z, codebook = data
    k = codebook.shape[0]
    _, indices = quantize(jnp.asarray(z), jnp.asarray(codebook))
    cluster_size, _, new = ema_update(
        jnp.ones((k,)), jnp.asarray(codebook), jnp.asarray(z), indices, decay=0.0, epsilon=1e-12
    )
    indices = np.asarray(indices)
    np.testing.assert_array_equal(np.asarray(cluster_size), np.bincount(indices, minlength=k))
    for code in np.unique(indices):
        mean = z[indices == code].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(np.asarray(new[code]), mean, rtol=1e-4, atol=1e-5)


@SETTINGS
@given(z_and_codebook(), st.integers(0, 2**31 - 1))
def test_ema_leaves_unused_codes_nearly_unchanged(data, seed):
    z, codebook = data
    k = codebook.shape[0]
    rng = np.random.default_rng(seed)
    sizes = rng.uniform(0.5, 5.0, k).astype(np.float32)
    embed_sum = (sizes[:, None] * codebook).astype(np.float32)  # codebook == embed_sum / size
    indices = rng.integers(0, k, z.shape[0]).astype(np.int32)
    _, _, new = ema_update(
        jnp.asarray(sizes), jnp.asarray(embed_sum), jnp.asarray(z), jnp.asarray(indices),
        decay=0.99, epsilon=1e-5,
    )
    unused = np.setdiff1d(np.arange(k), indices)
    np.testing.assert_allclose(
        np.asarray(new)[unused], codebook[unused], rtol=1e-3, atol=1e-5
    )
