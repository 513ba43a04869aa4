"""The shapes of identifiers zoo accepts: registry names, Hub repo ids, commit shas, sha256
digests and bundled-resource locations. One regular expression each, used by every layer."""

from __future__ import annotations

import re

__all__ = ["BUNDLED", "NAME", "REPO_ID", "SHA1", "SHA256"]

#: A registry name (variant, pretrained model, dataset, preset): ``beta-vae``, ``vqvae-mnist``.
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: A Hugging Face Hub repository id, ``org/name``.
REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
#: A git commit sha or git blob id: 40 lowercase hex digits.
SHA1 = re.compile(r"^[0-9a-f]{40}$")
#: A sha256 digest: 64 lowercase hex digits.
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A package resource directory, ``package:relative/dir`` (``zoo_vqvae:pretrained/vqvae-mnist``).
BUNDLED = re.compile(r"^[A-Za-z_][\w.]*:[\w.-]+(/[\w.-]+)*$")
