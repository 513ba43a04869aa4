"""Pure loss terms. Each returns per-element (or per-example) values; the caller reduces.

Shapes: images ``x`` and decoder ``logits`` are [B, H, W, C]; Gaussian posteriors ``mean`` and
``logvar`` are [B, D]. All functions are jit-safe and have no side effects.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import optax

__all__ = [
    "bernoulli_nll",
    "capacity_schedule",
    "capacity_term",
    "codebook_loss",
    "commitment_loss",
    "gaussian_elbo_terms",
    "gaussian_kl",
    "linear_schedule",
    "reconstruction_nll",
    "squared_error",
]


def _check_same_shape(a: jax.Array, b: jax.Array, what: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ, {a.shape} vs {b.shape}")


def gaussian_kl(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, exp(logvar)) || N(0, I)) per latent dimension, in nats.

    Args:
        mean, logvar: [..., D].
    Returns:
        [..., D], non-negative; sum over the last axis for the KL of each example.
    """
    _check_same_shape(mean, logvar, "gaussian_kl")
    return 0.5 * (jnp.exp(logvar) + jnp.square(mean) - 1.0 - logvar)


def bernoulli_nll(logits: jax.Array, x: jax.Array) -> jax.Array:
    """-log Bernoulli(x | sigmoid(logits)) per element, computed stably from logits.

    ``x`` may be continuous in [0, 1] (the usual relaxation for grey-level images).
    """
    _check_same_shape(logits, x, "bernoulli_nll")
    return optax.sigmoid_binary_cross_entropy(logits, x)


def squared_error(prediction: jax.Array, x: jax.Array) -> jax.Array:
    """(prediction - x)^2 per element."""
    _check_same_shape(prediction, x, "squared_error")
    return jnp.square(prediction - x)


def reconstruction_nll(
    logits: jax.Array, x: jax.Array, kind: Literal["bernoulli", "mse"]
) -> jax.Array:
    """Per-example reconstruction loss summed over pixels.

    Args:
        logits: decoder output before the sigmoid, [B, ...].
        x: targets in [0, 1], same shape.
        kind: ``"bernoulli"`` (nats) or ``"mse"`` (squared error of ``sigmoid(logits)``).
    Returns:
        [B].
    """
    if kind == "bernoulli":
        per_element = bernoulli_nll(logits, x)
    elif kind == "mse":
        per_element = squared_error(jax.nn.sigmoid(logits), x)
    else:
        raise ValueError(f"unknown reconstruction loss {kind!r}; use 'bernoulli' or 'mse'")
    return per_element.reshape(per_element.shape[0], -1).sum(axis=-1)


def gaussian_elbo_terms(
    outputs: dict[str, jax.Array], x: jax.Array, kind: Literal["bernoulli", "mse"]
) -> tuple[jax.Array, jax.Array]:
    """The two ELBO terms of a Gaussian-posterior VAE, reduced the zoo's way.

    Args:
        outputs: model outputs with ``logits`` [B, H, W, C], ``mean`` and ``logvar`` [B, D].
        x: images [B, H, W, C] in [0, 1].
        kind: reconstruction likelihood, see :func:`reconstruction_nll`.
    Returns:
        (reconstruction loss summed over pixels and averaged over the batch, scalar;
        KL per latent dimension averaged over the batch, [D]). Their sum, with the KL summed over
        dimensions, is the negative ELBO in nats per image for a Bernoulli likelihood.
    """
    rec = reconstruction_nll(outputs["logits"], x, kind).mean()
    kl_per_dim = gaussian_kl(outputs["mean"], outputs["logvar"]).mean(axis=0)
    return rec, kl_per_dim


def linear_schedule(
    step: jax.Array | int, start: float | jax.Array, end: float | jax.Array,
    num_steps: int | jax.Array,
) -> jax.Array:
    """Linear ramp from ``start`` at step 0 to ``end`` at ``num_steps``, constant afterwards.

    ``num_steps <= 0`` means no ramp: ``end`` at every step. Every argument may be a traced
    scalar (a sweep passes ``start``, ``end`` and ``num_steps`` as arrays); the result has the
    shape of ``step``, float32.
    """
    step = jnp.asarray(step, jnp.float32)
    num = jnp.asarray(num_steps)
    frac = jnp.clip(step / jnp.where(num > 0, num, 1), 0.0, 1.0)
    ramp = start + (end - start) * frac
    # exactly ``end`` once the ramp is over: start + (end - start) * 1 can be off by a rounding
    done = (num <= 0) | (frac >= 1.0)
    return jnp.where(done, jnp.broadcast_to(jnp.asarray(end, ramp.dtype), ramp.shape), ramp)


def capacity_schedule(step: jax.Array | int, capacity_max: float | jax.Array,
                      num_iter: int | jax.Array) -> jax.Array:
    """Burgess et al. (2018) capacity C(step): linear from 0 to ``capacity_max`` nats."""
    return linear_schedule(step, 0.0, capacity_max, num_iter)


def capacity_term(kl: jax.Array, capacity: jax.Array, gamma: float) -> jax.Array:
    """gamma * |KL - C|, elementwise (``kl`` is the per-example or mean KL in nats)."""
    return gamma * jnp.abs(kl - capacity)


def commitment_loss(z_e: jax.Array, z_q: jax.Array) -> jax.Array:
    """||z_e - sg(z_q)||^2 per element: pulls encoder outputs towards their codes."""
    _check_same_shape(z_e, z_q, "commitment_loss")
    return jnp.square(z_e - jax.lax.stop_gradient(z_q))


def codebook_loss(z_e: jax.Array, z_q: jax.Array) -> jax.Array:
    """||sg(z_e) - z_q||^2 per element: pulls codes towards encoder outputs (no-EMA codebooks)."""
    _check_same_shape(z_e, z_q, "codebook_loss")
    return jnp.square(jax.lax.stop_gradient(z_e) - z_q)
