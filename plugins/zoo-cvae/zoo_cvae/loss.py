"""The conditional VAE objective (the negative ELBO with a beta weight on the KL)."""

from __future__ import annotations

from typing import Any

import jax

from zoo.losses import gaussian_elbo_terms
from zoo_cvae.config import CVAEConfig


def cvae_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: CVAEConfig, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Batch-mean loss = reconstruction + beta * KL, and metrics.

    With ``reconstruction_loss="bernoulli"`` and beta = 1 the loss is the negative conditional
    ELBO in nats per image. ``step`` is unused (no schedule).

    Metrics: ``loss``, ``reconstruction_loss``, ``kl_loss``, ``negative_elbo``, ``kl_per_dim`` [D].
    """
    del step
    rec, kl_per_dim = gaussian_elbo_terms(outputs, x, config.reconstruction_loss)
    kl = kl_per_dim.sum()
    loss = rec + config.beta * kl
    return loss, {
        "loss": loss,
        "reconstruction_loss": rec,
        "kl_loss": kl,
        "negative_elbo": rec + kl,
        "kl_per_dim": kl_per_dim,
    }
