"""A model card's seeds: several training seeds of one recipe, one of them shipped.

Disentanglement scores vary a lot across seeds of one recipe (Locatello et al. 2019), so a
card can report every seed that was trained. The card dict (:mod:`zoo.cards`) then holds::

    "seeds": [{"seed": 0, "metrics": {"disentanglement.mig.mig": 0.21, ...}}, ...],
    "shipped_seed": 0,                 # the seed whose weights ship (its metrics are the card's)
    "seed_figures": [{"title": ..., "path": "assets/NAME/seeds.png"}],   # optional
    "published": {"mig": {"range": [lo, hi], "source": "..."}},          # optional

The front matter repeats them under ``zoo: {seeds, shipped_seed, seed_summary}`` (the summary
is the median, min and max of each metric over the seeds), the body shows them in a section
"Seeds" with one table row per seed and the summary rows. :func:`seed_findings` checks that
the three agree and that the shipped seed's metrics are the card's main metrics; ``zoo
check-cards`` reports what it finds.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.cards_metrics import flatten_metrics, is_number
from zoo.errors import ZooError

__all__ = ["MIG_FLOOR", "SEED_COLUMNS", "STATS", "SeedFinding", "seed_entry", "seed_findings",
           "seed_front_matter", "seed_section", "seed_summary"]

#: The per-seed metrics of a card (eval result keys, flattened) and their column titles.
SEED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("disentanglement.mig.mig", "MIG"),
    ("disentanglement.dci.disentanglement", "DCI disentanglement"),
    ("disentanglement.dci.completeness", "DCI completeness"),
    ("disentanglement.dci.informativeness_test", "DCI informativeness (test)"),
    ("disentanglement.sap.sap", "SAP"),
)
#: The summary rows under the per-seed rows, in order.
STATS = ("median", "min", "max")
#: The MIG a shipped dSprites model is asked to reach.
MIG_FLOOR = 0.2
_MIG = SEED_COLUMNS[0][0]
_FIX = ("re-run `scripts/pretrained.py bundle NAME --run RUN --seed-runs RUN ...` to rewrite "
        "the card from its runs rather than editing it by hand")


def seed_entry(seed: int, result: Mapping[str, Any]) -> dict[str, Any]:
    """The card's entry of one seed from its ``zoo eval`` result: ``{"seed", "metrics"}``."""
    flat = flatten_metrics(result)
    missing = [key for key, _ in SEED_COLUMNS if key not in flat]
    if missing:
        raise ZooError(f"the evaluation of seed {seed} lacks {', '.join(missing)}: measure every "
                       "seed with the disentanglement scores (zoo eval on a dataset with factors)")
    return {"seed": int(seed), "metrics": {key: flat[key] for key, _ in SEED_COLUMNS}}


