"""``zoo bundle``: ship a trained model inside a plugin's distribution, with its model card.

Bundling a run (or a model directory) as pretrained ``NAME`` into the package at ``PACKAGE_DIR``
(e.g. ``plugins/zoo-vqvae/zoo_vqvae``):

1. writes ``PACKAGE_DIR/pretrained/NAME/{model.safetensors,config.json}`` with :func:`zoo.save`
   (the directory is staged next to its place and swapped in with renames);
2. records the entry (variant, config overrides, repo id, revision, sha256 of each file,
   licence, dataset) in ``PACKAGE_DIR/pretrained/manifest.json`` (see :mod:`zoo.manifest`),
   which the plugin's ``zoo_register_pretrained`` hook reads;
3. renders the model card ``CARDS_DIR/NAME.md`` from what ``zoo eval`` measured (the metrics,
   the options they were measured with, the training command and config), copying figures into
   ``CARDS_DIR/assets/NAME/``.

With ``seed_runs`` (several runs of the same recipe under different seeds, the source among
them, each with its evaluation) the card also reports every seed (:mod:`zoo.cards_seeds`).

Everything is checked (the card has metrics, the eval was of this model's dataset, the figures
exist) before anything is written. The plugin's ``pyproject.toml`` must ship
``pretrained/*/*`` and ``pretrained/manifest.json`` as package data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo import building, cards, serialization
from zoo._io import _umask, atomic_write_bytes, atomic_write_text
from zoo.cards_seeds import seed_entry
from zoo.errors import ZooError
from zoo.hashing import sha256_file
from zoo.loading import load
from zoo.manifest import MANIFEST_RESOURCE, specs_from_manifest, write_manifest
from zoo.runs import RunDir, model_directory
from zoo.serialization import CONFIG_FILE, WEIGHTS_FILE
from zoo.specs import PretrainedSpec
from zoo.training.command import train_command_from_identity

__all__ = ["bundle", "eval_options_from_result"]

_EVAL_OPTION_KEYS = ("split", "batch_size", "max_examples", "binarize", "iw_samples",
                     "iw_examples", "disentanglement_points", "seed", "dci_model")


def eval_options_from_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`zoo.evaluate.evaluate` that produced ``result``."""
    options = dict(result.get("options") or {})
    options.setdefault("split", result.get("split", "test"))
    options.setdefault("binarize", bool(result.get("binarized", False)))
    if result.get("iw_samples"):
        options.setdefault("iw_samples", int(result["iw_samples"]))
        options.setdefault("iw_examples", int(result.get("iw_examples", 2000)))
    return {"dataset": result["dataset"],
            **{k: options[k] for k in _EVAL_OPTION_KEYS if k in options}}


#: Training settings that runs of one recipe may differ in: the seed, and how often a run writes
#: checkpoints, which changes no computation (tests/test_train.py trains the same weights).
_NOT_RECIPE = frozenset({"seed", "checkpoint_every"})


def _recipe(identity: Mapping[str, Any]) -> dict[str, Any]:
    """A run's identity without its seed and checkpoint interval: what runs of one recipe
    share."""
    train = {k: v for k, v in (identity.get("train_config") or {}).items()
             if k not in _NOT_RECIPE}
    return {"variant": identity.get("variant"), "model_config": identity.get("model_config"),
            "train_config": train}


