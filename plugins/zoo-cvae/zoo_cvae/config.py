"""Config of the conditional VAE."""

from __future__ import annotations

import dataclasses

from zoo.config import ImageModelConfig
from zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class CVAEConfig(ImageModelConfig):
    """Conditional VAE: q(z|x, y), p(x|z, y), p(z) = N(0, I); loss = reconstruction + beta * KL.

    The class label y in ``[0, num_classes)`` enters encoder and decoder as a learned embedding
    of ``label_embedding_dim`` features, or as a one-hot vector when ``label_embedding_dim`` is 0.
    """

    latent_dim: int = 16
    num_classes: int = 10
    label_embedding_dim: int = 16
    beta: float = 1.0

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if self.latent_dim < 1:
            raise ConfigError(f"{name}.latent_dim must be >= 1, got {self.latent_dim}")
        if self.num_classes < 2:
            raise ConfigError(f"{name}.num_classes must be >= 2, got {self.num_classes}")
        if self.label_embedding_dim < 0:
            raise ConfigError(
                f"{name}.label_embedding_dim must be >= 0 (0 means one-hot labels), got "
                f"{self.label_embedding_dim}"
            )
        if self.beta < 0:
            raise ConfigError(f"{name}.beta must be >= 0, got {self.beta}")

    @property
    def label_features(self) -> int:
        """Width of the label representation fed to encoder and decoder."""
        return self.label_embedding_dim or self.num_classes
