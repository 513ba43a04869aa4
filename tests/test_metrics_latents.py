"""Active units (both definitions), KL per dimension, and latent-label mutual information."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import mutual_info_score

from zoo.errors import InputError
from zoo.losses import gaussian_kl
from zoo.metrics import latents
from zoo.metrics.disentanglement import discretize


def posterior(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four units: 0 informative, 1 collapsed to the prior, 2 fixed mean with a shrunken
    variance, 3 a mean that moves only a little (variance 0.0025)."""
    rng = np.random.default_rng(seed)
    mean = np.stack([rng.normal(size=n), np.zeros(n), np.zeros(n), 0.05 * rng.normal(size=n)], 1)
    logvar = np.stack([np.full(n, -3.0), np.zeros(n), np.full(n, -1.0), np.zeros(n)], 1)
    return mean.astype(np.float32), logvar.astype(np.float32)


def test_variance_rule_counts_units_whose_mean_moves() -> None:
    mean, _ = posterior()
    mask, count = latents.active_units_variance(mean)
    np.testing.assert_array_equal(mask, [True, False, False, False])
    assert count == 1 and mask.dtype == bool


def test_variance_rule_is_the_covariance_diagonal() -> None:
    """Burda et al.'s A_u = Cov_x(E[z_u]) is the diagonal of the covariance of the means."""
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(500, 6)) * np.array([1.0, 0.2, 0.09, 0.11, 0.0, 3.0])
    by_cov = np.diag(np.cov(mean, rowvar=False, ddof=0)) > 0.01
    np.testing.assert_array_equal(latents.active_units_variance(mean)[0], by_cov)


def test_kl_rule_differs_where_the_variance_shrinks() -> None:
    mean, logvar = posterior()
    mask, count = latents.active_units_kl(mean, logvar)
    # unit 2 never moves its mean, yet its posterior is not the prior: active by KL only
    np.testing.assert_array_equal(mask, [True, False, True, False])
    assert count == 2


@given(scale=st.floats(0.01, 10), threshold=st.floats(1e-4, 1.0))
def test_variance_rule_follows_threshold(scale, threshold) -> None:
    mean = np.random.default_rng(0).normal(size=(200, 3)) * scale
    mask, count = latents.active_units_variance(mean, threshold)
    np.testing.assert_array_equal(mask, mean.var(axis=0) > threshold)
    assert count == mask.sum()


def test_kl_per_dimension_is_the_mean_gaussian_kl_and_jits() -> None:
    mean, logvar = posterior(64)
    got = jax.jit(latents.kl_per_dimension)(mean, logvar)
    want = np.asarray(gaussian_kl(jnp.asarray(mean), jnp.asarray(logvar))).mean(axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.shape == (4,) and float(got[1]) == 0.0


@given(labels=arrays(np.int64, 300, elements=st.integers(0, 9)),
       seed=st.integers(0, 2**16))
def test_mi_with_labels_per_dimension(labels, seed) -> None:
    rng = np.random.default_rng(seed)
    codes = np.stack([labels + 0.01 * rng.normal(size=300), rng.normal(size=300)], axis=1)
    mi = latents.mutual_information_with_labels(codes, labels, num_bins=20)
    h = mutual_info_score(labels, labels)
    assert mi.shape == (2,)
    assert mi[0] == pytest.approx(h)  # a copy of the labels carries all their information
    assert np.all(mi <= h + 1e-9) and np.all(mi >= -1e-12)
    binned = discretize(codes, 20)
    np.testing.assert_allclose(mi[1], mutual_info_score(binned[:, 1], labels))


def test_mi_with_labels_rejects_misplaced_arguments() -> None:
    codes, labels = np.zeros((10, 3)), np.arange(10)
    with pytest.raises(InputError, match="1-D"):
        latents.mutual_information_with_labels(codes, codes)
    with pytest.raises(InputError, match=r"2-D"):
        latents.mutual_information_with_labels(labels, labels)


def test_active_units_input_errors() -> None:
    with pytest.raises(InputError, match="shapes differ"):
        latents.active_units_kl(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(InputError, match="at least 2"):
        latents.active_units_variance(np.zeros((1, 3)))
