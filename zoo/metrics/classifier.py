"""The zoo MNIST classifier: a small CNN that judges generated digits.

Used for a CVAE's conditional accuracy (does ``sample(n, label=7)`` look like 7s to a good
classifier?) and for "FID (zoo MNIST classifier features)": the 128-d activations of its feature
layer stand in for Inception features on 28x28 digits.

Images are NHWC [B, 28, 28, 1], uint8 in [0, 255] or float in [0, 1].
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from zoo.errors import InputError
from zoo.metrics.classifier_config import ClassifierConfig
from zoo.nn import check_images, check_labels, noise_key

__all__ = [
    "ClassifierConfig",
    "MnistClassifier",
    "accuracy",
    "classifier_loss",
    "conditional_accuracy",
    "extract_features",
    "predict",
    "to_float_images",
    "train_classifier",
]


def to_float_images(images: Any) -> jax.Array:
    """uint8 images in [0, 255] -> float32 in [0, 1]; float images are cast to float32 as is."""
    images = jnp.asarray(images)
    if jnp.issubdtype(images.dtype, jnp.integer):
        return images.astype(jnp.float32) / 255.0
    return images.astype(jnp.float32)


class MnistClassifier(nnx.Module):
    """[B, H, W, C] images -> ``features`` [B, feature_dim] -> logits [B, num_classes].

    Also the registry's ``classifier`` variant (kind ``"classifier"``): ``model(x, labels,
    rngs=key)`` is the forward pass of the generic training loop (see :meth:`__call__`).
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
        #: ``model.eval()`` sets it True: no augmentation or dropout in the labelled call.
        self.deterministic = False

    def features(self, x: jax.Array) -> jax.Array:
        """The feature layer's activations (after ReLU): [B, feature_dim]."""
        check_images(x, self.config.image_shape, "MnistClassifier")
        x = to_float_images(x) - 0.5
        for conv in self.convs:
            x = jax.nn.relu(conv(x))
        return jax.nn.relu(self.feature(x.reshape(x.shape[0], -1)))

    def _logits(self, x: jax.Array, dropout_key: jax.Array | None) -> jax.Array:
        h = self.features(x)
        rate = self.config.dropout
        if dropout_key is not None and rate > 0.0:
            keep = jax.random.bernoulli(dropout_key, 1.0 - rate, h.shape)
            h = jnp.where(keep, h / (1.0 - rate), 0.0)
        return self.head(h)

    def __call__(
        self,
        x: jax.Array,
        labels: jax.Array | None = None,
        *,
        key: jax.Array | None = None,
        rngs: nnx.Rngs | jax.Array | None = None,
    ) -> Any:
        """Classify images ``x`` [B, H, W, C] (uint8 or float in [0, 1]).

        ``model(x)`` returns logits [B, num_classes]; ``key`` turns on dropout (training, as
        :func:`train_classifier` uses it), ``None`` is eval.

        ``model(x, labels, rngs=key)`` (the generic training loop's call, ``labels`` int [B])
        returns ``{"logits": [B, num_classes], "labels": [B]}`` for :func:`classifier_loss`.
        In training mode (``model.train()``, the default) with ``rngs`` (an ``nnx.Rngs`` or a
        PRNG key), the images are randomly shifted by up to :data:`MAX_SHIFT` pixels and the
        feature layer is dropped out, as in :func:`train_classifier`; after ``model.eval()``,
        or without ``rngs``, the call is deterministic.
        """
        if labels is None:
            if rngs is not None:
                raise InputError(
                    "MnistClassifier: rngs= goes with labels (model(x, labels, rngs=key), the "
                    "training call); for logits with dropout use model(x, key=key)"
                )
            return self._logits(x, key)
        if key is not None:
            raise InputError("MnistClassifier: with labels, pass the noise as rngs=, not key=")
        check_images(x, self.config.image_shape, "MnistClassifier")
        labels = check_labels(labels, x.shape[0], self.config.num_classes, "MnistClassifier")
        noise = None if self.deterministic else noise_key(rngs)
        dropout_key = None
        if noise is not None:
            x, dropout_key = _augment(noise, x, MAX_SHIFT)
        return {"logits": self._logits(x, dropout_key), "labels": labels}


