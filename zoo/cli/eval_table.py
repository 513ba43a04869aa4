"""The short table ``zoo eval`` prints by default: the headline metrics of an eval result.

:func:`eval_table` is a pure function of the dict :func:`zoo.evaluate.evaluate` returns. What it
shows follows the keys present: the metrics it knows get a readable name (in the order a person
reads them: accuracy, reconstruction, likelihood, latents, codebook, disentanglement,
conditional generation), and any other entry (a plugin's, a new one) still shows under its own
key. Lists are summarised (how many values, the largest and where), never dumped; the variant's
own loss metrics close the table. ``zoo eval --json`` prints everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.cli.table import aligned

__all__ = ["eval_table", "number"]

#: Entries that describe the measurement rather than measure anything (the header says them,
#: or the row of the metric they qualify does).
_INFORMATIONAL = {"variant", "dataset", "split", "examples", "binarized", "options", "command",
                  "iw_nll_stderr", "iw_samples", "iw_examples", "active_units_variance_mask",
                  "conditional_accuracy_samples", "fid_name", "fid_samples", "classifier"}

#: Top-level numbers shown first, as they are: key -> row label.
_PLAIN = {
    "accuracy": "accuracy",
    "cross_entropy": "cross-entropy (nats)",
    "reconstruction_mse": "reconstruction MSE per pixel",
    "negative_elbo": "negative ELBO (nats/image)",
}

Row = tuple[str, ...]


def number(value: Any) -> str:
    """``value`` as a person reads it: integers with thousands separators, floats to four
    significant figures without trailing zeros (scientific notation when very small or
    large)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value) or value == 0:
        return str(value) if value else "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 6:
        text = f"{value:,.{max(0, 3 - magnitude)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:.3e}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _largest(values: Sequence[Any], prefix: str = "z") -> Row:
    """(value, detail) of a list: its largest entry and where it is, and how many there are."""
    numbers = [(v, i) for i, v in enumerate(values) if _is_number(v) and math.isfinite(v)]
    if not numbers:
        return (f"{len(values)} values",)
    top, where = max(numbers, key=lambda pair: pair[0])  # the first of equals
    return f"max {number(top)} ({prefix}{where})", f"{len(values)} values"


def _header(result: Mapping[str, Any], model: str | None) -> str:
    variant = str(result.get("variant", "?"))
    who = variant if not model or model == variant else f"{model} ({variant})"
    parts = [f"{who} on {result.get('dataset', '?')}", f"split {result.get('split', '?')}"]
    options = result.get("options") if isinstance(result.get("options"), Mapping) else {}
    if _is_number(result.get("examples")):
        subset = " (a seeded random subset)" if options.get("max_examples") else ""
        parts.append(f"{number(result['examples'])} examples{subset}")
    if result.get("binarized"):
        parts.append("binarised")
    if options.get("only_disentanglement"):
        parts.append("MIG/DCI/SAP only")
    return ", ".join(parts)


