"""Deterministic, resumable mini-batches, assembled in numpy on a background thread.

The order of an epoch is a pure function of ``(seed, epoch)`` and dynamic binarisation draws
from an rng keyed by ``(seed, epoch, batch index)``, so a run resumed at ``start_batch`` sees
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from zoo.data.core import ArrayDataset
from zoo.data.errors import DatasetError
from zoo.inputs import pixels_to_unit

__all__ = ["BatchIterator", "batches", "epoch_order", "num_batches"]

# Non-zero tags keep the streams apart (SeedSequence treats [a, b] and [a, b, 0] alike).
_ORDER_TAG = 0x0D3
_BINARIZE_TAG = 0xB1


def _positive(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DatasetError(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def num_batches(dataset: ArrayDataset | int, batch_size: int, drop_remainder: bool = True) -> int:
    """Batches per epoch: ``N // batch_size``, or rounded up when the remainder is kept."""
    n = dataset if isinstance(dataset, int) else len(dataset)
    batch_size = _positive(batch_size, "batch_size", 1)
    return n // batch_size if drop_remainder else -(-n // batch_size)


def epoch_order(n: int, *, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The example order of one epoch: a permutation seeded by ``(seed, epoch)`` (or arange)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([_positive(seed, "seed", 0), _positive(epoch, "epoch", 0),
                                 _ORDER_TAG])
    return rng.permutation(n).astype(np.int64, copy=False)


def _assemble(
    dataset: ArrayDataset, order: np.ndarray, batch_size: int, first: int, last: int,
    binarize: bool, seed: int, epoch: int,
) -> Iterator[dict[str, np.ndarray]]:
    for b in range(first, last):
        idx = order[b * batch_size:(b + 1) * batch_size]
        x = pixels_to_unit(dataset.images[idx])
        if binarize:
            rng = np.random.default_rng([seed, epoch, b, _BINARIZE_TAG])
            x = (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
        batch = {"x": x, "index": idx.copy()}
        if dataset.labels is not None:
            batch["labels"] = dataset.labels[idx].astype(np.int32)
        if dataset.factors is not None:
            batch["factors"] = dataset.factors[idx].astype(np.int32)
        yield batch


_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _work(produce: Iterator[Any], out: queue.Queue, stop: threading.Event) -> None:
    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    try:
        for item in produce:
            if not put(item):
                return
        put(_END)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        put(_Failure(exc))


class BatchIterator:
    """Iterator over batch dicts; a daemon thread keeps up to ``prefetch`` batches ready.

    Closing it (``close()``, leaving a ``with`` block, or garbage collection) stops the worker.
    An exception raised while assembling a batch is re-raised by ``next()``.
    """

    def __init__(self, produce: Iterator[dict[str, np.ndarray]], total: int, prefetch: int):
        self._remaining = total
        self._closed = False
        self._thread: threading.Thread | None = None
        if prefetch == 0:
            self._produce: Iterator[Any] | None = produce
            return
        self._produce = None
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_work, args=(produce, self._queue, self._stop),
                                        name="zoo-batches", daemon=True)
        self._thread.start()

    def __iter__(self) -> BatchIterator:
        return self

    def __len__(self) -> int:
        """Batches still to come."""
        return self._remaining

    def __next__(self) -> dict[str, np.ndarray]:
        if self._closed:
            raise StopIteration
        if self._thread is None:
            try:
                item = next(self._produce)  # type: ignore[arg-type]
            except BaseException:  # StopIteration included
                self.close()
                raise
        else:
            item = self._get()
        if item is _END:
            self.close()
            raise StopIteration
        if isinstance(item, _Failure):
            self.close()
            raise item.exc
        self._remaining -= 1
        return item

    def _get(self) -> Any:
        assert self._thread is not None
        while True:
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return _Failure(RuntimeError("the batch worker thread died without a result"))

    def close(self) -> None:
        """Stop the worker and drop prefetched batches (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._remaining = 0
        if self._thread is None:
            if self._produce is not None and hasattr(self._produce, "close"):
                self._produce.close()
            return
        self._stop.set()
        while True:  # unblock a worker waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def __enter__(self) -> BatchIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def batches(
    dataset: ArrayDataset,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    shuffle: bool = True,
    drop_remainder: bool = True,
    start_batch: int = 0,
    binarize: bool = False,
    prefetch: int = 2,
) -> BatchIterator:
    """Iterate over one epoch of ``dataset`` in mini-batches.

    Yields dicts with ``"x"`` float32 ``[B, H, W, C]`` in [0, 1] (Bernoulli samples of the
    pixel intensities when ``binarize``), ``"labels"`` int32 ``[B]`` and ``"factors"`` int32
    ``[B, F]`` when the dataset has them, and ``"index"`` int64 ``[B]``: positions in
    ``dataset``.

    Args:
        seed, epoch: the epoch's order is ``epoch_order(len(dataset), seed=seed, epoch=epoch)``.
        shuffle: ``False`` iterates in dataset order.
        drop_remainder: drop the last, smaller batch.
        start_batch: skip the first batches of the epoch (resuming a run); the batches that
            follow are identical to those of an uninterrupted epoch.
        binarize: dynamic binarisation, from an rng keyed by ``(seed, epoch, batch index)``.
        prefetch: batches assembled ahead on a background thread (0: assemble inline).
    """
    if not isinstance(dataset, ArrayDataset):
        raise DatasetError(f"batches needs a zoo.data.ArrayDataset (from zoo.load_dataset), got "
                           f"{type(dataset).__name__}")
    batch_size = _positive(batch_size, "batch_size", 1)
    seed = _positive(seed, "seed", 0)
    epoch = _positive(epoch, "epoch", 0)
    prefetch = _positive(prefetch, "prefetch", 0)
    total = num_batches(dataset, batch_size, drop_remainder)
    start_batch = _positive(start_batch, "start_batch", 0)
    if start_batch > total:
        raise DatasetError(f"start_batch={start_batch} is past the end of the epoch, which has "
                           f"{total} batches of {batch_size}")
    order = epoch_order(len(dataset), seed=seed, epoch=epoch, shuffle=shuffle)
    produce = _assemble(dataset, order, batch_size, start_batch, total, binarize, seed, epoch)
    return BatchIterator(produce, total - start_batch, prefetch)
