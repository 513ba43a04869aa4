"""Pretrained weights: where they come from, how they are checked (publishing: zoo.publish).

Resolution order of a pretrained name (:func:`resolve_pretrained`, the only place it is decided):

1. an explicit local directory: ``zoo.load(PATH)`` loads ``PATH`` itself (a path always wins over
   a name), and ``resolve_pretrained(spec, local_dir=PATH)`` takes the entry's files from ``PATH``;
2. the copy bundled inside the plugin's distribution (``PretrainedSpec.bundled``, a package
   resource ``"package:dir"``) - the offline default;
3. the Hugging Face cache, at the entry's pinned revision (no network);
4. the Hub, unless offline (``HF_HUB_OFFLINE=1`` or ``local_files_only=True``).

An entry not yet published on the Hub has ``revision=""``: steps 3 and 4 then read the
repository's default branch, and the recorded sha256 still decide whether its files are used.

Every file is checked against the entry's sha256 whichever source gave it; a mismatch is a
:class:`HashMismatchError` naming the file and both hashes, and the file is never used. A source
that lacks the files is skipped; a source that has them with the wrong content is an error.

``"hf-hub:org/repo[@revision]"`` references have no registry entry: their files are checked
against the Hub's own hashes (the sha256 of LFS files, the git blob sha1 of the others).

The Hub is reached with huggingface_hub, honouring ``HF_ENDPOINT``, ``HF_TOKEN``,
``HF_HUB_OFFLINE`` and ``HF_HUB_CACHE`` (read at call time here; ``endpoint`` is always passed
explicitly, since huggingface_hub reads ``HF_ENDPOINT`` only at import).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from zoo.errors import CorruptWeightsError, ZooError
from zoo.registry import PretrainedSpec

__all__ = ["HUB_PREFIX", "HashMismatchError", "HubError", "Resolved", "download", "fetch_hub_ref",
           "git_blob_sha1", "parse_hub_ref", "resolve_pretrained", "sha256_file"]

HUB_PREFIX = "hf-hub:"
CONFIG_FILE, WEIGHTS_FILE, CARD_FILE = "config.json", "model.safetensors", "README.md"
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OFFLINE_HINT = ("to work offline, fetch it beforehand with `zoo download NAME` (or "
                 "zoo.download) while online, then set HF_HUB_OFFLINE=1 or pass "
                 "local_files_only=True")


class HubError(ZooError):
    """The Hub could not give what was asked (unreachable, missing repo/revision/file, token)."""


class HashMismatchError(CorruptWeightsError):
    """A file whose sha256 is not the one recorded for it."""


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


# -- settings --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Options:
    endpoint: str
    token: str | None
    cache_dir: str
    offline: bool


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _options(endpoint: str | None, token: str | None, cache_dir: Any,
             local_files_only: bool) -> _Options:
    from huggingface_hub import constants

    if cache_dir is None:
        cache_dir = os.environ.get("HF_HUB_CACHE") or (
            os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME")
            else constants.HF_HUB_CACHE)
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    offline = bool(local_files_only or _env_true("HF_HUB_OFFLINE") or constants.HF_HUB_OFFLINE)
    return _Options(endpoint, token, os.fspath(cache_dir), offline)


def _api(opts: _Options) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=opts.endpoint, token=opts.token)


# -- hashes ----------------------------------------------------------------------------------------
def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(path: str | os.PathLike[str]) -> str:
    """The git object id of a file's content (the Hub's ETag of a non-LFS file)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _mismatch(name: str, path: Path, expected: str, actual: str, source: str, fix: str) -> None:
    raise HashMismatchError(
        f"{name} from the {source} ({str(path)!r}) has sha256 {actual}, but {expected} was "
        f"expected; the file is corrupted or was replaced and was not used. {fix}"
    )


def _verify_spec(files: Mapping[str, Path], spec: PretrainedSpec, source: str, fix: str) -> None:
    for name, expected in spec.files.items():
        actual = sha256_file(files[name])
        if actual != expected:
            _mismatch(name, files[name], expected, actual, source, fix)


def _verify_cached_blob(name: str, path: Path, fix: str) -> None:
    """A cached file's blob is named by its ETag: sha256 (LFS) or git blob sha1; check it."""
    etag = Path(os.path.realpath(path)).name
    if _SHA256.match(etag):
        actual = sha256_file(path)
    elif _SHA1.match(etag):
        actual = git_blob_sha1(path)
    else:
        return
    if actual != etag:
        kind = "sha256" if len(etag) == 64 else "git blob sha1"
        raise HashMismatchError(
            f"{name} in the HF cache ({str(path)!r}) has {kind} {actual}, but the Hub recorded "
            f"{etag}; the cached file is corrupted and was not used. {fix}"
        )


