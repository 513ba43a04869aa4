"""Process facts read in one place: boolean environment flags and zoo's installed version."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

__all__ = ["DISTRIBUTION", "distribution_version", "env_flag", "zoo_version"]

#: The core's distribution name on PyPI (the import name ``zoo`` is taken there).
DISTRIBUTION = "vae-zoo"


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value (1, on, yes, true)."""
    return os.environ.get(name, "").strip().lower() in {"1", "on", "yes", "true"}


def distribution_version(name: str = DISTRIBUTION) -> str | None:
    """The installed version of distribution ``name``, or ``None`` when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def zoo_version() -> str:
    """The installed version of vae-zoo, or ``"0+unknown"`` when running from a source tree."""
    return distribution_version() or "0+unknown"
