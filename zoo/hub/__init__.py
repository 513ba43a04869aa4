"""Pretrained weights and the Hugging Face Hub: where model files come from, how they are
checked, and how they are published.

| module | job |
|---|---|
| :mod:`zoo.hub.errors` | :class:`HubError`, :class:`HashMismatchError`, HTTP failures translated |
| :mod:`zoo.hub.client` | the settings of a call (endpoint, token, cache, offline), the client |
| :mod:`zoo.hub.hashing` | files checked against an entry's sha256 or the Hub's own ids |
| :mod:`zoo.hub.resolve` | the one function that decides where a name's files come from |
| :mod:`zoo.hub.download` | the HF cache and the Hub: fetch, offline fallback, ``hf-hub:`` refs |
| :mod:`zoo.hub.push` | ``zoo.push``: stage a model with its card, upload in one commit |

Importing this package imports no huggingface_hub; it is imported when the cache or the Hub is
actually consulted (never for a bundled model).
"""

from zoo.hashing import git_blob_sha1, sha256_file
from zoo.hub.client import Resolved
from zoo.hub.download import HUB_PREFIX, download, fetch_hub_ref, parse_hub_ref
from zoo.hub.errors import HashMismatchError, HubError
from zoo.hub.resolve import bundled_files, resolve, resolve_pretrained

__all__ = ["HUB_PREFIX", "HashMismatchError", "HubError", "Resolved", "bundled_files",
           "download", "fetch_hub_ref", "git_blob_sha1", "parse_hub_ref", "resolve",
           "resolve_pretrained", "sha256_file"]
