"""The beta-VAE objective, optionally with capacity control."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from zoo.losses import (
    capacity_schedule,
    capacity_term,
    gaussian_elbo_terms,
    linear_schedule,
)
from zoo_beta_vae.config import BetaVAEConfig


def beta_vae_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: BetaVAEConfig, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Batch-mean loss and metrics.

    Reconstruction is summed over pixels and KL over latent dimensions, both averaged over the
    batch, so with ``reconstruction_loss="bernoulli"`` and beta = 1 the loss is the negative
    ELBO in nats per image.

    Metrics: ``loss``, ``reconstruction_loss``, ``kl_loss``, ``negative_elbo``, ``kl_per_dim`` [D]
    and either ``beta`` or ``capacity_loss`` and ``current_capacity``.
    """
    rec, kl_per_dim = gaussian_elbo_terms(outputs, x, config.reconstruction_loss)
    kl = kl_per_dim.sum()
    metrics = {
        "reconstruction_loss": rec,
        "kl_loss": kl,
        "negative_elbo": rec + kl,
        "kl_per_dim": kl_per_dim,
    }
    if config.use_capacity_control:
        capacity = capacity_schedule(step, config.capacity_max, config.capacity_num_iter)
        cap_loss = capacity_term(kl, capacity, config.gamma)
        loss = rec + cap_loss
        metrics |= {"capacity_loss": cap_loss, "current_capacity": capacity}
    else:
        beta = linear_schedule(step, config.beta_start, config.beta, config.beta_anneal_steps)
        loss = rec + beta * kl
        metrics["beta"] = jnp.asarray(beta)
    metrics["loss"] = loss
    return loss, metrics
