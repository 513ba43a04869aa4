"""Matplotlib charts: VQ codebook usage and training curves.

Figures are built with ``matplotlib.figure.Figure`` on an Agg canvas, never through pyplot, so
the caller's backend and global state are untouched; matplotlib is imported on first use.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo._io import atomic_write_bytes
from zoo.errors import InputError

__all__ = ["save_codebook_usage", "save_training_curves"]

VAL_PREFIX = "val/"
#: Panels of :func:`save_training_curves`: (title, metrics drawn on the same axes).
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loss", ("loss", "negative_elbo")),
    ("loss terms", ("reconstruction_loss", "capacity_loss", "vq_loss", "commitment_loss",
                    "codebook_loss")),
    ("KL (nats)", ("kl_loss", "current_capacity")),
    ("beta", ("beta",)),
    ("VQ perplexity", ("perplexity",)),
)
#: Bookkeeping keys that are not plotted.
IGNORED = frozenset({"step", "epoch", "time", "wall_time", "timestamp", "elapsed", "elapsed_s"})
_NONFINITE = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure of ``width`` x ``height`` inches at 100 dpi, constrained layout, on
    its own Agg canvas (pyplot untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _write_figure(path: str | os.PathLike[str], fig: Any) -> Path:
    """Render ``fig`` as PNG in memory and write it atomically to ``path`` (.png)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"zoo.viz writes PNG files; give a path ending in .png, got {str(path)!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return atomic_write_bytes(path, buf.getvalue())


