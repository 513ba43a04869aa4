"""Errors of the dataset layer; all derive from :class:`zoo.ZooError` and say what to do next."""

from __future__ import annotations

from zoo.errors import ZooError

__all__ = ["CorruptDataError", "DataUnavailableError", "DatasetError"]


class DatasetError(ZooError, ValueError):
    """A dataset request that cannot be served: unknown split, bad option, empty selection."""


class DataUnavailableError(DatasetError):
    """The files or package a dataset is read from are not installed here."""


class CorruptDataError(DatasetError):
    """A data file that is truncated, malformed, has the wrong hash, or is unsafe to read."""
