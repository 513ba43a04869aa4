"""Fashion-MNIST from the standard IDX files (Debian package ``dataset-fashion-mnist``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.data.class_names import FASHION_CLASS_NAMES
from zoo.data.core import ArrayDataset, check_options
from zoo.data.idx import read_idx_partition

__all__ = ["CLASS_NAMES", "DEFAULT_DIRECTORY", "load"]

DEFAULT_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = FASHION_CLASS_NAMES
INSTALL_HINT = (
    "Install the files with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; they land in "
    f"{DEFAULT_DIRECTORY}), or pass directory=DIR (or set ZOO_FASHION_MNIST_DIR) to a folder "
    "holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
    "and t10k-labels-idx1-ubyte.gz"
)


def load(partition: str, *, cache_dir: Path, directory: str | os.PathLike[str] | None = None,
         **options: Any) -> ArrayDataset:
    """The ``"train"`` (60,000) or ``"test"`` (10,000) partition of Fashion-MNIST.

    Options:
        directory: folder of the IDX files; default ``$ZOO_FASHION_MNIST_DIR``, then
            ``/usr/share/datasets/fashion-mnist``. Reading them takes well under a second, so
            nothing is cached.
    """
    check_options("fashion-mnist", options, ("directory",))
    directory = directory or os.environ.get("ZOO_FASHION_MNIST_DIR") or DEFAULT_DIRECTORY
    images, labels = read_idx_partition(directory, partition, dataset="Fashion-MNIST",
                                        install_hint=INSTALL_HINT)
    return ArrayDataset(images=images, labels=labels, name="fashion-mnist", num_classes=10)