# -- codebook usage --------------------------------------------------------------------------------
def save_codebook_usage(
    path: str | os.PathLike[str],
    counts: Any,
    *,
    perplexity: float | None = None,
    title: str | None = None,
) -> Path:
    """Bar chart of how often each VQ code is used, most used first, with the cumulative share
    of assignments, the dead (never used) codes shaded and counted, and the perplexity.

    Args:
        counts: [K] non-negative usage count (or frequency) of each code.
        perplexity: shown if given; otherwise computed from ``counts`` as exp(entropy).
    """
    who = "save_codebook_usage"
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise InputError(f"{who}: expected counts of shape [K] (one per code), got {counts.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise InputError(f"{who}: counts must be finite and non-negative")
    k = counts.size
    ranked = np.sort(counts)[::-1]
    total = ranked.sum()
    dead = int(np.sum(counts == 0))
    used = k - dead
    if perplexity is None and total > 0:
        p = ranked[ranked > 0] / total
        perplexity = float(np.exp(-np.sum(p * np.log(p))))
    stats = f"{k} codes: {used} used, {dead} dead"
    if perplexity is not None:
        stats += f"; perplexity {perplexity:.1f} of {k}"

    fig = _figure(8.0, 3.6)
    ax = fig.add_subplot()
    ranks = np.arange(k)
    ax.bar(ranks, ranked, width=1.0, color="C0", linewidth=0, label="uses")
    if dead:
        ax.axvspan(used - 0.5, k - 0.5, color="C3", alpha=0.15, label=f"{dead} dead codes")
    ax.set_xlim(-0.5, k - 0.5)
    ax.set_xlabel("code rank (most used first)")
    ax.set_ylabel("uses")
    if total > 0:
        share = ax.twinx()
        share.plot(ranks, np.cumsum(ranked) / total, color="C1", label="cumulative share")
        share.set_ylim(0.0, 1.02)
        share.set_ylabel("cumulative share of uses")
        lines, labels = ax.get_legend_handles_labels()
        more, more_labels = share.get_legend_handles_labels()
        share.legend(lines + more, labels + more_labels, loc="center right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no code used", transform=ax.transAxes, ha="center", va="center")
    ax.set_title(stats, fontsize=10)
    fig.suptitle(title or "Codebook usage")
    return _write_figure(path, fig)


# -- training curves -------------------------------------------------------------------------------
def _scalar(value: Any) -> float | None:
    """A plottable float (NaN for non-finite values, which may be logged as strings), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return math.nan if value.strip().lower() in _NONFINITE else None
    if isinstance(value, int | float):
        value = float(value)
    else:
        try:
            arr = np.asarray(value)
        except Exception:  # an arbitrary object: not a metric
            return None
        if arr.ndim != 0 or not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        ):
            return None
        value = float(arr)
    return value if math.isfinite(value) else math.nan


def collect_series(history: Iterable[Mapping[str, Any]]) -> dict[str, tuple[np.ndarray, ...]]:
    """Metric name -> (steps [T], values [T]) sorted by step, from records with a scalar
    ``step``; non-scalar values (e.g. ``kl_per_dim``) and bookkeeping keys are skipped."""
    points: dict[str, list[tuple[float, float]]] = {}
    for i, record in enumerate(history):
        if not isinstance(record, Mapping):
            raise InputError(
                f"save_training_curves: history entry {i} is a {type(record).__name__}, not a "
                "dict; pass the list read_history() returns"
            )
        step = _scalar(record.get("step"))
        if step is None or math.isnan(step):
            continue
        for key, value in record.items():
            if key in IGNORED:
                continue
            y = _scalar(value)
            if y is not None:
                points.setdefault(str(key), []).append((step, y))
    series = {}
    for key, pts in points.items():
        pts.sort(key=lambda p: p[0])
        steps, values = zip(*pts, strict=True)
        series[key] = (np.asarray(steps), np.asarray(values))
    return series


def plan_panels(names: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Group metric names (training and ``val/``) into panels: the known groups of
    :data:`PANELS` that have data, then one panel per other metric. A ``val/`` metric shares
    its training metric's panel."""
    names = set(names)
    bases = {n.removeprefix(VAL_PREFIX) for n in names}
    panels: list[tuple[str, list[str]]] = []
    placed: set[str] = set()
    for title, members in PANELS:
        present = [m for m in members if m in bases]
        if not present:
            continue
        if title.startswith("KL") and "current_capacity" in present:
            title = "KL vs capacity C(step) (nats)"
        panels.append((title, present))
        placed.update(members)
    for base in sorted(bases - placed):
        panels.append((base, [base]))
    return panels


def save_training_curves(
    path: str | os.PathLike[str],
    history: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
) -> Path:
    """Plot a metrics history, one subplot per group of metrics, against ``step``.

    Panels: loss; loss terms (reconstruction, capacity, VQ terms); KL, with the capacity target
    C(step) on the same axes when logged; beta; VQ perplexity; then one panel per other scalar
    metric. Validation metrics (``val/<name>``) are drawn dashed with markers next to their
    training metric. Non-scalar entries and metrics a record lacks are skipped; a panel whose
    values are all positive and span over three decades uses a log scale.

    Args:
        history: records with a ``step`` and scalar metrics (e.g. :func:`read_history`).
    """
    series = collect_series(history)
    if not series:
        raise InputError(
            "save_training_curves: the history has no scalar metrics with a 'step' to plot; "
            "pass records like {'step': 100, 'loss': 12.5} (read_history(run / 'metrics.jsonl'))"
        )
    panels = plan_panels(series)
    ncols = 1 if len(panels) == 1 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig = _figure(6.0 * ncols, 2.8 * nrows)
    for idx, (panel_title, members) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, idx + 1)
        for j, name in enumerate(members):
            color = "k" if name == "current_capacity" else f"C{j % 10}"  # a target, not a loss
            train_style = {"ls": ":"} if name == "current_capacity" else {}
            for key, style in ((name, train_style),
                               (VAL_PREFIX + name, {"ls": "--", "marker": "o"})):
                if key not in series:
                    continue
                steps, values = series[key]
                if steps.size == 1:
                    style = {**style, "marker": "o"}
                ax.plot(steps, values, color=color, label=key, markersize=3, **style)
        finite = np.concatenate([
            s[1][np.isfinite(s[1])] for key, s in series.items()
            if key.removeprefix(VAL_PREFIX) in members
        ])
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 1e3:
            ax.set_yscale("log")
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        lines = ax.get_lines()
        if len(lines) > 1 or lines[0].get_label() != panel_title:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _write_figure(path, fig)
