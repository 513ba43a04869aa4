"""Checking model files against the hashes that pin them: a pretrained entry's sha256, or the
Hub's own id of a cached file (sha256 for LFS files, git blob sha1 for the others)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from zoo.hashing import git_blob_sha1, sha256_file
from zoo.hub.errors import HashMismatchError
from zoo.names import SHA1, SHA256
from zoo.specs import PretrainedSpec

__all__ = ["blob_etag", "git_blob_sha1", "sha256_file", "verify_cached_blob", "verify_spec"]


def verify_spec(files: Mapping[str, Path], spec: PretrainedSpec, source: str, fix: str) -> None:
    """Every file of ``spec`` against its recorded sha256; the first mismatch is an error."""
    for name, expected in spec.files.items():
        actual = sha256_file(files[name])
        if actual != expected:
            raise HashMismatchError(
                f"{name} from the {source} ({str(files[name])!r}) has sha256 {actual}, but "
                f"{expected} was expected; the file is corrupted or was replaced and was not "
                f"used. {fix}"
            )


def blob_etag(path: Path) -> str | None:
    """The Hub's id of a cached file when the cache says it: the name of the hash-named blob
    the snapshot file links to (None for a regular file: a cache without symlinks, or one
    copied with ``cp -L``)."""
    etag = Path(os.path.realpath(path)).name
    return etag if SHA256.match(etag) or SHA1.match(etag) else None


def verify_cached_blob(name: str, path: Path, fix: str, recorded: str | None = None) -> None:
    """Check a cached file against the Hub's id of it: sha256 (LFS files) or git blob sha1,
    read from the blob it links to, else ``recorded`` (what zoo noted when it downloaded the
    file). A file with neither cannot be checked and is refused."""
    etag = blob_etag(path) or recorded
    if etag is None or not (SHA256.match(etag) or SHA1.match(etag)):
        raise HashMismatchError(
            f"{name} in the HF cache ({str(path)!r}) cannot be checked: it is not a link to a "
            "hash-named blob (a cache without symlinks, or one copied with cp -L) and zoo "
            f"holds no record of its hash, so it was not used. {fix}"
        )
    actual = sha256_file(path) if SHA256.match(etag) else git_blob_sha1(path)
    if actual != etag:
        kind = "sha256" if len(etag) == 64 else "git blob sha1"
        raise HashMismatchError(
            f"{name} in the HF cache ({str(path)!r}) has {kind} {actual}, but the Hub recorded "
            f"{etag}; the cached file is corrupted and was not used. {fix}"
        )
