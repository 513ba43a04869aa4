"""Mini-batches: determinism, resumption, dynamic binarisation, the prefetch thread."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

from zoo.data import DatasetError, batches, epoch_order, num_batches

from .data_helpers import toy_dataset


def collect(*args, **kwargs) -> list[dict[str, np.ndarray]]:
    return list(batches(*args, **kwargs))


def same(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
        for x, y in zip(a, b, strict=True)
    )


def workers() -> int:
    return sum(t.name == "zoo-batches" and t.is_alive() for t in threading.enumerate())


def test_batch_contents() -> None:
    ds = toy_dataset(103)
    out = collect(ds, 10, seed=0, epoch=0)
    assert len(out) == num_batches(ds, 10) == 10
    b = out[0]
    assert set(b) == {"x", "labels", "factors", "index"}
    assert b["x"].dtype == np.float32 and b["x"].shape == (10, 4, 4, 1)
    assert b["labels"].dtype == np.int32 and b["factors"].dtype == np.int32
    assert b["factors"].shape == (10, 2) and b["index"].dtype == np.int64
    assert np.array_equal(b["x"], ds.images[b["index"]] / np.float32(255))
    assert np.array_equal(b["labels"], ds.labels[b["index"]])
    assert np.array_equal(b["factors"], ds.factors[b["index"]])
    full = np.full((1, 1, 1, 1), 255, np.uint8)
    from zoo.data import ArrayDataset

    one = next(batches(ArrayDataset(images=full), 1, seed=0, epoch=0))
    assert one["x"].item() == 1.0 and set(one) == {"x", "index"}


def test_epoch_covers_everything_once_and_remainder() -> None:
    ds = toy_dataset(103)
    kept = collect(ds, 10, seed=1, epoch=2, drop_remainder=False)
    assert num_batches(ds, 10, drop_remainder=False) == len(kept) == 11
    assert len(kept[-1]["index"]) == 3
    assert sorted(np.concatenate([b["index"] for b in kept]).tolist()) == list(range(103))
    dropped = collect(ds, 10, seed=1, epoch=2)
    assert len(dropped) == 10 and same(dropped, kept[:10])


def test_order_is_a_function_of_seed_and_epoch() -> None:
    ds = toy_dataset(103)
    a = collect(ds, 16, seed=5, epoch=1)
    assert same(a, collect(ds, 16, seed=5, epoch=1, prefetch=0))
    order = np.concatenate([b["index"] for b in a])
    assert np.array_equal(order, epoch_order(103, seed=5, epoch=1)[: len(order)])
    b = np.concatenate([x["index"] for x in collect(ds, 16, seed=5, epoch=2)])
    c = np.concatenate([x["index"] for x in collect(ds, 16, seed=6, epoch=1)])
    assert not np.array_equal(order, b) and not np.array_equal(order, c)
    plain = np.concatenate([x["index"] for x in collect(ds, 16, seed=5, epoch=1, shuffle=False)])
    assert plain.tolist() == list(range(96))


@pytest.mark.parametrize("binarize", [False, True])
def test_resume_at_start_batch_equals_the_tail_of_an_epoch(binarize) -> None:
    ds = toy_dataset(103)
    full = collect(ds, 8, seed=3, epoch=4, binarize=binarize)
    tail = collect(ds, 8, seed=3, epoch=4, start_batch=5, binarize=binarize)
    assert same(tail, full[5:])
    it = batches(ds, 8, seed=3, epoch=4, start_batch=12)
    assert len(it) == 0 and list(it) == []
    with pytest.raises(DatasetError, match="past the end of the epoch, which has 12 batches"):
        batches(ds, 8, seed=3, epoch=4, start_batch=13)


def test_dynamic_binarisation() -> None:
    rng = np.random.default_rng(0)
    from zoo.data import ArrayDataset

    images = np.repeat(rng.integers(0, 256, (1, 8, 8, 1), dtype=np.uint8), 2000, axis=0)
    images[:, 0, 0, 0], images[:, 0, 1, 0] = 0, 255
    ds = ArrayDataset(images=images)
    a = collect(ds, 500, seed=0, epoch=0, binarize=True)
    xs = np.concatenate([b["x"] for b in a])
    assert set(np.unique(xs).tolist()) <= {0.0, 1.0}
    assert np.all(xs[:, 0, 0, 0] == 0) and np.all(xs[:, 0, 1, 0] == 1)
    # Bernoulli(p) with p = the pixel intensity
    assert np.abs(xs.mean(axis=0) - images[0] / 255).max() < 0.05
    assert same(a, collect(ds, 500, seed=0, epoch=0, binarize=True))
    again = np.concatenate([b["x"] for b in collect(ds, 500, seed=0, epoch=1, binarize=True,
                                                    shuffle=False)])
    assert not np.array_equal(xs, again)  # a fresh draw each epoch


def test_worker_exception_is_reraised_in_the_consumer() -> None:
    class Exploding(np.ndarray):
        def __getitem__(self, key):
            if isinstance(key, np.ndarray):
                raise RuntimeError("disk on fire")
            return super().__getitem__(key)

    ds = toy_dataset(50)
    object.__setattr__(ds, "images", ds.images.view(Exploding))
    for prefetch in (0, 2):
        it = batches(ds, 10, seed=0, epoch=0, prefetch=prefetch)
        with pytest.raises(RuntimeError, match="disk on fire"):
            next(it)
        assert list(it) == []  # closed after the failure
    time.sleep(0.05)
    assert workers() == 0


def test_early_close_and_garbage_collection_stop_the_worker() -> None:
    ds = toy_dataset(5000)
    before = workers()
    it = batches(ds, 10, seed=0, epoch=0, prefetch=2)
    next(it)
    assert workers() == before + 1
    start = time.perf_counter()
    it.close()
    assert time.perf_counter() - start < 2 and workers() == before
    assert list(it) == []
    with batches(ds, 10, seed=0, epoch=0) as it2:
        next(it2)
    assert workers() == before
    it3 = batches(ds, 10, seed=0, epoch=0)
    next(it3)
    del it3
    gc.collect()
    deadline = time.perf_counter() + 2
    while workers() > before and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert workers() == before
    # breaking out of a for loop mid-epoch does not hang either
    for i, _ in enumerate(batches(ds, 10, seed=0, epoch=0)):
        if i == 3:
            break


def test_argument_errors() -> None:
    ds = toy_dataset(10)
    with pytest.raises(DatasetError, match="batch_size must be an int >= 1"):
        batches(ds, 0, seed=0, epoch=0)
    with pytest.raises(DatasetError, match="seed must be an int >= 0"):
        batches(ds, 2, seed=-1, epoch=0)
    with pytest.raises(DatasetError, match=r"needs a zoo\.data\.ArrayDataset"):
        batches(np.zeros((4, 2, 2, 1)), 2, seed=0, epoch=0)
    with pytest.raises(TypeError):
        batches(ds, 2)  # seed and epoch must be explicit
