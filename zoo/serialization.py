"""The model-directory format: what :func:`zoo.save` writes and :func:`zoo.load` reads.

A model directory holds::

    model.safetensors   every NNX variable but RNG state, keyed by its state path (zoo.checkpoint)
    config.json         {"format_version", "zoo_version", "variant", "plugin",
                         "plugin_distribution", "plugin_version", "config"}
    README.md           optional: the model card (zoo.cards)

This module knows the format and nothing about plugins: :func:`load_dir` takes the builder that
turns a ``config.json`` into a model constructor as an argument (the registry layer provides
one, :func:`zoo.building.constructor_from_meta`), so the formats layer never imports the
registry. Loading is strict: the model is built abstractly (``nnx.eval_shape``), then filled
after a key, shape and dtype check that reports every mismatch at once.

JAX and Flax are imported when weights are read or written, not when this module is imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text, recover_dir, writing_dir
from zoo.errors import CorruptWeightsError, ZooError

__all__ = ["CARD_FILE", "CONFIG_FILE", "FORMAT_VERSION", "WEIGHTS_FILE", "Constructor",
           "load_dir", "read_meta", "write_dir", "write_files"]

#: Version of the on-disk layout (config.json + model.safetensors).
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
#: A config.json larger than this is refused unread (zoo writes a few kB).
MAX_CONFIG_BYTES = 1 << 20

#: ``builder(meta, label) -> constructor``: resolves a config.json (variant, config) into a
#: zero-argument function that builds the model; raising a :class:`ZooError` when it cannot.
Constructor = Callable[[Mapping[str, Any], str], Callable[[], Any]]


def write_files(model: Any, directory: str | os.PathLike[str], meta: Mapping[str, Any]) -> Path:
    """Write ``model``'s weights and ``meta`` (the config.json object) into ``directory``, a
    directory being staged (each file atomically, not the pair: see :func:`write_dir`)."""
    from zoo.checkpoint import save_weights  # imports JAX

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(model, directory / WEIGHTS_FILE, metadata={"variant": str(meta["variant"])})
    atomic_write_text(directory / CONFIG_FILE, json.dumps(dict(meta), indent=2) + "\n")
    return directory


def write_dir(model: Any, directory: str | os.PathLike[str], meta: Mapping[str, Any], *,
              extra: Callable[[Path], None] | None = None,
              owned: Collection[str] = (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE)) -> Path:
    """Save ``model`` into ``directory`` as a whole: its weights, ``meta`` (config.json) and
    what ``extra(staging directory)`` writes (a card, a record) appear together or not at all,
    so a process killed at any moment leaves the old model or the new one, never new weights
    with an old config (:func:`zoo._io.writing_dir`). Files of ``directory`` not named in
    ``owned`` (the user's own) are kept. Returns the directory."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ZooError(f"cannot save into {str(directory)!r}: it exists and is not a directory")
    with writing_dir(directory, owned=owned) as tmp:
        write_files(model, tmp, meta)
        if extra is not None:
            extra(tmp)
    return directory


def read_meta(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory, checked for the entries zoo writes."""
    recover_dir(directory)  # a zoo.save killed mid-swap: its previous model comes back
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ZooError(
            f"{str(Path(directory))!r} is not a zoo model directory: {CONFIG_FILE} is missing "
            "(zoo.save writes one)"
        )
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise CorruptWeightsError(f"{str(path)!r} is {path.stat().st_size:,} bytes; a zoo "
                                  f"config.json is a few kB (at most {MAX_CONFIG_BYTES:,})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CorruptWeightsError(f"{str(path)!r} is not valid JSON ({why})") from None
    if not isinstance(meta, dict) or "variant" not in meta or "config" not in meta:
        raise CorruptWeightsError(
            f"{str(path)!r} lacks the 'variant' and 'config' entries zoo.save writes"
        )
    if not isinstance(meta["variant"], str) or not meta["variant"]:
        raise CorruptWeightsError(f"{str(path)!r}: 'variant' must be a variant name (a "
                                  f"string), got {type(meta['variant']).__name__}")
    if not isinstance(meta["config"], dict):
        raise CorruptWeightsError(f"{str(path)!r}: 'config' must be an object of settings, got "
                                  f"{type(meta['config']).__name__}")
    fmt = meta.get("format_version", FORMAT_VERSION)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise CorruptWeightsError(f"{str(path)!r}: format_version must be a positive integer, "
                                  f"got {fmt!r}; the file is damaged or was not written by zoo")
    if fmt > FORMAT_VERSION:
        raise ZooError(
            f"{str(path)!r} has format_version {fmt!r}; this zoo reads up to {FORMAT_VERSION}. "
            "Upgrade zoo (pip install -U vae-zoo)"
        )
    return meta


def load_dir(
    directory: str | os.PathLike[str],
    builder: Constructor,
    *,
    cast_dtype: bool = False,
    label: str | None = None,
) -> Any:
    """Load the model a directory holds, strictly, in eval mode.

    Args:
        builder: resolves the directory's config.json into a model constructor (see
            :data:`Constructor`); called before the weights are read, so an unknown variant is
            reported before a damaged weights file.
        cast_dtype: cast tensors to the model's dtypes instead of refusing a dtype mismatch.
        label: how errors name the model (default: its config.json path).
    """
    from flax import nnx  # imports JAX

    from zoo.checkpoint import load_weights, read_safetensors

    directory = Path(directory)
    meta = read_meta(directory)
    make = builder(meta, label or repr(str(directory / CONFIG_FILE)))
    tensors = read_safetensors(directory / WEIGHTS_FILE)
    model = nnx.eval_shape(make)
    load_weights(model, tensors, cast_dtype=cast_dtype, source=str(directory / WEIGHTS_FILE))
    model.eval()
    return model
