"""What every evaluation pass shares: the fit check, deterministic batches, calling a variant."""

from __future__ import annotations

from typing import Any

from zoo.building import call_variant
from zoo.data import batches
from zoo.errors import InputError

__all__ = ["batches_of", "call", "check_fit"]


def check_fit(model: Any, ds: Any, conditional: bool) -> None:
    shape = tuple(ds.images.shape[1:])
    want = getattr(model.config, "image_shape", shape)
    if tuple(want) != shape:
        raise InputError(f"dataset {ds.name!r} has images {shape} but the model expects "
                         f"{tuple(want)}; evaluate on the data the model was trained for")
    if conditional and ds.labels is None:
        raise InputError(f"the model is conditional but dataset {ds.name!r} has no labels")


def batches_of(ds: Any, batch_size: int, binarize: bool, seed: int) -> Any:
    return batches(ds, batch_size, seed=seed, epoch=0, shuffle=False, drop_remainder=False,
                   binarize=binarize)


def call(model: Any, conditional: bool, fn: str, *args: Any, labels: Any = None,
          **kwargs: Any) -> Any:
    return call_variant(model, fn, *args, conditional=conditional, labels=labels, **kwargs)
