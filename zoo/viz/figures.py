"""Labelled image figures for VAEs: latent traversals, reconstructions, samples, class grids.

All take NHWC float images in [0, 1] (C = 1 or 3) and write one PNG atomically; none knows
about models (see :mod:`zoo.viz.models` for the helpers that produce the images). ``scale``,
``pad``, ``pad_value`` and ``title`` mean what they mean for :func:`zoo.viz.save_grid`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.viz.grid import arrange, as_rgb_images, check_labels, render, write_png

__all__ = [
    "order_by_kl",
    "save_class_grid",
    "save_reconstructions",
    "save_samples",
    "save_traversal",
]


def order_by_kl(kl_per_dim: Sequence[float] | np.ndarray) -> list[int]:
    """Latent dimensions sorted by KL, largest first (ties keep index order; NaN last).

    Args:
        kl_per_dim: [D] KL of each latent dimension (e.g. the ``kl_per_dim`` metric).
    Returns:
        the D dimension indices, most informative first.
    """
    kl = np.asarray(kl_per_dim, dtype=np.float64)
    if kl.ndim != 1:
        raise InputError(f"order_by_kl: expected kl_per_dim of shape [D], got {kl.shape}")
    key = np.where(np.isnan(kl), -np.inf, kl)
    return [int(d) for d in np.argsort(-key, kind="stable")]


def _format_value(v: float) -> str:
    return f"{v:.3g}"


def save_traversal(
    path: str | os.PathLike[str],
    images: Any,
    dims: Sequence[int],
    values: Sequence[float] | np.ndarray,
    kl_per_dim: Sequence[float] | np.ndarray | None = None,
    *,
    scale: int = 2,
    pad: int = 2,
    pad_value: float = 0.5,
    title: str | None = None,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Write a latent traversal: one row per latent dimension, one column per value.

    Args:
        images: [R, V, H, W, C]; row r varies latent dimension ``dims[r]`` through ``values``.
            Rows are drawn in the order given (sort them first, e.g. with :func:`order_by_kl`).
        dims: the R latent dimensions, labelled ``z{d}``.
        values: the V traversal values, the column labels.
        kl_per_dim: optional KL of every latent dimension, indexed by dimension (length > max
            of ``dims``); adds ``KL={kl:.2f}`` to each row label.
        row_labels: R labels drawn instead of ``z{d}`` / ``z{d} KL=...`` (e.g. the factor each
            latent captures, :func:`zoo.viz.label_latents`); ``kl_per_dim`` is then unused.
    """
    who = "save_traversal"
    arr = as_rgb_images(images, who, ndims=(5,))
    dims = [int(d) for d in dims]
    values = [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
    if arr.shape[:2] != (len(dims), len(values)):
        raise InputError(
            f"{who}: images of shape {arr.shape[:2]} (rows x columns) need {arr.shape[0]} dims "
            f"and {arr.shape[1]} values, got {len(dims)} dims and {len(values)} values"
        )
    if row_labels is not None:
        row_labels = check_labels(row_labels, len(dims), "row_labels", who)
    elif kl_per_dim is None:
        row_labels = [f"z{d}" for d in dims]
    else:
        kl = np.asarray(kl_per_dim, dtype=np.float64).reshape(-1)
        if dims and (min(dims) < 0 or max(dims) >= kl.shape[0]):
            raise InputError(
                f"{who}: kl_per_dim has {kl.shape[0]} entries, indexed by latent dimension, but "
                f"dims go up to {max(dims)}; pass the KL of every latent dimension"
            )
        row_labels = [f"z{d} KL={kl[d]:.2f}" for d in dims]
    col_labels = [_format_value(v) for v in values]
    rgb = render(arr, np.ones(arr.shape[:2], bool), pad=pad, scale=scale, pad_value=pad_value,
                 row_labels=row_labels, col_labels=col_labels, title=title, who=who)
    return write_png(path, rgb)


def save_reconstructions(
    path: str | os.PathLike[str],
    inputs: Any,
    outputs: Any,
    ncols: int = 8,
    *,
    scale: int = 2,
    pad: int = 2,
    pad_value: float = 0.5,
    title: str | None = None,
) -> Path:
    """Write inputs over their reconstructions: rows of ``ncols`` inputs, each row followed by
    the row of their outputs (labelled "input" / "output").

    Args:
        inputs, outputs: [N, H, W, C] each, the same shape.
    """
    who = "save_reconstructions"
    x = as_rgb_images(inputs, who)
    y = as_rgb_images(outputs, who)
    if x.shape != y.shape:
        raise InputError(
            f"{who}: inputs {np.shape(inputs)} and outputs {np.shape(outputs)} differ in shape; "
            "pass the model's reconstruction of exactly these inputs"
        )
    n = x.shape[0]
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise InputError(f"{who}: ncols must be an integer >= 1, got {ncols!r}")
    ncols = min(ncols, n)
    chunks = math.ceil(n / ncols)
    cells = np.zeros((2 * chunks, ncols, *x.shape[1:]), np.float32)
    present = np.zeros((2 * chunks, ncols), bool)
    for i in range(n):
        r, c = divmod(i, ncols)
        cells[2 * r, c], cells[2 * r + 1, c] = x[i], y[i]
        present[2 * r, c] = present[2 * r + 1, c] = True
    rgb = render(cells, present, pad=pad, scale=scale, pad_value=pad_value,
                 row_labels=["input", "output"] * chunks, col_labels=None, title=title, who=who)
    return write_png(path, rgb)


def save_samples(
    path: str | os.PathLike[str],
    images: Any,
    ncols: int = 8,
    *,
    scale: int = 2,
    pad: int = 2,
    pad_value: float = 0.5,
    title: str | None = None,
) -> Path:
    """Write samples [N, H, W, C] in rows of ``ncols``."""
    cells, present = arrange(images, ncols, "save_samples")
    rgb = render(cells, present, pad=pad, scale=scale, pad_value=pad_value, row_labels=None,
                 col_labels=None, title=title, who="save_samples")
    return write_png(path, rgb)


def save_class_grid(
    path: str | os.PathLike[str],
    images: Any,
    class_names: Sequence[Any],
    *,
    scale: int = 2,
    pad: int = 2,
    pad_value: float = 0.5,
    title: str | None = None,
) -> Path:
    """Write one row per class (e.g. CVAE samples), labelled with ``class_names``.

    Args:
        images: [K, M, H, W, C], M images of each of K classes.
        class_names: K labels, one per row.
    """
    who = "save_class_grid"
    arr = as_rgb_images(images, who, ndims=(5,))
    class_names = check_labels(class_names, arr.shape[0], "class_names", who)
    rgb = render(arr, np.ones(arr.shape[:2], bool), pad=pad, scale=scale, pad_value=pad_value,
                 row_labels=class_names, col_labels=None, title=title, who=who)
    return write_png(path, rgb)
