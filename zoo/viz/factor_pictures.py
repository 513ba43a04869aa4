"""Latent traversals a person can read on data with ground-truth factors (dSprites): each row is
labelled with the factor its latent captures most, measured as MIG measures it, and the
heatmap of the normalised mutual information behind the labels.

    from zoo import viz
    viz.factor_traversal(model, ds, "traversal.png", mutual_info_path="mutual_info.png")

The model must be a Gaussian-latent zoo model (:func:`zoo.create` / :func:`zoo.load`); ``ds``
an :class:`~zoo.data.ArrayDataset` with ``factors`` (``zoo.load_dataset("dsprites", ...)``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.metrics.points import disentanglement_points
from zoo.viz.factors import INACTIVE_KL, MIN_SHARE, label_latents, save_mutual_info
from zoo.viz.figures import save_traversal
from zoo.viz.models import (
    DEFAULT_VALUES,
    _encode,
    _require_gaussian,
    is_conditional,
    traverse_model,
)

__all__ = ["factor_traversal", "latent_factors"]


def _labels(model: Any, ds: Any, who: str) -> Any:
    """int32 [N] labels of ``ds`` for a conditional model, else None."""
    if not is_conditional(model):
        return None
    if ds.labels is None:
        raise InputError(f"{who}: {type(model).__name__} is conditional and the dataset has no "
                         "labels to condition on")
    return np.asarray(ds.labels, np.int32)


def _measure(codes: np.ndarray, factors: np.ndarray, num_bins: int) -> tuple[Any, Any, Any]:
    """(mutual_info [D, K], entropy [K], MIG or None) of codes [N, D] and factors [N, K], as
    :func:`zoo.metrics.mig.mig` computes them (MIG needs D >= 2 and a factor that varies)."""
    from zoo.metrics._checks import encode_columns
    from zoo.metrics.mig import mig
    from zoo.metrics.mutual_info import discrete_entropy, discrete_mutual_info, discretize

    if codes.shape[1] >= 2 and np.any(factors != factors[:1], axis=0).any():
        result = mig(codes, factors, num_bins)
        return result["mutual_info"], result["entropy"], result["mig"]
    classes = encode_columns(factors)
    return (discrete_mutual_info(discretize(codes, num_bins), classes),
            discrete_entropy(classes), None)


def latent_factors(
    model: Any,
    ds: Any,
    *,
    points: int = 10_000,
    seed: int = 0,
    num_bins: int = 20,
    min_share: float = MIN_SHARE,
    inactive_kl: float = INACTIVE_KL,
    batch_size: int = 500,
) -> dict[str, Any]:
    """Which ground-truth factor each latent of ``model`` captures, measured on ``ds``.

    The posterior means of ``points`` examples (all of ``ds`` when it has no more, else the
    ones ``zoo eval`` draws with ``seed`` for MIG, by
    :func:`zoo.metrics.points.disentanglement_points`; disentanglement_lib's MIG uses 10,000)
    are discretised into ``num_bins`` histogram bins and their mutual information with each
    factor measured as :func:`zoo.metrics.mig.mig` does; the KL of each latent is averaged
    over the same examples. :func:`zoo.viz.label_latents` (``min_share``, ``inactive_kl``)
    then labels and orders them.

    Args:
        ds: a dataset with ``factors`` [N, K] (and ``labels`` [N] for a conditional model).
    Returns:
        dict with ``mutual_info`` [D, K] and ``entropy`` [K] (nats), ``kl_per_dim`` [D] (nats),
        ``factor_names`` (K), ``rows`` (D :class:`~zoo.viz.LatentRow` in row order), ``mig``
        (float, or None with one latent), ``num_points``, ``num_bins``.
    """
    who = "latent_factors"
    _require_gaussian(model, "factor traversals")
    if getattr(ds, "factors", None) is None:
        raise InputError(f"{who}: the dataset has no ground-truth factors (ds.factors is None); "
                         "use zoo.viz.traverse_model for a traversal ordered by KL")
    factors = np.asarray(ds.factors)
    n = len(factors)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1 or n == 0:
        raise InputError(f"{who}: need points >= 1 and a non-empty dataset, got points={points!r}"
                         f" and {n} examples")
    idx = np.arange(n)
    if n > points:  # the points zoo eval scores with this seed, so the MIG shown is the card's
        idx = disentanglement_points(n, seed, points)[0]
    labels = _labels(model, ds, who)
    means, kls = [], []
    for start in range(0, len(idx), batch_size):
        part = idx[start: start + batch_size]
        x = np.asarray(ds.images[part], np.float32) / 255.0
        mean, logvar = _encode(model, x, None if labels is None else labels[part], who)
        mean, logvar = np.asarray(mean, np.float64), np.asarray(logvar, np.float64)
        means.append(mean)
        kls.append(0.5 * (np.exp(logvar) + mean**2 - 1.0 - logvar))
    codes, kl = np.concatenate(means), np.concatenate(kls).mean(axis=0)
    mutual_info, entropy, score = _measure(codes, factors[idx], num_bins)
    names = tuple(getattr(ds, "factor_names", ()) or ()) or tuple(
        f"factor {k}" for k in range(factors.shape[1]))
    rows = label_latents(mutual_info, entropy, kl, names, min_share=min_share,
                         inactive_kl=inactive_kl)
    return {"mutual_info": np.asarray(mutual_info), "entropy": np.asarray(entropy),
            "kl_per_dim": kl, "factor_names": names, "rows": rows, "mig": score,
            "num_points": len(idx), "num_bins": int(num_bins)}


def factor_traversal(
    model: Any,
    ds: Any,
    path: str | os.PathLike[str],
    *,
    mutual_info_path: str | os.PathLike[str] | None = None,
    index: int = 0,
    values: Sequence[float] | np.ndarray = DEFAULT_VALUES,
    points: int = 10_000,
    seed: int = 0,
    num_bins: int = 20,
) -> list[Path]:
    """Latent traversal around example ``index`` of ``ds`` whose rows are labelled with the
    factor each latent captures most (:func:`latent_factors`), e.g. ``"z3  pos_x  (MI 0.52 of
    H)"``: grouped by factor in the canonical order, then the latents that capture none, by KL
    (``"z7  inactive (KL 0.004)"``). With ``mutual_info_path``, also the heatmap of the shares
    I(z; factor) / H(factor), latents in the same order (:func:`zoo.viz.save_mutual_info`).

    Args:
        ds: a dataset with ``factors`` [N, K] (e.g. dSprites); images [N, H, W, C] uint8.
        values: the V values each latent takes (default 9 points in [-3, 3]).
        points, seed, num_bins: the sample the mutual information is measured on.
    Returns:
        the PNG files written: the traversal, then the heatmap if asked for.
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ds):
        raise InputError(f"factor_traversal: index must be in [0, {len(ds)}), got {index!r}")
    info = latent_factors(model, ds, points=points, seed=seed, num_bins=num_bins)
    rows = info["rows"]
    order = [r.dim for r in rows]
    rank = np.zeros(len(order))
    rank[order] = np.arange(len(order), 0, -1)  # traverse_model puts the largest first
    labels = _labels(model, ds, "factor_traversal")
    base = np.asarray(ds.images[index: index + 1], np.float32) / 255.0
    images, dims = traverse_model(model, base, values=values, kl_per_dim=rank,
                                  labels=None if labels is None else int(labels[index]))
    sample = f"{info['num_points']:,} images, {info['num_bins']} bins"
    title = f"Each row: the factor its latent captures most, MI / H(factor) ({sample})"
    written = [save_traversal(path, images, dims, values, title=title,
                              row_labels=[r.label for r in rows])]
    if mutual_info_path is not None:
        note = sample if info["mig"] is None else f"{sample}; MIG {info['mig']:.3f}"
        written.append(save_mutual_info(mutual_info_path, info["mutual_info"], info["entropy"],
                                        info["factor_names"], rows, title=note))
    return written
