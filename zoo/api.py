"""The public functions: list, create, save, load, download and push models.

A façade: each function composes the layers below it (:mod:`zoo.plugins` and
:mod:`zoo.building` for names and models, :mod:`zoo.serialization` for the model-directory
format, :mod:`zoo.loading` and :mod:`zoo.hub` for files, :mod:`zoo.cards` for model cards) and
holds no logic of its own. Nothing below imports this module.

``FORMAT_VERSION``, ``CONFIG_FILE``, ``WEIGHTS_FILE``, ``HUB_PREFIX``, :func:`build` and
:func:`call_variant` are re-exported from where they live; :func:`load_directory` and
:func:`model_kind` are deprecated shims (see CHANGELOG.md).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from zoo import building, loading, serialization
from zoo._env import zoo_version
from zoo.building import build, call_variant
from zoo.cards import write_card
from zoo.config import Config
from zoo.hub import HUB_PREFIX
from zoo.hub import download as hub_download
from zoo.hub.push import push as hub_push
from zoo.plugins import get_manager, manager_for
from zoo.serialization import CONFIG_FILE, FORMAT_VERSION, WEIGHTS_FILE
from zoo.specs import VariantSpec

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "HUB_PREFIX",
    "WEIGHTS_FILE",
    "build",
    "call_variant",
    "create",
    "download",
    "get_variant",
    "list_models",
    "list_pretrained",
    "list_variants",
    "load",
    "push",
    "save",
    "zoo_version",
]


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of all variants and pretrained models matching an fnmatch ``pattern``."""
    return get_manager().registry.list_models(pattern)


def list_variants() -> list[str]:
    """Sorted names of the registered model variants."""
    return sorted(get_manager().registry.variants)


def list_pretrained() -> list[str]:
    """Sorted names of the registered pretrained models."""
    return sorted(get_manager().registry.pretrained)


def get_variant(name: str) -> VariantSpec:
    """The :class:`VariantSpec` registered as ``name`` (error lists close matches)."""
    return manager_for(name, "variant").registry.get_variant(name)


def create(name: str, *, seed: int = 0, config: Config | None = None, **overrides: Any) -> Any:
    """A new, untrained model of a variant (or of a pretrained model's architecture).

    Args:
        name: variant name (``"vqvae"``) or pretrained name (its config is used, not its weights).
        seed: seed of the parameter initialisation.
        config: a full config to start from instead of the default.
        **overrides: config fields to change, type-checked (``latent_dim=8``).
    """
    return building.create(name, seed=seed, config=config, **overrides)


def save(
    model: Any, directory: str | os.PathLike[str], *, card: dict[str, Any] | None = None
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``directory``, and with ``card`` (a
    dict of metadata and measured metrics, see :mod:`zoo.cards`) the ``README.md`` model card.

    The directory is replaced as a whole (a new one is staged beside it, then swapped in): a
    process killed at any moment leaves the previous model or the new one, never a mix; a
    previous card is dropped unless a new one is given; other files in the directory are kept.
    Returns the directory. The model must come from :func:`create` or :func:`load`.
    """
    def write_the_card(staging: Path) -> None:
        if card is not None:
            write_card(staging, card)

    return serialization.write_dir(model, directory, building.model_meta(model),
                                   extra=write_the_card)


def load(
    name: str | os.PathLike[str],
    *,
    revision: str | None = None,
    local_files_only: bool = False,
    cast_dtype: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> Any:
    """Load trained weights: a local directory (a run directory gives its ``best/``), a
    pretrained name, or ``"hf-hub:org/repo[@rev]"``.

    A path that exists is always loaded as that directory. A pretrained name is resolved from its
    bundled copy, the Hugging Face cache, then the Hub (see :mod:`zoo.hub.resolve`), every file
    checked against its recorded sha256. ``revision`` overrides the pinned revision (or the one
    in an ``hf-hub:`` reference); ``local_files_only`` (or ``HF_HUB_OFFLINE=1``) never touches
    the network; ``cache_dir``, ``endpoint`` and ``token`` default to ``HF_HUB_CACHE``,
    ``HF_ENDPOINT`` and ``HF_TOKEN``. The model comes back in eval mode with ``model.config``.
    """
    return loading.load(name, revision=revision, local_files_only=local_files_only,
                        cast_dtype=cast_dtype, cache_dir=cache_dir, endpoint=endpoint,
                        token=token)


def download(
    name: str,
    revision: str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    force: bool = False,
) -> Path:
    """Fetch a pretrained name or ``"hf-hub:org/repo[@rev]"`` into the Hugging Face cache, so that
    :func:`load` works offline later; returns the snapshot directory (files hash-checked).
    ``force`` downloads again, e.g. after a hash mismatch."""
    return hub_download(name, revision, cache_dir=cache_dir, endpoint=endpoint, token=token,
                        force=force)


def push(
    model_or_directory: Any,
    repo_id: str,
    *,
    revision: str | None = None,
    create_pr: bool = False,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    card: dict[str, Any] | None = None,
    commit_message: str | None = None,
) -> str:
    """Publish a model, a directory :func:`save` wrote, or a run directory (its ``best/``) to
    the Hub as ``model.safetensors``, ``config.json`` and a ``README.md`` card, in one commit.

    ``card`` is a dict of metadata and measured metrics (:func:`zoo.cards.card_from_eval`); without
    it the directory's own README.md is used. A model without a card, or a card without metrics,
    is refused. Creates the repo (``private``) if needed; ``revision`` is the branch (created from
    main if missing); ``create_pr`` opens a pull request instead of committing to the branch.

    Returns the commit sha to pin (a ``str`` with ``.changed``, ``.pr_revision``, ``.pr_url``).
    An unchanged model makes no commit and returns the branch's head sha.
    """
    return hub_push(model_or_directory, repo_id, revision=revision, create_pr=create_pr,
                    private=private, token=token, endpoint=endpoint, card=card,
                    commit_message=commit_message)


def load_directory(directory: str | os.PathLike[str], *, cast_dtype: bool = False,
                   label: str | None = None) -> Any:
    """Deprecated: use :func:`load` (a directory loads as that directory)."""
    _deprecated("zoo.api.load_directory", "zoo.load(directory)")
    return serialization.load_dir(directory, building.constructor_from_meta,
                                  cast_dtype=cast_dtype, label=label)


def model_kind(model: Any) -> str | None:
    """Deprecated: use ``zoo.building.spec_of(model)`` and read its ``kind`` / ``latent``."""
    _deprecated("zoo.api.model_kind", "zoo.building.spec_of(model).kind")
    spec = building.spec_of(model)
    return None if spec is None else spec.kind


_warned: set[str] = set()


def _deprecated(old: str, new: str) -> None:
    if old not in _warned:
        _warned.add(old)
        warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)
