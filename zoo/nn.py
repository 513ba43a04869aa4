"""Building blocks shared by the variants (and free for third-party plugins to reuse).

Images are NHWC: [B, H, W, C]. Decoders return logits (no activation on the output layer); the
caller applies the sigmoid. CNN decoders upsample with a 3x3 convolution followed by a
depth-to-space rearrangement (pixel shuffle), which XLA runs much faster on CPU than a transposed
convolution.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from zoo.inputs import check_images, check_labels  # re-exported: plugins import them here

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "ImageDecoder",
    "ImageEncoder",
    "MLP",
    "activation",
    "check_images",
    "check_labels",
    "depth_to_space",
    "noise_key",
    "reparameterize",
    "traversal_codes",
]

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "elu": jax.nn.elu,
    "leaky_relu": jax.nn.leaky_relu,
    "tanh": jnp.tanh,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """The activation function called ``name`` (see ``zoo.config.Activation``)."""
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        choices = sorted(_ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; choose from {choices}") from None


def depth_to_space(x: jax.Array, factor: int) -> jax.Array:
    """Pixel shuffle: [B, H, W, C * f * f] -> [B, H * f, W * f, C]."""
    b, h, w, c = x.shape
    if c % (factor * factor):
        raise ValueError(f"depth_to_space: {c} channels not divisible by {factor}^2")
    out_c = c // (factor * factor)
    x = x.reshape(b, h, w, factor, factor, out_c)
    x = x.transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h * factor, w * factor, out_c)


CPU_CHUNKS, CPU_MIN_CHUNK = 8, 16  # on CPU: up to 8 chunks of >= 16 examples (_chunked)


def _chunked(call: Callable[[Any, jax.Array], jax.Array]) -> Callable[[Any, jax.Array], jax.Array]:
    """A per-example ``__call__(x)`` ([B, ...] -> [B, ...]) run on CPU on ``min(CPU_CHUNKS, B //
    CPU_MIN_CHUNK)`` chunks of the batch. Same function; but XLA:CPU runs a conv on one core and its
    weight gradient slows with the batch: chunks run concurrently, in cache (benchmarks/README)."""
    def call_in_chunks(self: Any, x: jax.Array) -> jax.Array:
        n = min(CPU_CHUNKS, x.shape[0] // CPU_MIN_CHUNK)
        if n < 2 or jax.default_backend() != "cpu":
            return call(self, x)
        return jnp.concatenate([call(self, part) for part in jnp.array_split(x, n)])
    return call_in_chunks


class MLP(nnx.Module):
    """Dense layers with an activation between them (none after the last). [B, in] -> [B, out]."""

    def __init__(
        self, in_features: int, hidden: Sequence[int], out_features: int, act: str, *,
        rngs: nnx.Rngs,
    ) -> None:
        sizes = [in_features, *hidden, out_features]
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)]
        )
        self.act_name = act

    def __call__(self, x: jax.Array) -> jax.Array:
        act = activation(self.act_name)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = act(x)
        return x


class ConvEncoder(nnx.Module):
    """Stride-2 4x4 convolutions, one per entry of ``hidden``: [B, H, W, C] -> [B, H/2^n, W/2^n,
    hidden[-1]], activation after each. Both conv stacks run on chunks of the batch on CPU."""

    def __init__(self, in_channels: int, hidden: Sequence[int], act: str, *, rngs: nnx.Rngs):
        self.convs = nnx.List([nnx.Conv(a, b, kernel_size=(4, 4), strides=(2, 2),
                                        padding="SAME", rngs=rngs)
                               for a, b in itertools.pairwise([in_channels, *hidden])])
        self.act_name = act

    @_chunked
    def __call__(self, x: jax.Array) -> jax.Array:
        act = activation(self.act_name)
        for conv in self.convs:
            x = act(conv(x))
        return x


class ConvDecoder(nnx.Module):
    """Mirror of :class:`ConvEncoder`: per stage a 3x3 conv then a 2x pixel shuffle.
    [B, h, w, in_channels] -> [B, h*2^n, w*2^n, out_channels] logits.

    By default the stage widths mirror the encoder's feature maps at each resolution
    (``hidden[-2], ..., hidden[0]``, then ``hidden[0] // 2`` at full resolution) and a 3x3 conv
    maps them to ``out_channels``, so the decoder costs about what the encoder does instead of
    carrying the widest channel count up to full resolution. ``mirror=True`` is the exact mirror
    (disentanglement_lib's deconv decoder): the last stage gives ``out_channels`` directly. A 3x3
    conv plus pixel shuffle can compute any 4x4 stride-2 transposed convolution, and runs faster."""

    def __init__(self, in_channels: int, hidden: Sequence[int], out_channels: int, act: str, *,
                 rngs: nnx.Rngs, mirror: bool = False) -> None:
        if mirror:
            chans = [in_channels, *reversed(hidden[:-1]), out_channels]
        else:
            chans = [in_channels, *reversed(hidden[:-1]), max(hidden[0] // 2, 1)]
        self.ups = nnx.List([nnx.Conv(a, 4 * b, kernel_size=(3, 3), padding="SAME", rngs=rngs)
                             for a, b in itertools.pairwise(chans)])
        self.out = None if mirror else nnx.Conv(chans[-1], out_channels, kernel_size=(3, 3),
                                                padding="SAME", rngs=rngs)
        self.act_name = act

    @_chunked
    def __call__(self, x: jax.Array) -> jax.Array:
        act = activation(self.act_name)
        for i, up in enumerate(self.ups):
            x = depth_to_space(up(x), 2)
            if self.out is not None or i < len(self.ups) - 1:
                x = act(x)
        return x if self.out is None else self.out(x)


class ImageEncoder(nnx.Module):
    """Image (plus an optional conditioning vector) -> a feature vector [B, out_features].

    ``architecture="mlp"`` flattens the image and concatenates ``cond`` before the MLP;
    ``"cnn"`` runs :class:`ConvEncoder`, flattens, concatenates ``cond`` and applies dense layers
    of widths ``dense`` (none by default), then a linear head.
    """

    def __init__(
        self, image_shape: tuple[int, int, int], architecture: str, hidden: Sequence[int],
        out_features: int, act: str, *, cond_features: int = 0, rngs: nnx.Rngs,
        dense: Sequence[int] = (),
    ) -> None:
        h, w, c = image_shape
        self.architecture = architecture
        self.act_name = act
        if architecture == "mlp":
            self.conv = None
            self.head = MLP(h * w * c + cond_features, hidden, out_features, act, rngs=rngs)
        elif architecture == "cnn":
            self.conv = ConvEncoder(c, hidden, act, rngs=rngs)
            factor = 2 ** len(hidden)
            flat = (h // factor) * (w // factor) * hidden[-1]
            self.head = MLP(flat + cond_features, dense, out_features, act, rngs=rngs)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; use 'mlp' or 'cnn'")

    def __call__(self, x: jax.Array, cond: jax.Array | None = None) -> jax.Array:
        if self.conv is not None:
            x = self.conv(x)
        x = x.reshape(x.shape[0], -1)
        if cond is not None:
            x = jnp.concatenate([x, cond.astype(x.dtype)], axis=-1)
        return self.head(x)


class ImageDecoder(nnx.Module):
    """Vector [B, in_features] -> image logits [B, H, W, C] (no output activation).

    ``"mlp"``: dense layers ``reversed(hidden)`` then a linear map to H*W*C.
    ``"cnn"``: dense layers of widths ``reversed(dense)`` (none by default), a linear map to the
    smallest feature grid, then :class:`ConvDecoder` (``mirror`` passed on).
    """

    def __init__(
        self, in_features: int, image_shape: tuple[int, int, int], architecture: str,
        hidden: Sequence[int], act: str, *, rngs: nnx.Rngs, dense: Sequence[int] = (),
        mirror: bool = False,
    ) -> None:
        h, w, c = image_shape
        self.image_shape = (h, w, c)
        self.act_name = act
        if architecture == "mlp":
            self.mlp = MLP(in_features, list(reversed(hidden)), h * w * c, act, rngs=rngs)
            self.dense = self.proj = self.conv = None
        elif architecture == "cnn":
            factor = 2 ** len(hidden)
            self.grid = (h // factor, w // factor, hidden[-1])
            self.mlp = None
            widths = list(reversed(dense))
            self.dense = (MLP(in_features, widths[:-1], widths[-1], act, rngs=rngs)
                          if dense else None)
            self.proj = nnx.Linear(widths[-1] if dense else in_features,
                                   self.grid[0] * self.grid[1] * self.grid[2], rngs=rngs)
            self.conv = ConvDecoder(hidden[-1], hidden, c, act, rngs=rngs, mirror=mirror)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; use 'mlp' or 'cnn'")

    def __call__(self, z: jax.Array) -> jax.Array:
        if self.mlp is not None:
            return self.mlp(z).reshape(z.shape[0], *self.image_shape)
        act = activation(self.act_name)
        x = z if self.dense is None else act(self.dense(z))
        x = act(self.proj(x))
        return self.conv(x.reshape(z.shape[0], *self.grid))


def noise_key(rngs: nnx.Rngs | jax.Array | None, stream: str = "noise") -> jax.Array | None:
    """A fresh PRNG key from ``rngs``: an ``nnx.Rngs`` (its ``stream``, else ``default``), a raw
    key (used as is) or ``None`` (returns ``None``: the caller runs deterministically)."""
    if rngs is None:
        return None
    if isinstance(rngs, nnx.Rngs):
        return rngs[stream]() if stream in rngs else rngs.default()
    return rngs


def reparameterize(
    mean: jax.Array, logvar: jax.Array, rngs: nnx.Rngs | jax.Array | None
) -> jax.Array:
    """z = mean + exp(logvar / 2) * eps with eps ~ N(0, I) drawn from ``rngs``; the mean itself
    when ``rngs`` is None (deterministic). Shapes [..., D]."""
    key = noise_key(rngs)
    if key is None:
        return mean
    return mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape, mean.dtype)


def traversal_codes(base: jax.Array, dims: Sequence[int], values: jax.Array) -> jax.Array:
    """Latent traversal grid without mutating ``base``.

    Args:
        base: one latent code [D].
        dims: the latent dimensions to vary, length R.
        values: the values each varied dimension takes, [V].
    Returns:
        [R, V, D]: row r is ``base`` with dimension ``dims[r]`` set to each of ``values``.
    """
    values = jnp.asarray(values, base.dtype)
    rows = [
        jnp.broadcast_to(base, (values.shape[0], base.shape[0])).at[:, d].set(values)
        for d in dims
    ]
    return jnp.stack(rows)
