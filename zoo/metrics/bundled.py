"""The zoo's own MNIST classifier: saved, shipped inside the package, loaded for evaluation.

It is the registry's pretrained model ``classifier-mnist`` (variant ``classifier``, registered
by the core's plugin ``"zoo-classifier"``, :mod:`zoo.metrics.builtin`):
``zoo.load("classifier-mnist")`` gives the same model. Its directory holds what
:func:`zoo.save` writes (``model.safetensors``, ``config.json``) and ``classifier.json``, the
training record (dataset, test accuracy, epochs, seed, the command that trained it:
``zoo train-classifier --dataset mnist``). It is what "conditional accuracy" and "FID (zoo
MNIST classifier features)" are measured with. Never compare that FID with an Inception FID.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from zoo._io import atomic_write_text
from zoo.errors import CorruptWeightsError, ZooError

__all__ = ["BUNDLED_DIR", "classifier_fid", "default_classifier_for", "describe",
           "load_classifier", "save_classifier"]

BUNDLED_DIR = files("zoo.metrics") / "weights" / "classifier-mnist"
FID_NAME = "FID (zoo MNIST classifier features)"
#: The training record beside the model files (not part of the model: not hashed, not loaded).
RECORD_FILE = "classifier.json"


def save_classifier(model: Any, directory: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``model`` as :func:`zoo.save` does (``model.safetensors`` + ``config.json``, variant
    ``classifier`` unless the model already names its variant) and ``record`` as
    ``classifier.json``, each file atomically; return the directory."""
    from zoo import building, serialization
    from zoo.metrics.builtin import CLASSIFIER_VARIANT

    if getattr(model, "zoo_variant", None) is None:
        model.zoo_variant = CLASSIFIER_VARIANT
    directory = serialization.write_dir(model, directory, building.model_meta(model))
    atomic_write_text(directory / RECORD_FILE, json.dumps(dict(record), indent=2) + "\n")
    return directory


def _bundled_directory() -> Path:
    """The bundled ``classifier-mnist`` files, checked against the registry's sha256 (offline)."""
    from zoo.hub import resolve_pretrained
    from zoo.metrics.builtin import CLASSIFIER_MNIST
    from zoo.plugins import get_manager

    spec = get_manager().registry.get_pretrained(CLASSIFIER_MNIST)
    return resolve_pretrained(spec, local_files_only=True).directory


def load_classifier(directory: str | os.PathLike[str] | Any = None) -> Any:
    """Load a classifier in eval mode: by default the bundled ``classifier-mnist`` (its files
    sha256-checked, never fetched), else a directory :func:`save_classifier` or :func:`zoo.save`
    wrote (e.g. the ``best/`` of a ``zoo train classifier`` run). The training record in its
    ``classifier.json``, if any, becomes ``model.record`` (see :func:`describe`)."""
    from zoo.loading import load

    directory = _bundled_directory() if directory is None else Path(str(directory))
    record: dict[str, Any] = {}
    if (directory / RECORD_FILE).is_file():
        try:
            record = json.loads((directory / RECORD_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CorruptWeightsError(f"unreadable {RECORD_FILE} in {str(directory)!r} ({exc})"
                                      ) from None
    model = load(directory)
    # kept hashable: NNX treats plain attributes as static graph metadata
    model.record = tuple(sorted((k, v) for k, v in record.items()
                                if not isinstance(v, list | dict)))
    return model


def default_classifier_for(ds: Any) -> Any | None:
    """The bundled MNIST classifier when ``ds`` looks like MNIST (28x28x1, 10 classes)."""
    if tuple(ds.images.shape[1:]) != (28, 28, 1) or ds.num_classes != 10 or ds.name != "mnist":
        return None
    if not (Path(str(BUNDLED_DIR)) / "model.safetensors").is_file():
        raise ZooError("the bundled MNIST classifier is missing from this installation; "
                       "reinstall vae-zoo or train one with `zoo train-classifier`")
    return load_classifier()


def describe(model: Any) -> dict[str, Any]:
    """What to quote beside a metric measured with ``model``."""
    record = dict(getattr(model, "record", ()))
    return {"name": "zoo MNIST classifier",
            "test_accuracy": record.get("test_accuracy"),
            "trained_with": record.get("command")}


def classifier_fid(model: Any, real: np.ndarray, generated: np.ndarray) -> float:
    """Fréchet distance between classifier features of ``real`` and ``generated`` images."""
    from zoo.metrics.classifier import extract_features
    from zoo.metrics.fid import feature_statistics, frechet_distance

    mu1, s1 = feature_statistics(extract_features(model, real))
    mu2, s2 = feature_statistics(extract_features(model, generated))
    return float(frechet_distance(mu1, s1, mu2, s2))
