"""Deprecated: the standard pictures moved to :mod:`zoo.viz.pictures`."""

import warnings

from zoo.viz.pictures import codebook_picture, model_labels, model_pictures, traversal_picture

__all__ = ["codebook_picture", "model_labels", "model_pictures", "traversal_picture"]

warnings.warn("zoo.pictures is deprecated; use zoo.viz.pictures", DeprecationWarning,
              stacklevel=2)
