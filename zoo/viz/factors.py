"""Which ground-truth factor each latent captures, from a mutual-information matrix: row labels
and order for a traversal on data with factors (dSprites), and the heatmap of that matrix.

No model here: the inputs are arrays, e.g. ``mutual_info`` [D, K] and ``entropy`` [K] (nats) as
:func:`zoo.metrics.mig.mig` returns them, and the KL of each latent [D] (nats).
:mod:`zoo.viz.factor_pictures` measures them on a model and a dataset.

A latent's *share* of a factor is I(z_d; factor_k) / H(factor_k), in [0, 1]: 1 when the
(discretised) latent determines the factor. A factor constant on the data (H = 0) has share 0.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.viz.figures import order_by_kl
from zoo.viz.plots import _figure, _write_figure

__all__ = ["INACTIVE_KL", "MIN_SHARE", "LatentRow", "label_latents", "normalized_mutual_info",
           "save_mutual_info"]

#: A latent whose largest share of any factor is below this captures no factor.
MIN_SHARE = 0.05
#: A latent whose average KL is below this (nats) is inactive: its posterior is the prior. The
#: same threshold as the ``active_units_kl`` count of ``zoo eval``.
INACTIVE_KL = 0.01
_CONSTANT_ENTROPY = 1e-12


@dataclasses.dataclass(frozen=True)
class LatentRow:
    """One latent as a traversal row.

    Attributes:
        dim: the latent dimension d.
        factor: index of the factor it captures most (the canonical factor order), or None when
            it captures none (inactive, or every share below the threshold).
        share: its largest share I(z_d; f_k) / H(f_k) over the factors (also when below the
            threshold).
        kl: its average KL to the prior (nats).
        inactive: KL below the inactivity threshold.
        label: the row label, e.g. ``"z3  pos_x  (MI 0.52 of H)"`` or
            ``"z7  inactive (KL 0.004)"``.
    """

    dim: int
    factor: int | None
    share: float
    kl: float
    inactive: bool
    label: str


def _kl_text(kl: float) -> str:
    """A KL for a label: two decimals, three below 0.1 (so 0.007 and 0.012 nats differ)."""
    return f"{kl:.2f}" if abs(kl) >= 0.095 else f"{kl:.3f}"


def normalized_mutual_info(mutual_info: Any, entropy: Any) -> np.ndarray:
    """Shares I(z_d; f_k) / H(f_k): float64 [D, K] from ``mutual_info`` [D, K] and ``entropy``
    [K] (nats); 0 for a constant factor (H = 0) and for NaN entries, clipped to [0, 1]."""
    who = "normalized_mutual_info"
    m = np.asarray(mutual_info, np.float64)
    h = np.asarray(entropy, np.float64).reshape(-1)
    if m.ndim != 2 or m.shape[1] != h.shape[0]:
        raise InputError(f"{who}: expected mutual_info [D, K] and entropy [K], got {m.shape} and "
                         f"{h.shape}")
    varies = h > _CONSTANT_ENTROPY
    share = np.where(varies, m / np.where(varies, h, 1.0), 0.0)
    return np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0)


def label_latents(
    mutual_info: Any,
    entropy: Any,
    kl_per_dim: Any,
    factor_names: Sequence[str],
    *,
    min_share: float = MIN_SHARE,
    inactive_kl: float = INACTIVE_KL,
) -> list[LatentRow]:
    """Label each latent with the factor it captures most, and order them for a traversal.

    A latent is *inactive* when its KL is below ``inactive_kl`` (default 0.01 nats; a NaN KL
    counts as inactive); an active latent *captures* its best factor (largest share
    I(z_d; f_k) / H(f_k); a tie goes to the factor first in the canonical order) when that
    share is at least ``min_share`` (default 0.05), else it captures nothing.

    Order: the capturing latents first, grouped by factor in the canonical order, and within a
    factor by share (largest first; ties: larger KL, then lower index); then the rest by KL,
    largest first (ties: lower index), so the uncaptured active latents precede the inactive.

    Args:
        mutual_info: [D, K] I(z_d; f_k) in nats (e.g. ``mig(...)["mutual_info"]``).
        entropy: [K] H(f_k) in nats.
        kl_per_dim: [D] average KL of each latent to the prior, in nats.
        factor_names: the K factor names, in the canonical order.
    Returns:
        D :class:`LatentRow`, in row order.
    """
    who = "label_latents"
    share = normalized_mutual_info(mutual_info, entropy)
    kl = np.asarray(kl_per_dim, np.float64).reshape(-1)
    names = [str(n) for n in factor_names]
    d, k = share.shape
    if kl.shape[0] != d:
        raise InputError(f"{who}: kl_per_dim has {kl.shape[0]} entries for {d} latents")
    if len(names) != k:
        raise InputError(f"{who}: {len(names)} factor_names for {k} factors")
    if k == 0:
        raise InputError(f"{who}: no factors to label latents with")
    best = np.argmax(share, axis=1)  # the first maximum: canonical order on ties
    top = share[np.arange(d), best]
    active = kl >= inactive_kl  # False for NaN
    captures = active & (top >= min_share)
    safe_kl = np.where(np.isnan(kl), -np.inf, kl)
    captured = sorted(np.flatnonzero(captures), key=lambda i: (best[i], -top[i], -safe_kl[i], i))
    rest = [i for i in order_by_kl(kl) if not captures[i]]
    rows = []
    for i in [*captured, *rest]:
        if captures[i]:
            label = f"z{i}  {names[best[i]]}  (MI {top[i]:.2f} of H)"
        else:
            label = f"z{i}  {'no factor' if active[i] else 'inactive'} (KL {_kl_text(kl[i])})"
        rows.append(LatentRow(dim=int(i), factor=int(best[i]) if captures[i] else None,
                              share=float(top[i]), kl=float(kl[i]), inactive=not active[i],
                              label=label))
    return rows


def save_mutual_info(
    path: str | os.PathLike[str],
    mutual_info: Any,
    entropy: Any,
    factor_names: Sequence[str],
    rows: Sequence[LatentRow] | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Heatmap of the shares I(z_d; f_k) / H(f_k): one row per latent, one column per factor,
    each cell annotated with its value, on a fixed 0..1 colour scale.

    Args:
        mutual_info: [D, K] nats; entropy: [K] nats; factor_names: the K column labels.
        rows: the latents to draw, in this order (e.g. :func:`label_latents`, the order of the
            traversal's rows); their KL is shown by the latent and the factor each captures is
            outlined. Default: every latent in index order.
        title: a line under the heading (e.g. how many points and bins were used).
    """
    share = normalized_mutual_info(mutual_info, entropy)
    d, k = share.shape
    names = [str(n) for n in factor_names]
    if len(names) != k:
        raise InputError(f"save_mutual_info: {len(names)} factor_names for {k} factors")
    if rows is None:
        dims, ticks, outlined = list(range(d)), [f"z{i}" for i in range(d)], [None] * d
    else:
        dims = [r.dim for r in rows]
        if any(not 0 <= i < d for i in dims):
            raise InputError(f"save_mutual_info: rows name latents outside [0, {d})")
        ticks = [f"z{r.dim}  KL {_kl_text(r.kl)}" for r in rows]
        outlined = [r.factor for r in rows]
    from matplotlib.patches import Rectangle

    values = share[dims]
    fig = _figure(1.6 + 1.05 * k, 1.3 + 0.38 * len(dims))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if v > 0.55 else "black")
        if outlined[r] is not None:
            ax.add_patch(Rectangle((outlined[r] - 0.5, r - 0.5), 1.0, 1.0, fill=False,
                                   edgecolor="C3", linewidth=2.0))
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(len(dims)), ticks)
    ax.tick_params(length=0)
    fig.colorbar(image, ax=ax, label="I(z; factor) / H(factor)", shrink=0.9)
    heading = "Mutual information of each latent with each factor"
    ax.set_title(heading if title is None else f"{heading}\n{title}", fontsize=10)
    return _write_figure(path, fig)
