"""``GaussianVAE``: the Gaussian-latent image VAE that variants build on (public for plugins).

q(z|x) = N(mean, diag(exp(logvar))) from an :class:`~zoo.nn.ImageEncoder`, p(z) = N(0, I), and
an :class:`~zoo.nn.ImageDecoder` giving pixel logits; MLP or CNN by ``config.architecture``. It
has every method zoo calls on a Gaussian model (``encode``, ``decode_logits``, ``decode``,
``__call__``, ``reconstruct``, ``sample``, ``traverse``); a variant whose novelty is its objective
(beta-VAE, beta-TCVAE...) subclasses it and registers its own loss::

    class MyVAE(zoo.vae.GaussianVAE):
        \"\"\"My objective's model.\"\"\"

The config must provide ``image_shape``, ``architecture``, ``hidden``, ``activation`` and
``latent_dim`` (an :class:`~zoo.config.ImageModelConfig` with a ``latent_dim`` field does).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from zoo.nn import (
    ImageDecoder,
    ImageEncoder,
    check_images,
    noise_key,
    reparameterize,
    traversal_codes,
)

__all__ = ["GaussianVAE"]


class GaussianVAE(nnx.Module):
    """q(z|x) = N(mean, diag(exp(logvar))), p(z) = N(0, I), decoder outputs pixel logits."""

    def __init__(self, config: Any, *, rngs: nnx.Rngs) -> None:
        self.config = config
        c = config
        self.encoder = ImageEncoder(
            c.image_shape, c.architecture, c.hidden, 2 * c.latent_dim, c.activation,
            rngs=rngs, dense=getattr(c, "dense_dims", ()),
        )
        self.decoder = ImageDecoder(
            c.latent_dim, c.image_shape, c.architecture, c.hidden, c.activation, rngs=rngs,
            dense=getattr(c, "dense_dims", ()), mirror=getattr(c, "mirror_decoder", False),
        )

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Images [B, H, W, C] in [0, 1] -> (mean [B, D], logvar [B, D])."""
        check_images(x, self.config.image_shape, f"{type(self).__name__}.encode")
        mean, logvar = jnp.split(self.encoder(x), 2, axis=-1)
        return mean, logvar

    def decode_logits(self, z: jax.Array) -> jax.Array:
        """Latents [B, D] -> pixel logits [B, H, W, C]."""
        return self.decoder(z)

    def decode(self, z: jax.Array) -> jax.Array:
        """Latents [B, D] -> images [B, H, W, C] in [0, 1] (Bernoulli means)."""
        return jax.nn.sigmoid(self.decoder(z))

    def __call__(
        self, x: jax.Array, *, rngs: nnx.Rngs | jax.Array | None = None
    ) -> dict[str, jax.Array]:
        """Encode, sample z (the posterior mean when ``rngs`` is None), decode.

        Returns ``logits`` and ``reconstruction`` [B, H, W, C]; ``mean``, ``logvar``, ``z`` [B, D].
        """
        mean, logvar = self.encode(x)
        z = reparameterize(mean, logvar, rngs)
        logits = self.decode_logits(z)
        return {
            "logits": logits,
            "reconstruction": jax.nn.sigmoid(logits),
            "mean": mean,
            "logvar": logvar,
            "z": z,
        }

    def reconstruct(self, x: jax.Array) -> jax.Array:
        """Deterministic reconstruction through the posterior mean: [B, H, W, C] in [0, 1]."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, *, rngs: nnx.Rngs | jax.Array) -> jax.Array:
        """``n`` images [n, H, W, C] decoded from z ~ N(0, I)."""
        key = noise_key(rngs)
        if key is None:
            raise ValueError(
                f"{type(self).__name__}.sample needs rngs (an nnx.Rngs or a PRNG key)")
        return self.decode(jax.random.normal(key, (n, self.config.latent_dim)))

    def traverse(
        self, base: jax.Array, dims: list[int] | None = None, values: jax.Array | None = None
    ) -> jax.Array:
        """Decode a latent traversal around ``base`` [D].

        Returns images [len(dims), len(values), H, W, C]; defaults: every dimension, 9 values
        evenly spaced in [-3, 3].
        """
        dims = list(range(self.config.latent_dim)) if dims is None else list(dims)
        values = jnp.linspace(-3.0, 3.0, 9) if values is None else jnp.asarray(values)
        codes = traversal_codes(base, dims, values)
        images = self.decode(codes.reshape(-1, codes.shape[-1]))
        return images.reshape(len(dims), values.shape[0], *images.shape[1:])
