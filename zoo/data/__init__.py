"""Datasets for zoo: a registry of loaders (plugins may add their own), an in-memory uint8
:class:`ArrayDataset`, and deterministic, resumable, prefetched mini-batches.

>>> import zoo
>>> zoo.list_datasets()                                   # ['dsprites', 'fashion-mnist', 'mnist']
>>> train = zoo.load_dataset("mnist", "train")            # 50,000 (10,000 carved out)
>>> val = zoo.load_dataset("mnist", "validation")         # the 10,000, disjoint from train
>>> for batch in zoo.data.batches(train, 128, seed=0, epoch=3, binarize=True):
...     batch["x"], batch["labels"]                       # float32 [128, 28, 28, 1], int32 [128]

Your own data: a path is a dataset name (an ``.npz`` with ``images`` [N, H, W(, C)] and optional
``labels`` [N], or a folder of PNGs, :mod:`zoo.data.own`); arrays become one with
:func:`register_arrays` (:mod:`zoo.data.local`):

>>> zoo.load_dataset("data/faces.npz", "test")           # all of the file, checked
>>> zoo.data.from_folder("data/pngs")                    # ArrayDataset, uint8 [N, H, W, C]
>>> name = zoo.data.register_arrays(images, labels)      # "arrays:<hash>", this process only

``batches`` and friends import numpy; they load on first access so ``import zoo`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from zoo.data.core import (
    SPLITS,
    ArrayDataset,
    DataSource,
    check_options,
    default_cache_dir,
    get_dataset,
    list_datasets,
    load_dataset,
)
from zoo.data.errors import CorruptDataError, DatasetError, DataUnavailableError
from zoo.data.local import is_data_path, register_arrays
from zoo.data.own import from_arrays, from_folder, from_npz

__all__ = [
    "SPLITS",
    "ArrayDataset",
    "BatchIterator",
    "CorruptDataError",
    "DataSource",
    "DataUnavailableError",
    "DatasetError",
    "batches",
    "check_options",
    "default_cache_dir",
    "epoch_order",
    "from_arrays",
    "from_folder",
    "from_npz",
    "get_dataset",
    "is_data_path",
    "list_datasets",
    "load_dataset",
    "num_batches",
    "register_arrays",
]

_LAZY = {"BatchIterator", "batches", "epoch_order", "num_batches"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from zoo.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'zoo.data' has no attribute {name!r}")
