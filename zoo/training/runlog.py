"""What a run reads and logs, shared by ``zoo train``'s loop and ``zoo sweep`` (whose every
member is an ordinary run, so it must see the same data and compute its ``val/`` rows the same
way): its data splits and its validation means."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoo.data import ArrayDataset, load_dataset
from zoo.data.local import local_dataset
from zoo.errors import InputError
from zoo.specs import VariantSpec
from zoo.training.config import TrainConfig

__all__ = ["load_splits", "resolve_data", "validation_means"]

_DEFAULT_VALIDATION = TrainConfig().validation_size


def resolve_data(tc: TrainConfig) -> TrainConfig:
    """``tc`` ready to train on its data. A registry name passes unchanged; your own data (a
    path, or registered arrays: :mod:`zoo.data.local`) is read and checked now, before anything
    is written, and named by its absolute path; the default ``validation_size`` (10,000) then
    means that data's default, a tenth of it and at most 10,000 (``min(10_000, N // 10)``)."""
    spec = local_dataset(tc.dataset)
    if spec is None:
        return tc
    changes: dict[str, Any] = {"dataset": spec.name}
    if tc.validation_size == _DEFAULT_VALIDATION:
        changes["validation_size"] = spec.validation_size
    return tc.replace(**changes)


def load_splits(spec: VariantSpec, tc: TrainConfig) -> tuple[ArrayDataset, ArrayDataset | None]:
    """The training split and the validation split (None without one) a run of ``tc`` uses;
    ``train_limit``: a seeded random subset, so that even factor-ordered data (dSprites)
    mixes."""
    split = {"validation_size": tc.validation_size}
    train = load_dataset(tc.dataset, "train", sample=tc.train_limit or None, **split)
    val = load_dataset(tc.dataset, "validation", **split) if tc.validation_size else None
    if spec.conditional and train.labels is None:
        raise InputError(f"variant {spec.name!r} is conditional but dataset {tc.dataset!r} "
                         "has no labels; pick a labelled dataset (your own data: a 'labels' "
                         "array in the .npz, or one subfolder of PNGs per class)")
    return train, val


def validation_means(parts: Iterable[tuple[Mapping[str, Any], int]]) -> dict[str, float]:
    """Example-weighted means of per-batch metrics: ``parts`` holds ``(scalar metrics of a
    batch (host values), its number of examples)`` in batch order; sums in Python floats."""
    sums: dict[str, float] = {}
    n = 0
    for metrics, b in parts:
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + float(v) * b
        n += b
    return {k: v / n for k, v in sums.items()}
