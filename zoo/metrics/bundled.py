"""The zoo's own MNIST classifier: saved, shipped inside the package, loaded for evaluation.

It was trained by ``zoo train-classifier --dataset mnist --out DIR`` (record in its
``classifier.json``) and is what "conditional accuracy" and "FID (zoo MNIST classifier
features)" are measured with. Never compare that FID with an Inception FID.
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


def save_classifier(model: Any, directory: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``model.safetensors`` and ``classifier.json`` (config + ``record``) atomically."""
    from zoo.checkpoint import save_weights

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(model, directory / "model.safetensors", metadata={"kind": "zoo-classifier"})
    meta = {"config": model.config.to_dict(), **record}
    atomic_write_text(directory / "classifier.json", json.dumps(meta, indent=2) + "\n")
    return directory


def load_classifier(directory: str | os.PathLike[str] | Any = BUNDLED_DIR) -> Any:
    """Load a classifier saved by :func:`save_classifier` (default: the bundled one)."""
    from flax import nnx

    from zoo.checkpoint import load_weights, read_safetensors
    from zoo.metrics.classifier import ClassifierConfig, MnistClassifier

    directory = Path(str(directory))
    try:
        meta = json.loads((directory / "classifier.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorruptWeightsError(f"no readable classifier in {str(directory)!r} ({exc})") from None
    config = ClassifierConfig.from_dict(meta["config"])
    model = nnx.eval_shape(lambda: MnistClassifier(config, rngs=nnx.Rngs(0)))
    load_weights(model, read_safetensors(directory / "model.safetensors"), source=str(directory))
    model.eval()
    # kept hashable: NNX treats plain attributes as static graph metadata
    model.record = tuple(sorted((k, v) for k, v in meta.items() if k != "config"))
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
