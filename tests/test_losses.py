"""Property tests of the pure loss terms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from zoo import losses

finite = st.floats(-5, 5, allow_nan=False, width=32)
vec = arrays(np.float32, st.integers(1, 6), elements=finite)


@given(mean=vec, data=st.data())
def test_kl_nonnegative_and_zero_at_prior(mean, data) -> None:
    logvar = data.draw(arrays(np.float32, mean.shape, elements=finite))
    kl = np.asarray(losses.gaussian_kl(jnp.asarray(mean), jnp.asarray(logvar)))
    assert kl.shape == mean.shape
    assert np.all(kl >= -1e-6)
    zero = losses.gaussian_kl(jnp.zeros_like(mean), jnp.zeros_like(mean))
    np.testing.assert_array_equal(np.asarray(zero), 0.0)


@settings(max_examples=20, deadline=None)
@given(mean=st.floats(-2, 2), logvar=st.floats(-2, 1), seed=st.integers(0, 2**31 - 1))
def test_kl_matches_monte_carlo(mean, logvar, seed) -> None:
    """E_q[log q(z) - log p(z)] estimated from 200k samples agrees with the closed form."""
    n = 200_000
    std = np.exp(0.5 * logvar)
    z = mean + std * np.asarray(jax.random.normal(jax.random.key(seed), (n,)))
    log_q = -0.5 * (np.log(2 * np.pi) + logvar + ((z - mean) / std) ** 2)
    log_p = -0.5 * (np.log(2 * np.pi) + z**2)
    mc = np.mean(log_q - log_p)
    stderr = np.std(log_q - log_p) / np.sqrt(n)
    closed = float(losses.gaussian_kl(jnp.float32(mean), jnp.float32(logvar)))
    assert abs(mc - closed) < 5 * stderr + 1e-3


@given(logits=arrays(np.float32, (3, 4), elements=st.floats(-30, 30, width=32)),
       data=st.data())
def test_bernoulli_nll_matches_definition_and_is_stable(logits, data) -> None:
    x = data.draw(arrays(np.float32, (3, 4), elements=st.floats(0, 1, width=32)))
    got = np.asarray(losses.bernoulli_nll(jnp.asarray(logits), jnp.asarray(x)), np.float64)
    l64 = logits.astype(np.float64)
    want = -(x * -np.logaddexp(0, -l64) + (1 - x) * -np.logaddexp(0, l64))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert np.all(np.isfinite(got))


def test_reconstruction_nll_sums_pixels() -> None:
    x = jnp.full((2, 3, 3, 1), 0.25)
    logits = jnp.zeros_like(x)
    np.testing.assert_allclose(
        losses.reconstruction_nll(logits, x, "bernoulli"), [9 * np.log(2)] * 2, rtol=1e-6
    )
    np.testing.assert_allclose(losses.reconstruction_nll(logits, x, "mse"), [9 * 0.0625] * 2)


@given(c_max=st.floats(0, 100), num_iter=st.integers(1, 10_000),
       steps=st.lists(st.integers(0, 20_000), min_size=2, max_size=20))
def test_capacity_schedule_monotone_and_clipped(c_max, num_iter, steps) -> None:
    steps = sorted(steps)
    c = np.asarray([float(losses.capacity_schedule(s, c_max, num_iter)) for s in steps])
    assert np.all(np.diff(c) >= -1e-5)
    assert np.all(c <= c_max * (1 + 1e-6) + 1e-6) and np.all(c >= 0)
    assert float(losses.capacity_schedule(0, c_max, num_iter)) == 0.0
    np.testing.assert_allclose(float(losses.capacity_schedule(num_iter * 2, c_max, num_iter)),
                               c_max, rtol=1e-6, atol=1e-6)


@given(kl=st.floats(0, 100), cap=st.floats(0, 100), gamma=st.floats(0, 1000))
def test_capacity_term(kl, cap, gamma) -> None:
    got = float(losses.capacity_term(jnp.float32(kl), jnp.float32(cap), gamma))
    np.testing.assert_allclose(got, gamma * abs(np.float32(kl) - np.float32(cap)),
                               rtol=1e-5, atol=1e-3)


def test_linear_schedule_endpoints() -> None:
    assert float(losses.linear_schedule(0, 1.0, 4.0, 10)) == 1.0
    assert float(losses.linear_schedule(5, 1.0, 4.0, 10)) == 2.5
    assert float(losses.linear_schedule(50, 1.0, 4.0, 10)) == 4.0
    assert float(losses.linear_schedule(0, 1.0, 4.0, 0)) == 4.0


@given(start=st.floats(-1e3, 1e3), end=st.floats(-1e3, 1e3), num=st.integers(1, 10_000),
       extra=st.integers(0, 10_000))
def test_linear_schedule_is_exactly_end_after_the_ramp(start, end, num, extra) -> None:
    """From ``num_steps`` on, the value is ``end`` to the bit (start + (end - start) * 1 in
    float32 can miss it by a rounding), so a finished warm-up equals the constant loss."""
    value = float(losses.linear_schedule(num + extra, start, end, num))
    assert value == float(np.float32(end))


def test_shape_mismatch_is_readable() -> None:
    import pytest

    with pytest.raises(ValueError, match="shapes differ"):
        losses.gaussian_kl(jnp.zeros(3), jnp.zeros(4))
