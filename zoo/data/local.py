"""Datasets named by a path (an ``.npz`` file or a folder of PNGs, :mod:`zoo.data.own`) or
handed over as arrays, served like registered ones: :func:`zoo.load_dataset`, ``zoo train
--dataset PATH``, ``zoo eval --dataset PATH``.

A name is a path when it contains a ``/`` (or the OS's separator), starts with ``~``, or ends in
``.npz``. Its data is read, checked and hashed once (again when its files change), then
registered for this process under its absolute path
(:meth:`zoo.registry.Registry.add_local_dataset`), so that the trainer's lookups by name find
it. Arrays (:func:`register_arrays`) are registered as ``arrays:<first 16 hex digits of their
hash>``, for this process only.

The split rule: the file (or folder) is one partition. ``"test"`` is all of it (evaluate on a
file of held-out images); ``"train"`` and ``"validation"`` split it like every dataset (a seeded
carve-out of ``validation_size`` examples, by default ``min(10_000, N // 10)``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from zoo.data.dataset import ArrayDataset
from zoo.data.errors import DatasetError
from zoo.data.own import from_arrays, read_path
from zoo.plugins import manager_for
from zoo.registry import DatasetSpec

__all__ = ["ARRAYS_PREFIX", "LocalData", "data_identity", "default_validation_size",
           "is_data_path", "local_dataset", "register_arrays"]

ARRAYS_PREFIX = "arrays:"
PLUGIN = "your own data"
#: absolute path or ``arrays:...`` -> what was read there (and the files' signature then)
_LOADED: dict[str, LocalData] = {}


def is_data_path(name: str) -> bool:
    """Whether the dataset name ``name`` is a path (see the module's docstring)."""
    return ("/" in name or os.sep in name or name.startswith("~")
            or name.lower().endswith(".npz"))


def default_validation_size(n: int) -> int:
    """Validation examples of ``n`` of your own, by default: a tenth, at most 10,000."""
    return min(10_000, n // 10)


def _content_hash(ds: ArrayDataset) -> str:
    """sha256 of the decoded data (shape, pixels, labels): the same images give the same hash
    whatever file they came in."""
    h = hashlib.sha256()
    header = {"format": "zoo-data-1", "shape": list(ds.images.shape),
              "labels": ds.labels is not None}
    h.update(json.dumps(header, sort_keys=True).encode())
    h.update(ds.images.tobytes())
    if ds.labels is not None:
        h.update(ds.labels.astype("<i8").tobytes())
    return h.hexdigest()


def _signature(path: Path) -> tuple[Any, ...]:
    """What changes when the files at ``path`` change: names, sizes, modification times."""
    def stat(p: Path) -> tuple[str, int, int]:
        st = p.stat()
        return (str(p.relative_to(path)) if p != path else "", st.st_size, st.st_mtime_ns)

    if not path.is_dir():
        return (stat(path),) if path.exists() else ()
    entries = [path, *path.iterdir()]
    entries += [p for d in entries[1:] if d.is_dir() for p in d.iterdir()]
    return tuple(sorted(stat(p) for p in entries))


@dataclasses.dataclass(frozen=True, eq=False)
class LocalData:
    """What was read from one path (or handed over as arrays), checked and hashed."""

    key: str
    source: str  # "file", "folder" or "arrays"
    dataset: ArrayDataset
    sha256: str
    class_names: tuple[str, ...] = ()
    signature: tuple[Any, ...] = ()

    def identity(self) -> dict[str, Any]:
        """What a run's ``run.json`` records of its data (a resume must see the same)."""
        ds = self.dataset
        return {"source": self.source, "path": self.key, "sha256": self.sha256,
                "examples": len(ds), "image_shape": list(ds.image_shape),
                "labels": ds.labels is not None}

    def spec(self) -> DatasetSpec:
        ds, n = self.dataset, len(self.dataset)

        def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> ArrayDataset:
            if options:
                raise DatasetError(f"your own data {self.key!r} takes no options, got "
                                   f"{', '.join(sorted(options))}")
            return ds

        h, w, c = ds.image_shape
        return DatasetSpec(
            name=self.key, loader=loader, image_shape=ds.image_shape,
            num_classes=ds.num_classes, splits=("train", "test"),
            validation_size=default_validation_size(n), class_names=self.class_names,
            description=f"your own data: {n} images {h}x{w}x{c} ({self.source})", plugin=PLUGIN)


def _register(data: LocalData) -> DatasetSpec:
    spec = data.spec()
    manager_for(None).registry.add_local_dataset(spec)
    return spec


def _absolute(name: str) -> str:
    return str(Path(os.path.abspath(Path(name).expanduser())))


def local_dataset(name: str) -> DatasetSpec | None:
    """The spec of the path or arrays dataset ``name`` (read and checked now, or again when its
    files changed; registered for this process), or ``None`` for a registry name.

    Raises:
        DatasetError: the data is missing or malformed (the message says how to fix it), or
            ``name`` names arrays registered in another process.
    """
    if name.startswith(ARRAYS_PREFIX):
        data = _LOADED.get(name)
        if data is None:
            raise DatasetError(
                f"dataset {name!r} was arrays handed to zoo in another process; arrays are not "
                "saved. Save them (np.savez('data.npz', images=images, labels=labels)) and pass "
                "the path instead")
        return _register(data)
    if not is_data_path(name):
        return None
    key = _absolute(name)
    path = Path(key)
    signature = _signature(path)
    data = _LOADED.get(key)
    if data is None or data.signature != signature or not signature:
        ds, classes = read_path(path, name=key)
        data = LocalData(key, "folder" if path.is_dir() else "file", ds, _content_hash(ds),
                         classes, signature)
        _LOADED[key] = data
    return _register(data)


def register_arrays(images: Any, labels: Any = None) -> str:
    """Register ``images`` (uint8 ``[N, H, W(, C)]`` or floats in [0, 1], or an
    :class:`ArrayDataset`) and optional integer ``labels`` ``[N]`` as a dataset of this
    process; returns its name, ``"arrays:<hash>"``, for ``TrainConfig(dataset=...)``,
    :func:`zoo.load_dataset` or :func:`zoo.evaluate.evaluate`."""
    if isinstance(images, ArrayDataset):
        labels = images.labels if labels is None else labels
        images = images.images
    ds = from_arrays(images, labels)
    digest = _content_hash(ds)
    key = ARRAYS_PREFIX + digest[:16]
    ds = dataclasses.replace(ds, name=key)
    _LOADED.setdefault(key, LocalData(key, "arrays", ds, digest))
    _register(_LOADED[key])
    return key


def data_identity(name: str) -> dict[str, Any] | None:
    """What a run records of its dataset ``name`` (:meth:`LocalData.identity`: path, content
    sha256, size) when it is a path or arrays; ``None`` for a registry name."""
    key = name if name.startswith(ARRAYS_PREFIX) else _absolute(name)
    if is_data_path(name) or name.startswith(ARRAYS_PREFIX):
        if key not in _LOADED:
            local_dataset(name)
        return _LOADED[key].identity()
    return None
