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

__all__ = ["git_blob_sha1", "sha256_file", "verify_cached_blob", "verify_spec"]


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


def verify_cached_blob(name: str, path: Path, fix: str) -> None:
    """A cached file's blob is named by its ETag: sha256 (LFS) or git blob sha1; check it."""
    etag = Path(os.path.realpath(path)).name
    if SHA256.match(etag):
        actual = sha256_file(path)
    elif SHA1.match(etag):
        actual = git_blob_sha1(path)
    else:
        return
    if actual != etag:
        kind = "sha256" if len(etag) == 64 else "git blob sha1"
        raise HashMismatchError(
            f"{name} in the HF cache ({str(path)!r}) has {kind} {actual}, but the Hub recorded "
            f"{etag}; the cached file is corrupted and was not used. {fix}"
        )