def classifier_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: ClassifierConfig, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Loss of the ``classifier`` variant: mean softmax cross-entropy of ``outputs["logits"]``
    [B, K] against ``outputs["labels"]`` int [B] (optax), in nats.

    Returns ``(loss, {"loss", "cross_entropy", "accuracy"})``: ``accuracy`` is the fraction of
    the batch whose arg-max logit is its label. ``x``, ``config`` and ``step`` are unused (the
    variant loss signature).
    """
    logits, labels = outputs["logits"], outputs["labels"]
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise InputError(f"classifier_loss: expected logits [B, K] and labels [B], got "
                         f"{tuple(logits.shape)} and {tuple(labels.shape)}")
    logits = logits.astype(jnp.float32)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    acc = jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))
    return loss, {"loss": loss, "cross_entropy": loss, "accuracy": acc}


# -- training -----------------------------------------------------------------------------------


def _random_shift(key: jax.Array, x: jax.Array, max_shift: int) -> jax.Array:
    """Translate each image of [B, H, W, C] by up to ``max_shift`` pixels (zero fill)."""
    if max_shift <= 0:
        return x
    b, h, w, _ = x.shape
    padded = jnp.pad(x, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    offsets = jax.random.randint(key, (b, 2), 0, 2 * max_shift + 1)

    def crop(image: jax.Array, offset: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


#: Random shift (pixels) of the training augmentation.
MAX_SHIFT = 2


def _augment(key: jax.Array, x: jax.Array, max_shift: int) -> tuple[jax.Array, jax.Array]:
    """The training augmentation: float images randomly shifted by up to ``max_shift`` pixels,
    and the key left for dropout."""
    shift_key, dropout_key = jax.random.split(key)
    return _random_shift(shift_key, to_float_images(x), max_shift), dropout_key


def _check_split(images: Any, labels: Any, config: ClassifierConfig, who: str) -> tuple:
    images = np.asarray(images)
    check_images(images, config.image_shape, who)
    if len(images) == 0:
        raise InputError(f"{who}: no images given")
    labels = np.asarray(check_labels(labels, len(images), config.num_classes, who))
    return images, labels


def train_classifier(
    images: Any,
    labels: Any,
    *,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    augment: bool = True,
    config: ClassifierConfig | None = None,
    log: Callable[[dict[str, float]], None] | None = None,
) -> MnistClassifier:
    """Train a :class:`MnistClassifier` with Adam (learning rate cosine-decayed from ``lr`` to 0).

    Args:
        images: [N, 28, 28, 1] uint8 or float in [0, 1] (kept on the host; batches are copied).
        labels: int [N] in [0, num_classes).
        epochs: passes over the data (each drops its last incomplete batch).
        batch_size: examples per step.
        lr: peak learning rate.
        seed: initialisation, shuffling, dropout and augmentation.
        augment: random shifts of up to :data:`MAX_SHIFT` (2) pixels.
        config: architecture (default :class:`ClassifierConfig`).
        log: called after each epoch with ``{"epoch", "loss", "seconds"}``.
    Returns:
        the trained model, in eval mode.
    """
    import time

    config = ClassifierConfig() if config is None else config
    images, labels = _check_split(images, labels, config, "train_classifier")
    n = len(images)
    batch_size = min(batch_size, n)
    steps_per_epoch = n // batch_size
    if epochs < 1:
        raise InputError(f"train_classifier: epochs must be >= 1, got {epochs}")

    model = MnistClassifier(config, rngs=nnx.Rngs(seed))
    graphdef, params = nnx.split(model, nnx.Param)
    schedule = optax.cosine_decay_schedule(lr, epochs * steps_per_epoch)
    tx = optax.adam(schedule)
    opt_state = tx.init(params)
    max_shift = MAX_SHIFT if augment else 0

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step(params: Any, opt_state: Any, x: jax.Array, y: jax.Array, key: jax.Array) -> tuple:
        x, dropout_key = _augment(key, x, max_shift)

        def loss_fn(p: Any) -> jax.Array:
            logits = nnx.merge(graphdef, p)(x, key=dropout_key)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    rng = np.random.default_rng(seed)
    key = jax.random.key(seed)
    for epoch in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(n)
        losses = []
        for i in range(steps_per_epoch):
            idx = np.sort(order[i * batch_size : (i + 1) * batch_size])
            key, sub = jax.random.split(key)
            params, opt_state, loss = step(params, opt_state, images[idx], labels[idx], sub)
            losses.append(loss)
        mean_loss = float(jnp.mean(jnp.stack(losses)))
        if log is not None:
            log({"epoch": epoch + 1, "loss": mean_loss, "seconds": time.perf_counter() - start})
    nnx.update(model, params)
    model.eval()
    return model


# -- evaluation ---------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnums=(0, 3))
def _forward(graphdef: Any, params: Any, x: jax.Array, what: str) -> jax.Array:
    model = nnx.merge(graphdef, params)
    return model.features(x) if what == "features" else model(x)


def _batched(model: MnistClassifier, images: Any, batch_size: int, what: str) -> np.ndarray:
    """Run the model over ``images`` in fixed-size batches (the last one zero-padded, so one
    compilation serves any N)."""
    images = np.asarray(images)
    check_images(images, model.config.image_shape, "MnistClassifier")
    graphdef, params = nnx.split(model, nnx.Param)
    n = len(images)
    batch_size = max(1, min(batch_size, n))
    outputs = []
    for start in range(0, n, batch_size):
        chunk = images[start : start + batch_size]
        if len(chunk) < batch_size:
            pad = np.zeros((batch_size - len(chunk), *chunk.shape[1:]), chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        outputs.append(np.asarray(_forward(graphdef, params, chunk, what)))
    return np.concatenate(outputs)[:n]


def predict(model: MnistClassifier, images: Any, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of each image: int64 [N]."""
    return _batched(model, images, batch_size, "logits").argmax(axis=-1)


def extract_features(model: MnistClassifier, images: Any, batch_size: int = 1000) -> np.ndarray:
    """Feature-layer activations [N, feature_dim] (float32), e.g. for
    :func:`zoo.metrics.fid.feature_statistics`."""
    return _batched(model, images, batch_size, "features")


def accuracy(model: MnistClassifier, images: Any, labels: Any, batch_size: int = 1000) -> float:
    """Fraction of ``images`` [N, 28, 28, 1] classified as ``labels`` [N]."""
    images, labels = _check_split(images, labels, model.config, "accuracy")
    return float(np.mean(predict(model, images, batch_size) == labels))


def conditional_accuracy(
    model: MnistClassifier, images_generated: Any, requested_labels: Any, batch_size: int = 1000
) -> float:
    """Fraction of generated images the classifier assigns to the class they were asked for.

    Args:
        images_generated: [N, 28, 28, 1] samples of a conditional model, in [0, 1] or uint8.
        requested_labels: the labels they were generated with: int [N], or one int for all.
    """
    images_generated = np.asarray(images_generated)
    requested = np.asarray(requested_labels)
    if requested.ndim == 0:
        requested = np.full(len(images_generated), requested)
    images_generated, requested = _check_split(
        images_generated, requested, model.config, "conditional_accuracy"
    )
    return float(np.mean(predict(model, images_generated, batch_size) == requested))
