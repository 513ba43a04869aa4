"""The beta-TCVAE objective: reconstruction + alpha * MI + beta * TC + gamma * dimension-wise KL."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

import zoo
from zoo.losses import gaussian_elbo_terms, linear_schedule
from zoo_betatcvae.config import BetaTCVAEConfig
from zoo_betatcvae.tc import kl_decomposition, mws_offsets


def beta_tcvae_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: BetaTCVAEConfig, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Batch-mean loss and metrics at training step ``step`` (int or traced scalar).

    ``outputs`` must hold ``logits`` [B, H, W, C] and ``mean``, ``logvar``, ``z`` [B, D], as
    :class:`~zoo_betatcvae.model.BetaTCVAE` returns them. Reconstruction is summed over pixels
    and averaged over the batch; the three KL terms are estimated on the batch with
    ``config.estimator`` (see :mod:`zoo_betatcvae.tc`). With alpha = beta = gamma = 1 the KL
    part of the loss is the single-sample Monte-Carlo KL, so the loss is a plain VAE's.

    With ``"mws"`` the terms are reported, and weighted, without the paper's constant offsets
    (:func:`~zoo_betatcvae.tc.mws_offsets`): the loss is the paper's MWS objective minus
    ``(alpha + beta (D - 1) - gamma D) log N``, which has the same gradients and reads like a
    negative ELBO (a run's validation loss is comparable with a beta-VAE's).

    The weighted KL part is multiplied by ``kl_scale``, which ramps linearly from
    ``config.kl_scale_start`` at step 0 to 1 at ``config.kl_scale_steps`` (1 throughout by
    default): ``reconstruction + kl_scale (alpha MI + beta TC + gamma dimKL)``.

    Metrics: ``loss``, ``reconstruction_loss``, ``kl_loss`` (analytic KL summed over dimensions,
    batch mean), ``kl_per_dim`` [D], ``index_code_mi``, ``total_correlation``, ``dimwise_kl``,
    ``kl_scale``, and ``negative_elbo`` (reconstruction + analytic KL) for a Bernoulli
    likelihood, the only one for which it is an ELBO in nats.
    """
    batch = outputs["mean"].shape[0]
    if config.estimator == "mss" and batch > config.dataset_size:
        raise zoo.ConfigError(
            f"{type(config).__name__}.dataset_size={config.dataset_size} is smaller than the "
            f"batch ({batch}); minibatch-stratified sampling needs dataset_size >= batch size. "
            "Set dataset_size to the number of training examples"
        )
    rec, kl_per_dim = gaussian_elbo_terms(outputs, x, config.reconstruction_loss)
    kl = kl_per_dim.sum()
    terms = kl_decomposition(
        outputs["z"], outputs["mean"], outputs["logvar"],
        dataset_size=config.dataset_size, estimator=config.estimator,
    )
    mi, tc, dimwise = (t.mean() for t in terms)
    if config.estimator == "mws":  # drop the parameter-free offsets: same gradients
        offsets = mws_offsets(config.latent_dim, config.dataset_size)
        mi, tc, dimwise = (
            mi - offsets.index_code_mi,
            tc - offsets.total_correlation,
            dimwise - offsets.dimwise_kl,
        )
    kl_scale = linear_schedule(step, config.kl_scale_start, 1.0, config.kl_scale_steps)
    loss = rec + kl_scale * (config.alpha * mi + config.beta * tc + config.gamma * dimwise)
    metrics = {
        "loss": loss,
        "reconstruction_loss": rec,
        "kl_loss": kl,
        "kl_per_dim": kl_per_dim,
        "index_code_mi": mi,
        "total_correlation": tc,
        "dimwise_kl": dimwise,
        "kl_scale": kl_scale,
    }
    if config.reconstruction_loss == "bernoulli":
        metrics["negative_elbo"] = rec + kl
    return loss, {k: jnp.asarray(v) for k, v in metrics.items()}
