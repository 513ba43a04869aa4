"""Helpers shared by the tests/test_data_*.py files."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zoo.data import ArrayDataset
from zoo.plugins import PluginManager, register_builtins, use_manager

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
          np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding of ``arr`` (uint8, int8 or big-endian numeric)."""
    arr = np.asarray(arr)
    if arr.dtype.itemsize > 1:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    header = struct.pack(">HBB", 0, _CODES[arr.dtype], arr.ndim)
    return header + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx_set(directory: Path, *, n_train: int = 30, n_test: int = 12, gz: bool = True,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Tiny MNIST-like IDX files (28x28 images, labels 0..9) in ``directory``."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, arr, dims in (("images", images, 3), ("labels", labels, 1)):
            name = f"{part}-{kind}-idx{dims}-ubyte"
            data = idx_bytes(arr)
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (directory / name).write_bytes(data)
            arrays[f"{part}_{kind}"] = arr
    return arrays


def toy_dataset(n: int = 103, *, seed: int = 0, factors: bool = True) -> ArrayDataset:
    rng = np.random.default_rng(seed)
    f = np.stack([np.arange(n) % 3, np.arange(n) % 5], axis=1) if factors else None
    return ArrayDataset(
        images=rng.integers(0, 256, size=(n, 4, 4, 1), dtype=np.uint8),
        labels=np.arange(n) % 7, factors=f, name="toy", split="train",
        factor_names=("a", "b") if factors else (), factor_sizes=(3, 5) if factors else (),
        num_classes=7,
    )


@pytest.fixture
def builtin_manager() -> Iterator[PluginManager]:
    """A strict manager holding only the core's built-ins (datasets, evaluation classifier),
    installed as the process-wide one."""
    manager = PluginManager(strict=True)
    register_builtins(manager)
    with use_manager(manager) as m:
        yield m


def arrays_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
