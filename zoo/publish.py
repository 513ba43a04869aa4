"""Deprecated: publishing moved to :mod:`zoo.hub.push` (``zoo.push`` is unchanged)."""

import warnings

from zoo.hub.push import PushResult, push

__all__ = ["PushResult", "push"]

warnings.warn("zoo.publish is deprecated; use zoo.push or zoo.hub.push", DeprecationWarning,
              stacklevel=2)