def seed_summary(seeds: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{"median": {metric: value}, "min": ..., "max": ...}`` over ``seeds``' metrics."""
    funcs = {"median": statistics.median, "min": min, "max": max}
    keys = [key for key, _ in SEED_COLUMNS if all(key in s["metrics"] for s in seeds)]
    return {stat: {key: float(funcs[stat]([s["metrics"][key] for s in seeds])) for key in keys}
            for stat in STATS}


def seed_front_matter(card: Mapping[str, Any]) -> dict[str, Any]:
    """The ``zoo:`` front matter entries of a card with seeds (``{}`` without)."""
    if not card.get("seeds"):
        return {}
    seeds = [{"seed": int(s["seed"]), "metrics": dict(s["metrics"])} for s in card["seeds"]]
    return {"seeds": seeds, "shipped_seed": card.get("shipped_seed"),
            "seed_summary": seed_summary(seeds)}


def _cell(value: Any) -> str:
    return f"{value:.3f}" if is_number(value) else "-"


def _table(seeds: Sequence[Mapping[str, Any]], shipped: Any) -> list[str]:
    head = ["seed", *(title for _, title in SEED_COLUMNS), "shipped"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in seeds:
        cells = [str(s["seed"]), *(_cell(s["metrics"].get(k)) for k, _ in SEED_COLUMNS),
                 "yes" if s["seed"] == shipped else ""]
        out.append("| " + " | ".join(cells) + " |")
    summary = seed_summary(seeds)
    for stat in STATS:
        cells = [stat, *(_cell(summary[stat].get(k)) for k, _ in SEED_COLUMNS), ""]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _published_line(published: Mapping[str, Any]) -> str:
    names = {"mig": "MIG", "dci_disentanglement": "DCI disentanglement", "sap": "SAP"}
    parts = [f"{names.get(k, k)} {float(v['range'][0]):g} to {float(v['range'][1]):g} "
             f"({v['source']})" for k, v in published.items()]
    return "Published ranges (the grey bars beside the seeds): " + "; ".join(parts) + "."


def seed_section(card: Mapping[str, Any]) -> list[str]:
    """The Markdown lines of the card's "Seeds" section (none without seeds)."""
    seeds = list(card.get("seeds") or ())
    if not seeds:
        return []
    shipped, n = card.get("shipped_seed"), len(seeds)
    listed = ", ".join(str(s["seed"]) for s in seeds)
    best = max(seeds, key=lambda s: s["metrics"].get(_MIG, -math.inf))["seed"]
    why = (f"the best MIG of the {n} seeds" if best == shipped else
           f"not the best MIG of the {n} seeds (seed {best}'s is; see the Notes)")
    out = ["## Seeds", "",
           f"{n} seeds of the same recipe were trained (seeds {listed}: the training command "
           f"above with `seed=N`), each measured as above. Seed {shipped} ships: {why}. The "
           f"MIG floor of {MIG_FLOOR:g} applies to the shipped model; the median over the "
           "seeds is reported beside it.", ""]
    out += [*_table(seeds, shipped), ""]
    for fig in card.get("seed_figures") or ():
        out += [f"![{fig['title']}]({fig['path']})", "", f"*{fig['title']}.*", ""]
    if card.get("published") and card.get("seed_figures"):
        out += [_published_line(card["published"]), ""]
    return out


@dataclasses.dataclass(frozen=True)
class SeedFinding:
    """One check of a card's seeds: the value the card gives, the value it follows from."""

    metric: str
    card: float
    expected: float | None
    ok: bool
    note: str = ""


def _same(a: Any, b: Any) -> bool:
    return is_number(a) and is_number(b) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _body_rows(body: str) -> dict[str, list[str]]:
    """Label (seed or statistic) -> cells of the body's Seeds table."""
    rows: dict[str, list[str]] = {}
    section = body.partition("\n## Seeds\n")[2].partition("\n## ")[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] not in ("seed", "") and not cells[0].startswith("-"):
            rows[cells[0]] = cells[1:]
    return rows


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _malformed(seeds: Any) -> bool:
    return not (isinstance(seeds, list) and seeds and all(
        isinstance(s, Mapping) and isinstance(s.get("seed"), int)
        and isinstance(s.get("metrics"), Mapping)
        and all(is_number(v) for v in s["metrics"].values()) for s in seeds))


def seed_findings(front: Mapping[str, Any], body: str,
                  metrics: Mapping[str, float]) -> list[SeedFinding]:
    """Check a parsed card's seeds (``[]`` for a card without): the front matter's summary
    follows from its seed rows, the shipped seed's metrics equal the card's main ``metrics``,
    and the body's Seeds table shows the front matter's numbers (only its mismatched cells are
    reported)."""
    zoo_meta = front.get("zoo") or {}
    if "seeds" not in zoo_meta:
        return []
    seeds, shipped = zoo_meta.get("seeds"), zoo_meta.get("shipped_seed")
    if _malformed(seeds):
        return [SeedFinding("seeds", math.nan, None, False, "front matter 'zoo: seeds' is not a "
                            "list of {seed: int, metrics: {name: number}}; " + _FIX)]
    found: list[SeedFinding] = []
    summary, written = seed_summary(seeds), zoo_meta.get("seed_summary") or {}
    for stat in STATS:
        for key, value in summary[stat].items():
            card_value = (written.get(stat) or {}).get(key, math.nan)
            ok = _same(card_value, value)
            found.append(SeedFinding(f"seeds {stat}: {key}", card_value, value, ok, "" if ok else
                                     f"the card's {stat} of {key} over seeds is {card_value}, "
                                     f"its seed rows give {value}; " + _FIX))
    row = next((s for s in seeds if s["seed"] == shipped), None)
    if row is None:
        return [*found, SeedFinding("seeds: shipped seed", math.nan, None, False,
                                    f"shipped_seed {shipped!r} is none of the card's seeds "
                                    f"({', '.join(str(s['seed']) for s in seeds)}); " + _FIX)]
    for key, value in sorted(row["metrics"].items()):
        main = metrics.get(key)
        ok = _same(value, main)
        found.append(SeedFinding(f"seeds shipped {shipped}: {key}", value, main, ok, "" if ok else
                                 f"shipped seed {shipped} has {key} = {value} in the seed rows "
                                 f"but {main} in the card's metrics; " + _FIX))
    return found + _table_findings(_body_rows(body), _table(seeds, shipped)[2:])


def _table_findings(have: Mapping[str, list[str]], lines: Sequence[str]) -> list[SeedFinding]:
    """The cells of the body's Seeds table (``have``) that differ from the rendered ``lines``."""
    found: list[SeedFinding] = []
    titles = [*(title for _, title in SEED_COLUMNS), "shipped"]
    expected = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.strip().strip("|").split("|")] for line in lines)}
    for label in [*expected, *(k for k in have if k not in expected)]:
        want, got = expected.get(label), have.get(label)
        if want is None or got is None or len(got) != len(want):
            what = ("has no row" if got is None else "has an extra row" if want is None
                    else f"has {len(got)} cells after the label, not {len(want)}, in row")
            found.append(SeedFinding(f"seeds table: row {label}", math.nan, None, False,
                                     f"the Seeds table in the card's body {what} {label!r}; "
                                     + _FIX))
            continue
        for title, w, g in zip(titles, want, got, strict=True):
            if w != g:
                found.append(SeedFinding(f"seeds table: {label} {title}", _number(g),
                                         _number(w), False, f"the Seeds table shows {title} "
                                         f"{g or 'nothing'} in row {label!r}, the front matter "
                                         f"gives {w or 'nothing'}; " + _FIX))
    return found
