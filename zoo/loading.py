"""Loading a trained model: where its files are (:func:`zoo.hub.resolve`), then the strict
read of the model directory (:func:`zoo.serialization.load_dir`) with the registry's builder.

Two downward calls and one registry lookup of the name; for a bundled model nothing heavier
than JAX and Flax is imported (no huggingface_hub).
"""

from __future__ import annotations

import os
from typing import Any

from zoo import serialization
from zoo.building import constructor_from_meta
from zoo.hub.resolve import resolve

__all__ = ["load"]


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
    """A trained model in eval mode, from a directory, a run directory (its ``best/``), a
    pretrained name or ``"hf-hub:org/repo[@rev]"``; see :func:`zoo.load`."""
    resolved, label = resolve(name, revision=revision, local_files_only=local_files_only,
                              cache_dir=cache_dir, endpoint=endpoint, token=token)
    model = serialization.load_dir(resolved.directory, constructor_from_meta,
                                   cast_dtype=cast_dtype, label=label)
    if label is not None:
        model.zoo_source = resolved.source
    return model
