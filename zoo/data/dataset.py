"""The in-memory dataset (:class:`ArrayDataset`) and the lazy partition (:class:`DataSource`).

numpy is imported inside the functions so that ``import zoo`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from zoo.data.errors import DatasetError
from zoo.inputs import pixels_to_unit

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ArrayDataset", "DataSource"]

Arrays = tuple["np.ndarray", "np.ndarray | None", "np.ndarray | None"]


def _int_array(value: Any, what: str, ndim: int) -> np.ndarray:
    import numpy as np

    arr = np.asarray(value)
    if arr.ndim != ndim or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise DatasetError(f"{what} must be a {ndim}-D integer array, got {arr.dtype} "
                           f"with shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ArrayDataset:
    """Images (uint8, kept as uint8 in memory; :func:`zoo.data.batches` converts per batch) with
    optional labels and ground-truth factors.

    Attributes:
        images: uint8 ``[N, H, W, C]`` (0..255).
        labels: int64 ``[N]`` or ``None``.
        factors: int64 ``[N, F]``: the index of each factor's value, or ``None``.
        name, split: where the data came from.
        factor_names, factor_sizes: the factors' names and numbers of values.
        num_classes: number of label classes, or ``None``.
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    factors: np.ndarray | None = None
    name: str = ""
    split: str = ""
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    num_classes: int | None = None

    def __post_init__(self) -> None:
        import numpy as np

        images = np.asarray(self.images)
        where = f"dataset {self.name or '<unnamed>'!r}"
        if images.dtype != np.uint8 or images.ndim != 4:
            raise DatasetError(f"{where}: images must be uint8 [N, H, W, C], got {images.dtype} "
                               f"with shape {images.shape} (scale floats to 0..255 first)")
        object.__setattr__(self, "images", images)
        n = len(images)
        if self.labels is not None:
            labels = _int_array(self.labels, f"{where}: labels", 1)
            if len(labels) != n:
                raise DatasetError(f"{where}: {len(labels)} labels for {n} images")
            object.__setattr__(self, "labels", labels)
        if self.factors is not None:
            factors = _int_array(self.factors, f"{where}: factors", 2)
            if len(factors) != n:
                raise DatasetError(f"{where}: {len(factors)} factor rows for {n} images")
            if self.factor_names and factors.shape[1] != len(self.factor_names):
                raise DatasetError(f"{where}: factors have {factors.shape[1]} columns but "
                                   f"factor_names lists {len(self.factor_names)}")
            object.__setattr__(self, "factors", factors)
        object.__setattr__(self, "factor_names", tuple(self.factor_names))
        object.__setattr__(self, "factor_sizes", tuple(self.factor_sizes))

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"split={self.split!r}", f"n={len(self)}",
                 f"image_shape={self.image_shape}"]
        if self.labels is not None:
            parts.append(f"num_classes={self.num_classes}")
        if self.factor_names:
            parts.append(f"factors={dict(zip(self.factor_names, self.factor_sizes, strict=True))}")
        return f"ArrayDataset({', '.join(parts)})"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]

    def float_images(self, start: int = 0, stop: int | None = None) -> Any:
        """Images ``[start:stop]`` as models take them: float32 ``[n, H, W, C]`` in [0, 1]
        (``images / 255``; 0 and 255 map to 0.0 and 1.0 exactly)."""
        return pixels_to_unit(self.images[start:stop])

    def subset(self, indices: Any) -> ArrayDataset:
        """The examples at ``indices`` (integer positions or a boolean mask), in that order."""
        import numpy as np

        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise DatasetError(f"a boolean mask for {len(self)} examples must have shape "
                                   f"({len(self)},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = _int_array(idx, "subset indices", 1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise DatasetError(f"subset indices must lie in [0, {len(self)}), got "
                               f"{idx.min()}..{idx.max()}")
        return dataclasses.replace(
            self,
            images=self.images[idx],
            labels=None if self.labels is None else self.labels[idx],
            factors=None if self.factors is None else self.factors[idx],
        )

    def select(self, **selection: int | Iterable[int]) -> ArrayDataset:
        """The examples whose factors take the given values (value indices), e.g.
        ``ds.select(shape=2, scale=[4, 5])``; several factors combine with AND."""
        if self.factors is None:
            raise DatasetError(f"dataset {self.name!r} has no ground-truth factors to select on")
        mask = _factor_mask(self.factors, self.factor_names, self.factor_sizes, selection,
                            self.name)
        return self.subset(mask)


@dataclasses.dataclass(frozen=True, eq=False)
class DataSource:
    """A partition that materialises only the examples asked for (for procedural or big data).

    Attributes:
        num_examples: size of the partition.
        take: ``take(indices) -> (images uint8 [n, H, W, C], labels [n] | None,
            factors [n, F] | None)`` for sorted int64 ``indices``.
        all_factors: optional ``all_factors() -> int64 [num_examples, F]``; cheap, so that
            factor selection needs no images.
    """

    num_examples: int
    take: Callable[[np.ndarray], Arrays]
    all_factors: Callable[[], np.ndarray] | None = None


def _factor_mask(
    factors: np.ndarray,
    names: tuple[str, ...],
    sizes: tuple[int, ...],
    selection: Mapping[str, Any],
    dataset: str,
) -> np.ndarray:
    import numpy as np

    if not selection:
        raise DatasetError("select needs at least one factor=value, e.g. select(shape=0)")
    mask = np.ones(len(factors), dtype=bool)
    for key, value in selection.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DatasetError(f"dataset {dataset!r} has no factor {key!r}.{hint} "
                               f"Factors: {', '.join(names)}")
        col = names.index(key)
        values = np.atleast_1d(np.asarray(value))
        if not np.issubdtype(values.dtype, np.integer) or values.ndim != 1:
            raise DatasetError(f"factor {key!r}: select by value index (an int or a list of "
                               f"ints in [0, {sizes[col]})), got {value!r}")
        if values.size and (values.min() < 0 or values.max() >= sizes[col]):
            raise DatasetError(f"factor {key!r} has {sizes[col]} values (indices 0..."
                               f"{sizes[col] - 1}), got {value!r}")
        mask &= np.isin(factors[:, col], values)
    return mask
