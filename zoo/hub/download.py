"""Fetching model files from the Hub into the HF cache, and finding them there offline.

``"hf-hub:org/repo[@revision]"`` references have no registry entry: their files are checked
against the Hub's own hashes (the sha256 of LFS files, the git blob sha1 of the others). An
unreachable Hub falls back to what the cache holds for the revision asked for.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text
from zoo.hub.client import Options, Resolved, api, options, storage
from zoo.hub.errors import OFFLINE_HINT, HubError, hub_errors
from zoo.hub.hashing import blob_etag, verify_cached_blob, verify_spec
from zoo.names import REPO_ID, SHA1
from zoo.plugins import manager_for
from zoo.serialization import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE
from zoo.specs import PretrainedSpec

__all__ = ["HUB_PREFIX", "download", "fetch_hub_ref", "hub_files", "parse_hub_ref"]

HUB_PREFIX = "hf-hub:"


def parse_hub_ref(ref: str) -> tuple[str, str | None]:
    """``"hf-hub:org/repo[@revision]"`` -> ``("org/repo", revision or None)``."""
    body = ref[len(HUB_PREFIX):] if ref.startswith(HUB_PREFIX) else ref
    repo_id, _, revision = body.partition("@")
    if not REPO_ID.match(repo_id):
        raise HubError(f"{ref!r} is not a Hub reference; write 'hf-hub:org/repo' or "
                       "'hf-hub:org/repo@revision'")
    return repo_id, revision or None


def _from_cache(repo_id: str, revision: str, names: list[str], optional: set[str],
                opts: Options) -> dict[str, Path] | None:
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


def _fetch(repo_id: str, revision: str, names: list[str], optional: set[str], opts: Options,
           *, force: bool = False) -> tuple[str, dict[str, Path], bool]:
    """Download repo@revision's files into the HF cache; return (commit, paths, from_cache):
    an unreachable Hub falls back to what the cache holds for ``revision``."""
    import httpx2
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    with hub_errors(repo_id, revision, opts.endpoint):
        try:
            sha = api(opts).model_info(repo_id, revision=revision).sha
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
        ref = storage(opts, repo_id) / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(sha)
    return sha, out, False


def hub_files(repo_id: str, revision: str, names: list[str], optional: set[str],
              opts: Options, *, force: bool = False) -> tuple[Resolved, bool]:
    """Cache first for a commit sha or when offline, else the Hub; (resolved, from_cache)."""
    if not force and (opts.offline or SHA1.match(revision)):
        cached = _from_cache(repo_id, revision, names, optional, opts)
        if cached is not None:
            return Resolved(cached, "HF cache", repo_id, revision), True
        if opts.offline:
            raise HubError(f"{repo_id}@{revision} is not in the HF cache ({opts.cache_dir}) and "
                           "zoo is offline (HF_HUB_OFFLINE=1 or local_files_only=True); "
                           f"{OFFLINE_HINT}")
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
    opts = options(endpoint, token, cache_dir, local_files_only)
    resolved, _ = hub_files(repo_id, revision or ref_revision or "main",
                            [WEIGHTS_FILE, CONFIG_FILE, CARD_FILE], {CARD_FILE}, opts,
                            force=force)
    fix = f"Fetch it again with `zoo download {ref} --force`."
    record = _hash_record(opts, repo_id, resolved.directory.name)
    known = _read_record(record)
    for name, path in resolved.files.items():
        if resolved.source == "Hub" and blob_etag(path) is None and name not in known:
            known[name] = _hub_etag(repo_id, name, resolved.revision, opts)
        verify_cached_blob(name, path, fix, known.get(name))
    if resolved.source == "Hub":  # checked: note the ids for later loads of this snapshot
        ids = {name: blob_etag(path) or known[name] for name, path in resolved.files.items()}
        if ids != known:  # unchanged after the first load: no write
            _write_record(record, ids)
    return resolved


def _hash_record(opts: Options, repo_id: str, commit: str) -> Path:
    """Where zoo notes the Hub's ids of a snapshot's files, so that a copy of the cache without
    symlinks can still be checked offline."""
    return storage(opts, repo_id) / "zoo-hashes" / f"{commit}.json"


def _read_record(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def _write_record(path: Path, ids: dict[str, str]) -> None:
    with contextlib.suppress(OSError):  # a read-only cache: the symlinks still say it
        atomic_write_text(path, json.dumps(ids, indent=2, sort_keys=True) + "\n")


def _hub_etag(repo_id: str, name: str, commit: str | None, opts: Options) -> str:
    """The Hub's id of a file (its ETag: sha256 for LFS files, git blob sha1 otherwise)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, name, revision=commit, endpoint=opts.endpoint)
    with hub_errors(repo_id, commit, opts.endpoint):
        return str(get_hf_file_metadata(url, token=opts.token).etag or "")


def pinned_files(spec: PretrainedSpec, opts: Options, fix: str, *,
                 force: bool = False) -> Resolved:
    """A pretrained entry's files at its pinned revision, from the HF cache or the Hub,
    checked against the entry's sha256."""
    resolved, from_cache = hub_files(spec.repo_id, spec.revision or "main", list(spec.files),
                                     set(), opts, force=force)
    verify_spec(resolved.files, spec, "HF cache" if from_cache else "Hub", fix)
    return resolved


def download(name_or_ref: str, revision: str | None = None, *, cache_dir: Any = None,
             endpoint: str | None = None, token: str | None = None,
             force: bool = False) -> Path:
    """Fetch a pretrained name or ``"hf-hub:..."`` into the HF cache for offline use; return
    the snapshot directory. ``force`` downloads again (e.g. after a hash mismatch)."""
    if name_or_ref.startswith(HUB_PREFIX):
        return fetch_hub_ref(name_or_ref, revision=revision, cache_dir=cache_dir,
                             endpoint=endpoint, token=token, force=force).directory
    spec = manager_for(name_or_ref, "pretrained").registry.get_pretrained(name_or_ref)
    if revision and revision != spec.revision:
        return fetch_hub_ref(f"{HUB_PREFIX}{spec.repo_id}", revision=revision,
                             cache_dir=cache_dir, endpoint=endpoint, token=token,
                             force=force).directory
    opts = options(endpoint, token, cache_dir, False)
    return pinned_files(spec, opts, f"Fetch it again with `zoo download {spec.name} --force`.",
                        force=force).directory
