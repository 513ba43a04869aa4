"""What a model card says about metrics: which entries of a ``zoo eval`` result are metrics,
their display names, the card dict built from a result, and the metrics read back from a
card's front matter."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["METRIC_NAMES", "card_from_eval", "card_metrics", "eval_command_from_result",
           "flatten_metrics", "is_number"]


#: Informational entries of an eval result that are not metrics.
_NOT_METRICS = {"examples", "iw_samples", "iw_examples", "conditional_accuracy_samples",
                "fid_samples", "codebook.total", "disentanglement.mig.num_bins",
                "disentanglement.mig.num_points"}

METRIC_NAMES = {
    "reconstruction_mse": "reconstruction MSE per pixel",
    "negative_elbo": "negative ELBO (nats)",
    "iw_nll": "importance-weighted NLL (nats)",
    "iw_nll_stderr": "importance-weighted NLL standard error (nats)",
    "kl_total": "KL, all latent dimensions (nats)",
    "active_units_variance": "active units (posterior-mean variance > 0.01)",
    "active_units_kl": "active units (KL > 0.01 nats)",
    "perplexity_batch_mean": "codebook perplexity, mean over batches",
    "codebook.perplexity": "codebook perplexity over the split",
    "codebook.fraction_used": "fraction of codes used over the split",
    "codebook.num_dead": "codes never used over the split",
    "disentanglement.mig.mig": "MIG (20 bins)",
    "disentanglement.sap.sap": "SAP",
    "disentanglement.dci.disentanglement": "DCI disentanglement",
    "disentanglement.dci.completeness": "DCI completeness",
    "disentanglement.dci.informativeness_train": "DCI informativeness (train accuracy)",
    "disentanglement.dci.informativeness_test": "DCI informativeness (test accuracy)",
    "conditional_accuracy": "conditional accuracy (zoo MNIST classifier)",
    "fid_zoo_classifier": "FID (zoo MNIST classifier features)",
    "accuracy": "accuracy",
    "cross_entropy": "softmax cross-entropy (nats)",
}
def is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def flatten_metrics(result: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric scalars of an eval result, nested keys joined with ``"."``; lists, strings,
    the classifier's record and counts of examples are left out."""
    out: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if name in _NOT_METRICS or name in ("classifier", "options"):
            continue
        if isinstance(value, Mapping):
            out |= flatten_metrics(value, f"{name}.")
        elif is_number(value):
            out[name] = int(value) if isinstance(value, int) else float(value)
    return out


def eval_command_from_result(result: Mapping[str, Any], model: str = "MODEL") -> str:
    """The ``zoo eval`` command line that produces ``result`` (from the options it records)."""
    if result.get("command"):
        return str(result["command"])
    parts = ["zoo", "eval", model, "--dataset", str(result.get("dataset", "DATASET"))]
    if result.get("split", "test") != "test":
        parts += ["--split", str(result["split"])]
    if result.get("binarized"):
        parts.append("--binarize")
    if result.get("iw_samples"):
        parts += ["--iw-samples", str(result["iw_samples"]),
                  "--iw-examples", str(result.get("iw_examples", 2000))]
    return " ".join(parts)


def card_from_eval(result: Mapping[str, Any], *, model: str = "MODEL", **fields: Any) -> dict:
    """A card dict from what ``zoo eval`` returned; ``fields`` add or override entries."""
    card: dict[str, Any] = {
        "metrics": flatten_metrics(result),
        "dataset": result.get("dataset"),
        "split": result.get("split", "test"),
        "eval_command": eval_command_from_result(result, model),
    }
    if isinstance(result.get("classifier"), Mapping):
        card["classifier"] = dict(result["classifier"])
    if result.get("variant"):
        card["variant"] = result["variant"]
    card.update({k: v for k, v in fields.items() if v is not None})
    return card


def card_metrics(front: Mapping[str, Any], *, finite: bool = True) -> dict[str, float]:
    """``type -> value`` of every metric in a parsed front matter's ``model-index``: the finite
    numbers, or with ``finite=False`` every number (NaN and infinities too)."""
    out: dict[str, float] = {}
    for model in front.get("model-index") or ():
        for result in (model or {}).get("results") or ():
            for metric in (result or {}).get("metrics") or ():
                if not isinstance(metric, Mapping):
                    continue
                value = metric.get("value")
                if is_number(value) or (not finite and isinstance(value, float)):
                    out[str(metric.get("type"))] = value
    return out
