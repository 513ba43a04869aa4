"""zoo.metrics.classifier: metrics over a classifier passed in (its ``logits`` and ``features``),
on an exact 'oracle' classifier for tiny bar images and on the core's (untrained) CNN."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from zoo.classifier.config import ClassifierConfig
from zoo.classifier.model import MnistClassifier
from zoo.errors import InputError
from zoo.metrics.classifier import (
    accuracy,
    classifier_fid,
    conditional_accuracy,
    extract_features,
    predict,
)

TINY = ClassifierConfig(height=8, width=8, num_classes=3, conv_channels=(4, 8),
                        conv_strides=(2, 2), feature_dim=16, dropout=0.1)


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class c is a bright horizontal bar in rows 2c+1..2c+2 (jittered by a row), plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.uniform(0, 0.3, (n, 8, 8, 1))
    for i, c in enumerate(labels):
        row = 2 * c + 1 + rng.integers(0, 2)
        images[i, row : row + 2, :, 0] = 1.0
    return (images * 255).astype(np.uint8), labels.astype(np.int32)


@dataclasses.dataclass(frozen=True)
class OracleConfig:
    image_shape: tuple[int, int, int] = (8, 8, 1)
    num_classes: int = 3


class BarOracle(nnx.Module):
    """Reads the bar of :func:`bars` exactly: features are row means [B, 8], the logit of class c
    the brightness of rows 2c+1..2c+3."""

    def __init__(self) -> None:
        self.config = OracleConfig()

    def features(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        x = x / 255.0 if jnp.issubdtype(x.dtype, jnp.integer) else x
        return x.astype(jnp.float32).mean(axis=(2, 3))

    def logits(self, x: jax.Array) -> jax.Array:
        rows = self.features(x)
        return jnp.stack([rows[:, 2 * c + 1 : 2 * c + 4].sum(-1) for c in range(3)], axis=-1)


def test_accuracy_and_conditional_accuracy_are_exact_fractions() -> None:
    x, y = bars(300, 1)
    oracle = BarOracle()
    assert accuracy(oracle, x, y, batch_size=128) == 1.0  # 128, 128, 44 (padded)
    wrong = (y + 1) % 3
    assert accuracy(oracle, x, wrong) == 0.0
    half = np.where(np.arange(300) % 2 == 0, y, wrong)
    assert accuracy(oracle, x, half) == 0.5
    ones = x[y == 1]
    assert conditional_accuracy(oracle, ones, 1) == 1.0  # one label for all
    assert conditional_accuracy(oracle, ones, 0) == 0.0
    assert conditional_accuracy(oracle, x, y) == accuracy(oracle, x, y)


def test_predict_and_features_use_the_models_methods_batched() -> None:
    model = MnistClassifier(TINY, rngs=nnx.Rngs(0))
    x, _ = bars(37, 2)
    feats = extract_features(model, x, batch_size=16)  # 16, 16, 5 (padded)
    assert feats.shape == (37, 16) and feats.dtype == np.float32 and np.all(feats >= 0)
    np.testing.assert_allclose(feats, np.asarray(model.features(x)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(extract_features(model, x / 255.0), feats, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(predict(model, x, batch_size=10),
                                  np.asarray(model.logits(x)).argmax(-1))
    mnist = MnistClassifier(rngs=nnx.Rngs(0))  # the default config: MNIST's shape
    assert predict(mnist, np.zeros((2, 28, 28, 1), np.uint8)).shape == (2,)
    assert extract_features(mnist, np.zeros((2, 28, 28, 1))).shape == (2, 128)


def test_fid_on_classifier_features() -> None:
    oracle = BarOracle()
    x, _ = bars(200, 3)
    same = classifier_fid(oracle, x[:100], x[100:])
    shifted = classifier_fid(oracle, x[:100], np.roll(x[100:], 3, axis=1))
    assert 0.0 <= same < shifted
    assert classifier_fid(oracle, x, x) == pytest.approx(0.0, abs=1e-6)


def test_errors_say_what_to_do() -> None:
    oracle = BarOracle()
    with pytest.raises(InputError, match="NHWC"):
        accuracy(oracle, np.zeros((2, 8, 8)), [0, 1])
    with pytest.raises(InputError, match="out-of-range"):
        conditional_accuracy(oracle, np.zeros((2, 8, 8, 1)), 5)
    with pytest.raises(InputError, match="the batch is empty"):
        accuracy(oracle, np.zeros((0, 8, 8, 1)), np.zeros(0, np.int32))
    with pytest.raises(InputError, match=r"logits\(x\), features\(x\)"):
        predict(object(), np.zeros((2, 8, 8, 1)))
