"""The spec of a dataset (hook ``zoo_register_datasets``): its loader, shapes, classes and
factors."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from zoo.errors import PluginError
from zoo.specs._common import check_name

__all__ = ["DatasetSpec"]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A dataset a plugin provides (see :mod:`zoo.data` for the loader protocol).

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        loader: ``loader(partition, *, cache_dir, **options)`` returning a
            :class:`zoo.data.ArrayDataset` or a :class:`zoo.data.DataSource` for ``partition``,
            one of ``splits``. Unknown ``options`` must raise :class:`zoo.data.DatasetError`.
        description: one line for listings.
        image_shape: ``(H, W, C)`` of every image.
        num_classes: number of label classes, or ``None`` for an unlabelled dataset.
        factor_names: names of the ground-truth factors of variation (``()`` if none).
        factor_sizes: number of values of each factor, aligned with ``factor_names``.
        splits: the partitions the loader provides: ``("train", "test")`` or ``("train",)``.
        validation_size: how many training examples the ``"validation"`` split takes by default
            (carved from ``"train"`` with a seeded permutation; 0 means none by default).
        class_names: optional display name of each class.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    loader: Callable[..., Any]
    description: str = ""
    image_shape: tuple[int, int, int] = (28, 28, 1)
    num_classes: int | None = None
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    splits: tuple[str, ...] = ("train", "test")
    validation_size: int = 0
    class_names: tuple[str, ...] = ()
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        check_name("dataset", self.name)
        where = f"dataset {self.name!r}"
        if not callable(self.loader):
            raise PluginError(f"{where}: loader must be callable")
        shape = self.image_shape
        if not (isinstance(shape, tuple) and len(shape) == 3
                and all(isinstance(d, int) and d > 0 for d in shape)):
            raise PluginError(f"{where}: image_shape must be a tuple (H, W, C) of positive ints, "
                              f"got {shape!r}")
        if self.num_classes is not None and not (
            isinstance(self.num_classes, int) and self.num_classes >= 2
        ):
            raise PluginError(f"{where}: num_classes must be an int >= 2 or None, "
                              f"got {self.num_classes!r}")
        if not (isinstance(self.factor_names, tuple) and isinstance(self.factor_sizes, tuple)):
            raise PluginError(f"{where}: factor_names and factor_sizes must be tuples")
        if len(self.factor_names) != len(self.factor_sizes):
            raise PluginError(f"{where}: factor_names and factor_sizes must have the same length, "
                              f"got {len(self.factor_names)} and {len(self.factor_sizes)}")
        if len(set(self.factor_names)) != len(self.factor_names) or not all(
            isinstance(n, str) and n.isidentifier() for n in self.factor_names
        ):
            raise PluginError(f"{where}: factor_names must be distinct identifiers, "
                              f"got {self.factor_names!r}")
        if not all(isinstance(n, int) and n >= 1 for n in self.factor_sizes):
            raise PluginError(f"{where}: factor_sizes must be positive ints, "
                              f"got {self.factor_sizes!r}")
        if not self.splits or "train" not in self.splits or not set(self.splits) <= {
            "train", "test"
        }:
            raise PluginError(f"{where}: splits must contain 'train' and may contain 'test', "
                              f"got {self.splits!r}")
        if not (isinstance(self.validation_size, int) and self.validation_size >= 0):
            raise PluginError(f"{where}: validation_size must be an int >= 0, "
                              f"got {self.validation_size!r}")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise PluginError(f"{where}: class_names must name all {self.num_classes} classes, "
                              f"got {len(self.class_names)}")
