"""Display names of the classes of the core's labelled datasets."""

from __future__ import annotations

__all__ = ["FASHION_CLASS_NAMES", "MNIST_CLASS_NAMES"]

MNIST_CLASS_NAMES = tuple(str(d) for d in range(10))
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                       "Sneaker", "Bag", "Ankle boot")
