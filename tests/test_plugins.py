"""Plugin discovery, isolation, conflicts and allow-lists, with inline and on-disk test plugins."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

import zoo
from zoo import plugins as zplugins
from zoo.cli import main
from zoo.plugins import PluginManager, ZooPluginWarning

from .conftest import ToyPlugin, toy_spec
from .plugin_helpers import make_distribution


def test_inline_plugin_registers_and_builds(toy_manager) -> None:
    assert zoo.list_variants() == ["toy"]
    assert zoo.list_models("to*") == ["toy"]
    model = zoo.create("toy", features=3)
    assert model.config.features == 3
    info = toy_manager.plugins["toy-plugin"]
    assert info.variants == ["toy"] and "zoo_register_variants" in info.hooks


def test_unknown_name_suggests_close_matches(toy_manager) -> None:
    with pytest.raises(zoo.UnknownNameError, match=r"unknown variant 'tyo'.*Did you mean 'toy'"):
        zoo.get_variant("tyo")
    with pytest.raises(zoo.UnknownNameError, match="Did you mean 'toy'"):
        zoo.create("toys")


class RaisingPlugin:
    @zoo.hookimpl
    def zoo_register_variants(self, register):
        register(toy_spec("half-registered"))
        raise RuntimeError("boom in hook")


def test_failing_hook_is_isolated_and_rolled_back() -> None:
    m = PluginManager(strict=False)
    with pytest.warns(ZooPluginWarning, match=r"'bad'.*boom in hook"):
        m.register(RaisingPlugin(), name="bad")
    m.register(ToyPlugin("good"), name="fine")
    assert sorted(m.registry.variants) == ["good"]  # nothing of 'bad' survives
    assert "boom in hook" in m.plugins["bad"].errors[0]


def test_strict_mode_raises() -> None:
    m = PluginManager(strict=True)
    with pytest.raises(zoo.PluginError, match="boom in hook"):
        m.register(RaisingPlugin(), name="bad")


def test_strict_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    assert PluginManager().strict
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "0")
    assert not PluginManager().strict


def test_name_conflict_names_both_plugins() -> None:
    m = PluginManager(strict=False)
    m.register(ToyPlugin("shared", "only-a"), name="plugin-a")
    with pytest.warns(ZooPluginWarning, match="plugin-a"):
        m.register(ToyPlugin("shared", "only-b"), name="plugin-b")
    with pytest.raises(zoo.NameConflictError, match=r"'plugin-a' and 'plugin-b'"):
        m.registry.get_variant("shared")
    assert sorted(m.registry.variants) == ["only-a", "only-b"]  # the rest keeps working
    assert "shared" not in m.registry.names()


def test_conflict_is_fatal_in_strict_mode() -> None:
    m = PluginManager(strict=True)
    m.register(ToyPlugin("shared"), name="plugin-a")
    with pytest.raises(zoo.NameConflictError, match="plugin-a"):
        m.register(ToyPlugin("shared"), name="plugin-b")


def test_invalid_specs_are_reported() -> None:
    class BadName:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            register(toy_spec("Bad Name"))

    class NotASpec:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            register({"name": "x"})

    class Twice:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            register(toy_spec("twice"))
            register(toy_spec("twice"))

    m = PluginManager(strict=True)
    with pytest.raises(zoo.PluginError, match="invalid"):
        m.register(BadName(), name="bad-name")
    with pytest.raises(zoo.PluginError, match="VariantSpec objects, got dict"):
        m.register(NotASpec(), name="not-a-spec")
    with pytest.raises(zoo.PluginError, match="registered twice by this plugin"):
        m.register(Twice(), name="twice")


def test_plugin_api_version_mismatch_is_refused() -> None:
    plugin = types.ModuleType("future_plugin")
    plugin.ZOO_PLUGIN_API = 99
    m = PluginManager(strict=True)
    with pytest.raises(zoo.PluginError, match=r"plugin API 99.*speaks plugin API 1"):
        m.register(plugin, name="future")


def test_same_plugin_name_twice_is_an_error() -> None:
    m = PluginManager(strict=True)
    m.register(ToyPlugin("a"), name="p")
    with pytest.raises(zoo.PluginError, match="registered twice"):
        m.register(ToyPlugin("b"), name="p")


def test_factory_that_returns_a_non_module_is_a_plugin_error(manager) -> None:
    class Wrong:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            spec = toy_spec("wrong")
            register(type(spec)(**{**spec.__dict__, "factory": lambda c, *, rngs: object()}))

    manager.register(Wrong(), name="wrong")
    with pytest.raises(zoo.PluginError, match=r"returned object, not a flax\.nnx\.Module"):
        zoo.create("wrong")


# -- entry points, from real (fake) distributions on disk ---------------------------------------

GOOD_PLUGIN = """
import dataclasses
import zoo