# -- errors ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def _hub_errors(repo_id: str, revision: str | None, opts: _Options) -> Iterator[None]:
    """Turn huggingface_hub and httpx errors into :class:`HubError` that say what to do."""
    import httpx2
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision or 'main'} on {opts.endpoint}"
    try:
        yield
    except RevisionNotFoundError:
        raise HubError(f"revision {revision!r} does not exist in Hub repository {repo_id!r} "
                       f"({opts.endpoint}); check the branch, tag or commit sha") from None
    except RepositoryNotFoundError:
        raise HubError(f"Hub repository {repo_id!r} not found on {opts.endpoint} (or it is "
                       "private and your token cannot see it): check the name, and set "
                       "HF_TOKEN (or token=) for a private repository") from None
    except EntryNotFoundError as exc:
        raise HubError(f"{where} lacks a file zoo needs ({exc}); it may not have been "
                       "published with `zoo push`") from None
    except (httpx2.ConnectError, httpx2.TimeoutException, OfflineModeIsEnabled) as exc:
        raise HubError(f"the Hub at {opts.endpoint} cannot be reached ({type(exc).__name__}: "
                       f"{exc}); {_OFFLINE_HINT}") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status == 401:
            raise HubError(f"the Hub at {opts.endpoint} rejected the token (401) for "
                           f"{repo_id!r}: check HF_TOKEN / token= (`hf auth whoami`), or unset "
                           "it to read a public repository") from None
        if status == 403:
            raise HubError(f"the token may not do this on {repo_id!r} (403 Forbidden): use a "
                           "token with write access to that namespace") from None
        if status == 412:
            raise HubError(f"{where} changed while pushing (412); push again") from None
        raise HubError(f"the Hub answered {status} for {where}: {exc}") from None


# -- fetching --------------------------------------------------------------------------------------
def parse_hub_ref(ref: str) -> tuple[str, str | None]:
    """``"hf-hub:org/repo[@revision]"`` -> ``("org/repo", revision or None)``."""
    body = ref[len(HUB_PREFIX):] if ref.startswith(HUB_PREFIX) else ref
    repo_id, _, revision = body.partition("@")
    if not _REPO_ID.match(repo_id):
        raise HubError(f"{ref!r} is not a Hub reference; write 'hf-hub:org/repo' or "
                       "'hf-hub:org/repo@revision'")
    return repo_id, revision or None


def _storage(opts: _Options, repo_id: str) -> Path:
    return Path(opts.cache_dir) / f"models--{repo_id.replace('/', '--')}"