def _seed_entries(identity: Mapping[str, Any] | None, eval_result: Mapping[str, Any],
                  seed_runs: Mapping[Any, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The card's ``seeds`` from the seed runs and their evaluations, checked: runs of the
    shipped run's recipe, distinct seeds, the shipped seed among them, measured alike."""
    if identity is None:
        raise ZooError("seed_runs need the shipped model as a run directory (with run.json), "
                       "so that its seed and recipe are known")
    options = eval_options_from_result(eval_result)
    shipped = (identity.get("train_config") or {}).get("seed")
    entries: dict[int, dict[str, Any]] = {}
    for run, result in seed_runs.items():
        other = RunDir(run).read_identity()  # a record of the run is enough: no best/ needed
        if other is None:
            raise ZooError(f"seed run {str(run)!r} has no run.json: pass run directories")
        seed = (other.get("train_config") or {}).get("seed")
        if _recipe(other) != _recipe(identity):
            raise ZooError(f"seed run {str(run)!r} is not of the shipped run's recipe (its "
                           "variant, model or training config differ beyond the seed)")
        if seed in entries:
            raise ZooError(f"two seed runs have seed {seed}: pass one run per seed")
        if eval_options_from_result(result) != options:
            raise ZooError(f"seed run {str(run)!r} was evaluated with other options than the "
                           f"shipped model ({eval_options_from_result(result)} vs {options})")
        entries[seed] = seed_entry(seed, result)
    if shipped not in entries:
        raise ZooError(f"the shipped run has seed {shipped}, which none of the seed runs has "
                       f"({', '.join(map(str, sorted(entries)))}): ship one of the seed runs")
    if entries[shipped] != seed_entry(shipped, eval_result):
        raise ZooError(f"seed {shipped}'s evaluation differs from the shipped model's: pass the "
                       "same eval result for the shipped run in both places")
    return [entries[s] for s in sorted(entries)]


def _config_overrides(model: Any) -> dict[str, Any]:
    default = building.spec_of(model).default_config.to_dict()
    return {k: v for k, v in model.config.to_dict().items() if default.get(k) != v}


def _swap_in(staged: Path, target: Path) -> None:
    """Replace ``target`` by ``staged`` with renames (the old copy is removed last)."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".old-{target.name}-"))
        os.replace(target, old / target.name)
    os.replace(staged, target)
    if old is not None:
        shutil.rmtree(old)


def _figures(figures: Sequence[Mapping[str, str]], name: str) -> list[dict]:
    """Check figure files exist; return the card's entries (paths relative to the card)."""
    out = []
    for fig in figures:
        src = Path(fig["file"])
        if not src.is_file():
            raise ZooError(f"figure {str(src)!r} for the card of {name!r} does not exist")
        out.append({"title": fig["title"], "src": src,
                    "path": f"assets/{name}/{src.name}"})
    return out


def _write_package(model: Any, name: str, package_dir: Path, **fields: Any
                   ) -> tuple[dict[str, str], dict[str, Any], PretrainedSpec]:
    """Steps 1 and 2 of the module docstring; returns (file hashes, config.json, entry)."""
    root = package_dir / "pretrained"
    root.mkdir(exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=root, prefix=f".new-{name}-"))
    try:
        os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes 0700 directories
        serialization.write_files(model, staged, building.model_meta(model))
        files = {f: sha256_file(staged / f) for f in (WEIGHTS_FILE, CONFIG_FILE)}
        spec = PretrainedSpec(name=name, variant=model.zoo_variant,
                              config=_config_overrides(model), files=files,
                              bundled=f"{package_dir.name}:pretrained/{name}", **fields)
        spec.validate()
        manifest = package_dir / MANIFEST_RESOURCE
        entries = []
        if manifest.is_file():
            entries = specs_from_manifest(json.loads(manifest.read_text("utf-8")), str(manifest))
        entries = [e for e in entries if e.name != name] + [spec]
        meta = json.loads((staged / CONFIG_FILE).read_text("utf-8"))
        _swap_in(staged, root / name)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    write_manifest(manifest, entries)
    return files, meta, spec


def bundle(
    source: str | os.PathLike[str],
    name: str,
    package_dir: str | os.PathLike[str] | None,
    *,
    eval_result: Mapping[str, Any],
    repo_id: str,
    revision: str = "",
    license: str = "apache-2.0",
    description: str = "",
    card: Mapping[str, Any] | None = None,
    figures: Sequence[Mapping[str, str]] = (),
    cards_dir: str | os.PathLike[str] = "model_cards",
    seed_runs: Mapping[str | os.PathLike[str], Mapping[str, Any]] | None = None,
    seed_figures: Sequence[Mapping[str, str]] = (),
) -> PretrainedSpec | None:
    """Bundle the model at ``source`` (a run directory or a :func:`zoo.save` directory) as
    pretrained ``name`` into the package ``package_dir``; return the manifest entry.
    ``package_dir=None`` only writes the card (for a model shipped another way).

    Args:
        eval_result: what ``zoo eval`` returned for this model (its metrics go in the card).
        repo_id: the Hub repository the model is (or will be) published to.
        revision: the Hub commit sha ``zoo push`` printed, or ``""`` if not published yet.
        card: extra card fields (``train_command``, ``limitations``, ``notes``, ``tags``...).
        figures: ``{"title": ..., "file": PNG path}`` to copy next to the card and show in it.
        seed_runs: run directory -> its ``zoo eval`` result, for every seed of the recipe
            (``source`` among them): the card's "Seeds" section and ``zoo: seeds``.
        seed_figures: like ``figures``, shown in the "Seeds" section (needs ``seed_runs``).
    """
    cards_dir = Path(cards_dir)
    if package_dir is not None:
        package_dir = Path(package_dir)
        if not package_dir.name.isidentifier() or not (package_dir / "__init__.py").is_file():
            raise ZooError(f"{str(package_dir)!r} is not a Python package directory (it needs "
                           "an __init__.py and an importable name, e.g. plugins/zoo-x/zoo_x)")
    model_dir, identity = model_directory(Path(source))
    model = load(model_dir)
    dataset = eval_result.get("dataset")
    if not dataset:
        raise ZooError("eval_result does not say which dataset it measured (key 'dataset')")
    if identity and identity.get("train_config", {}).get("dataset") not in (None, dataset):
        raise ZooError(f"the run trained on {identity['train_config']['dataset']!r} but the "
                       f"evaluation is on {dataset!r}")
    if eval_result.get("variant") not in (None, model.zoo_variant):
        raise ZooError(f"eval_result is of variant {eval_result['variant']!r}, the model is "
                       f"{model.zoo_variant!r}: evaluate this model")
    figs = _figures(figures, name)
    seed_figs = _figures(seed_figures, name)
    if seed_figs and not seed_runs:
        raise ZooError("seed_figures are shown beside the seeds' table: pass seed_runs too")
    full: dict[str, Any] = {
        "name": name, "repo_id": repo_id, "revision": revision or None, "license": license,
        "description": description or None, "variant": model.zoo_variant,
        "eval_options": eval_options_from_result(eval_result),
        "figures": [{"title": f["title"], "path": f["path"]} for f in figs] or None,
    }
    if identity is not None:
        full["train_command"] = train_command_from_identity(identity)
        full["train_config"] = identity.get("train_config")
        full["seed"] = (identity.get("train_config") or {}).get("seed")
    if seed_runs:
        full["seeds"] = _seed_entries(identity, eval_result, seed_runs)
        full["shipped_seed"] = full["seed"]
        full["seed_figures"] = [{"title": f["title"], "path": f["path"]} for f in seed_figs]
    full.update({k: v for k, v in (card or {}).items() if v is not None})
    draft = cards.card_from_eval(eval_result, model=name, **full)
    cards.check_card(draft, where=name)

    if package_dir is None:  # the card only, for a model shipped some other way
        files = {f: sha256_file(model_dir / f) for f in (WEIGHTS_FILE, CONFIG_FILE)}
        meta = json.loads((model_dir / CONFIG_FILE).read_text("utf-8"))
        spec = None
    else:
        files, meta, spec = _write_package(model, name, package_dir, repo_id=repo_id,
                                           revision=revision, license=license,
                                           dataset=str(dataset), description=description)
    for fig in figs + seed_figs:
        atomic_write_bytes(cards_dir / fig["path"], fig["src"].read_bytes())
    draft |= {"files": files, "config": meta["config"],
              "plugin_distribution": meta.get("plugin_distribution")}
    atomic_write_text(cards_dir / f"{name}.md", cards.render_card(draft))
    return spec
