"""Disentanglement metrics with ground-truth factors: MIG, DCI and SAP.

Definitions follow disentanglement_lib (Locatello et al. 2019), which is what published numbers
use; where we deviate (a skipped constant factor instead of a crash or NaN, a faster importance
model on request) the docstring says so.

Layout: ``codes`` are [N, D] (one row per data point: the posterior means, usually) and
``factors`` [N, K] (ground-truth factor values; any sortable dtype, each distinct value of a column
is one class). disentanglement_lib stores both transposed; these functions take rows as points.
Mutual information and entropy are in nats.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from sklearn.metrics import mutual_info_score

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix, encode_columns, encode_splits, same_rows

__all__ = [
    "completeness",
    "dci",
    "disentanglement",
    "discrete_entropy",
    "discrete_mutual_info",
    "discretize",
    "importance_matrix",
    "mig",
    "sap",
    "sap_score_matrix",
]

#: Entropy below this (nats) means a factor takes a single value on the data.
_CONSTANT_ENTROPY = 1e-12


def discretize(codes: Any, num_bins: int = 20) -> np.ndarray:
    """Histogram-bin each latent dimension into ``num_bins`` equal-width bins over its own range
    (disentanglement_lib's ``_histogram_discretize``).

    Args:
        codes: [N, D] continuous codes.
        num_bins: bins per dimension (disentanglement_lib's MIG uses 20).
    Returns:
        int64 [N, D], bin indices in ``[0, num_bins)``. A constant dimension lands in one bin.
    """
    codes = as_matrix(codes, "codes", "discretize")
    if int(num_bins) != num_bins or num_bins < 1:
        raise InputError(f"discretize: num_bins must be a positive integer, got {num_bins!r}")
    out = np.empty(codes.shape, np.int64)
    for d in range(codes.shape[1]):
        column = codes[:, d]
        edges = np.histogram(column, int(num_bins))[1][:-1]
        out[:, d] = np.digitize(column, edges) - 1
    return out


def discrete_mutual_info(codes_discrete: Any, factors: Any) -> np.ndarray:
    """I(code_d; factor_k) in nats for every pair: [D, K].

    Args:
        codes_discrete: [N, D] discrete codes (e.g. from :func:`discretize`).
        factors: [N, K] discrete factor values.
    """
    who = "discrete_mutual_info"
    codes_discrete = as_matrix(codes_discrete, "codes_discrete", who)
    factors = as_matrix(factors, "factors", who)
    same_rows(codes_discrete, factors, "codes_discrete and factors", who)
    m = np.zeros((codes_discrete.shape[1], factors.shape[1]))
    for d in range(codes_discrete.shape[1]):
        for k in range(factors.shape[1]):
            m[d, k] = mutual_info_score(factors[:, k], codes_discrete[:, d])
    return m


def discrete_entropy(factors: Any) -> np.ndarray:
    """H(factor_k) in nats for each column of ``factors`` [N, K]: [K] (0 for a constant one)."""
    factors = as_matrix(factors, "factors", "discrete_entropy")
    return np.array([mutual_info_score(f, f) for f in factors.T], dtype=np.float64)


def _skip_note(skipped: list[int], why: str) -> str | None:
    if not skipped:
        return None
    return (
        f"factor(s) {skipped} {why} and were left out of the score; sample data in which every "
        "factor varies to score them"
    )


def mig(codes: Any, factors: Any, num_bins: int = 20) -> dict[str, Any]:
    """Mutual Information Gap (Chen et al. 2018) as disentanglement_lib computes it.

    For each factor k: (largest - second largest of I(code_d; factor_k) over d) / H(factor_k), with
    codes histogram-discretised (:func:`discretize`); the score is the mean over factors. 1 means
    each factor is captured by one latent dimension alone; 0 means no single dimension stands out.

    A factor with a single value on the data (entropy 0) has no defined gap: it is skipped (never
    NaN) and listed under ``skipped_factors`` with a ``note``.

    Args:
        codes: [N, D] codes (posterior means), D >= 2.
        factors: [N, K] ground-truth factor values.
        num_bins: histogram bins per latent dimension (disentanglement_lib: 20, N = 10,000).
    Returns:
        dict with ``mig`` (float), ``per_factor`` (list of K floats, ``None`` for a skipped
        factor), ``mutual_info`` ([D, K] nats), ``entropy`` ([K] nats), ``skipped_factors``,
        ``note`` (None unless something was skipped), ``num_points``, ``num_bins``.
    """
    who = "mig"
    codes = as_matrix(codes, "codes", who)
    factors = as_matrix(factors, "factors", who)
    same_rows(codes, factors, "codes and factors", who)
    if codes.shape[1] < 2:
        raise InputError(f"{who}: needs at least 2 latent dimensions for a gap, got {codes.shape}")
    factors = encode_columns(factors)  # float factor values (dSprites' scales) become classes
    m = discrete_mutual_info(discretize(codes, num_bins), factors)
    h = discrete_entropy(factors)
    top = np.sort(m, axis=0)[::-1]
    scored = h > _CONSTANT_ENTROPY
    if not scored.any():
        raise InputError(
            f"{who}: every factor takes a single value on these {len(factors)} points, so MIG "
            "is undefined; pass data in which the factors vary"
        )
    gaps = np.where(scored, (top[0] - top[1]) / np.where(scored, h, 1.0), 0.0)
    skipped = [int(k) for k in np.flatnonzero(~scored)]
    return {
        "mig": float(np.mean(gaps[scored])),
        "per_factor": [float(g) if s else None for g, s in zip(gaps, scored, strict=True)],
        "mutual_info": m,
        "entropy": h,
        "skipped_factors": skipped,
        "note": _skip_note(skipped, "take a single value (entropy 0)"),
        "num_points": int(codes.shape[0]),
        "num_bins": int(num_bins),
    }


# -- DCI --------------------------------------------------------------------------------------

ImportanceModel = Literal["gbt", "lasso", "random_forest"]


def _normalized_entropy(p: np.ndarray, axis: int) -> np.ndarray:
    """Entropy along ``axis`` in base ``p.shape[axis]`` (so in [0, 1]) of the distribution
    proportional to ``p + 1e-11`` (disentanglement_lib's smoothing); 0 when that size is 1."""
    n = p.shape[axis]
    if n == 1:
        return np.zeros(np.delete(p.shape, axis))
    q = p + 1e-11
    q = q / q.sum(axis=axis, keepdims=True)
    return -np.sum(q * np.log(q), axis=axis) / np.log(n)


def disentanglement(importance: Any) -> float:
    """DCI disentanglement of an importance matrix [D, K] (Eastwood & Williams 2018).

    Per code d: 1 - entropy (base K) of its importance over factors; averaged with weights
    proportional to each code's total importance. With one factor every code scores 1.
    """
    r = np.asarray(importance, np.float64)
    per_code = 1.0 - _normalized_entropy(r, axis=1)
    if r.sum() == 0.0:
        r = np.ones_like(r)
    weights = r.sum(axis=1) / r.sum()
    return float(np.sum(per_code * weights))


def completeness(importance: Any) -> float:
    """DCI completeness of an importance matrix [D, K]: per factor 1 - entropy (base D) of its
    importance over codes, averaged with weights proportional to each factor's total importance.
    With one code every factor scores 1."""
    r = np.asarray(importance, np.float64)
    per_factor = 1.0 - _normalized_entropy(r, axis=0)
    if r.sum() == 0.0:
        r = np.ones_like(r)
    weights = r.sum(axis=0) / r.sum()
    return float(np.sum(per_factor * weights))


def _make_model(
    model: str, n_estimators: int | None, random_state: int
) -> tuple[Any, Callable[[Any], np.ndarray], bool]:
    """(unfitted sklearn classifier, fitted -> importances [D], whether codes are standardised)."""
    if model == "gbt":
        from sklearn.ensemble import GradientBoostingClassifier

        clf = GradientBoostingClassifier(
            n_estimators=100 if n_estimators is None else n_estimators, random_state=random_state
        )
        return clf, lambda c: np.abs(c.feature_importances_), False
    if model == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        # Every split sees every code (max_features=None) and leaves keep >= 1% of the points:
        # with sklearn's defaults (sqrt features, leaves of 1) noise dimensions soak up
        # importance and DCI drops from ~0.93 to ~0.45 on a clean axis-aligned code.
        clf = RandomForestClassifier(
            n_estimators=100 if n_estimators is None else n_estimators,
            max_features=None,
            min_samples_leaf=0.01,
            random_state=random_state,
        )
        return clf, lambda c: np.abs(c.feature_importances_), False
    if model == "lasso":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(l1_ratio=1.0, C=0.1, solver="saga", max_iter=200,
                                 random_state=random_state)
        return clf, lambda c: np.abs(c.coef_).sum(axis=0), True
    raise InputError(
        f"dci: unknown importance model {model!r}; choose 'gbt' (disentanglement_lib's), "
        "'random_forest' or 'lasso'"
    )


def importance_matrix(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any,
    factors_test: Any,
    *,
    model: ImportanceModel = "gbt",
    n_estimators: int | None = None,
    n_jobs: int = 1,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fit one classifier per factor (codes -> factor class) and read off feature importances.

    Args: see :func:`dci`.
    Returns:
        dict with ``importance`` [D, K] (non-negative; zero columns for skipped factors),
        ``accuracy_train`` / ``accuracy_test`` (lists of K floats, ``None`` when skipped),
        ``skipped_factors`` (factors with a single value in the training split).
    """
    who = "dci"
    x_train = as_matrix(codes_train, "codes_train", who).astype(np.float64)
    y_train = as_matrix(factors_train, "factors_train", who)
    x_test = as_matrix(codes_test, "codes_test", who).astype(np.float64)
    y_test = as_matrix(factors_test, "factors_test", who)
    same_rows(x_train, y_train, "codes_train and factors_train", who)
    same_rows(x_test, y_test, "codes_test and factors_test", who)
    if x_train.shape[1] != x_test.shape[1] or y_train.shape[1] != y_test.shape[1]:
        raise InputError(
            f"{who}: train and test splits must have the same columns, got codes "
            f"{x_train.shape[1]} vs {x_test.shape[1]} and factors {y_train.shape[1]} vs "
            f"{y_test.shape[1]}"
        )
    y_train, y_test = encode_splits(y_train, y_test)  # any factor values -> class ids
    num_codes, num_factors = x_train.shape[1], y_train.shape[1]
    scored = [k for k in range(num_factors) if np.unique(y_train[:, k]).size > 1]
    _, _, standardise = _make_model(model, n_estimators, random_state)  # validates ``model``
    if standardise:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    def fit_one(k: int) -> tuple[np.ndarray, float, float]:
        clf, importances, _ = _make_model(model, n_estimators, random_state)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(converge|max_iter).*")
            clf.fit(x_train, y_train[:, k])
        return (
            importances(clf),
            float(np.mean(clf.predict(x_train) == y_train[:, k])),
            float(np.mean(clf.predict(x_test) == y_test[:, k])),
        )

    if n_jobs == 1 or len(scored) < 2:
        fits = [fit_one(k) for k in scored]
    else:  # sklearn's tree building and solvers release the GIL: threads share the arrays
        from joblib import Parallel, delayed

        fits = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(fit_one)(k) for k in scored)
    importance = np.zeros((num_codes, num_factors))
    acc_train: list[float | None] = [None] * num_factors
    acc_test: list[float | None] = [None] * num_factors
    for k, (imp, a_train, a_test) in zip(scored, fits, strict=True):
        importance[:, k], acc_train[k], acc_test[k] = imp, a_train, a_test
    skipped = [k for k in range(num_factors) if k not in scored]
    return {
        "importance": importance,
        "accuracy_train": acc_train,
        "accuracy_test": acc_test,
        "skipped_factors": skipped,
    }


def dci(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any,
    factors_test: Any,
    *,
    model: ImportanceModel = "gbt",
    n_estimators: int | None = None,
    n_jobs: int = 1,
    random_state: int = 0,
) -> dict[str, Any]:
    """Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018) as
    disentanglement_lib computes them.

    One classifier per factor predicts the factor's class from all codes; its feature importances
    form column k of the importance matrix R [D, K]. Disentanglement and completeness are
    importance-weighted ``1 - normalised entropy`` of R's rows and columns; informativeness is the
    classifiers' mean accuracy (train and test; higher is better, as in disentanglement_lib).

    Args:
        codes_train, factors_train: [N, D] codes and [N, K] factor values to fit on
            (disentanglement_lib: 10,000 points).
        codes_test, factors_test: held-out split for ``informativeness_test`` (lib: 5,000).
        model: importance model; all three report informativeness as accuracy.
            ``"gbt"`` (default): sklearn ``GradientBoostingClassifier`` (depth 3, learning rate
            0.1), disentanglement_lib's choice and what published numbers use. It fits one tree
            per class per stage, so it is slow: at 10,000 points with dSprites' factors
            (3+6+40+32+32 classes) 100 stages take ~260 s on 2 CPU cores (n_jobs=2), 10 stages
            ~19 s. ``"random_forest"``: ``RandomForestClassifier`` (impurity importances; every
            code is considered at every split and leaves keep >= 1% of the points, without which
            noise codes soak up importance), ~11 s at 100 trees. ``"lasso"``: L1-penalised
            multinomial logistic regression on standardised codes (C=0.1), importance = sum over
            classes of ``|coef|``; ~4 s, but it only credits linearly decodable factors.
            Scores from different models are not comparable with each other.
        n_estimators: stages / trees for ``gbt`` and ``random_forest`` (default 100, the lib's).
        n_jobs: factors fitted in parallel threads (sklearn releases the GIL while fitting).
        random_state: seed of the classifiers.
    Returns:
        dict with ``disentanglement``, ``completeness``, ``informativeness_train``,
        ``informativeness_test`` (floats), ``importance`` [D, K], per-factor accuracies,
        ``skipped_factors`` (single-valued in the training split: left out, never NaN), ``note``.
    """
    result = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, model=model,
        n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state,
    )
    skipped = result["skipped_factors"]
    scored = [k for k in range(result["importance"].shape[1]) if k not in skipped]
    if not scored:
        raise InputError(
            "dci: every factor takes a single value in the training split, so DCI is undefined; "
            "pass data in which the factors vary"
        )
    r = result["importance"][:, scored]
    return {
        "disentanglement": disentanglement(r),
        "completeness": completeness(r),
        "informativeness_train": float(np.mean([result["accuracy_train"][k] for k in scored])),
        "informativeness_test": float(np.mean([result["accuracy_test"][k] for k in scored])),
        **result,
        "note": _skip_note(skipped, "take a single value in the training split"),
        "model": model,
    }


# -- SAP --------------------------------------------------------------------------------------


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
        "note": _skip_note(skipped, "take a single value in the training split"),
    }
