"""The IWAE estimator on a linear-Gaussian model where log p(x) is known in closed form.

Model: z ~ N(0, I_d), x | z ~ N(W z + b, s^2 I_n) with W = Q diag(a) (orthonormal columns Q), so
p(x) = N(b, W W^T + s^2 I) and the exact posterior is diagonal:
    var_i = 1 / (1 + a_i^2 / s^2),  mean = diag(var) W^T (x - b) / s^2.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from zoo.errors import InputError
from zoo.metrics.likelihood import (
    gaussian_log_density,
    iwae_log_likelihood,
    standard_normal_log_density,
)


def toy(seed: int, d_z: int, d_x: int, batch: int) -> dict:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d_x, d_z)))
    a = rng.uniform(0.5, 2.0, d_z)
    w, b, s = q * a, rng.normal(size=d_x), rng.uniform(0.3, 1.0)
    z = rng.normal(size=(batch, d_z))
    x = z @ w.T + b + s * rng.normal(size=(batch, d_x))
    log_px = multivariate_normal(b, w @ w.T + s**2 * np.eye(d_x)).logpdf(x)
    var = 1.0 / (1.0 + a**2 / s**2)
    post_mean = ((x - b) @ w / s**2) * var
    return {"w": w, "b": b, "s": s, "x": x, "log_px": np.atleast_1d(log_px),
            "post_mean": post_mean, "post_logvar": np.log(var) * np.ones_like(post_mean)}


def iwae(t: dict, q_mean: np.ndarray, q_logvar: np.ndarray, k: int, key: jax.Array) -> jax.Array:
    eps = jax.random.normal(key, (k, *q_mean.shape), jnp.float64)
    z = q_mean + jnp.exp(0.5 * q_logvar) * eps  # [K, B, d_z]
    log_qz_x = gaussian_log_density(z, q_mean, q_logvar)
    log_pz = standard_normal_log_density(z)
    x_mean = z @ t["w"].T + t["b"]
    log_px_z = gaussian_log_density(t["x"], x_mean, jnp.full(x_mean.shape, 2 * np.log(t["s"])))
    return iwae_log_likelihood(log_px_z, log_pz, log_qz_x)


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


@settings(max_examples=10)  # each new shape compiles once
@given(seed=st.integers(0, 2**16), d_z=st.integers(1, 3), extra=st.integers(0, 3),
       k=st.sampled_from([1, 2, 17]))
def test_exact_posterior_gives_exact_log_likelihood_for_any_k(seed, d_z, extra, k) -> None:
    t = toy(seed, d_z, d_z + extra, batch=4)
    got = iwae(t, t["post_mean"], t["post_logvar"], k, jax.random.key(seed))
    np.testing.assert_allclose(np.asarray(got), t["log_px"], rtol=1e-8, atol=1e-8)


def test_mismatched_q_gives_lower_bound_increasing_with_k() -> None:
    t = toy(3, d_z=2, d_x=4, batch=400)
    q_mean = t["post_mean"] + 0.5           # biased and
    q_logvar = t["post_logvar"] + 0.7       # too wide
    bounds = [float(iwae(t, q_mean, q_logvar, k, jax.random.key(k)).mean()) for k in (1, 10, 100)]
    truth = float(t["log_px"].mean())
    assert bounds[0] < bounds[1] < bounds[2] < truth
    assert truth - bounds[2] < 0.25 * (truth - bounds[0])  # the bound tightens


def test_logsumexp_is_stable_for_huge_weights() -> None:
    big = jnp.array([[1e4, -1e4], [1e4 + np.log(3.0), -1e4]])
    got = iwae_log_likelihood(big, jnp.zeros_like(big), jnp.zeros_like(big))
    np.testing.assert_allclose(got, [1e4 + np.log(4.0) - np.log(2.0), -1e4], rtol=1e-12)


@given(seed=st.integers(0, 2**16), d=st.integers(1, 5))
def test_gaussian_log_density_matches_scipy(seed, d) -> None:
    rng = np.random.default_rng(seed)
    z, mean, logvar = rng.normal(size=d), rng.normal(size=d), rng.uniform(-2, 2, d)
    want = multivariate_normal(mean, np.diag(np.exp(logvar))).logpdf(z)
    assert float(gaussian_log_density(z, mean, logvar)) == pytest.approx(want, rel=1e-10)
    assert float(standard_normal_log_density(z)) == pytest.approx(
        float(gaussian_log_density(z, np.zeros(d), np.zeros(d))), rel=1e-12)


def test_iwae_shape_errors_name_the_layout() -> None:
    with pytest.raises(InputError, match="num_samples, batch"):
        iwae_log_likelihood(jnp.zeros((3, 2)), jnp.zeros((3, 2)), jnp.zeros((2, 3)))
    with pytest.raises(InputError, match="num_samples, batch"):
        iwae_log_likelihood(jnp.zeros(3), jnp.zeros(3), jnp.zeros(3))
