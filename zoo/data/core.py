"""Dataset lookup and :func:`load_dataset` (splits, selection, sample, limit).

A dataset plugin registers a :class:`~zoo.registry.DatasetSpec` whose ``loader(partition, *,
cache_dir, **options)`` returns the whole ``"train"`` or ``"test"`` partition, either as an
:class:`ArrayDataset` or, for procedural or large data, as a :class:`DataSource` that renders
only the examples asked for. :func:`load_dataset` does the rest, the same way for every dataset:
the seeded validation carve-out, factor selection, ``sample`` and ``limit``.

numpy is imported inside the functions so that ``import zoo`` stays cheap.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.data.dataset import ArrayDataset, DataSource, _factor_mask
from zoo.data.errors import DatasetError
from zoo.data.local import local_dataset
from zoo.errors import UnknownNameError
from zoo.plugins import get_manager, manager_for

if TYPE_CHECKING:
    from zoo.registry import DatasetSpec

__all__ = [
    "SPLITS",
    "ArrayDataset",
    "DataSource",
    "check_options",
    "default_cache_dir",
    "get_dataset",
    "list_datasets",
    "load_dataset",
]

SPLITS = ("train", "validation", "test")
# Tags that keep the random streams of different purposes apart (numpy's SeedSequence treats
# [a, b] and [a, b, 0] alike, so every stream ends in its own non-zero tag).
_SPLIT_TAG = 0x5E11
_SAMPLE_TAG = 0x5A3

def check_options(dataset: str, options: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise :class:`DatasetError` for an option a loader does not know (with a close match)."""
    allowed = sorted(allowed)
    for key in options:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed + list(_CORE_OPTIONS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            known = ", ".join([*_CORE_OPTIONS, *allowed])
            raise DatasetError(f"dataset {dataset!r} has no option {key!r}.{hint} "
                               f"Options: {known}")


_CORE_OPTIONS = ("validation_size", "seed", "cache_dir", "limit", "sample", "select")


def default_cache_dir() -> Path:
    """``$ZOO_CACHE`` or ``~/.cache/zoo``."""
    env = os.environ.get("ZOO_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zoo"


def _registry() -> Any:
    return get_manager().registry


def list_datasets() -> list[str]:
    """Sorted names of the registered datasets (the core's own ones are always there)."""
    return sorted(_registry().datasets)


def get_dataset(name: str) -> DatasetSpec:
    """The :class:`~zoo.registry.DatasetSpec` registered as ``name`` (error lists close ones),
    or, for a path (an ``.npz`` file or a folder of PNGs) or registered arrays, the spec of that
    data, read and checked (:mod:`zoo.data.local`)."""
    local = local_dataset(name)
    if local is not None:
        return local
    try:
        return manager_for(name, "dataset").registry.get_dataset(name)
    except UnknownNameError as exc:
        if Path(name).exists():
            raise UnknownNameError(f"{exc} A file or folder {name!r} is here: write ./{name} to "
                                   "use it as your own data.") from None
        raise


def _check_count(value: Any, what: str, minimum: int) -> int:
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DatasetError(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _as_source(spec: DatasetSpec, partition: str, got: Any) -> DataSource:
    if isinstance(got, ArrayDataset):
        ds = got
        return DataSource(
            num_examples=len(ds),
            take=lambda idx: (ds.images[idx],
                              None if ds.labels is None else ds.labels[idx],
                              None if ds.factors is None else ds.factors[idx]),
            all_factors=None if ds.factors is None else (lambda: ds.factors),
        )
    if isinstance(got, DataSource):
        return got
    raise DatasetError(
        f"plugin {spec.plugin!r}: the loader of dataset {spec.name!r} returned "
        f"{type(got).__name__} for {partition!r}; return a zoo.data.ArrayDataset or DataSource"
    )


def load_dataset(
    name: str,
    split: str = "train",
    *,
    validation_size: int | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    sample: int | None = None,
    select: Mapping[str, int | Iterable[int]] | None = None,
    **options: Any,
) -> ArrayDataset:
    """Load one split of a registered dataset into memory.

    Args:
        name: dataset name (``zoo.list_datasets()``): ``"mnist"``, ``"fashion-mnist"``,
            ``"dsprites"``, or one a plugin registered; or a path to your own data, an ``.npz``
            file or a folder of PNGs (:mod:`zoo.data.own`), whose ``"test"`` split is all of it
            and whose ``"train"``/``"validation"`` split it (:mod:`zoo.data.local`).
        split: ``"train"``, ``"validation"`` or ``"test"``. The validation split is carved from
            the training partition with a permutation seeded by ``seed`` (never from the test
            set) and ``"train"`` then excludes it; both keep the canonical order.
        validation_size: examples the validation split takes (default: the dataset's, 10,000
            for the MNIST-like sets, 0 for dSprites); 0 makes ``"train"`` the whole partition.
        seed: seed of the validation carve-out and of ``sample``.
        cache_dir: where converted data is cached; default ``$ZOO_CACHE`` or ``~/.cache/zoo``.
        limit: keep only the first ``limit`` examples of the split (fast tests).
        sample: keep a seeded random subset of this many examples (in canonical order).
        select: keep examples whose factors take these value indices,
            e.g. ``{"shape": 2, "scale": [4, 5]}`` (datasets with factors only).
        **options: dataset-specific options (e.g. ``directory=`` for IDX files).
    """
    import numpy as np

    spec = get_dataset(name)
    if split not in SPLITS:
        close = difflib.get_close_matches(str(split), SPLITS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DatasetError(f"unknown split {split!r} of dataset {name!r}.{hint} "
                           f"Splits: {', '.join(SPLITS)}")
    if split == "test" and "test" not in spec.splits:
        raise DatasetError(
            f"dataset {name!r} has no test split (its standard protocol trains and evaluates on "
            "the whole set); use split='train', or split='validation' with validation_size=N "
            "for a seeded held-out part"
        )
    seed = _check_count(seed, "seed", 0)
    n_val = spec.validation_size if validation_size is None else validation_size
    n_val = _check_count(n_val, "validation_size", 0)
    if limit is not None and sample is not None:
        raise DatasetError("pass either limit (the first N examples) or sample (a seeded random "
                           "N), not both")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    partition = "test" if split == "test" else "train"
    source = _as_source(spec, partition,
                        spec.loader(partition, cache_dir=cache / "datasets", **options))
    n = source.num_examples

    if split == "test":
        idx = np.arange(n, dtype=np.int64)
    else:
        if split == "validation" and n_val == 0:
            raise DatasetError(f"dataset {name!r} has no validation split by default; pass "
                               "validation_size=N to carve N training examples out for it")
        if n_val >= n:
            raise DatasetError(f"validation_size={n_val} leaves no training examples: the "
                               f"training partition of {name!r} has {n}")
        perm = np.random.default_rng([seed, _SPLIT_TAG]).permutation(n)
        idx = np.sort(perm[:n_val] if split == "validation" else perm[n_val:])

    if select is not None:
        if source.all_factors is None:
            raise DatasetError(f"dataset {name!r} has no ground-truth factors to select on")
        mask = _factor_mask(source.all_factors()[idx], spec.factor_names, spec.factor_sizes,
                            dict(select), name)
        idx = idx[mask]
    if sample is not None:
        sample = _check_count(sample, "sample", 1)
        if sample > len(idx):
            raise DatasetError(f"sample={sample} is more than the {len(idx)} examples of "
                               f"{name!r} {split!r}; pass sample <= {len(idx)}")
        rng = np.random.default_rng([seed, _SAMPLE_TAG])
        idx = np.sort(rng.choice(idx, size=sample, replace=False))
    if limit is not None:
        idx = idx[: _check_count(limit, "limit", 1)]

    images, labels, factors = source.take(idx)
    dataset = ArrayDataset(
        images=images, labels=labels, factors=factors, name=name, split=split,
        factor_names=spec.factor_names, factor_sizes=spec.factor_sizes,
        num_classes=spec.num_classes,
    )
    if dataset.image_shape != spec.image_shape or len(dataset) != len(idx):
        raise DatasetError(
            f"plugin {spec.plugin!r}: dataset {name!r} produced {len(dataset)} images of shape "
            f"{dataset.image_shape}; its spec promises {len(idx)} of shape {spec.image_shape}"
        )
    labels = dataset.labels
    if spec.num_classes is not None and labels is not None and labels.size and (
        labels.min() < 0 or labels.max() >= spec.num_classes
    ):
        raise DatasetError(
            f"plugin {spec.plugin!r}: dataset {name!r} has labels {labels.min()}..{labels.max()}"
            f" outside [0, {spec.num_classes}); the data files are corrupt or mislabelled"
        )
    return dataset
