"""DCI: Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018) with
disentanglement_lib's definitions.

Layout: ``codes`` [N, D] and ``factors`` [N, K] (ground-truth factor values, any sortable dtype),
given as a training split (fits the per-factor classifiers) and a held-out test split; the
importance matrix is [D, K]. sklearn and joblib are imported inside the functions that use them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from zoo.errors import InputError
from zoo.metrics._checks import as_matrix, encode_splits, same_rows
from zoo.metrics._skips import skip_note

__all__ = ["ImportanceModel", "completeness", "dci", "disentanglement", "importance_matrix"]

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
    on_factor_done: Callable[[int], None] | None = None,
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
        fit = (
            importances(clf),
            float(np.mean(clf.predict(x_train) == y_train[:, k])),
            float(np.mean(clf.predict(x_test) == y_test[:, k])),
        )
        if on_factor_done is not None:
            on_factor_done(k)
        return fit

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
    on_factor_done: Callable[[int], None] | None = None,
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
        on_factor_done: called with the factor's column index after each factor's classifier
            is fitted and scored (once per scored factor; from a worker thread when
            ``n_jobs > 1``), e.g. to advance a progress bar.
    Returns:
        dict with ``disentanglement``, ``completeness``, ``informativeness_train``,
        ``informativeness_test`` (floats), ``importance`` [D, K], per-factor accuracies,
        ``skipped_factors`` (single-valued in the training split: left out, never NaN), ``note``.
    """
    result = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, model=model,
        n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state,
        on_factor_done=on_factor_done,
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
        "note": skip_note(skipped, "take a single value in the training split"),
        "model": model,
    }