@dataclasses.dataclass(frozen=True)
class Cfg(zoo.Config):
    size: int = 2

@zoo.hookimpl
def zoo_register_variants(register):
    register(zoo.VariantSpec(name="disk-variant", config_class=Cfg, default_config=Cfg(),
                             factory=lambda c, *, rngs: None, loss=lambda *a, **k: None))
"""


@pytest.fixture
def disk_plugins(tmp_path, monkeypatch):
    make_distribution(tmp_path, "zoo-disk-good", "1.2.3", "zoo_disk_good", GOOD_PLUGIN)
    make_distribution(tmp_path, "zoo-disk-broken", "0.1", "zoo_disk_broken",
                       "raise ImportError('missing dependency foo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for mod in ("zoo_disk_good", "zoo_disk_broken"):
        sys.modules.pop(mod, None)


def test_entry_point_discovery_and_import_failure_isolation(disk_plugins, monkeypatch) -> None:
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-disk-good,zoo-disk-broken")
    m = PluginManager(strict=False)
    with pytest.warns(ZooPluginWarning, match=r"'zoo-disk-broken'.*missing dependency foo"):
        m.load_entry_points()
    good = m.plugins["zoo-disk-good"]
    assert (good.distribution, good.version, good.variants) == (
        "zoo-disk-good", "1.2.3", ["disk-variant"])
    assert m.plugins["zoo-disk-broken"].errors
    assert sorted(m.registry.variants) == ["disk-variant"]
    m.load_entry_points()  # idempotent
    assert sorted(m.registry.variants) == ["disk-variant"]


def test_allow_list_restricts_loading(disk_plugins, monkeypatch) -> None:
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-disk-good")
    m = PluginManager(strict=True)
    m.load_entry_points()
    assert list(m.plugins) == ["zoo-disk-good"]
    monkeypatch.setenv("ZOO_PLUGINS", "")
    m = PluginManager(strict=True)
    m.load_entry_points()
    assert m.plugins == {}


def test_disable_autoload(disk_plugins, monkeypatch) -> None:
    monkeypatch.setenv("ZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(zplugins, "_manager", None)
    # the core's own built-ins: datasets, the evaluation classifier, the generic presets
    assert list(zplugins.get_manager().plugins) == ["zoo-datasets", "zoo-classifier",
                                                    "zoo-presets"]
    assert zplugins.load_plugins() is zplugins.get_manager()


def test_an_empty_allow_list_loads_no_installed_plugin_but_keeps_the_builtins(
        disk_plugins, monkeypatch) -> None:
    """``ZOO_PLUGINS=`` (empty): no entry point is loaded, the core's built-ins still are (the
    README's table of environment variables says so)."""
    monkeypatch.setenv("ZOO_PLUGINS", "")
    monkeypatch.setattr(zplugins, "_manager", None)
    assert list(zplugins.get_manager().plugins) == list(zplugins.BUILTIN_PLUGINS)
    assert "mnist" in zplugins.get_manager().registry.datasets
    assert "disk-variant" not in zoo.list_variants()


def test_a_name_whose_plugin_failed_names_that_plugin_and_its_failure(tmp_path, monkeypatch,
                                                                      capsys) -> None:
    """``zoo.create``, ``zoo.load``, ``zoo.get_variant`` and ``zoo train`` of a name nobody
    registered, beside an inline plugin that failed: each error names the failed plugin and its
    failure (not only the names that are known)."""
    m = PluginManager(strict=False)
    zplugins.register_builtins(m)
    with pytest.warns(ZooPluginWarning):
        m.register(RaisingPlugin(), name="bad")
    m.register(ToyPlugin("toy"), name="fine")
    failure = ("Plugins that failed to load, which may provide it: 'bad': plugin 'bad' failed in "
               "zoo_register_variants: RuntimeError: boom in hook")
    monkeypatch.chdir(tmp_path)
    with zplugins.use_manager(m):
        for call in (zoo.create, zoo.load, zoo.get_variant):
            with pytest.raises(zoo.UnknownNameError) as info:
                call("half-registered")
            assert failure in str(info.value), call
            assert "distribution None" not in str(info.value)
        code = main(["train", "half-registered", "--dataset", "mnist", "--out", "run",
                     "--no-progress"])
    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("zoo: error: unknown variant 'half-registered'") and failure in error
    assert not (tmp_path / "run").exists()
