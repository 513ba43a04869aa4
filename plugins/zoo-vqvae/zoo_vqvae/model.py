"""The VQ-VAE model: CNN encoder, nearest-code quantiser, pixel-shuffle decoder (logits)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from zoo import vq
from zoo.nn import ConvDecoder, ConvEncoder, activation, check_images, noise_key
from zoo_vqvae.config import VQVAEConfig


class Codebook(nnx.Variable):
    """A codebook [K, D] maintained by EMA updates, not by an optimiser (not an ``nnx.Param``)."""


class CodebookStat(nnx.Variable):
    """Non-trainable codebook statistics: EMA cluster sizes and sums, steps since last use."""


class VectorQuantizer(nnx.Module):
    """Nearest-code quantisation of [..., D] vectors with a [K, D] codebook.

    The codebook is an ``nnx.Param`` (trained by the codebook loss) when ``use_ema`` is False,
    else a :class:`Codebook` variable updated by exponential moving averages. Like BatchNorm,
    state updates happen inside :meth:`__call__` when ``deterministic`` is False (``model.train()``;
    ``model.eval()`` sets it True): the EMA step (``use_ema``) and the reset of dead codes
    (``dead_code_threshold > 0`` and a PRNG key given). The quantised output always uses the
    codebook as it was before the update.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        use_ema: bool,
        decay: float,
        epsilon: float,
        dead_code_threshold: int,
        rngs: nnx.Rngs,
    ) -> None:
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.use_ema = use_ema
        self.decay = decay
        self.epsilon = epsilon
        self.dead_code_threshold = dead_code_threshold
        self.deterministic = False
        # Uniform with variance 1/D per entry: codes of about unit norm (Sonnet's default).
        limit = math.sqrt(3.0 / embedding_dim)
        init = jax.random.uniform(
            rngs.params(), (num_embeddings, embedding_dim), jnp.float32, -limit, limit
        )
        self.codebook = Codebook(init) if use_ema else nnx.Param(init)
        if use_ema:
            # cluster_size = 1 and embed_sum = codebook make embed_sum / cluster_size the initial
            # codebook, so a code that is never used keeps its vector instead of collapsing to 0.
            self.cluster_size = CodebookStat(jnp.ones((num_embeddings,), jnp.float32))
            self.embed_sum = CodebookStat(jnp.array(init, copy=True))  # own buffer: donation
        self.steps_since_used = CodebookStat(jnp.zeros((num_embeddings,), jnp.int32))

    def lookup(self, indices: jax.Array) -> jax.Array:
        """Codebook rows for int indices [...]: [..., D]."""
        return jnp.take(self.codebook.get_value(), indices, axis=0)

    def quantize(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """[..., D] -> (codebook rows [..., D], int32 indices [...]); no state update."""
        lead = z.shape[:-1]
        z_q, indices = vq.quantize(z.reshape(-1, self.embedding_dim), self.codebook.get_value())
        return z_q.reshape(*lead, self.embedding_dim), indices.reshape(lead)

    def __call__(
        self, z: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Quantise ``z`` [..., D]; in training mode also update the codebook state."""
        z_q, indices = self.quantize(z)
        if not self.deterministic:
            self._update(z.reshape(-1, self.embedding_dim), indices.reshape(-1), key)
        return z_q, indices

    def _update(self, z: jax.Array, indices: jax.Array, key: jax.Array | None) -> None:
        """EMA step and dead-code reset from this batch's vectors ``z`` [N, D] (jit-safe)."""
        z = jax.lax.stop_gradient(z)
        used = vq.code_counts(indices, self.num_embeddings) > 0
        steps = jnp.where(used, 0, self.steps_since_used.get_value() + 1)
        codebook = self.codebook.get_value()
        if self.use_ema:
            cluster_size, embed_sum, codebook = vq.ema_codebook_update(
                self.cluster_size.get_value(), self.embed_sum.get_value(), z, indices,
                decay=self.decay, epsilon=self.epsilon,
            )
        if self.dead_code_threshold > 0 and key is not None:
            dead = steps >= self.dead_code_threshold
            candidates = _random_rows(key, z, self.num_embeddings)
            codebook = jnp.where(dead[:, None], candidates, codebook)
            steps = jnp.where(dead, 0, steps)
            if self.use_ema:
                # Restart a reset code's statistics as at initialisation: one (virtual) vector,
                # equal to its new value, so embed_sum / cluster_size is the new code.
                cluster_size = jnp.where(dead, 1.0, cluster_size)
                embed_sum = jnp.where(dead[:, None], candidates, embed_sum)
        self.steps_since_used.set_value(steps.astype(jnp.int32))
        if self.use_ema:
            self.cluster_size.set_value(cluster_size)
            self.embed_sum.set_value(embed_sum)
            self.codebook.set_value(codebook)
        elif self.dead_code_threshold > 0 and key is not None:
            self.codebook.set_value(codebook)


def _random_rows(key: jax.Array, z: jax.Array, k: int) -> jax.Array:
    """``k`` rows of ``z`` [N, D] drawn at random, distinct when N >= k: [k, D]."""
    n = z.shape[0]
    if n >= k:
        rows = jax.random.choice(key, n, (k,), replace=False)
    else:
        rows = jax.random.randint(key, (k,), 0, n)
    return jnp.take(z, rows, axis=0)


class VQVAE(nnx.Module):
    """VQ-VAE: z_e = encoder(x) [B, h, w, D], z_q = nearest codes, logits = decoder(z_q) with the
    straight-through estimator carrying the decoder's gradient to the encoder."""

    def __init__(self, config: VQVAEConfig, *, rngs: nnx.Rngs) -> None:
        self.config = config
        c = config
        self.encoder = ConvEncoder(c.channels, c.hidden, c.activation, rngs=rngs)
        self.pre_quantize = nnx.Conv(
            c.hidden[-1], c.embedding_dim, kernel_size=(1, 1), rngs=rngs
        )
        self.quantizer = VectorQuantizer(
            c.num_embeddings,
            c.embedding_dim,
            use_ema=c.use_ema,
            decay=c.ema_decay,
            epsilon=c.ema_epsilon,
            dead_code_threshold=c.dead_code_threshold,
            rngs=rngs,
        )
        self.post_quantize = nnx.Conv(
            c.embedding_dim, c.hidden[-1], kernel_size=(3, 3), padding="SAME", rngs=rngs
        )
        self.decoder = ConvDecoder(
            c.hidden[-1], c.hidden, c.channels, c.activation, rngs=rngs, mirror=c.mirror_decoder
        )

    # -- pieces ----------------------------------------------------------------------------------
    @property
    def codebook_size(self) -> int:
        """Number of codes (the discrete-latent protocol zoo's evaluation and pictures read)."""
        return self.config.num_embeddings

    def encode_continuous(self, x: jax.Array) -> jax.Array:
        """Images [B, H, W, C] in [0, 1] -> encoder outputs z_e [B, h, w, D] (before quantising)."""
        check_images(x, self.config.image_shape, type(self).__name__)
        return self.pre_quantize(self.encoder(x))

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Images -> (z_e [B, h, w, D], code indices int32 [B, h, w]); no state update."""
        z_e = self.encode_continuous(x)
        return z_e, self.quantizer.quantize(z_e)[1]

    def decode_logits(self, z_q: jax.Array) -> jax.Array:
        """Quantised latents [B, h, w, D] -> pixel logits [B, H, W, C]."""
        h = activation(self.config.activation)(self.post_quantize(z_q))
        return self.decoder(h)

    def decode(self, z_q: jax.Array) -> jax.Array:
        """Quantised latents [B, h, w, D] -> images [B, H, W, C] in [0, 1]."""
        return jax.nn.sigmoid(self.decode_logits(z_q))

    def decode_indices(self, indices: jax.Array) -> jax.Array:
        """Code indices int [B, h, w] -> images [B, H, W, C] in [0, 1]."""
        return self.decode(self.quantizer.lookup(indices))

    def reconstruct(self, x: jax.Array) -> jax.Array:
        """Deterministic reconstruction [B, H, W, C] in [0, 1]; never updates the codebook."""
        z_e = self.encode_continuous(x)
        return self.decode(self.quantizer.quantize(z_e)[0])

    # -- training forward pass -------------------------------------------------------------------
    def __call__(
        self, x: jax.Array, *, rngs: nnx.Rngs | jax.Array | None = None
    ) -> dict[str, jax.Array]:
        """Encode, quantise, decode. In training mode (``model.train()``, the default after
        construction) this also updates the codebook state; ``rngs`` supplies the key of the
        dead-code reset (no reset without it).

        Returns ``logits`` and ``reconstruction`` [B, H, W, C]; ``z_e`` and ``z_q`` (the codebook
        vectors) [B, h, w, D]; ``indices`` int32 [B, h, w].
        """
        z_e = self.encode_continuous(x)
        key = None if self.quantizer.deterministic else noise_key(rngs)
        z_q, indices = self.quantizer(z_e, key=key)
        logits = self.decode_logits(vq.straight_through(z_e, z_q))
        return {
            "logits": logits,
            "reconstruction": jax.nn.sigmoid(logits),
            "z_e": z_e,
            "z_q": z_q,
            "indices": indices,
        }