def _latent_rows(r: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if _is_number(r.get("iw_nll")):
        detail = f"K = {r.get('iw_samples', '?')}, {number(r.get('iw_examples', '?'))} examples"
        if _is_number(r.get("iw_nll_stderr")):
            detail = f"± {number(r['iw_nll_stderr'])}, {detail}"
        rows.append(("importance-weighted NLL (nats)", number(r["iw_nll"]), detail))
    if _is_number(r.get("kl_total")):
        rows.append(("KL, all latents (nats)", number(r["kl_total"])))
    latents = len(r["kl_per_dim"]) if isinstance(r.get("kl_per_dim"), list) else None
    if isinstance(r.get("kl_per_dim"), list):
        rows.append(("KL per latent (nats)", *_largest(r["kl_per_dim"])))
    for key, label in (("active_units_variance", "active units (mean variance > 0.01)"),
                       ("active_units_kl", "active units (KL > 0.01 nats)")):
        if _is_number(r.get(key)):
            rows.append((label, number(r[key]) + (f" / {latents}" if latents else "")))
    if isinstance(r.get("mutual_information_with_labels"), list):
        rows.append(("MI with labels per latent (nats)",
                     *_largest(r["mutual_information_with_labels"])))
    return rows


def _codebook_rows(book: Mapping[str, Any], batch_mean: Any) -> list[Row]:
    rows: list[Row] = []
    if _is_number(batch_mean):
        rows.append(("codebook perplexity, batch mean", number(batch_mean)))
    size = len(book["counts"]) if isinstance(book.get("counts"), list) else None
    if _is_number(book.get("perplexity")):
        rows.append(("codebook perplexity, whole split", number(book["perplexity"]),
                     f"of {size} codes" if size else ""))
    if _is_number(book.get("fraction_used")):
        used = f"{size - book['num_dead']} / {size} " if size and "num_dead" in book else ""
        rows.append(("codes used", f"{used}({book['fraction_used']:.1%})"))
    if _is_number(book.get("num_dead")):
        dead = book.get("dead_codes") if isinstance(book.get("dead_codes"), list) else []
        ids = ", ".join(map(str, dead[:5])) + (", ..." if len(dead) > 5 else "")
        rows.append(("dead codes", number(book["num_dead"]), f"ids {ids}" if ids else ""))
    known = {"counts", "total", "perplexity", "fraction_used", "dead_codes", "num_dead"}
    return rows + _other_rows({k: v for k, v in book.items() if k not in known}, "codebook.")


def _disentanglement_rows(scores: Mapping[str, Any], notes: list[str]) -> list[Row]:
    rows: list[Row] = []
    mig, dci, sap = (scores.get(k) if isinstance(scores.get(k), Mapping) else {}
                     for k in ("mig", "dci", "sap"))
    if _is_number(mig.get("mig")):
        bins = f"{mig['num_bins']} bins" if "num_bins" in mig else ""
        rows.append(("MIG", number(mig["mig"]), bins))
    kind = f"{dci['model']}" if "model" in dci else ""
    for key, label in (("disentanglement", "DCI disentanglement"),
                       ("completeness", "DCI completeness"),
                       ("informativeness_test", "DCI informativeness (test accuracy)")):
        if _is_number(dci.get(key)):
            rows.append((label, number(dci[key]), kind))
    if _is_number(sap.get("sap")):
        rows.append(("SAP", number(sap["sap"])))
    for name, part in (("MIG", mig), ("DCI", dci), ("SAP", sap)):
        if part.get("note"):
            notes.append(f"{name}: {part['note']}")
    others = {k: v for k, v in scores.items() if k not in ("mig", "dci", "sap")}
    return rows + _other_rows(others, "disentanglement.")


def _conditional_rows(r: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if _is_number(r.get("conditional_accuracy")):
        n = r.get("conditional_accuracy_samples")
        rows.append(("conditional accuracy", number(r["conditional_accuracy"]),
                     f"{number(n)} samples" if _is_number(n) else ""))
    if _is_number(r.get("fid_zoo_classifier")):
        n = r.get("fid_samples")
        rows.append((str(r.get("fid_name") or "FID (zoo classifier features)"),
                     number(r["fid_zoo_classifier"]), f"{number(n)} samples" if n else ""))
    judge = r.get("classifier")
    if isinstance(judge, Mapping) and judge.get("name"):
        acc = judge.get("test_accuracy")
        rows.append(("judged by", str(judge["name"]),
                     f"test accuracy {number(acc)}" if _is_number(acc) else ""))
    return rows


def _other_rows(entries: Mapping[str, Any], prefix: str = "") -> list[Row]:
    """Rows for entries the table has no name for, under their own keys: numbers as they are,
    lists summarised, text as it is, nested dicts flattened (``a.b``)."""
    rows: list[Row] = []
    for key, value in entries.items():
        label = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _other_rows(value, f"{label}.")
        elif isinstance(value, list):
            rows.append((label, *_largest(value, "#")))
        elif value is not None and not str(key).endswith("note"):
            rows.append((label, number(value)))
    return rows


def eval_table(result: Mapping[str, Any], model: str | None = None) -> str:
    """A short aligned table of the headline metrics of ``result`` (an eval result dict), under
    a one-line header naming the model, dataset, split and number of examples.

    Args:
        result: what :func:`zoo.evaluate.evaluate` returned (or its JSON read back).
        model: what the user named the model by (a directory, a pretrained name) for the
            header; the variant is named either way.
    Returns:
        the text, lines joined with newlines, no trailing newline.
    """
    rows: list[Row] = [(label, number(result[key])) for key, label in _PLAIN.items()
                       if _is_number(result.get(key))]
    rows += _latent_rows(result)
    book = result.get("codebook")
    rows += _codebook_rows(book if isinstance(book, Mapping) else {},
                           result.get("perplexity_batch_mean"))
    notes = [f"{k.removesuffix('_note')}: {v}" for k, v in result.items()
             if k.endswith("_note") and v]
    if isinstance(result.get("disentanglement"), Mapping):
        rows += _disentanglement_rows(result["disentanglement"], notes)
    rows += _conditional_rows(result)
    shown = {*_INFORMATIONAL, *_PLAIN, "iw_nll", "kl_total", "kl_per_dim", "active_units_kl",
             "active_units_variance", "mutual_information_with_labels", "perplexity_batch_mean",
             "codebook", "disentanglement", "conditional_accuracy", "fid_zoo_classifier",
             "loss_metrics"}
    rows += _other_rows({k: v for k, v in result.items() if k not in shown})
    losses = result.get("loss_metrics")
    if isinstance(losses, Mapping) and losses:
        rows.append((f"{result.get('variant', 'the variant')} loss terms, split mean",))
        rows += [(f"  {k}", number(v)) for k, v in sorted(losses.items(),
                                                         key=lambda kv: kv[0] != "loss")]
    lines = [_header(result, model), *aligned(rows, indent="  ")]
    return "\n".join(lines + [f"  note: {n}" for n in notes])
