"""NNX state <-> flat safetensors files, with a strict fit check.

Keys are NNX state paths joined with ``"."`` (``"encoder.head.layers.0.kernel"``). Every variable
is saved, trainable or not (EMA statistics included), except RNG state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from safetensors import SafetensorError, safe_open
from safetensors.flax import save as _st_save

from zoo._io import atomic_write_bytes
from zoo.errors import CorruptWeightsError, WeightsMismatchError

__all__ = ["flat_state", "load_weights", "read_safetensors", "save_weights"]

FORMAT = "zoo"
_SAVED = nnx.Not(nnx.RngState)


def _key(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def flat_state(model: nnx.Module) -> dict[str, nnx.Variable]:
    """Map ``"a.b.c"`` -> variable for every saved (non-RNG) variable of ``model``."""
    return {_key(path): var for path, var in nnx.to_flat_state(nnx.state(model, _SAVED))}


def save_weights(
    model: nnx.Module, path: str | os.PathLike[str], *, metadata: dict[str, str] | None = None
) -> Path:
    """Write the model's state to a safetensors file atomically; return the path."""
    tensors = {k: jnp.asarray(v.get_value()) for k, v in flat_state(model).items()}
    header = {"format": FORMAT, **(metadata or {})}
    return atomic_write_bytes(path, _canonical(_st_save(tensors, metadata=header)))


def _canonical(data: bytes) -> bytes:
    """The same bytes for the same tensors and metadata: safetensors writes ``__metadata__`` in
    hash-map order, so the header's keys are sorted (same length; offsets are unchanged)."""
    n = int.from_bytes(data[:8], "little")
    text = json.dumps(json.loads(data[8:8 + n]), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")
    if len(text) > n:  # cannot happen with serde's compact JSON; keep the original then
        return data
    return data[:8] + text + b" " * (n - len(text)) + data[8 + n:]


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, jax.Array]:
    """Read every tensor of a safetensors file; a damaged file is a :class:`CorruptWeightsError`.

    The file is read as NumPy arrays (each over its own copy of the bytes) and moved to the
    device in one ``jax.device_put``, which compiles nothing: safetensors' ``framework="flax"``
    calls ``jnp.array`` per tensor, which compiles a conversion for every distinct shape (it
    was most of the time of a fresh-process ``zoo.load``).
    """
    path = Path(path)
    if not path.is_file():
        raise CorruptWeightsError(f"weights file {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            arrays = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise CorruptWeightsError(
            f"weights file {str(path)!r} is truncated or corrupted ({exc}); re-download it or "
            "save the model again"
        ) from None
    return jax.device_put(arrays)


def _fresh_rng_value(sds: Any) -> jax.Array:
    if jnp.issubdtype(sds.dtype, jax.dtypes.prng_key):
        n = int(np.prod(sds.shape))
        return jax.random.split(jax.random.key(0), n).reshape(sds.shape)
    return jnp.zeros(sds.shape, sds.dtype)


def load_weights(
    model: nnx.Module,
    tensors: dict[str, jax.Array],
    *,
    cast_dtype: bool = False,
    source: str = "weights",
) -> nnx.Module:
    """Fill ``model`` (concrete or built by ``nnx.eval_shape``) with ``tensors`` in place.

    Every missing, unexpected, mis-shaped and (unless ``cast_dtype``) mis-typed key is collected
    and reported in one :class:`WeightsMismatchError`. With ``cast_dtype=True`` tensors are cast
    to the model's dtypes (e.g. bfloat16 weights into a float32 model).
    """
    expected = flat_state(model)
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes, dtypes = [], []
    for key in sorted(set(expected) & set(tensors)):
        want, got = expected[key].get_value(), tensors[key]
        if tuple(want.shape) != tuple(got.shape):
            shapes.append(f"{key}: file {tuple(got.shape)} vs model {tuple(want.shape)}")
        elif want.dtype != got.dtype and not cast_dtype:
            dtypes.append(f"{key}: file {got.dtype} vs model {want.dtype}")
    if missing or unexpected or shapes or dtypes:
        lines = [f"{source} do not fit the model:"]
        for title, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("mis-shaped", shapes),
            ("wrong dtype (pass cast_dtype=True to cast)", dtypes),
        ):
            if items:
                lines.append(f"  {title} ({len(items)}): " + "; ".join(items))
        lines.append(
            "  Check that the config matches the one the weights were trained with "
            "(config.json beside the weights)."
        )
        raise WeightsMismatchError("\n".join(lines))
    new_state = []
    for path, var in nnx.to_flat_state(nnx.state(model)):
        key = _key(path)
        if key in tensors:
            value = jnp.asarray(tensors[key], dtype=var.get_value().dtype)
        elif isinstance(var.get_value(), jax.ShapeDtypeStruct):
            value = _fresh_rng_value(var.get_value())
        else:
            continue
        new_state.append((path, var.replace(value)))
    nnx.update(model, nnx.from_flat_state(new_state))
    return model
