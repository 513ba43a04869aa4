"""The classifier that judges conditional generation: found, loaded and described for
evaluation (the math is :mod:`zoo.metrics.classifier`).

The default classifier for a dataset is read from declared metadata, never named: a registered
pretrained model whose variant has kind ``"classifier"`` and whose ``dataset`` is the data's
name (and whose config fits the data's image shape and classes), e.g. the core's
``classifier-mnist`` for ``mnist``. Its files are taken offline (bundled copy or cache, every
file sha256-checked, never fetched). A model directory may carry ``classifier.json`` beside
``model.safetensors`` and ``config.json``: the training record (dataset, test accuracy, the
command) quoted next to every metric measured with it (:func:`describe`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zoo import building, serialization
from zoo._io import atomic_write_text
from zoo.errors import CorruptWeightsError, ZooError
from zoo.hub.resolve import resolve_pretrained
from zoo.loading import load
from zoo.plugins import get_manager

__all__ = ["FID_NAME", "RECORD_FILE", "classifier_entries", "default_classifier_for", "describe",
           "fid_name", "load_classifier", "save_classifier"]

#: The training record beside the model files (not part of the model: not hashed, not loaded).
RECORD_FILE = "classifier.json"
#: Dataset names as written in metric names.
_TITLES = {"mnist": "MNIST"}


def _classifier_name(dataset: str | None) -> str:
    """"zoo MNIST classifier" for ``"mnist"``, "zoo classifier" for no dataset."""
    return f"zoo {_TITLES.get(dataset, dataset)} classifier" if dataset else "zoo classifier"


def fid_name(dataset: str | None) -> str:
    """The name of FID on the features of the zoo classifier for ``dataset``."""
    return f"FID ({_classifier_name(dataset)} features)"


FID_NAME = fid_name("mnist")


def save_classifier(model: Any, directory: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``model`` (built by the registry: ``zoo.create``, ``zoo.load`` or a training run) as
    :func:`zoo.save` does, plus ``record`` as ``classifier.json``, all together (one atomic
    swap of the directory); return the directory."""
    def write_record(staging: Path) -> None:
        atomic_write_text(staging / RECORD_FILE, json.dumps(dict(record), indent=2) + "\n")

    owned = (serialization.WEIGHTS_FILE, serialization.CONFIG_FILE, serialization.CARD_FILE,
             RECORD_FILE)
    return serialization.write_dir(model, directory, building.model_meta(model),
                                   extra=write_record, owned=owned)


def load_classifier(source: str | os.PathLike[str]) -> Any:
    """A classifier in eval mode from a model directory (e.g. a run's ``best/``) or a pretrained
    name (offline: bundled copy or cache, sha256-checked, never fetched). The training record of
    its ``classifier.json``, if any, becomes ``model.record`` (see :func:`describe`)."""
    directory = Path(os.fspath(source))
    if not directory.is_dir():
        spec = get_manager().registry.get_pretrained(os.fspath(source))
        directory = resolve_pretrained(spec, local_files_only=True).directory
    record: dict[str, Any] = {}
    if (directory / RECORD_FILE).is_file():
        try:
            record = json.loads((directory / RECORD_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CorruptWeightsError(
                f"unreadable {RECORD_FILE} in {str(directory)!r} ({exc}); delete it (it is only "
                "the training record) or restore the directory") from None
    model = load(directory)
    # kept hashable: NNX treats plain attributes as static graph metadata
    model.record = tuple(sorted((k, v) for k, v in record.items()
                                if not isinstance(v, list | dict)))
    return model


def classifier_entries(ds: Any) -> list[str]:
    """Names of the registered pretrained classifiers declared for ``ds`` (kind
    ``"classifier"``, ``dataset == ds.name``, config fitting its images and classes), sorted."""
    registry = get_manager().registry
    names = []
    for name, spec in sorted(registry.pretrained.items()):
        variant = registry.variants.get(spec.variant)
        if variant is None or variant.kind != "classifier" or spec.dataset != ds.name:
            continue
        config = variant.default_config.replace(**dict(spec.config))
        shape = getattr(config, "image_shape", None)
        if shape is not None and tuple(shape) != tuple(ds.images.shape[1:]):
            continue
        if getattr(config, "num_classes", ds.num_classes) != ds.num_classes:
            continue
        names.append(name)
    return names


def default_classifier_for(ds: Any) -> Any | None:
    """The first of :func:`classifier_entries` for ``ds``, loaded offline; ``None`` when no
    pretrained classifier is declared for the data."""
    names = classifier_entries(ds)
    if not names:
        return None
    try:
        return load_classifier(names[0])
    except ZooError as exc:
        raise ZooError(
            f"the classifier {names[0]!r} for dataset {ds.name!r} is not available offline "
            f"({exc}); fetch it with `zoo download {names[0]}`, reinstall the plugin that ships "
            "it, or pass a classifier to evaluate(classifier=...)") from None


def describe(model: Any, dataset: str | None = None) -> dict[str, Any]:
    """What to quote beside a metric measured with ``model``: its name, test accuracy and
    training command, from its record (``dataset`` names it when the record does not)."""
    record = dict(getattr(model, "record", ()))
    return {"name": _classifier_name(record.get("dataset") or dataset),
            "test_accuracy": record.get("test_accuracy"),
            "trained_with": record.get("command")}
