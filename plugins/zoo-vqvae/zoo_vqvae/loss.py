"""The VQ-VAE objective."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from zoo.losses import codebook_loss, commitment_loss, reconstruction_nll
from zoo.vq import code_counts, perplexity
from zoo_vqvae.config import VQVAEConfig


def _per_image_sum(values: jax.Array) -> jax.Array:
    """[B, ...] -> batch mean of the per-image sum."""
    return values.reshape(values.shape[0], -1).sum(axis=-1).mean()


def vqvae_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: VQVAEConfig, step: Any = None
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Batch-mean loss and metrics.

    Every term is summed over its elements per image (pixels for the reconstruction; latent
    grid positions and embedding dimensions for the VQ terms) and averaged over the batch, as
    in the paper's objective. ``step`` is accepted for the common loss signature and unused.

    Metrics: ``loss``, ``reconstruction_loss``, ``vq_loss`` (codebook + commitment_cost *
    commitment), ``commitment_loss``, ``codebook_loss`` (0 with an EMA codebook), ``perplexity``
    and ``codes_used`` (fraction of the codebook used by this batch).
    """
    del step
    z_e, z_q = outputs["z_e"], outputs["z_q"]
    rec = reconstruction_nll(outputs["logits"], x, config.reconstruction_loss).mean()
    commit = _per_image_sum(commitment_loss(z_e, z_q))
    if config.use_ema:
        book = jnp.zeros((), commit.dtype)
    else:
        book = _per_image_sum(codebook_loss(z_e, z_q))
    vq_loss = book + config.commitment_cost * commit
    loss = rec + vq_loss
    counts = code_counts(outputs["indices"], config.num_embeddings)
    return loss, {
        "loss": loss,
        "reconstruction_loss": rec,
        "vq_loss": vq_loss,
        "commitment_loss": commit,
        "codebook_loss": book,
        "perplexity": perplexity(counts),
        "codes_used": jnp.mean((counts > 0).astype(jnp.float32)),
    }
