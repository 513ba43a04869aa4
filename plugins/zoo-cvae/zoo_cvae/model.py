"""The conditional VAE: Gaussian encoder q(z|x, y), Bernoulli (logit) decoder p(x|z, y),
standard normal prior. Labels y are integer classes in ``[0, num_classes)``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo.errors import InputError
from zoo.nn import (
    ImageDecoder,
    ImageEncoder,
    check_images,
    check_labels,
    noise_key,
    reparameterize,
    traversal_codes,
)
from zoo_cvae.config import CVAEConfig


def _broadcast_label(labels: Any, n: int) -> Any:
    """A scalar label (int or 0-d array) repeated ``n`` times; anything else unchanged."""
    if labels is None or np.ndim(labels) != 0:
        return labels
    if isinstance(labels, jax.core.Tracer):
        return jnp.full((n,), labels, dtype=labels.dtype)
    try:
        value = np.asarray(labels)
    except OverflowError:
        return labels  # check_labels reports it
    return np.full((n,), value, dtype=value.dtype)


class CVAE(nnx.Module):
    """q(z|x, y) = N(mean, diag(exp(logvar))), p(z) = N(0, I), decoder p(x|z, y) outputs logits.

    The label representation (a learned ``nnx.Embed`` or, with ``label_embedding_dim=0``, a
    one-hot vector) is concatenated to the encoder's features and to z before decoding.
    """

    def __init__(self, config: CVAEConfig, *, rngs: nnx.Rngs) -> None:
        self.config = config
        c = config
        self.label_embed = (
            nnx.Embed(c.num_classes, c.label_embedding_dim, rngs=rngs)
            if c.label_embedding_dim > 0
            else None
        )
        self.encoder = ImageEncoder(
            c.image_shape, c.architecture, c.hidden, 2 * c.latent_dim, c.activation,
            cond_features=c.label_features, rngs=rngs, dense=c.dense_dims,
        )
        self.decoder = ImageDecoder(
            c.latent_dim + c.label_features, c.image_shape, c.architecture, c.hidden,
            c.activation, rngs=rngs, dense=c.dense_dims, mirror=c.mirror_decoder,
        )

    def embed_labels(self, labels: jax.Array) -> jax.Array:
        """Checked integer labels [B] -> label features [B, label_features]."""
        if self.label_embed is None:
            return jax.nn.one_hot(labels, self.config.num_classes, dtype=jnp.float32)
        return self.label_embed(labels)

    def _labels(self, labels: Any, batch: int, who: str) -> jax.Array:
        return check_labels(labels, batch, self.config.num_classes, f"CVAE.{who}")

    def encode(self, x: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Images [B, H, W, C] in [0, 1] and labels [B] -> (mean [B, D], logvar [B, D])."""
        check_images(x, self.config.image_shape, "CVAE.encode")
        labels = self._labels(labels, x.shape[0], "encode")
        mean, logvar = jnp.split(self.encoder(x, cond=self.embed_labels(labels)), 2, axis=-1)
        return mean, logvar

    def decode_logits(self, z: jax.Array, labels: jax.Array) -> jax.Array:
        """Latents [B, D] and labels [B] -> pixel logits [B, H, W, C]."""
        d = self.config.latent_dim
        if z.ndim != 2 or z.shape[1] != d:
            raise InputError(f"CVAE.decode: expected latents of shape [batch, {d}], got "
                             f"{tuple(z.shape)}")
        labels = self._labels(labels, z.shape[0], "decode")
        cond = self.embed_labels(labels).astype(z.dtype)
        return self.decoder(jnp.concatenate([z, cond], axis=-1))

    def decode(self, z: jax.Array, labels: jax.Array) -> jax.Array:
        """Latents [B, D] and labels [B] -> images [B, H, W, C] in [0, 1] (Bernoulli means)."""
        return jax.nn.sigmoid(self.decode_logits(z, labels))

    def __call__(
        self, x: jax.Array, labels: jax.Array, *, rngs: nnx.Rngs | jax.Array | None = None
    ) -> dict[str, jax.Array]:
        """Encode, sample z (the posterior mean when ``rngs`` is None), decode, all given labels.

        Returns ``logits`` and ``reconstruction`` [B, H, W, C]; ``mean``, ``logvar``, ``z`` [B, D].
        """
        mean, logvar = self.encode(x, labels)
        z = reparameterize(mean, logvar, rngs)
        logits = self.decode_logits(z, labels)
        return {
            "logits": logits,
            "reconstruction": jax.nn.sigmoid(logits),
            "mean": mean,
            "logvar": logvar,
            "z": z,
        }

    def reconstruct(self, x: jax.Array, labels: jax.Array) -> jax.Array:
        """Deterministic reconstruction through the posterior mean: [B, H, W, C] in [0, 1]."""
        return self.decode(self.encode(x, labels)[0], labels)

    def sample(self, n: int, labels: int | jax.Array, *, rngs: nnx.Rngs | jax.Array) -> jax.Array:
        """``n`` images [n, H, W, C] of the given classes, decoded from z ~ N(0, I).

        ``labels`` is one class (an int: all ``n`` images of that class) or integer labels [n].
        """
        key = noise_key(rngs)
        if key is None:
            raise InputError("CVAE.sample needs rngs (an nnx.Rngs or a PRNG key)")
        labels = self._labels(_broadcast_label(labels, n), n, "sample")
        return self.decode(jax.random.normal(key, (n, self.config.latent_dim)), labels)

    def traverse(
        self,
        base: jax.Array,
        labels: int | jax.Array,
        dims: list[int] | None = None,
        values: jax.Array | None = None,
    ) -> jax.Array:
        """Decode a latent traversal around ``base`` [D] for one class ``labels`` (a scalar).

        Returns images [len(dims), len(values), H, W, C]; defaults: every dimension, 9 values
        evenly spaced in [-3, 3].
        """
        if labels is None or np.ndim(labels) != 0:
            raise InputError(
                "CVAE.traverse: labels must be one integer class in "
                f"[0, {self.config.num_classes}), got {labels!r}"
            )
        dims = list(range(self.config.latent_dim)) if dims is None else list(dims)
        values = jnp.linspace(-3.0, 3.0, 9) if values is None else jnp.asarray(values)
        codes = traversal_codes(base, dims, values).reshape(-1, base.shape[-1])
        labels = self._labels(_broadcast_label(labels, codes.shape[0]), codes.shape[0],
                              "traverse")
        images = self.decode(codes, labels)
        return images.reshape(len(dims), values.shape[0], *images.shape[1:])
