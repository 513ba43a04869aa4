"""Dataset registry, plugins, splits and options, with inline dataset plugins."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import zoo
from zoo import plugins as zplugins
from zoo.data import ArrayDataset, DatasetError, DataSource, check_options, default_cache_dir
from zoo.plugins import PluginManager, ZooPluginWarning

from .conftest import ToyPlugin
from .data_helpers import builtin_manager, toy_dataset

__all__ = ["builtin_manager"]  # the fixture, re-exported for pytest

N_TOY = 40


def toy_loader(partition: str, *, cache_dir: Any, **options: Any) -> ArrayDataset:
    check_options("toy-data", options, ("offset",))
    n = N_TOY if partition == "train" else 10
    offset = options.get("offset", 0) + (0 if partition == "train" else 100)
    images = np.broadcast_to((np.arange(n) + offset).astype(np.uint8)[:, None, None, None],
                             (n, 2, 2, 1)).copy()
    factors = np.stack([np.arange(n) % 2, np.arange(n) % 4], axis=1)
    return ArrayDataset(images=images, labels=np.arange(n) % 3, factors=factors)


def toy_data_spec(name: str = "toy-data", **kwargs: Any) -> zoo.DatasetSpec:
    fields = {"loader": toy_loader, "image_shape": (2, 2, 1), "num_classes": 3,
              "factor_names": ("parity", "quarter"), "factor_sizes": (2, 4),
              "validation_size": 8, **kwargs}
    return zoo.DatasetSpec(name=name, **fields)


class DataPlugin:
    def __init__(self, *names: str, **kwargs: Any) -> None:
        self.names, self.kwargs = names or ("toy-data",), kwargs

    @zoo.hookimpl
    def zoo_register_datasets(self, register: Any) -> None:
        for name in self.names:
            register(toy_data_spec(name, **self.kwargs))


@pytest.fixture
def data_manager(manager: PluginManager) -> PluginManager:
    manager.register(DataPlugin(), name="toy-data-plugin")
    return manager


def ids(ds: ArrayDataset) -> np.ndarray:
    """The source index of each toy example (its pixel value)."""
    return ds.images[:, 0, 0, 0].astype(int)


# -- registration ---------------------------------------------------------------------------

def test_builtins_are_registered_without_any_plugin(monkeypatch) -> None:
    monkeypatch.setenv("ZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(zplugins, "_manager", None)
    assert zoo.list_datasets() == ["dsprites", "fashion-mnist", "mnist"]
    info = zplugins.get_manager().plugins["zoo-datasets"]
    assert info.datasets == ["mnist", "fashion-mnist", "dsprites"]
    assert info.distribution == "vae-zoo" and "zoo_register_datasets" in info.hooks
    assert zoo.list_variants() == ["classifier"]  # the core's own evaluation classifier
    spec = zoo.get_dataset("dsprites")
    assert spec.factor_sizes == (3, 6, 40, 32, 32) and spec.plugin == "zoo-datasets"


def test_builtins_survive_an_empty_allow_list(monkeypatch) -> None:
    monkeypatch.setenv("ZOO_PLUGINS", "")
    monkeypatch.setattr(zplugins, "_manager", None)
    assert "mnist" in zoo.list_datasets()


def test_unknown_dataset_suggests_close_names(builtin_manager) -> None:
    with pytest.raises(zoo.UnknownNameError, match=r"unknown dataset 'mnsit'.*mean 'mnist'"):
        zoo.get_dataset("mnsit")
    with pytest.raises(zoo.UnknownNameError, match="Did you mean 'fashion-mnist'"):
        zoo.load_dataset("fashion_mnist")


def test_inline_dataset_plugin(data_manager) -> None:
    assert zoo.list_datasets() == ["toy-data"]
    assert data_manager.plugins["toy-data-plugin"].datasets == ["toy-data"]
    ds = zoo.load_dataset("toy-data", "test")
    assert (ds.name, ds.split, len(ds), ds.num_classes) == ("toy-data", "test", 10, 3)
    assert ds.factor_names == ("parity", "quarter") and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64 and ds.factors.dtype == np.int64
    assert ids(ds).tolist() == list(range(100, 110))


def test_dataset_name_conflict_names_both_plugins() -> None:
    m = PluginManager(strict=False)
    m.register(DataPlugin("shared", "only-a"), name="plugin-a")
    with pytest.warns(ZooPluginWarning, match=r"dataset name 'shared'.*'plugin-a' and 'plugin-b'"):
        m.register(DataPlugin("shared", "only-b"), name="plugin-b")
    with pytest.raises(zoo.NameConflictError, match=r"'plugin-a' and 'plugin-b'"):
        m.registry.get_dataset("shared")
    assert sorted(m.registry.datasets) == ["only-a", "only-b"]
    strict = PluginManager(strict=True)
    strict.register(DataPlugin("shared"), name="plugin-a")
    with pytest.raises(zoo.NameConflictError, match="plugin-a"):
        strict.register(DataPlugin("shared"), name="plugin-b")


def test_datasets_have_their_own_namespace() -> None:
    m = PluginManager(strict=True)
    m.register(ToyPlugin("mnist"), name="variants")  # a variant called "mnist"
    m.register(DataPlugin("mnist"), name="datasets")
    assert list(m.registry.variants) == ["mnist"] and list(m.registry.datasets) == ["mnist"]

    class Both:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            ToyPlugin("same").zoo_register_variants(register)

        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            register(toy_data_spec("same"))

    m.register(Both(), name="both")
    assert m.plugins["both"].variants == ["same"] and m.plugins["both"].datasets == ["same"]


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "Bad Name"}, "invalid"),
    ({"loader": None}, "loader must be callable"),
    ({"image_shape": (28, 28)}, "image_shape"),
    ({"num_classes": 1}, "num_classes"),
    ({"factor_sizes": (2,)}, "same length"),
    ({"factor_names": ("a", "a")}, "distinct"),
    ({"splits": ("test",)}, "splits"),
    ({"validation_size": -1}, "validation_size"),
    ({"class_names": ("x",)}, "class_names"),
])
def test_invalid_dataset_specs_are_refused(change, message) -> None:
    spec = toy_data_spec(**{k: v for k, v in change.items() if k != "name"})
    if "name" in change:
        spec = toy_data_spec(change["name"])

    class Plugin:
        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            register(spec)

    with pytest.raises(zoo.PluginError, match=message):
        PluginManager(strict=True).register(Plugin(), name="bad")


def test_registering_the_wrong_type_is_refused() -> None:
    class Wrong:
        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            register(ToyPlugin)

    with pytest.raises(zoo.PluginError, match="DatasetSpec objects"):
        PluginManager(strict=True).register(Wrong(), name="wrong")


# -- splits -----------------------------------------------------------------------------------

def test_validation_is_carved_from_train_deterministically(data_manager) -> None:
    train = zoo.load_dataset("toy-data", "train")
    val = zoo.load_dataset("toy-data", "validation")
    assert (len(train), len(val)) == (N_TOY - 8, 8)
    assert set(ids(train)).isdisjoint(ids(val))
    assert sorted([*ids(train), *ids(val)]) == list(range(N_TOY))
    assert np.all(np.diff(ids(train)) > 0) and np.all(np.diff(ids(val)) > 0)  # canonical order
    assert np.array_equal(ids(zoo.load_dataset("toy-data", "validation")), ids(val))
    other = zoo.load_dataset("toy-data", "validation", seed=1)
    assert not np.array_equal(ids(other), ids(val))
    assert len(zoo.load_dataset("toy-data", "validation", validation_size=3)) == 3
    assert np.array_equal(ids(zoo.load_dataset("toy-data", validation_size=0)), np.arange(N_TOY))
    # the labels and factors travel with their images
    assert np.array_equal(val.labels, ids(val) % 3)
    assert np.array_equal(val.factors[:, 1], ids(val) % 4)


def test_split_errors_say_what_to_do(data_manager, manager) -> None:
    with pytest.raises(DatasetError, match=r"unknown split 'valid'.*Did you mean 'validation'"):
        zoo.load_dataset("toy-data", "valid")
    with pytest.raises(DatasetError, match="leaves no training examples"):
        zoo.load_dataset("toy-data", validation_size=N_TOY)
    with pytest.raises(DatasetError, match="validation_size must be an int >= 0"):
        zoo.load_dataset("toy-data", validation_size=-2)
    with pytest.raises(DatasetError, match="pass validation_size=N"):
        zoo.load_dataset("toy-data", "validation", validation_size=0)
    manager.register(DataPlugin("train-only", splits=("train",)), name="train-only")
    with pytest.raises(DatasetError, match=r"has no test split.*split='validation'"):
        zoo.load_dataset("train-only", "test")


def test_options_limit_sample_select(data_manager) -> None:
    assert ids(zoo.load_dataset("toy-data", "test", limit=3)).tolist() == [100, 101, 102]
    assert len(zoo.load_dataset("toy-data", "test", limit=1000)) == 10
    sample = zoo.load_dataset("toy-data", "test", sample=4, seed=3)
    assert len(sample) == 4 and np.all(np.diff(ids(sample)) > 0)
    assert np.array_equal(ids(zoo.load_dataset("toy-data", "test", sample=4, seed=3)), ids(sample))
    odd = zoo.load_dataset("toy-data", "test", select={"parity": 1, "quarter": [1, 3]})
    assert ids(odd).tolist() == [101, 103, 105, 107, 109]
    assert ids(zoo.load_dataset("toy-data", "test", offset=5, limit=1)).tolist() == [105]

    with pytest.raises(DatasetError, match=r"no option 'ofset'.*Did you mean 'offset'"):
        zoo.load_dataset("toy-data", ofset=1)
    with pytest.raises(DatasetError, match=r"either limit .* or sample"):
        zoo.load_dataset("toy-data", limit=2, sample=2)
    with pytest.raises(DatasetError, match="limit must be an int >= 1"):
        zoo.load_dataset("toy-data", limit=0)
    with pytest.raises(DatasetError, match="sample=11 is more than the 10"):
        zoo.load_dataset("toy-data", "test", sample=11)
    with pytest.raises(DatasetError, match=r"no factor 'quartr'.*Did you mean 'quarter'"):
        zoo.load_dataset("toy-data", select={"quartr": 0})
    with pytest.raises(DatasetError, match=r"factor 'parity' has 2 values"):
        zoo.load_dataset("toy-data", select={"parity": 2})


def test_misbehaving_loaders_are_blamed_on_their_plugin(manager) -> None:
    def returns_dict(partition, *, cache_dir, **options):
        return {"images": None}

    def wrong_shape(partition, *, cache_dir, **options):
        return ArrayDataset(images=np.zeros((3, 5, 5, 1), np.uint8))

    def bad_labels(partition, *, cache_dir, **options):
        return ArrayDataset(images=np.zeros((3, 2, 2, 1), np.uint8), labels=[0, 1, 7])

    for name, loader in (("dict", returns_dict), ("shape", wrong_shape), ("labels", bad_labels)):
        spec = toy_data_spec(name, loader=loader, factor_names=(), factor_sizes=())

        class Plugin:
            @zoo.hookimpl
            def zoo_register_datasets(self, register, spec=spec):
                register(spec)

        manager.register(Plugin(), name=f"plugin-{name}")
    with pytest.raises(DatasetError, match=r"'plugin-dict'.*returned dict"):
        zoo.load_dataset("dict", validation_size=0)
    with pytest.raises(DatasetError, match=r"'plugin-shape'.*promises 3 of shape \(2, 2, 1\)"):
        zoo.load_dataset("shape", validation_size=0)
    with pytest.raises(DatasetError, match=r"'plugin-labels'.*labels 0\.\.7 outside \[0, 3\)"):
        zoo.load_dataset("labels", validation_size=0)


def test_lazy_data_source(manager) -> None:
    calls = []

    def take(idx):
        calls.append(idx.copy())
        return (np.zeros((len(idx), 2, 2, 1), np.uint8), None, np.stack([idx % 2, idx % 4], 1))

    def loader(partition, *, cache_dir, **options):
        return DataSource(num_examples=1000, take=take,
                          all_factors=lambda: np.stack([np.arange(1000) % 2,
                                                        np.arange(1000) % 4], 1))

    class Plugin:
        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            register(toy_data_spec("lazy", loader=loader, num_classes=None, validation_size=0))

    manager.register(Plugin(), name="lazy")
    ds = zoo.load_dataset("lazy", select={"quarter": 3}, limit=5)
    assert len(calls) == 1 and calls[0].tolist() == [3, 7, 11, 15, 19]
    assert ds.labels is None and len(ds) == 5


# -- ArrayDataset ---------------------------------------------------------------------------

def test_array_dataset_subset_select_and_checks() -> None:
    ds = toy_dataset(30)
    assert len(ds) == 30 and ds.image_shape == (4, 4, 1)
    sub = ds.subset([3, 1])
    assert np.array_equal(sub.images, ds.images[[3, 1]]) and sub.labels.tolist() == [3, 1]
    assert len(ds.subset(ds.labels == 0)) == 5
    sel = ds.select(a=0, b=[1, 2])
    assert np.all(sel.factors[:, 0] == 0) and set(sel.factors[:, 1]) <= {1, 2} and len(sel) == 4
    assert "n=30" in repr(ds) and "factors={'a': 3, 'b': 5}" in repr(ds)
    with pytest.raises(DatasetError, match="uint8"):
        ArrayDataset(images=np.zeros((2, 4, 4, 1), np.float32))
    with pytest.raises(DatasetError, match="3 labels for 2 images"):
        ArrayDataset(images=np.zeros((2, 4, 4, 1), np.uint8), labels=[0, 1, 2])
    with pytest.raises(DatasetError, match=r"must lie in \[0, 30\)"):
        ds.subset([30])
    with pytest.raises(DatasetError, match="boolean mask"):
        ds.subset(np.ones(3, bool))
    with pytest.raises(DatasetError, match="no ground-truth factors"):
        toy_dataset(5, factors=False).select(a=0)
    with pytest.raises(DatasetError, match="Did you mean 'a'"):
        ds.select(aa=1)


def test_cache_dir_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ZOO_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "zoo")


def test_import_zoo_stays_cheap() -> None:
    code = ("import sys, zoo; zoo.list_datasets(); "
            "assert 'numpy' not in sys.modules and 'jax' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
