"""The config of the zoo classifier, kept apart from the model so that registering the
``classifier`` variant (:mod:`zoo.classifier.plugin`) does not import JAX."""

from __future__ import annotations

import dataclasses
import math

from zoo.config import Config
from zoo.errors import ConfigError

__all__ = ["ClassifierConfig"]


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(Config):
    """Shape of the classifier: 3x3 convolutions (ReLU) with the given channels and strides,
    a dense feature layer (ReLU; the FID features), a linear head to ``num_classes`` logits."""

    height: int = 28
    width: int = 28
    channels: int = 1
    num_classes: int = 10
    conv_channels: tuple[int, ...] = (32, 64, 64)
    conv_strides: tuple[int, ...] = (1, 2, 2)
    feature_dim: int = 128
    dropout: float = 0.25

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        for field in ("height", "width", "channels", "feature_dim"):
            if getattr(self, field) < 1:
                raise ConfigError(f"{name}.{field} must be >= 1")
        if self.num_classes < 2:
            raise ConfigError(f"{name}.num_classes must be >= 2, got {self.num_classes}")
        if not self.conv_channels or len(self.conv_channels) != len(self.conv_strides):
            raise ConfigError(
                f"{name}: conv_channels and conv_strides need one entry per convolution, got "
                f"{self.conv_channels!r} and {self.conv_strides!r}"
            )
        if any(c < 1 for c in self.conv_channels) or any(s < 1 for s in self.conv_strides):
            raise ConfigError(f"{name}: conv_channels and conv_strides must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{name}.dropout must be in [0, 1), got {self.dropout}")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    @property
    def grid(self) -> tuple[int, int]:
        """Spatial size after the convolutions ('SAME' padding: ceil division per stride)."""
        h, w = self.height, self.width
        for s in self.conv_strides:
            h, w = math.ceil(h / s), math.ceil(w / s)
        return h, w
