"""Input checks shared by the metrics; each error says what was expected and how to fix it."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import InputError


def as_matrix(value: Any, name: str, who: str, *, finite: bool = True) -> np.ndarray:
    """``value`` as a 2-D numpy array [N, D], or :class:`InputError`."""
    arr = np.asarray(value)
    if arr.ndim == 1:
        raise InputError(
            f"{who}: {name} must be 2-D [num_points, num_columns], got a 1-D array of shape "
            f"{arr.shape}; pass {name}[:, None] if it is a single column"
        )
    if arr.ndim != 2:
        raise InputError(
            f"{who}: {name} must be 2-D [num_points, num_columns], got shape {arr.shape}; "
            "flatten the trailing axes (e.g. x.reshape(len(x), -1))"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{who}: {name} is empty (shape {arr.shape})")
    if finite and np.issubdtype(arr.dtype, np.number) and not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise InputError(
            f"{who}: {name} holds {bad} NaN or infinite value(s); evaluate a model whose "
            "outputs are finite (a diverged run?) or drop those rows"
        )
    return arr


def same_rows(a: np.ndarray, b: np.ndarray, names: str, who: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise InputError(
            f"{who}: {names} must have one row per data point, got {a.shape[0]} and "
            f"{b.shape[0]} rows"
        )


def encode_columns(factors: np.ndarray) -> np.ndarray:
    """Each column's values replaced by their rank among the column's distinct values: int64
    [N, K]. Factor values may be any sortable type (ints, floats such as dSprites' scales)."""
    out = np.empty(factors.shape, np.int64)
    for k in range(factors.shape[1]):
        out[:, k] = np.unique(factors[:, k], return_inverse=True)[1].reshape(-1)
    return out


def encode_splits(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_columns` of two splits with one shared value -> class mapping per column."""
    both = encode_columns(np.concatenate([train, test]))
    return both[: len(train)], both[len(train) :]
