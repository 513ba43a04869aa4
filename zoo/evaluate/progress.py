"""Progress of the evaluation passes on stderr (``zoo eval``, ``zoo check-cards``).

Each long pass shows one tqdm bar that disappears when the pass ends (``leave=False``), so the
screen keeps only what the command prints; with ``enabled=False`` nothing is written at all and
the work runs exactly as without these helpers. stdout is never touched (``zoo eval --json``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from zoo import data

__all__ = ["num_batches", "stage", "tracked"]

T = TypeVar("T")


def _style() -> dict[str, Any]:
    return {"leave": False, "file": sys.stderr, "dynamic_ncols": True}


def num_batches(n: int, batch_size: int) -> int:
    """Batches of a pass over ``n`` examples that keeps the last, smaller batch."""
    return data.num_batches(n, batch_size, drop_remainder=False)


def tracked(iterable: Iterable[T], desc: str, total: int | None, enabled: bool,
            unit: str = "batch") -> Iterable[T]:
    """``iterable`` itself when not ``enabled``; else the same items behind a bar ``desc``
    counting ``total`` ``unit``s (it closes itself when the iteration ends)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, **_style())


def _ignore(*_: Any) -> None:
    return None


@contextmanager
def stage(desc: str, enabled: bool, total: int | None = None,
          unit: str = "step") -> Iterator[Callable[..., None]]:
    """A bar for work that is not a loop over batches: a notice ``desc ...`` while it runs, or,
    with ``total``, a bar advanced by calling what the context yields (arguments ignored;
    safe from several threads). Yields a no-op when not ``enabled``."""
    if not enabled:
        yield _ignore
        return
    from tqdm.auto import tqdm

    lock = threading.Lock()
    fmt = {} if total else {"bar_format": "{desc} ..."}
    with tqdm(total=total, desc=desc, unit=unit, **fmt, **_style()) as bar:
        def advance(*_: Any) -> None:
            with lock:
                bar.update(1)

        yield advance
