"""Charts of several training seeds of one recipe: their scores beside published ranges, and
MIG against images seen (a run's ``mig_curve.jsonl``, written by ``scripts/mig_curve.py``).

Like :mod:`zoo.viz.plots`, figures are built on an Agg canvas, never through pyplot;
matplotlib is imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.errors import InputError
from zoo.specs.preset import PUBLISHED_SCORES
from zoo.viz.plots import _figure, _write_figure

__all__ = ["SCORE_TITLES", "save_mig_curves", "save_seed_scores"]

#: The scores :func:`save_seed_scores` draws: published-range key -> axis label.
SCORE_TITLES: dict[str, str] = {"mig": "MIG", "dci_disentanglement": "DCI disentanglement",
                                "sap": "SAP"}


def save_seed_scores(
    path: str | os.PathLike[str],
    seeds: Sequence[Mapping[str, Any]],
    *,
    shipped_seed: int | None = None,
    published: Mapping[str, Mapping[str, Any]] | None = None,
    title: str | None = None,
) -> Path:
    """One dot per seed (labelled with the seed) for MIG, DCI disentanglement and SAP, the
    shipped seed a red star, each beside its published range (a bar from low to high) where
    ``published`` gives one.

    Args:
        seeds: ``{"seed": int, "metrics": {flattened eval key: value}}`` per seed (the card's
            ``seeds``); a score a seed lacks is not drawn for it.
        published: score (``"mig"``, ``"dci_disentanglement"``, ``"sap"``) ->
            ``{"range": [low, high], "source": text}``; scores it omits get no bar.
    """
    if not seeds:
        raise InputError("save_seed_scores: no seeds to draw; pass the card's seed entries")
    published = published or {}
    unknown = sorted(set(published) - set(SCORE_TITLES))
    if unknown:
        raise InputError(f"save_seed_scores: unknown published score(s) {unknown}; known: "
                         f"{', '.join(SCORE_TITLES)}")
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    labelled: set[str] = set()

    def label(text: str) -> str:
        first = text not in labelled
        labelled.add(text)
        return text if first else "_nolegend_"

    for x, score in enumerate(SCORE_TITLES):
        key = PUBLISHED_SCORES[score]
        points = [(s["seed"], s["metrics"][key]) for s in seeds if key in s["metrics"]]
        offset = -0.12 if score in published else 0.0
        for i, (seed, value) in enumerate(points):
            spread = (i - (len(points) - 1) / 2) * 0.05
            if seed == shipped_seed:
                ax.scatter(x + offset + spread, value, s=90, marker="*", color="C3", zorder=3,
                           label=label(f"shipped (seed {seed})"))
            else:
                ax.scatter(x + offset + spread, value, s=30, color="C0", zorder=2,
                           label=label("other seeds"))
            ax.annotate(str(seed), (x + offset + spread, value), xytext=(-9, 0),
                        textcoords="offset points", fontsize=7, ha="right", va="center")
        if score in published:
            low, high = (float(b) for b in published[score]["range"])
            ax.bar(x + 0.18, high - low, bottom=low, width=0.14, color="0.6", alpha=0.6,
                   label=label("published range"))
    ax.set_xticks(range(len(SCORE_TITLES)), list(SCORE_TITLES.values()))
    ax.set_xlim(-0.6, len(SCORE_TITLES) - 0.4)
    ax.set_ylim(bottom=0.0)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"{len(seeds)} seeds of one recipe", fontsize=10)
    return _write_figure(path, fig)


def save_mig_curves(
    path: str | os.PathLike[str],
    curves: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    floor: float | None = 0.2,
    highlight: str | None = None,
    title: str | None = None,
) -> Path:
    """MIG against images seen (millions), one line per run, with a dashed line at ``floor``.

    Args:
        curves: line label (e.g. ``"seed 0"``) -> rows with ``images`` and ``mig`` (a run's
            ``mig_curve.jsonl``, e.g. read with :func:`zoo.viz.read_history`).
        highlight: the label drawn thicker (the shipped seed).
    """
    if not any(curves.values()):
        raise InputError("save_mig_curves: no rows to draw; pass label -> the rows of a run's "
                         "mig_curve.jsonl ({'images': ..., 'mig': ...} each)")
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    for label, rows in curves.items():
        bad = [r for r in rows if not {"images", "mig"} <= set(r)]
        if bad:
            raise InputError(f"save_mig_curves: rows of {label!r} need 'images' and 'mig', "
                             f"got {sorted(bad[0])}")
        rows = sorted(rows, key=lambda r: r["images"])
        ax.plot([r["images"] / 1e6 for r in rows], [r["mig"] for r in rows], marker=".",
                linewidth=2.5 if label == highlight else 1.2, label=label)
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle="--", linewidth=1, label=f"floor {floor:g}")
    ax.set_xlabel("images seen (millions)")
    ax.set_ylabel("MIG")
    ax.set_ylim(bottom=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _write_figure(path, fig)