def _from_cache(repo_id: str, revision: str, names: list[str], optional: set[str],
                opts: _Options) -> dict[str, Path] | None:
    """The files of repo@revision if all required ones are in the HF cache, else None."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    out: dict[str, Path] = {}
    for name in names:
        try:
            out[name] = Path(hf_hub_download(repo_id, name, revision=revision,
                                             cache_dir=opts.cache_dir, local_files_only=True))
        except (EntryNotFoundError, FileNotFoundError):
            if name not in optional:
                return None
    return out


def _fetch(repo_id: str, revision: str, names: list[str], optional: set[str], opts: _Options,
           *, force: bool = False) -> tuple[str, dict[str, Path], bool]:
    """Download repo@revision's files into the HF cache; return (commit, paths, from_cache):
    an unreachable Hub falls back to what the cache holds for ``revision``."""
    import httpx2
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    with _hub_errors(repo_id, revision, opts):
        try:
            sha = _api(opts).model_info(repo_id, revision=revision).sha
        except (httpx2.ConnectError, httpx2.TimeoutException):
            cached = None if force else _from_cache(repo_id, revision, names, optional, opts)
            if cached is None:
                raise
            return revision, cached, True
        out: dict[str, Path] = {}
        for name in names:
            try:
                out[name] = Path(hf_hub_download(
                    repo_id, name, revision=sha, cache_dir=opts.cache_dir,
                    endpoint=opts.endpoint, token=opts.token, force_download=force))
            except EntryNotFoundError:
                if name not in optional:
                    raise HubError(
                        f"{repo_id}@{revision} on {opts.endpoint} has no {name}, which zoo "
                        "needs (model.safetensors and config.json, as `zoo push` publishes)"
                    ) from None
    if revision != sha:  # remember branch -> commit, so that offline loading finds it
        ref = _storage(opts, repo_id) / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(sha)
    return sha, out, False


def _hub_files(repo_id: str, revision: str, names: list[str], optional: set[str],
               opts: _Options, *, force: bool = False) -> tuple[Resolved, bool]:
    """Cache first for a commit sha or when offline, else the Hub; (resolved, from_cache)."""
    if not force and (opts.offline or _SHA1.match(revision)):
        cached = _from_cache(repo_id, revision, names, optional, opts)
        if cached is not None:
            return Resolved(cached, "HF cache", repo_id, revision), True
        if opts.offline:
            raise HubError(f"{repo_id}@{revision} is not in the HF cache ({opts.cache_dir}) and "
                           "zoo is offline (HF_HUB_OFFLINE=1 or local_files_only=True); "
                           f"{_OFFLINE_HINT}")
    sha, files, from_cache = _fetch(repo_id, revision, names, optional, opts, force=force)
    return Resolved(files, "HF cache" if from_cache else "Hub", repo_id, sha), from_cache


def fetch_hub_ref(ref: str, *, revision: str | None = None, local_files_only: bool = False,
                  cache_dir: Any = None, endpoint: str | None = None, token: str | None = None,
                  force: bool = False) -> Resolved:
    """The files of ``"hf-hub:org/repo[@revision]"`` (weights, config, card), hash-checked."""
    repo_id, ref_revision = parse_hub_ref(ref)
    if revision and ref_revision and revision != ref_revision:
        raise HubError(f"{ref!r} names revision {ref_revision!r} but revision={revision!r} "
                       "was passed too; give one")
    opts = _options(endpoint, token, cache_dir, local_files_only)
    resolved, _ = _hub_files(repo_id, revision or ref_revision or "main",
                             [WEIGHTS_FILE, CONFIG_FILE, CARD_FILE], {CARD_FILE}, opts,
                             force=force)
    fix = f"Fetch it again with `zoo download {ref} --force`."
    for name, path in resolved.files.items():
        _verify_cached_blob(name, path, fix)
    return resolved


def _bundled(spec: PretrainedSpec) -> dict[str, Path] | None:
    """The entry's files inside the plugin's distribution, or None when they are not there."""
    from importlib.resources import files

    if not spec.bundled:
        return None
    package, _, subdir = spec.bundled.partition(":")
    try:
        root = files(package).joinpath(*subdir.split("/"))
    except (ModuleNotFoundError, TypeError):
        return None
    out: dict[str, Path] = {}
    tmp: Path | None = None
    for name in spec.files:
        item = root.joinpath(name)
        if not item.is_file():
            return None
        if isinstance(item, Path):
            out[name] = item
        else:  # inside a zip: copy out
            tmp = tmp or Path(tempfile.mkdtemp(prefix=f"zoo-{spec.name}-"))
            (tmp / name).write_bytes(item.read_bytes())
            out[name] = tmp / name
    return out


def resolve_pretrained(spec: PretrainedSpec, *, revision: str | None = None,
                       local_files_only: bool = False, cache_dir: Any = None,
                       endpoint: str | None = None, token: str | None = None,
                       local_dir: str | os.PathLike[str] | None = None) -> Resolved:
    """The files of a pretrained entry, from the first source that has them (module docstring).

    ``revision`` other than the pinned one loads that revision of the entry's repository instead:
    the bundled copy and the entry's sha256 (which describe the pinned revision) do not apply,
    and the files are checked against the Hub's own hashes.
    """
    opts = _options(endpoint, token, cache_dir, local_files_only)
    names = list(spec.files)
    if revision and revision != spec.revision:
        return fetch_hub_ref(f"{HUB_PREFIX}{spec.repo_id}", revision=revision,
                             local_files_only=local_files_only, cache_dir=opts.cache_dir,
                             endpoint=opts.endpoint, token=token)
    fix = (f"Delete it, or fetch it again with `zoo download {spec.name} --force`, and check "
           "where it came from.")
    if local_dir is not None:
        files = {n: Path(local_dir) / n for n in names}
        missing = [n for n, p in files.items() if not p.is_file()]
        if missing:
            raise ZooError(f"{str(local_dir)!r} lacks {', '.join(missing)} of {spec.name!r}")
        _verify_spec(files, spec, "local directory", fix)
        return Resolved(files, "local directory", spec.repo_id, spec.revision)
    bundled = _bundled(spec)
    if bundled is not None:
        _verify_spec(bundled, spec, f"copy bundled in {spec.bundled}",
                     f"Reinstall the plugin that provides {spec.name!r} ({spec.plugin}).")
        return Resolved(bundled, "bundled", spec.repo_id, spec.revision)
    resolved, from_cache = _hub_files(spec.repo_id, spec.revision or "main", names, set(), opts)
    _verify_spec(resolved.files, spec, "HF cache" if from_cache else "Hub", fix)
    return resolved


def download(name_or_ref: str, revision: str | None = None, *, cache_dir: Any = None,
             endpoint: str | None = None, token: str | None = None,
             force: bool = False) -> Path:
    """Fetch a pretrained name or ``"hf-hub:..."`` into the HF cache for offline use; return
    the snapshot directory. ``force`` downloads again (e.g. after a hash mismatch)."""
    from zoo.plugins import get_manager

    if name_or_ref.startswith(HUB_PREFIX):
        return fetch_hub_ref(name_or_ref, revision=revision, cache_dir=cache_dir,
                             endpoint=endpoint, token=token, force=force).directory
    spec = get_manager().registry.get_pretrained(name_or_ref)
    if revision and revision != spec.revision:
        return fetch_hub_ref(f"{HUB_PREFIX}{spec.repo_id}", revision=revision,
                             cache_dir=cache_dir, endpoint=endpoint, token=token,
                             force=force).directory
    opts = _options(endpoint, token, cache_dir, False)
    resolved, from_cache = _hub_files(spec.repo_id, spec.revision or "main", list(spec.files),
                                      set(), opts, force=force)
    _verify_spec(resolved.files, spec, "HF cache" if from_cache else "Hub",
                 f"Fetch it again with `zoo download {spec.name} --force`.")
    return resolved.directory
