"""Config of beta-TCVAE. Imports only the core's public API (no JAX)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import zoo


@dataclasses.dataclass(frozen=True)
class BetaTCVAEConfig(zoo.ImageModelConfig):
    """beta-TCVAE (Chen et al. 2018): the KL term of the ELBO, averaged over the data, splits into

        index-code MI  +  total correlation  +  dimension-wise KL

    and the loss weights them: ``reconstruction + alpha * MI + beta * TC + gamma * dimKL``.
    With ``alpha = beta = gamma = 1`` this is the plain VAE objective (single-sample KL).

    The aggregate posterior q(z) and its marginals q(z_j) are estimated from each minibatch:
    ``estimator="mws"`` is minibatch-weighted sampling, ``"mss"`` minibatch-stratified sampling
    (both from the paper). ``dataset_size`` is N, the number of training examples the minibatch
    is drawn from (60,000 for MNIST, 737,280 for all of dSprites). Only ``"mss"`` depends on it:
    under ``"mws"`` N enters as constant offsets, which the loss removes, so neither the
    gradients nor the reported values change with it.

    Attributes:
        latent_dim: number of latent dimensions D.
        alpha: weight of the index-code mutual information I(x; z).
        beta: weight of the total correlation KL(q(z) || prod_j q(z_j)).
        gamma: weight of the dimension-wise KL sum_j KL(q(z_j) || p(z_j)).
        dataset_size: N in the estimators; must be > 0 (and >= batch size - 1 for "mss").
        estimator: "mws" (minibatch-weighted sampling) or "mss" (minibatch-stratified sampling).
        kl_scale_start: a warm-up bottleneck: the three KL weights are multiplied by a factor
            that falls linearly from ``kl_scale_start`` at step 0 to 1 at ``kl_scale_steps``,
            so early on only the most informative factors are worth their nats (as beta
            annealed down in ``beta-vae-dsprites``). 1 (default): the paper's constant weights.
        kl_scale_steps: length of that ramp in steps; 0: no ramp (the factor is 1 throughout).
    """

    latent_dim: int = 10
    alpha: float = 1.0
    beta: float = 6.0
    gamma: float = 1.0
    dataset_size: int = 60_000
    estimator: Literal["mws", "mss"] = "mws"
    kl_scale_start: float = 1.0
    kl_scale_steps: int = 0

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if self.latent_dim < 1:
            raise zoo.ConfigError(f"{name}.latent_dim must be >= 1, got {self.latent_dim}")
        for field in ("alpha", "beta", "gamma", "kl_scale_start", "kl_scale_steps"):
            if getattr(self, field) < 0:
                raise zoo.ConfigError(
                    f"{name}.{field} must be >= 0, got {getattr(self, field)}"
                )
        if self.dataset_size < 1:
            raise zoo.ConfigError(
                f"{name}.dataset_size must be > 0 (the number of training examples, e.g. "
                f"60000 for MNIST), got {self.dataset_size}"
            )
