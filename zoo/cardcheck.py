"""``zoo check-cards``: measure bundled models again and compare with their model cards.

Each card in ``model_cards/`` records its metrics (front matter ``model-index``) and the exact
options of the ``zoo eval`` that measured them (front matter ``zoo.eval``). The check loads the
model by its pretrained name (the bundled copy, hash-checked), runs the same evaluation, and
compares every metric within a tolerance, so a card can never drift from its weights.

``fast=True`` skips the expensive parts (importance-weighted NLL, MIG/DCI/SAP, models whose
evaluation set is larger than ``fast_max_examples``); what it skipped is reported, not passed.

A card that reports several training seeds (:mod:`zoo.cards_seeds`) is also checked, in fast
mode too, for agreement with itself: its median/min/max rows follow from its seed rows, the
shipped seed's row equals the card's metrics (which the full check measures again), and the
body's table shows the front matter's numbers.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo import cards
from zoo.cards_seeds import seed_findings
from zoo.data import load_dataset
from zoo.errors import ZooError
from zoo.evaluate import evaluate

__all__ = ["CardCheck", "check_card_file", "check_cards", "format_report"]

_SLOW_PREFIXES = ("iw_nll", "disentanglement.")


@dataclasses.dataclass(frozen=True)
class CardCheck:
    """One metric of one card: what the card says and what was measured now."""

    name: str
    metric: str
    card: float
    measured: float | None  # None: not measured (skipped in fast mode)
    ok: bool | None  # None: skipped
    note: str = ""  # what a mismatch means and how to fix it, where the numbers do not say

    @property
    def status(self) -> str:
        return {True: "ok", False: "MISMATCH", None: "skipped"}[self.ok]


def _close(card: float, measured: float, rtol: float, atol: float) -> bool:
    if isinstance(card, int) and isinstance(measured, int):
        return card == measured
    return math.isclose(card, measured, rel_tol=rtol, abs_tol=atol)


def check_card_file(path: str | os.PathLike[str], *, fast: bool = False, rtol: float = 0.01,
                    atol: float = 1e-3, fast_max_examples: int = 20_000,
                    progress: bool = False) -> list[CardCheck]:
    """Re-measure the model a card describes and compare, metric by metric (``progress``:
    :func:`zoo.evaluate.evaluate`'s bars on stderr)."""
    path = Path(path)
    front, body = cards.parse_card(path.read_text(encoding="utf-8"))
    meta = front.get("zoo") or {}
    name, options = meta.get("name"), dict(meta.get("eval") or {})
    if not name or not options.get("dataset"):
        raise ZooError(f"{str(path)!r} has no 'zoo: {{name, eval}}' front matter; it was not "
                       "written by `zoo bundle`, so zoo cannot measure it again")
    expected = cards.card_metrics(front)
    if not expected:
        raise ZooError(f"{str(path)!r} lists no metrics in its model-index")
    seeds = [CardCheck(name, f.metric, f.card, f.expected, f.ok, f.note)
             for f in seed_findings(front, body, expected)]
    dataset = options.pop("dataset")
    if fast:
        size = len(load_dataset(dataset, options.get("split", "test")))
        if size > fast_max_examples and not options.get("max_examples"):
            return [CardCheck(name, k, v, None, None) for k, v in sorted(expected.items())
                    ] + seeds
        options["iw_samples"] = 0
        options["disentanglement"] = False
    measured = cards.flatten_metrics(evaluate(name, dataset, **options,
                                                      progress=progress))
    rows = []
    for key, value in sorted(expected.items()):
        now = measured.get(key)
        if now is None:
            skipped = fast and key.startswith(_SLOW_PREFIXES)
            rows.append(CardCheck(name, key, value, None, None if skipped else False))
        else:
            rows.append(CardCheck(name, key, value, now, _close(value, now, rtol, atol)))
    return rows + seeds


def check_cards(names: Iterable[str] | None = None, *, cards_dir: str | os.PathLike[str] =
                "model_cards", progress: bool = False, **kwargs: Any) -> list[CardCheck]:
    """:func:`check_card_file` for ``names`` (default: every ``*.md`` card in ``cards_dir``);
    ``progress`` writes to stderr which card is measured (``card 2/7: vqvae-mnist``) and the
    evaluation's bars."""
    cards_dir = Path(cards_dir)
    if names:
        paths = [cards_dir / f"{n}.md" for n in names]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ZooError(f"no model card at {', '.join(missing)}")
    else:
        paths = sorted(p for p in cards_dir.glob("*.md") if p.name != "README.md")
        if not paths:
            raise ZooError(f"no model cards (*.md) in {str(cards_dir)!r}")
    rows = []
    for i, p in enumerate(paths, 1):
        if progress:
            print(f"card {i}/{len(paths)}: {p.stem}", file=sys.stderr, flush=True)
        rows += check_card_file(p, progress=progress, **kwargs)
    return rows


def format_report(rows: list[CardCheck]) -> str:
    """A plain-text table of the checks."""
    lines = [f"{'model':<26} {'metric':<40} {'card':>12} {'measured':>12}  status"]
    for r in rows:
        now = "-" if r.measured is None else f"{r.measured:.6g}"
        lines.append(f"{r.name:<26} {r.metric:<40} {r.card:>12.6g} {now:>12}  {r.status}")
    bad = sum(r.ok is False for r in rows)
    skipped = sum(r.ok is None for r in rows)
    lines.append(f"{len(rows) - bad - skipped} ok, {bad} mismatched, {skipped} skipped")
    lines += [f"{r.name}: {r.metric}: {r.note}" for r in rows if r.ok is False and r.note]
    return "\n".join(lines)
