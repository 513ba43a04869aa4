"""Config of the beta-VAE family (plain, annealed and capacity-controlled)."""

from __future__ import annotations

import dataclasses

from zoo.config import ImageModelConfig
from zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class BetaVAEConfig(ImageModelConfig):
    """beta-VAE: loss = reconstruction + beta(step) * KL, or with capacity control
    reconstruction + gamma * |KL - C(step)| (Burgess et al. 2018).

    beta(step) ramps linearly from ``beta_start`` to ``beta`` over ``beta_anneal_steps``
    (0: constant ``beta``). C(step) ramps from 0 to ``capacity_max`` nats over
    ``capacity_num_iter`` steps.
    """

    latent_dim: int = 10
    beta: float = 4.0
    beta_start: float = 1.0
    beta_anneal_steps: int = 5000
    use_capacity_control: bool = False
    capacity_max: float = 25.0
    capacity_num_iter: int = 25000
    gamma: float = 1000.0

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if self.latent_dim < 1:
            raise ConfigError(f"{name}.latent_dim must be >= 1, got {self.latent_dim}")
        for field in ("beta", "beta_start", "capacity_max", "gamma"):
            if getattr(self, field) < 0:
                raise ConfigError(f"{name}.{field} must be >= 0, got {getattr(self, field)}")
        for field in ("beta_anneal_steps", "capacity_num_iter"):
            if getattr(self, field) < 0:
                raise ConfigError(f"{name}.{field} must be >= 0 (0 disables the ramp)")
