"""Frechet distance: zero on itself, known closed forms, symmetry, singular covariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoo.errors import InputError
from zoo.metrics.fid import feature_statistics, frechet_distance


def random_cov(rng: np.random.Generator, f: int) -> np.ndarray:
    a = rng.normal(size=(f, f))
    return a @ a.T / f + 0.1 * np.eye(f)


@given(seed=st.integers(0, 2**16), f=st.integers(1, 12))
def test_distance_to_itself_is_zero_and_distance_symmetric(seed, f) -> None:
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=f), rng.normal(size=f)
    s1, s2 = random_cov(rng, f), random_cov(rng, f)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-6)
    d12, d21 = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
    assert d12 == pytest.approx(d21, rel=1e-6, abs=1e-8) and d12 >= -1e-8


@given(seed=st.integers(0, 2**16), f=st.integers(1, 12))
def test_mean_shift_with_equal_covariances_is_squared_norm(seed, f) -> None:
    rng = np.random.default_rng(seed)
    mu, d, s = rng.normal(size=f), rng.normal(size=f), random_cov(rng, f)
    assert frechet_distance(mu, s, mu + d, s) == pytest.approx(d @ d, rel=1e-6, abs=1e-6)


def test_diagonal_covariances_closed_form() -> None:
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    want = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(want)


def test_feature_statistics_and_same_distribution_samples() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4000, 8)), rng.normal(size=(4000, 8))
    mu, sigma = feature_statistics(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False))
    assert frechet_distance(mu, sigma, *feature_statistics(y)) < 0.05
    assert frechet_distance(mu, sigma, *feature_statistics(y + 1.0)) == pytest.approx(8.0, rel=0.05)


def test_singular_covariances_stay_finite() -> None:
    """Fewer samples than features: rank-deficient covariances go through the eps offset."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(10, 32)), rng.normal(size=(10, 32))
    x[:, 0] = y[:, 0] = 0.0  # a dead feature
    d = frechet_distance(*feature_statistics(x), *feature_statistics(y))
    assert np.isfinite(d) and d > 0


def test_shape_errors_explain() -> None:
    with pytest.raises(InputError, match="same network layer"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(InputError, match="at least 2"):
        feature_statistics(np.zeros((1, 3)))
