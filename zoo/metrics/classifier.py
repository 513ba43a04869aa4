"""Metrics measured with a classifier passed in: predictions, accuracy, conditional accuracy,
features and FID on them.

The model is any classifier with ``logits(x) -> [B, K]`` and ``features(x) -> [B, F]`` over
images [B, H, W, C] (uint8 in [0, 255] or float in [0, 1]) and a ``config.image_shape``, such as
the core's ``classifier`` variant (e.g. ``zoo.load("classifier-mnist")``). Used for a CVAE's
conditional accuracy (does ``sample(n, label=7)`` look like 7s to a good classifier?) and for
"FID (zoo MNIST classifier features)". Nothing here builds or loads the model.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np
from flax import nnx

from zoo.errors import InputError
from zoo.inputs import pixels_to_unit
from zoo.nn import check_images, check_labels

__all__ = ["accuracy", "classifier_fid", "conditional_accuracy", "extract_features", "predict"]


def _image_shape(model: Any, who: str) -> tuple[int, int, int]:
    shape = getattr(getattr(model, "config", None), "image_shape", None)
    if shape is None or not (hasattr(model, "logits") and hasattr(model, "features")):
        raise InputError(f"{who}: expected a classifier with logits(x), features(x) and "
                         f"config.image_shape (e.g. zoo.load('classifier-mnist')), got "
                         f"{type(model).__name__}")
    return tuple(shape)


def _float(images: Any) -> np.ndarray:
    """uint8 pixels scaled to float32 [0, 1] (the documented input); floats as they are."""
    images = np.asarray(images)
    return pixels_to_unit(images) if images.dtype == np.uint8 else images


def _check_split(model: Any, images: Any, labels: Any, who: str) -> tuple:
    images = _float(images)
    check_images(images, _image_shape(model, who), who)
    labels = np.asarray(check_labels(labels, len(images), model.config.num_classes, who))
    return images, labels


@functools.partial(jax.jit, static_argnums=(0, 3))
def _forward(graphdef: Any, state: Any, x: jax.Array, what: str) -> jax.Array:
    model = nnx.merge(graphdef, state)
    return model.features(x) if what == "features" else model.logits(x)


def _batched(model: Any, images: Any, batch_size: int, what: str) -> np.ndarray:
    """Run ``model.logits`` or ``model.features`` over ``images`` [N, H, W, C] in fixed-size
    batches (the last one zero-padded, so one compilation serves any N): [N, K] or [N, F]."""
    images = _float(images)
    check_images(images, _image_shape(model, "classifier"), "classifier")
    graphdef, state = nnx.split(model)
    n = len(images)
    batch_size = max(1, min(batch_size, n))
    outputs = []
    for start in range(0, n, batch_size):
        chunk = images[start : start + batch_size]
        if len(chunk) < batch_size:
            pad = np.zeros((batch_size - len(chunk), *chunk.shape[1:]), chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        outputs.append(np.asarray(_forward(graphdef, state, chunk, what)))
    return np.concatenate(outputs)[:n]


def predict(model: Any, images: Any, batch_size: int = 1000) -> np.ndarray:
    """Predicted class (arg-max of ``model.logits``) of each image of [N, H, W, C]: int [N]."""
    return _batched(model, images, batch_size, "logits").argmax(axis=-1)


def extract_features(model: Any, images: Any, batch_size: int = 1000) -> np.ndarray:
    """``model.features`` of images [N, H, W, C]: float32 [N, F], e.g. for
    :func:`zoo.metrics.fid.feature_statistics`."""
    return _batched(model, images, batch_size, "features")


def accuracy(model: Any, images: Any, labels: Any, batch_size: int = 1000) -> float:
    """Fraction of ``images`` [N, H, W, C] classified as ``labels`` int [N]."""
    images, labels = _check_split(model, images, labels, "accuracy")
    return float(np.mean(predict(model, images, batch_size) == labels))


def conditional_accuracy(
    model: Any, images_generated: Any, requested_labels: Any, batch_size: int = 1000
) -> float:
    """Fraction of generated images the classifier assigns to the class they were asked for.

    Args:
        images_generated: [N, H, W, C] samples of a conditional model, in [0, 1] or uint8.
        requested_labels: the labels they were generated with: int [N], or one int for all.
    """
    images_generated = np.asarray(images_generated)
    requested = np.asarray(requested_labels)
    if requested.ndim == 0:
        requested = np.full(len(images_generated), requested)
    images_generated, requested = _check_split(model, images_generated, requested,
                                               "conditional_accuracy")
    return float(np.mean(predict(model, images_generated, batch_size) == requested))


def classifier_fid(model: Any, real: Any, generated: Any, batch_size: int = 1000) -> float:
    """Fréchet distance between the classifier features of ``real`` and ``generated`` images
    (each [N, H, W, C], N >= 2); not comparable with an Inception FID."""
    from zoo.metrics.fid import feature_statistics, frechet_distance

    mu1, s1 = feature_statistics(extract_features(model, real, batch_size))
    mu2, s2 = feature_statistics(extract_features(model, generated, batch_size))
    return float(frechet_distance(mu1, s1, mu2, s2))
