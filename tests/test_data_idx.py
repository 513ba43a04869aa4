"""The IDX reader and Fashion-MNIST, on tiny IDX files written to tmp_path."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.data import CorruptDataError, DataUnavailableError
from zoo.data.fashion import DEFAULT_DIRECTORY
from zoo.data.idx import parse_idx, read_idx

from .data_helpers import builtin_manager, idx_bytes, write_idx_set

__all__ = ["builtin_manager"]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, dtype) -> None:
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(arr))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    for name in ("a.idx", "a.idx.gz"):
        out = read_idx(tmp_path / name)
        assert out.dtype == np.dtype(dtype) and out.dtype.isnative
        assert np.array_equal(out, arr)


def test_corrupt_files_are_reported(tmp_path) -> None:
    good = idx_bytes(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(CorruptDataError, match=r"truncated: dimensions \(3, 2, 2\) need 12"):
        parse_idx(good[:-1])
    with pytest.raises(CorruptDataError, match="truncated IDX header"):
        parse_idx(good[:9])
    with pytest.raises(CorruptDataError, match="too short"):
        parse_idx(good[:3])
    with pytest.raises(CorruptDataError, match="not an IDX file"):
        parse_idx(b"\x01\x02" + good[2:])
    with pytest.raises(CorruptDataError, match="not an IDX file"):
        parse_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(CorruptDataError, match="2 unexpected bytes"):
        parse_idx(good + b"xx")
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(CorruptDataError, match="gzip stream is truncated or corrupt"):
        read_idx(path)
    with pytest.raises(DataUnavailableError, match="does not exist"):
        read_idx(tmp_path / "nope")


def test_fashion_mnist_from_a_directory(builtin_manager, tmp_path, monkeypatch) -> None:
    arrays = write_idx_set(tmp_path / "gz", n_train=25, n_test=9)
    write_idx_set(tmp_path / "plain", n_train=25, n_test=9, gz=False)
    test = zoo.load_dataset("fashion-mnist", "test", directory=tmp_path / "gz")
    assert test.images.shape == (9, 28, 28, 1) and test.images.dtype == np.uint8
    assert np.array_equal(test.images[..., 0], arrays["t10k_images"])
    assert np.array_equal(test.labels, arrays["t10k_labels"])
    assert zoo.get_dataset("fashion-mnist").class_names[9] == "Ankle boot"
    monkeypatch.setenv("ZOO_FASHION_MNIST_DIR", str(tmp_path / "plain"))
    train = zoo.load_dataset("fashion-mnist", "train", validation_size=5)
    val = zoo.load_dataset("fashion-mnist", "validation", validation_size=5)
    assert (len(train), len(val)) == (20, 5)


def test_fashion_mnist_missing_or_truncated(builtin_manager, tmp_path) -> None:
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        zoo.load_dataset("fashion-mnist", directory=tmp_path / "empty")
    write_idx_set(tmp_path / "d", gz=False)
    images = tmp_path / "d" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(CorruptDataError, match="truncated"):
        zoo.load_dataset("fashion-mnist", directory=tmp_path / "d")
    write_idx_set(tmp_path / "e", gz=False)
    labels = tmp_path / "e" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(CorruptDataError, match="labels of shape"):
        zoo.load_dataset("fashion-mnist", "test", directory=tmp_path / "e")


@pytest.mark.skipif(not Path(DEFAULT_DIRECTORY).is_dir(),
                    reason="apt-get install dataset-fashion-mnist to test the real files")
def test_real_fashion_mnist(builtin_manager, monkeypatch) -> None:
    monkeypatch.delenv("ZOO_FASHION_MNIST_DIR", raising=False)
    train = zoo.load_dataset("fashion-mnist", "train", validation_size=0)
    assert len(train) == 60000 and train.labels[0] == 9
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert len(zoo.load_dataset("fashion-mnist", "test")) == 10000
