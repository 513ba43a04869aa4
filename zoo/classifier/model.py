"""The zoo classifier: a small CNN, the ``classifier`` variant's model.

Images are NHWC [B, H, W, C] (28x28x1 for MNIST), uint8 in [0, 255] or float in [0, 1].
Like every conditional variant it has one ``__call__(x, labels, *, rngs=None)``, the forward
pass of the training loop; evaluation uses the explicit :meth:`MnistClassifier.logits` and
:meth:`MnistClassifier.features` (the 128-d activations that "FID (zoo MNIST classifier
features)" is computed on).
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from zoo.classifier.config import ClassifierConfig
from zoo.nn import check_images, check_labels, noise_key

__all__ = ["MAX_SHIFT", "MnistClassifier", "random_shift", "to_float_images"]

#: Random shift (pixels) of the training augmentation.
MAX_SHIFT = 2


def to_float_images(images: Any) -> jax.Array:
    """uint8 images in [0, 255] -> float32 in [0, 1]; float images are cast to float32 as is.
    Any shape ([B, H, W, C] here)."""
    images = jnp.asarray(images)
    if jnp.issubdtype(images.dtype, jnp.integer):
        return images.astype(jnp.float32) / 255.0
    return images.astype(jnp.float32)


def random_shift(key: jax.Array, x: jax.Array, max_shift: int) -> jax.Array:
    """Translate each image of ``x`` [B, H, W, C] by up to ``max_shift`` pixels in each
    direction (zero fill); the same shape comes back."""
    if max_shift <= 0:
        return x
    b, h, w, _ = x.shape
    padded = jnp.pad(x, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    offsets = jax.random.randint(key, (b, 2), 0, 2 * max_shift + 1)

    def crop(image: jax.Array, offset: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


class MnistClassifier(nnx.Module):
    """[B, H, W, C] images -> ``features`` [B, feature_dim] -> logits [B, num_classes].

    3x3 convolutions (ReLU) with ``config.conv_channels`` / ``conv_strides``, a dense feature
    layer (ReLU), dropout on it while training, a linear head. Parameter paths: ``convs.N``,
    ``feature``, ``head`` (those of the bundled ``classifier-mnist`` weights).
    """

    def __init__(self, config: ClassifierConfig | None = None, *, rngs: nnx.Rngs) -> None:
        config = ClassifierConfig() if config is None else config
        self.config = config
        chans = [config.channels, *config.conv_channels]
        self.convs = nnx.List(
            [
                nnx.Conv(a, b, kernel_size=(3, 3), strides=(s, s), padding="SAME", rngs=rngs)
                for (a, b), s in zip(itertools.pairwise(chans), config.conv_strides, strict=True)
            ]
        )
        h, w = config.grid
        self.feature = nnx.Linear(h * w * chans[-1], config.feature_dim, rngs=rngs)
        self.head = nnx.Linear(config.feature_dim, config.num_classes, rngs=rngs)
        #: ``model.eval()`` sets it True: no augmentation or dropout in ``__call__``.
        self.deterministic = False

    def features(self, x: jax.Array) -> jax.Array:
        """The feature layer's activations (after ReLU) of images ``x`` [B, H, W, C]:
        [B, feature_dim]. Deterministic."""
        x = to_float_images(x)  # uint8 pixels are scaled here (documented), then checked
        check_images(x, self.config.image_shape, "MnistClassifier")
        x = x - 0.5
        for conv in self.convs:
            x = jax.nn.relu(conv(x))
        return jax.nn.relu(self.feature(x.reshape(x.shape[0], -1)))

    def logits(self, x: jax.Array) -> jax.Array:
        """Class logits of images ``x`` [B, H, W, C]: [B, num_classes]. Deterministic (no
        augmentation, no dropout), whatever the train/eval mode."""
        return self.head(self.features(x))

    def __call__(
        self, x: jax.Array, labels: jax.Array, *, rngs: nnx.Rngs | jax.Array | None = None
    ) -> dict[str, jax.Array]:
        """The training loop's forward pass: ``{"logits": [B, num_classes], "labels": [B]}`` for
        images ``x`` [B, H, W, C] and int ``labels`` [B] (checked and passed through for
        :func:`zoo.classifier.loss.classifier_loss`).

        In training mode (``model.train()``, the default) with ``rngs`` (an ``nnx.Rngs`` or a
        PRNG key), the images are randomly shifted by up to :data:`MAX_SHIFT` pixels and the
        feature layer is dropped out at ``config.dropout``; after ``model.eval()``, or without
        ``rngs``, the logits are :meth:`logits`'s.
        """
        x = to_float_images(x)
        check_images(x, self.config.image_shape, "MnistClassifier")
        labels = check_labels(labels, x.shape[0], self.config.num_classes, "MnistClassifier")
        key = None if self.deterministic else noise_key(rngs)
        if key is None:
            return {"logits": self.logits(x), "labels": labels}
        shift_key, dropout_key = jax.random.split(key)
        h = self.features(random_shift(shift_key, to_float_images(x), MAX_SHIFT))
        rate = self.config.dropout
        if rate > 0.0:
            keep = jax.random.bernoulli(dropout_key, 1.0 - rate, h.shape)
            h = jnp.where(keep, h / (1.0 - rate), 0.0)
        return {"logits": self.head(h), "labels": labels}
