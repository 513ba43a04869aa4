"""Settings of a Hub call (endpoint, token, cache, offline), the API client, and
:class:`Resolved`, what every source of model files returns.

huggingface_hub reads ``HF_ENDPOINT`` only at import, so the endpoint is always passed
explicitly; ``HF_HUB_CACHE``, ``HF_HOME`` and ``HF_HUB_OFFLINE`` are read at call time here.
huggingface_hub itself is imported only when a setting or the client is needed.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from zoo._env import env_flag
from zoo.serialization import WEIGHTS_FILE

__all__ = ["Options", "Resolved", "api", "options", "storage"]


@dataclasses.dataclass(frozen=True)
class Resolved:
    """Local paths of a model's files and where they came from."""

    files: dict[str, Path]
    source: str  # "local directory", "bundled", "HF cache", "Hub"
    repo_id: str | None = None
    revision: str | None = None

    @property
    def directory(self) -> Path:
        return self.files[WEIGHTS_FILE].parent


@dataclasses.dataclass(frozen=True)
class Options:
    endpoint: str
    token: str | None
    cache_dir: str
    offline: bool


def options(endpoint: str | None, token: str | None, cache_dir: Any,
            local_files_only: bool) -> Options:
    """The settings of one call: explicit arguments, then the environment, then
    huggingface_hub's defaults."""
    from huggingface_hub import constants

    if cache_dir is None:
        cache_dir = os.environ.get("HF_HUB_CACHE") or (
            os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME")
            else constants.HF_HUB_CACHE)
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    offline = bool(local_files_only or env_flag("HF_HUB_OFFLINE") or constants.HF_HUB_OFFLINE)
    return Options(endpoint, token, os.fspath(cache_dir), offline)


def api(opts: Options) -> Any:
    """An ``HfApi`` for these settings."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=opts.endpoint, token=opts.token)


def storage(opts: Options, repo_id: str) -> Path:
    """The HF cache folder of ``repo_id``."""
    return Path(opts.cache_dir) / f"models--{repo_id.replace('/', '--')}"
