"""Config of the VQ-VAE."""

from __future__ import annotations

import dataclasses
from typing import Literal

from zoo.config import ImageModelConfig
from zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class VQVAEConfig(ImageModelConfig):
    """VQ-VAE (van den Oord et al. 2017): a CNN encoder maps each image to a grid of
    ``embedding_dim``-vectors, each replaced by its nearest of ``num_embeddings`` codebook rows.

    loss = reconstruction + codebook_loss (gradient-trained codebook only)
    + commitment_cost * commitment_loss.

    With ``use_ema`` the codebook is not trained by gradient but follows exponential moving
    averages of the encoder outputs assigned to each code (``ema_decay``, Laplace smoothing
    ``ema_epsilon``). A code unused for ``dead_code_threshold`` consecutive training steps is
    re-drawn from the current batch's encoder outputs (0 disables the reset).
    """

    architecture: Literal["mlp", "cnn"] = "cnn"
    hidden_dims: tuple[int, ...] | None = None
    embedding_dim: int = 16
    num_embeddings: int = 512
    commitment_cost: float = 0.25
    use_ema: bool = True
    ema_decay: float = 0.99
    ema_epsilon: float = 1e-5
    dead_code_threshold: int = 50

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if self.architecture != "cnn":
            raise ConfigError(
                f"{name}.architecture must be 'cnn', got {self.architecture!r}: a VQ-VAE "
                "quantises a spatial grid of encoder features, which only the CNN encoder has"
            )
        if self.dense_dims:
            raise ConfigError(
                f"{name}.dense_dims must be empty, got {self.dense_dims!r}: a VQ-VAE quantises the "
                "conv grid itself, so there is no dense layer to add"
            )
        for field in ("embedding_dim", "num_embeddings"):
            if getattr(self, field) < 1:
                raise ConfigError(f"{name}.{field} must be >= 1, got {getattr(self, field)}")
        if self.commitment_cost < 0:
            raise ConfigError(
                f"{name}.commitment_cost must be >= 0, got {self.commitment_cost}"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"{name}.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.ema_epsilon <= 0:
            raise ConfigError(f"{name}.ema_epsilon must be > 0, got {self.ema_epsilon}")
        if self.dead_code_threshold < 0:
            raise ConfigError(
                f"{name}.dead_code_threshold must be >= 0 (0 disables dead-code reset), got "
                f"{self.dead_code_threshold}"
            )
