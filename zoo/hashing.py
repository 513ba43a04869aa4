"""File digests: sha256 (what zoo pins) and the git blob sha1 (the Hub's id of a non-LFS file)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["git_blob_sha1", "sha256_file"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(path: str | os.PathLike[str]) -> str:
    """The git object id of a file's content (the Hub's ETag of a non-LFS file)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
