"""Separated Attribute Predictability (Kumar et al. 2018) with disentanglement_lib's definition.

Layout: ``codes`` [N, D] and ``factors`` [N, K] (ground-truth factor values, any sortable dtype),
as a training split and, for discrete factors, a held-out test split; the score matrix is [D, K].
sklearn and joblib are imported inside the functions that use them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix, encode_columns, encode_splits, same_rows
from zoo.metrics._skips import skip_note

__all__ = ["sap", "sap_score_matrix"]


def sap_score_matrix(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    continuous_factors: bool = False,
    n_jobs: int = 1,
) -> np.ndarray:
    """SAP's score matrix S [D, K] (Kumar et al. 2018, as in disentanglement_lib).

    Discrete factors: S[d, k] = test accuracy of a ``LinearSVC(C=0.01, class_weight="balanced")``
    predicting factor k from code d alone. Continuous factors: S[d, k] = squared correlation of
    code d and factor k on the training split (R^2 of a linear fit; 0 for a constant code).
    A constant factor has a zero column.
    """
    who = "sap"
    x_train = as_matrix(codes_train, "codes_train", who).astype(np.float64)
    y_train = as_matrix(factors_train, "factors_train", who)
    same_rows(x_train, y_train, "codes_train and factors_train", who)
    num_codes, num_factors = x_train.shape[1], y_train.shape[1]
    scores = np.zeros((num_codes, num_factors))
    if continuous_factors:
        y = y_train.astype(np.float64)
        for d in range(num_codes):
            for k in range(num_factors):
                cov = np.cov(x_train[:, d], y[:, k], ddof=1)
                if cov[0, 0] > 1e-12 and cov[1, 1] > 0:
                    scores[d, k] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
        return scores
    if codes_test is None or factors_test is None:
        raise InputError(f"{who}: discrete factors need a test split (codes_test, factors_test)")
    x_test = as_matrix(codes_test, "codes_test", who).astype(np.float64)
    y_test = as_matrix(factors_test, "factors_test", who)
    same_rows(x_test, y_test, "codes_test and factors_test", who)
    if x_test.shape[1] != num_codes or y_test.shape[1] != num_factors:
        raise InputError(f"{who}: train and test splits must have the same columns")
    y_train, y_test = encode_splits(y_train, y_test)  # any factor values -> class ids
    from sklearn.svm import LinearSVC

    def fit_one(d: int, k: int) -> float:
        clf = LinearSVC(C=0.01, class_weight="balanced")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*converge.*")
            clf.fit(x_train[:, d : d + 1], y_train[:, k])
        return float(np.mean(clf.predict(x_test[:, d : d + 1]) == y_test[:, k]))

    pairs = [(d, k) for k in range(num_factors) if np.unique(y_train[:, k]).size > 1
             for d in range(num_codes)]
    if n_jobs == 1:
        values = [fit_one(d, k) for d, k in pairs]
    else:
        from joblib import Parallel, delayed

        values = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(fit_one)(*p) for p in pairs)
    for (d, k), v in zip(pairs, values, strict=True):
        scores[d, k] = v
    return scores


def sap(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    continuous_factors: bool = False,
    *,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Separated Attribute Predictability (Kumar et al. 2018) as disentanglement_lib computes it.

    Per factor: the gap between the two highest entries of its column of the score matrix
    (:func:`sap_score_matrix`, entries already in [0, 1], so no further normalisation); the score
    is the mean over factors. High when each factor is predictable from one code only.

    With discrete factors of many classes even a perfect code scores well below 1: a linear
    classifier on one code can only separate the outermost classes (0.66 accuracy for 3 classes,
    less for more), so compare SAP between models, not against 1.

    Args:
        codes_train, factors_train: [N, D] and [N, K] (lib: 10,000 points), D >= 2.
        codes_test, factors_test: held-out split (lib: 5,000); unused when
            ``continuous_factors`` is true.
        continuous_factors: score with squared correlations instead of classifiers.
        n_jobs: (code, factor) classifiers fitted in parallel threads.
    Returns:
        dict with ``sap`` (float), ``per_factor`` (K floats, ``None`` for a factor with a single
        value in the training split, which is skipped), ``score_matrix`` [D, K],
        ``skipped_factors``, ``note``.
    """
    num_codes = as_matrix(codes_train, "codes_train", "sap").shape[1]
    if num_codes < 2:
        raise InputError(f"sap: needs at least 2 latent dimensions for a gap, got {num_codes}")
    scores = sap_score_matrix(
        codes_train, factors_train, codes_test, factors_test,
        continuous_factors=continuous_factors, n_jobs=n_jobs,
    )
    y_train = encode_columns(np.asarray(factors_train))
    scored = np.array([np.unique(y_train[:, k]).size > 1 for k in range(scores.shape[1])])
    if not scored.any():
        raise InputError(
            "sap: every factor takes a single value in the training split, so SAP is undefined; "
            "pass data in which the factors vary"
        )
    top = np.sort(scores, axis=0)[::-1]
    gaps = top[0] - top[1]
    skipped = [int(k) for k in np.flatnonzero(~scored)]
    return {
        "sap": float(np.mean(gaps[scored])),
        "per_factor": [float(g) if s else None for g, s in zip(gaps, scored, strict=True)],
        "score_matrix": scores,
        "skipped_factors": skipped,
        "note": skip_note(skipped, "take a single value in the training split"),
    }
