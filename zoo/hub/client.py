"""Settings of a Hub call (endpoint, token, cache, offline), the API client, and
:class:`Resolved`, what every source of model files returns.

huggingface_hub reads ``HF_ENDPOINT`` only at import, so the endpoint is always passed
explicitly; ``HF_HUB_CACHE``, ``HF_HOME`` and ``HF_HUB_OFFLINE`` are read at call time here.
huggingface_hub itself is imported only when a setting or the client is needed.

No Hub call can wait forever. Every limit is on inactivity (connecting, or waiting for the
next bytes), never on a whole transfer, so large downloads and uploads are not cut:

- ``HF_HUB_ETAG_TIMEOUT`` (huggingface_hub's setting, default 10 s): a file's metadata request;
- ``HF_HUB_DOWNLOAD_TIMEOUT`` (huggingface_hub's setting, default 10 s): file downloads;
- ``ZOO_HUB_TIMEOUT`` (zoo's, default 30 s): connecting to the Hub and waiting for its answer
  in the API calls huggingface_hub makes without a limit of its own (repository info, file
  listings, commits and uploads of ``zoo push``). zoo installs it as huggingface_hub's HTTP
  client factory (:func:`huggingface_hub.set_client_factory`) unless the program has installed
  its own factory, whose limits are then the program's.

A timed-out download falls back to the HF cache when it holds the revision asked for (see
:mod:`zoo.hub.download`); otherwise the error says the Hub cannot be reached.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from zoo._env import env_flag
from zoo.errors import ConfigError
from zoo.serialization import WEIGHTS_FILE

__all__ = ["DEFAULT_TIMEOUT_S", "Options", "Resolved", "api", "hub_timeout", "install_timeouts",
           "options", "storage"]

#: ``ZOO_HUB_TIMEOUT`` unless set (seconds).
DEFAULT_TIMEOUT_S = 30.0


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


def hub_timeout() -> float:
    """``ZOO_HUB_TIMEOUT`` in seconds (a positive number), else :data:`DEFAULT_TIMEOUT_S`."""
    text = os.environ.get("ZOO_HUB_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"ZOO_HUB_TIMEOUT must be a positive number of seconds, got {text!r}")
    return value


def install_timeouts() -> None:
    """Make huggingface_hub's shared HTTP client apply :func:`hub_timeout` as the connect and
    read (inactivity) limits of every request that has none, unless the program installed a
    client factory of its own. huggingface_hub's API calls pass ``timeout=None`` (no limit)
    explicitly, which overrides a client's default, so the limit is applied in the transport:
    a request's unset limits are filled in there; set ones (downloads) are kept."""
    from huggingface_hub.utils import _http  # the factory in use: no public getter (2.4)

    seconds = hub_timeout()
    ours = getattr(_http._GLOBAL_CLIENT_FACTORY, "zoo_timeout", None)
    if _http._GLOBAL_CLIENT_FACTORY is not _http.default_client_factory and ours is None:
        return  # the program's own factory
    if ours != seconds:
        _http.set_client_factory(_client_factory(seconds))


def _client_factory(seconds: float) -> Any:
    """huggingface_hub's default client, its transport wrapped by :func:`_limited`."""
    import httpx2
    from huggingface_hub.utils import _http

    def factory() -> Any:
        return httpx2.Client(event_hooks={"request": [_http.hf_request_event_hook]},
                             follow_redirects=True, timeout=None,
                             transport=_limited(httpx2.HTTPTransport(), seconds))

    factory.zoo_timeout = seconds  # type: ignore[attr-defined]
    return factory


def _limited(inner: Any, seconds: float) -> Any:
    """A transport that sends through ``inner`` with ``seconds`` as every unset limit."""
    import httpx2

    class Limited(httpx2.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            limits = dict(request.extensions.get("timeout") or {})
            for kind in ("connect", "read", "write", "pool"):
                if limits.get(kind) is None:
                    limits[kind] = seconds
            request.extensions["timeout"] = limits
            return inner.handle_request(request)

        def close(self) -> None:
            inner.close()

    return Limited()


def api(opts: Options) -> Any:
    """An ``HfApi`` for these settings (its calls time out: :func:`install_timeouts`)."""
    from huggingface_hub import HfApi

    install_timeouts()
    return HfApi(endpoint=opts.endpoint, token=opts.token)


def storage(opts: Options, repo_id: str) -> Path:
    """The HF cache folder of ``repo_id``."""
    return Path(opts.cache_dir) / f"models--{repo_id.replace('/', '--')}"
