"""The zoo classifier on a tiny synthetic task (MNIST accuracy is verified outside the suite)."""

from __future__ import annotations

import numpy as np
import pytest
from flax import nnx

from zoo.errors import ConfigError, InputError
from zoo.metrics.classifier import (
    ClassifierConfig,
    MnistClassifier,
    accuracy,
    conditional_accuracy,
    extract_features,
    predict,
    train_classifier,
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


@pytest.fixture(scope="module")
def trained() -> MnistClassifier:
    x, y = bars(512, 0)
    return train_classifier(x, y, epochs=4, batch_size=64, lr=1e-2, seed=0, augment=False,
                            config=TINY)


def test_learns_tiny_task(trained) -> None:
    x, y = bars(300, 1)
    assert accuracy(trained, x, y, batch_size=128) > 0.95


def test_shapes_and_uint8_float_agree(trained) -> None:
    x, _ = bars(37, 2)
    feats = extract_features(trained, x, batch_size=16)  # padded last batch
    assert feats.shape == (37, 16) and np.all(feats >= 0)
    np.testing.assert_allclose(extract_features(trained, x / 255.0), feats, rtol=1e-5, atol=1e-5)
    logits = trained(x)
    assert logits.shape == (37, 3)
    np.testing.assert_array_equal(predict(trained, x), np.asarray(logits).argmax(-1))


def test_conditional_accuracy_takes_one_label_or_many(trained) -> None:
    x, y = bars(60, 3)
    ones = x[y == 1]
    assert conditional_accuracy(trained, ones, 1) > 0.9
    assert conditional_accuracy(trained, ones, 0) < 0.1
    assert conditional_accuracy(trained, x, y) == accuracy(trained, x, y)


def test_augmentation_path_runs_and_default_mnist_shape() -> None:
    x, y = bars(64, 4)
    model = train_classifier(x, y, epochs=1, batch_size=32, seed=1, augment=True, config=TINY)
    assert 0.0 <= accuracy(model, x, y) <= 1.0
    mnist = MnistClassifier(rngs=nnx.Rngs(0))
    assert mnist(np.zeros((2, 28, 28, 1), np.uint8)).shape == (2, 10)
    assert mnist.features(np.zeros((2, 28, 28, 1))).shape == (2, 128)


def test_errors_say_what_to_do(trained) -> None:
    with pytest.raises(InputError, match="NHWC"):
        trained(np.zeros((2, 8, 8)))
    with pytest.raises(InputError, match="out-of-range"):
        conditional_accuracy(trained, np.zeros((2, 8, 8, 1)), 5)
    with pytest.raises(ConfigError, match="one entry per convolution"):
        ClassifierConfig(conv_channels=(8, 8), conv_strides=(2,))
    with pytest.raises(ConfigError, match="dropout"):
        ClassifierConfig(dropout=1.0)
