"""The spec of a pretrained model (hook ``zoo_register_pretrained``): where its weights live
and the hashes that pin them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from zoo.errors import PluginError
from zoo.names import BUNDLED, REPO_ID, SHA1, SHA256
from zoo.specs._common import check_name

__all__ = ["PretrainedSpec"]


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """A pretrained model a plugin declares.

    Attributes:
        name: registry name, e.g. ``"vqvae-mnist"``.
        variant: the variant it instantiates.
        config: overrides applied to the variant's default config (JSON-ready values).
        repo_id: Hugging Face Hub repository, ``"org/name"``.
        revision: the pinned commit sha (40 hex digits) of ``repo_id`` the weights come from, or
            ``""`` for an entry not published on the Hub yet: it is then found only in a local
            directory, its bundled copy or the HF cache, and a Hub fetch reads the default
            branch, whose files must still match ``files``' sha256 (the hashes pin the content).
        files: file name -> sha256 hex digest of every file the model needs.
        license: SPDX licence identifier of the weights.
        dataset: the dataset the weights were trained on.
        description: one line for listings.
        bundled: where a copy of the files ships inside the plugin's distribution, as a package
            resource ``"package:relative/dir"`` (e.g. ``"zoo_vqvae:pretrained/vqvae-mnist"``);
            found with importlib.resources and preferred to the HF cache and the Hub.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    variant: str
    config: Mapping[str, Any]
    repo_id: str
    revision: str
    files: Mapping[str, str]
    license: str
    dataset: str
    description: str = ""
    bundled: str = ""
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        check_name("pretrained model", self.name)
        if self.bundled and (not BUNDLED.match(self.bundled)
                             or ".." in self.bundled.partition(":")[2].split("/")):
            raise PluginError(
                f"pretrained {self.name!r}: bundled must look like 'package:relative/dir' "
                f"(e.g. 'zoo_vqvae:pretrained/vqvae-mnist'), got {self.bundled!r}"
            )
        if not REPO_ID.match(self.repo_id or ""):
            raise PluginError(f"pretrained {self.name!r}: repo_id must look like 'org/name'")
        if self.revision and not SHA1.match(self.revision):
            raise PluginError(
                f"pretrained {self.name!r}: revision must be a pinned 40-hex commit sha (or '' "
                f"for an entry not on the Hub yet), got {self.revision!r}"
            )
        if "model.safetensors" not in self.files or "config.json" not in self.files:
            raise PluginError(
                f"pretrained {self.name!r}: files must list model.safetensors and config.json"
            )
        for fname, digest in self.files.items():
            if not SHA256.match(str(digest)):
                raise PluginError(
                    f"pretrained {self.name!r}: sha256 of {fname!r} must be 64 lowercase hex "
                    f"digits, got {digest!r}"
                )
