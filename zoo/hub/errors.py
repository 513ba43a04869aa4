"""The Hub's errors, and the translation of huggingface_hub / HTTP failures into them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from zoo.errors import CorruptWeightsError, ZooError

__all__ = ["OFFLINE_HINT", "HashMismatchError", "HubError", "hub_errors"]

OFFLINE_HINT = ("to work offline, fetch it beforehand with `zoo download NAME` (or "
                "zoo.download) while online, then set HF_HUB_OFFLINE=1 or pass "
                "local_files_only=True")


class HubError(ZooError):
    """The Hub could not give what was asked (unreachable, missing repo/revision/file, token)."""


class HashMismatchError(CorruptWeightsError):
    """A file whose sha256 is not the one recorded for it."""


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None, endpoint: str) -> Iterator[None]:
    """Turn huggingface_hub and httpx errors into :class:`HubError` that say what to do."""
    import httpx2
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision or 'main'} on {endpoint}"
    try:
        yield
    except RevisionNotFoundError:
        raise HubError(f"revision {revision!r} does not exist in Hub repository {repo_id!r} "
                       f"({endpoint}); check the branch, tag or commit sha") from None
    except RepositoryNotFoundError:
        raise HubError(f"Hub repository {repo_id!r} not found on {endpoint} (or it is "
                       "private and your token cannot see it): check the name, and set "
                       "HF_TOKEN (or token=) for a private repository") from None
    except EntryNotFoundError as exc:
        raise HubError(f"{where} lacks a file zoo needs ({exc}); it may not have been "
                       "published with `zoo push`") from None
    except (httpx2.ConnectError, httpx2.TimeoutException, OfflineModeIsEnabled) as exc:
        raise HubError(f"the Hub at {endpoint} cannot be reached ({type(exc).__name__}: "
                       f"{exc}); {OFFLINE_HINT}") from None
    except httpx2.TransportError as exc:  # cut off mid-answer, wrong length, reset
        raise HubError(f"the download of {where} was incomplete: the connection broke off "
                       f"({type(exc).__name__}: {exc}). Nothing broken was kept; try again "
                       "(a partial file is resumed), or work offline: "
                       f"{OFFLINE_HINT}") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status == 401:
            raise HubError(f"the Hub at {endpoint} rejected the token (401) for "
                           f"{repo_id!r}: check HF_TOKEN / token= (`hf auth whoami`), or unset "
                           "it to read a public repository") from None
        if status == 403:
            raise HubError(f"the token may not do this on {repo_id!r} (403 Forbidden): use a "
                           "token with write access to that namespace") from None
        if status == 412:
            raise HubError(f"{where} changed while pushing (412); push again") from None
        raise HubError(f"the Hub answered {status} for {where}: {exc}") from None
