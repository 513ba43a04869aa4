"""Deprecated: the training loop moved to :mod:`zoo.training.loop` (``zoo.train.train`` is
unchanged)."""

import warnings

from zoo.training.loop import Loop

__all__ = ["Loop"]

warnings.warn("zoo.training_loop is deprecated; use zoo.train.train or zoo.training.loop",
              DeprecationWarning, stacklevel=2)
