"""The loss of the ``classifier`` variant: softmax cross-entropy."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from zoo.errors import InputError

__all__ = ["classifier_loss"]


def classifier_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: Any, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Mean softmax cross-entropy of ``outputs["logits"]`` [B, K] against ``outputs["labels"]``
    int [B] (optax), in nats.

    Returns ``(loss, {"loss", "cross_entropy", "accuracy"})``: ``accuracy`` is the fraction of
    the batch whose arg-max logit is its label. ``x``, ``config`` and ``step`` are unused (the
    variant loss signature).
    """
    logits, labels = outputs["logits"], outputs["labels"]
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise InputError(f"classifier_loss: expected logits [B, K] and labels [B], got "
                         f"{tuple(logits.shape)} and {tuple(labels.shape)}; return both from "
                         "the model's __call__(x, labels)")
    logits = logits.astype(jnp.float32)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    acc = jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))
    return loss, {"loss": loss, "cross_entropy": loss, "accuracy": acc}
