"""The exception hierarchy of zoo.

Every error zoo raises on purpose derives from :class:`ZooError` and its message says what went
wrong and what to do next.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorruptWeightsError",
    "InputError",
    "NameConflictError",
    "PluginError",
    "UnknownNameError",
    "WeightsMismatchError",
    "ZooError",
]


class ZooError(Exception):
    """Base class of every error raised by zoo."""


class UnknownNameError(ZooError, KeyError):
    """A variant, pretrained model or dataset name that nothing registered."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class ConfigError(ZooError, ValueError):
    """A configuration value or key that does not fit the config class."""


class PluginError(ZooError):
    """A plugin that failed to import, raised in a hook, or registered something invalid."""


class NameConflictError(PluginError):
    """Two plugins registered the same name."""


class WeightsMismatchError(ZooError):
    """Weights whose keys, shapes or dtypes do not fit the model they are loaded into."""


class CorruptWeightsError(ZooError):
    """A weights or config file that is truncated, corrupted or does not parse."""


class InputError(ZooError, ValueError):
    """Data passed to a model that does not fit it (image shape, labels, dtype)."""
