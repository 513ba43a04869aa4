"""Frechet distance between two Gaussians fitted to feature sets (FID, Heusel et al. 2017).

    d^2 = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))

The zoo reports "FID (zoo MNIST classifier features)": features from
the zoo classifier's ``features(x)`` (128-d for ``classifier-mnist``; see
:func:`zoo.metrics.classifier.classifier_fid`), not Inception's, so its numbers are comparable
across zoo models but not with Inception FIDs in papers.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.linalg

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix

__all__ = ["feature_statistics", "frechet_distance"]


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean [F] and covariance [F, F] (ddof=1) of ``features`` [N, F], N >= 2, in float64."""
    features = as_matrix(features, "features", "feature_statistics").astype(np.float64)
    if features.shape[0] < 2:
        raise InputError("feature_statistics: needs at least 2 feature vectors for a covariance")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(
    mu1: Any, sigma1: Any, mu2: Any, sigma2: Any, eps: float = 1e-6
) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    The matrix square root comes from :func:`scipy.linalg.sqrtm`; when S1 S2 is singular (fewer
    samples than feature dimensions, dead features) ``eps`` is added to both diagonals and the
    root recomputed. A numerically imaginary result (imaginary part of the diagonal above 1e-3) is
    an error; smaller imaginary parts are dropped.

    Args:
        mu1, mu2: means [F].
        sigma1, sigma2: covariances [F, F].
    Returns:
        float >= 0 (up to rounding).
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    dim = mu1.shape[0]
    if mu1.shape != (dim,) or mu2.shape != (dim,) or sigma1.shape != (dim, dim) or (
        sigma2.shape != (dim, dim)
    ):
        raise InputError(
            f"frechet_distance: expected means [F] and covariances [F, F] of one F, got "
            f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}; compute both with "
            "feature_statistics on features from the same network layer"
        )
    for name, arr in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(arr)):
            raise InputError(f"frechet_distance: {name} holds NaN or infinite values")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sqrtm warns on singular input; we check ourselves
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
        if not np.all(np.isfinite(covmean)):
            offset = np.eye(dim) * eps
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            worst = float(np.max(np.abs(covmean.imag)))
            raise InputError(
                f"frechet_distance: the matrix square root has an imaginary component {worst:.3g}"
                "; the covariances are ill-conditioned: use more samples than feature dimensions"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
