"""Model cards: render and parse ``README.md`` with YAML front matter the Hugging Face Hub reads.

A card is described by a plain dict (every key optional unless marked)::

    {
        "metrics": {"reconstruction_mse": 0.0041, "codebook.perplexity": 331.2},  # required
        "dataset": "mnist", "split": "test",        # what the metrics were measured on
        "eval_command": "zoo eval RUN/best --dataset mnist",
        "train_command": "zoo train vqvae --dataset mnist epochs=4", "seed": 0,
        "train_config": {...},                      # the TrainConfig of the run
        "classifier": {"name": ..., "test_accuracy": 0.9915, "trained_with": "zoo train-..."},
        "name": "vqvae-mnist",                      # pretrained name (title, load snippet)
        "repo_id": "org/vqvae-mnist", "revision": "<sha>",   # for the load snippet
        "description": "...", "limitations": "...", "license": "apache-2.0",
        "pipeline_tag": "image-to-image", "tags": ["mnist"],
        # filled in by zoo.save / zoo.push from config.json and the files:
        "variant": "vqvae", "plugin_distribution": "zoo-vqvae", "config": {...},
        "files": {"model.safetensors": "<sha256>", "config.json": "<sha256>"},
        # machine-readable: how the metrics were measured (front matter ``zoo.eval``), so that
        # ``zoo check-cards`` can measure them again; figures shown in the body:
        "eval_options": {"dataset": "mnist", "split": "test", "binarize": False, ...},
        "figures": [{"title": "Latent traversals", "path": "assets/x/traversal.png"}],
        # several training seeds of the recipe, one shipped (see zoo.cards_seeds):
        "seeds": [{"seed": 0, "metrics": {...}}, ...], "shipped_seed": 0,
        "seed_figures": [...], "published": {"mig": {"range": [lo, hi], "source": "..."}},
    }

:func:`card_from_eval` builds one from what ``zoo eval`` printed. Rendering is deterministic
(no dates), so an unchanged model renders an unchanged card. Which entries are metrics, and
their names, is :mod:`zoo.cards_metrics` (re-exported here).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text
from zoo.cards_metrics import (
    METRIC_NAMES,
    card_from_eval,
    card_metrics,
    eval_command_from_result,
    flatten_metrics,
    is_number,
)
from zoo.cards_seeds import seed_front_matter, seed_section
from zoo.errors import ZooError
from zoo.hashing import sha256_file
from zoo.serialization import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE

__all__ = [
    "CardError",
    "card_from_eval",
    "card_metrics",
    "check_card",
    "eval_command_from_result",
    "flatten_metrics",
    "parse_card",
    "render_card",
    "write_card",
]

# The Hub's own pattern for the front matter (huggingface_hub.repocard.REGEX_YAML_BLOCK).
_FRONT = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")

_TASK_NAMES = {"image-classification": "image classification"}


class CardError(ZooError):
    """A model card that is missing, lacks metrics, or does not parse."""


def check_card(card: Mapping[str, Any] | None, *, where: str = "the model") -> None:
    """Raise :class:`CardError` unless ``card`` has measured metrics (numbers) and a dataset."""
    hint = ("run `zoo eval MODEL --dataset DATASET --output eval.json` and pass it "
            "(`zoo push ... --eval eval.json`, or card=zoo.cards.card_from_eval(result))")
    if card is None:
        raise CardError(f"{where} has no model card; zoo publishes only measured models: {hint}")
    metrics = card.get("metrics")
    if not isinstance(metrics, Mapping) or not metrics:
        raise CardError(f"the model card of {where} has no metrics; {hint}")
    bad = sorted(k for k, v in metrics.items() if not is_number(v))
    if bad:
        raise CardError(f"the model card of {where} has metrics that are not finite numbers: "
                        f"{', '.join(bad)}; {hint}")
    if not card.get("dataset"):
        raise CardError(f"the model card of {where} does not say which dataset its metrics "
                        "were measured on (card['dataset'])")


def _front_matter(card: Mapping[str, Any]) -> dict[str, Any]:
    variant = card.get("variant")
    tags = ["vae", "jax", "flax", "zoo", *([variant] if variant else []),
            *card.get("tags", ())]
    dataset = card.get("dataset") or "unknown"
    metrics = card.get("metrics") or {}
    front: dict[str, Any] = {
        "library_name": "zoo",
        "license": card.get("license") or "apache-2.0",
        "tags": list(dict.fromkeys(tags)),
        "datasets": [dataset],
        "pipeline_tag": card.get("pipeline_tag") or "image-to-image",
        "metrics": sorted(metrics),
    }
    if card.get("eval_options"):
        front["zoo"] = {"name": card.get("name"), "variant": variant,
                        "eval": dict(card["eval_options"])}
    if card.get("seeds"):
        front.setdefault("zoo", {}).update(seed_front_matter(card))
    if metrics:
        front["model-index"] = [{
            "name": card.get("name") or card.get("repo_id") or variant or "zoo-model",
            "results": [{
                "task": {"type": front["pipeline_tag"],
                         "name": _TASK_NAMES.get(front["pipeline_tag"], "image reconstruction")},
                "dataset": {"name": str(dataset), "type": str(dataset),
                            "split": card.get("split") or "test"},
                "metrics": [{"name": METRIC_NAMES.get(k, k), "type": k, "value": _plain(v)}
                            for k, v in sorted(metrics.items())],
            }],
        }]
    return front


def _plain(value: Any) -> int | float:
    return int(value) if isinstance(value, int) else float(value)


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"


def _body(card: Mapping[str, Any]) -> str:
    name = card.get("name") or card.get("repo_id") or card.get("variant") or "zoo model"
    variant = card.get("variant", "?")
    out = [f"# {name}", ""]
    out += [card.get("description") or f"A `{variant}` model of the zoo, a model zoo of "
            "variational autoencoders in JAX + Flax NNX.", ""]
    if card.get("plugin_distribution"):
        out += [f"Variant `{variant}` comes from the plugin distribution "
                f"`{card['plugin_distribution']}` (`pip install {card['plugin_distribution']}`).",
                ""]
    out += ["## How to load it", "", "```python", "import zoo", ""]
    if card.get("name"):
        out.append(f'model = zoo.load("{card["name"]}")  # the registered pretrained name')
    ref = card.get("repo_id") or "ORG/REPO"
    pin = f"@{card['revision']}" if card.get("revision") else "@REVISION"
    out += [f'model = zoo.load("hf-hub:{ref}{pin}")  # pin the commit sha', "```", ""]
    out += ["## Training", ""]
    if card.get("train_command"):
        out += ["```bash", str(card["train_command"]), "```", ""]
    if card.get("seed") is not None:
        of = f" (one of {len(card['seeds'])} seeds of this recipe: see Seeds)" if card.get(
            "seeds") else ""
        out += [f"Seed: {card['seed']}{of}.", ""]
    for title, key in (("Model config", "config"), ("Training config", "train_config")):
        if card.get(key):
            out += [f"{title}:", "", "```json", json.dumps(card[key], indent=2, sort_keys=True),
                    "```", ""]
    metrics = card.get("metrics") or {}
    out += ["## Evaluation", ""]
    where = f"the `{card.get('split') or 'test'}` split of `{card.get('dataset')}`"
    out += [f"Measured on {where} with:", "", "```bash",
            str(card.get("eval_command") or "zoo eval MODEL --dataset DATASET"), "```", ""]
    if metrics:
        out += ["| metric | value |", "|---|---|"]
        out += [f"| {METRIC_NAMES.get(k, k)} (`{k}`) | {_fmt(v)} |"
                for k, v in sorted(metrics.items())]
        out.append("")
    clf = card.get("classifier")
    if isinstance(clf, Mapping) and clf.get("test_accuracy") is not None:
        out += [f"Conditional accuracy and FID use {clf.get('name', 'the zoo classifier')} "
                f"(test accuracy {float(clf['test_accuracy']):.2%}"
                + (f", trained with `{clf['trained_with']}`" if clf.get("trained_with") else "")
                + "); this FID is not comparable with an Inception FID.", ""]
    out += seed_section(card)
    if card.get("figures"):
        out += ["## Figures", ""]
        for fig in card["figures"]:
            out += [f"![{fig['title']}]({fig['path']})", "", f"*{fig['title']}.*", ""]
    if card.get("limitations"):
        out += ["## Limitations", "", str(card["limitations"]), ""]
    if card.get("notes"):
        out += ["## Notes", "", str(card["notes"]), ""]
    if card.get("files"):
        out += ["## Files", "", "| file | sha256 |", "|---|---|"]
        out += [f"| `{f}` | `{h}` |" for f, h in sorted(card["files"].items())]
        out.append("")
    out += ["## Licence", "", f"{card.get('license') or 'apache-2.0'}.", ""]
    return "\n".join(out)


def render_card(card: Mapping[str, Any]) -> str:
    """The ``README.md`` text of a card: YAML front matter, then the Markdown body."""
    import yaml

    front = yaml.safe_dump(_front_matter(card), sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n{_body(card)}"


def parse_card(text: str) -> tuple[dict[str, Any], str]:
    """Split a card into (front matter dict, Markdown body); no front matter gives ``{}``."""
    import yaml

    match = _FRONT.match(text)
    if match is None:
        return {}, text
    try:
        front = yaml.safe_load(match.group(2)) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"the model card's YAML front matter does not parse ({exc})") from None
    if not isinstance(front, dict):
        raise CardError("the model card's YAML front matter must be a mapping")
    return front, text[match.end():].lstrip("\r\n")


def write_card(directory: str | os.PathLike[str], card: Mapping[str, Any], *,
               repo_id: str | None = None) -> Path:
    """Complete ``card`` from the directory (variant, config, file hashes), check it has
    metrics, and write it as ``README.md``; return the path. A run's training command comes in
    ``card["train_command"]`` (:func:`zoo.training.command.train_command_from_identity`)."""
    directory = Path(directory)
    meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    full: dict[str, Any] = {
        "variant": meta.get("variant"),
        "plugin_distribution": meta.get("plugin_distribution"),
        "config": meta.get("config"),
        "repo_id": repo_id,
    }
    full.update({k: v for k, v in card.items() if v is not None})
    full["files"] = {name: sha256_file(directory / name)
                     for name in (WEIGHTS_FILE, CONFIG_FILE)}
    check_card(full, where=str(full.get("name") or repo_id or directory))
    return atomic_write_text(directory / CARD_FILE, render_card(full))
