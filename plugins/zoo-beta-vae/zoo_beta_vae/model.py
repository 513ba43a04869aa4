"""The beta-VAE model: Gaussian encoder, Bernoulli (logit) decoder, standard normal prior.

The network is the core's :class:`zoo.vae.GaussianVAE`; what makes it a beta-VAE (or one with
capacity control) is its loss, :func:`zoo_beta_vae.loss.beta_vae_loss`.
"""

from __future__ import annotations

from zoo.vae import GaussianVAE


class BetaVAE(GaussianVAE):
    """q(z|x) = N(mean, diag(exp(logvar))), p(z) = N(0, I), decoder outputs pixel logits.

    Built from a :class:`zoo_beta_vae.config.BetaVAEConfig`."""
