"""The beta-TCVAE model: Gaussian encoder, logit decoder, standard normal prior.

The network is a plain VAE (the objective is what makes it a beta-TCVAE): the core's public
:class:`zoo.vae.GaussianVAE`, MLP or CNN according to ``config.architecture``.
"""

from __future__ import annotations

from zoo.vae import GaussianVAE


class BetaTCVAE(GaussianVAE):
    """q(z|x) = N(mean, diag(exp(logvar))), p(z) = N(0, I), decoder outputs pixel logits.

    Built from a :class:`zoo_betatcvae.config.BetaTCVAEConfig`."""
