"""The plugin index ("zoo.names" entry-point metadata) and lazy loading: a lookup imports only
the plugin that declares the name. Fake distributions are ``.dist-info`` folders on
``PYTHONPATH``; every check that looks at ``sys.modules`` runs in a fresh process."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import zoo
from zoo.plugins import PluginManager

from .plugin_helpers import light_plugin, make_distribution

#: distribution -> (module body, names declared in "zoo.names")
WORLD = {
    "zoo-fake-a": (light_plugin(("a-one", "a-hidden")), ["a-one"]),  # a-hidden: undeclared
    "zoo-fake-b": (light_plugin(("b-one", "shared")), ["b-one", "shared"]),
    "zoo-fake-c": (light_plugin(("shared",), ("c-data",)), ["shared", "c-data"]),
    "zoo-fake-legacy": (light_plugin(("legacy-one",)), []),  # declares nothing
    "zoo-fake-broken": (light_plugin(head="import a_dependency_that_is_not_installed"),
                        ["broken-one"]),
    "zoo-fake-hook": (light_plugin(hook_error="settings file missing"), ["hook-one"]),
    "zoo-fake-legacy-broken": (light_plugin(head="import another_missing_dependency"), []),
}


def _module(dist: str) -> str:
    return dist.removeprefix("zoo-").replace("-", "_")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``run(code, plugins, **env)``: run ``code`` in a fresh Python with the fake world
    installed and ZOO_PLUGINS set to ``plugins``; return what it printed, parsed as JSON."""
    site = tmp_path_factory.mktemp("site")
    for dist, (body, names) in WORLD.items():
        make_distribution(site, dist, "0.1", _module(dist), body, names)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    for key in ("ZOO_STRICT_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD", "PYTHONWARNINGS"):
        env.pop(key, None)
    prelude = textwrap.dedent("""
        import json, sys, zoo
        def fakes():
            return sorted(m for m in sys.modules if m.startswith("fake_"))
        def error(call, *args):
            try:
                call(*args)
            except zoo.ZooError as exc:
                return f"{type(exc).__name__}: {exc}"
            return None
    """)

    def go(code: str, plugins: list[str], **extra: str) -> dict:
        proc = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
            text=True, timeout=300, cwd=tmp_path_factory.mktemp("cwd"),
            env={**env, "ZOO_PLUGINS": ",".join(plugins), **extra})
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return go


def test_a_lookup_imports_only_the_plugin_that_declares_the_name(run) -> None:
    out = run("""
        out = {}
        zoo.get_variant("a-one"); out["variant"] = fakes()
        zoo.get_dataset("c-data"); out["dataset"] = fakes()
        out["load"] = error(zoo.load, "b-one"); out["loaded"] = fakes()
        out["listed"] = "b-one" in zoo.list_variants(); out["all"] = fakes()
        print(json.dumps(out))
    """, ["zoo-fake-a", "zoo-fake-b", "zoo-fake-c"])
    assert out["variant"] == ["fake_a"]
    assert out["dataset"] == ["fake_a", "fake_c"]
    assert "'b-one' is a variant, not a trained model" in out["load"]  # zoo.load's path
    assert out["loaded"] == ["fake_a", "fake_b", "fake_c"]
    assert out["listed"] and out["all"] == ["fake_a", "fake_b", "fake_c"]


def test_a_plugin_that_declares_no_names_is_loaded_with_every_lookup(run) -> None:
    out = run("""
        zoo.get_variant("a-one"); first = fakes()
        print(json.dumps({"first": first, "legacy": zoo.get_variant("legacy-one").plugin}))
    """, ["zoo-fake-a", "zoo-fake-b", "zoo-fake-legacy"])
    assert out["first"] == ["fake_a", "fake_legacy"]  # it may provide anything: not fake_b
    assert out["legacy"] == "zoo-fake-legacy"


def test_a_name_nobody_declares_is_still_found_by_loading_everything(run) -> None:
    out = run("""
        print(json.dumps({"plugin": zoo.get_variant("a-hidden").plugin, "all": fakes()}))
    """, ["zoo-fake-a", "zoo-fake-b"])
    assert out == {"plugin": "zoo-fake-a", "all": ["fake_a", "fake_b"]}


def test_a_name_two_distributions_declare_is_a_conflict_naming_both(run) -> None:
    out = run("""
        print(json.dumps({"error": error(zoo.get_variant, "shared"), "imported": fakes()}))
    """, ["zoo-fake-a", "zoo-fake-b", "zoo-fake-c"])
    assert out["error"].startswith("NameConflictError: name 'shared' is registered by plugins ")
    assert "'zoo-fake-b' and 'zoo-fake-c'" in out["error"] \
        or "'zoo-fake-c' and 'zoo-fake-b'" in out["error"]  # in metadata order
    assert out["imported"] == ["fake_b", "fake_c"]


def test_unknown_name_names_the_declaring_plugin_that_failed_and_why(run) -> None:
    out = run("""
        import pathlib
        saved = pathlib.Path("saved")  # what zoo.save wrote for a model of variant hook-one
        saved.mkdir()
        (saved / "config.json").write_text(json.dumps({"variant": "hook-one", "config": {}}))
        (saved / "model.safetensors").write_bytes(b"")
        print(json.dumps({"import": error(zoo.get_variant, "broken-one"),
                          "hook": error(zoo.get_variant, "hook-one"),
                          "saved": error(zoo.load, "saved")}))
    """, ["zoo-fake-a", "zoo-fake-broken", "zoo-fake-hook"])
    assert out["import"].startswith("UnknownNameError: unknown variant 'broken-one'")
    assert "provided by plugin 'zoo-fake-broken' (distribution 'zoo-fake-broken'), which " \
           "failed to load" in out["import"]
    assert "No module named 'a_dependency_that_is_not_installed'" in out["import"]
    assert "pip install --force-reinstall zoo-fake-broken" in out["import"]
    assert "`zoo plugins`" in out["import"]
    assert "provided by plugin 'zoo-fake-hook'" in out["hook"]
    assert "failed in zoo_register_variants: RuntimeError: settings file missing" in out["hook"]
    assert out["saved"].startswith("ZooError: 'saved/config.json' needs variant 'hook-one'. It is "
                                   "provided by plugin 'zoo-fake-hook'")


def test_a_name_of_another_kind_loads_everything_and_says_what_it_is(run) -> None:
    out = run("""
        print(json.dumps({"error": error(zoo.get_variant, "c-data"), "imported": fakes()}))
    """, ["zoo-fake-a", "zoo-fake-b", "zoo-fake-c"])
    assert out["error"].startswith("UnknownNameError: unknown variant 'c-data'")
    assert "Known: a-hidden, a-one, b-one," in out["error"]  # the full list, not a partial one
    assert "'c-data' is a dataset (plugin 'zoo-fake-c'), not a variant." in out["error"]
    assert out["imported"] == ["fake_a", "fake_b", "fake_c"]


def test_unknown_name_lists_failed_plugins_that_may_provide_it(run) -> None:
    out = run("""
        print(json.dumps({"error": error(zoo.get_variant, "nowhere")}))
    """, ["zoo-fake-a", "zoo-fake-broken", "zoo-fake-legacy-broken"])
    assert "Plugins that failed to load, which may provide it: 'zoo-fake-legacy-broken'" \
        in out["error"]
    assert "another_missing_dependency" in out["error"]
    # zoo-fake-broken declares its names, and 'nowhere' is not one of them
    assert "zoo-fake-broken" not in out["error"]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "which ZOO_PLUGINS leaves out; add 'zoo-fake-b' to ZOO_PLUGINS"),
    ({"ZOO_DISABLE_PLUGIN_AUTOLOAD": "1"}, "not loaded because ZOO_DISABLE_PLUGIN_AUTOLOAD"),
])
def test_unknown_name_says_which_setting_left_its_plugin_out(run, env, expected) -> None:
    out = run("""
        print(json.dumps({"error": error(zoo.get_variant, "b-one"), "imported": fakes()}))
    """, ["zoo-fake-a"], **env)
    assert expected in out["error"]
    assert "fake_b" not in out["imported"]


def test_strict_mode_fails_on_the_plugins_a_lookup_loads(run) -> None:
    out = run("""
        print(json.dumps({"bad": error(zoo.get_variant, "broken-one"),
                          "good": zoo.get_variant("a-one").plugin}))
    """, ["zoo-fake-a", "zoo-fake-broken"], ZOO_STRICT_PLUGINS="1")
    assert out["bad"].startswith("PluginError: plugin 'zoo-fake-broken'")
    assert out["good"] == "zoo-fake-a"


def test_first_party_load_imports_only_its_own_plugin() -> None:
    """The real first-party plugins, as installed (CI installs them from
    requirements-test.txt): zoo.load("vqvae-mnist") imports zoo_vqvae and no other plugin."""
    try:
        declared = importlib.metadata.distribution("zoo-vqvae").entry_points.select(
            group="zoo.names")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("zoo-vqvae is not installed")
    assert "vqvae-mnist" in declared.names, \
        "zoo-vqvae's metadata lacks \"zoo.names\": reinstall it (pip install -e plugins/zoo-vqvae)"
    code = ("import sys, zoo\nzoo.load('vqvae-mnist')\n"
            "print(sorted(m for m in ('zoo_vqvae', 'zoo_cvae', 'zoo_beta_vae', 'zoo_betatcvae') "
            "if m in sys.modules))")
    env = {k: v for k, v in os.environ.items()
           if k not in {"ZOO_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD", "ZOO_STRICT_PLUGINS"}}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**env, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['zoo_vqvae']"


def test_managers_made_in_code_never_import_anything(tmp_path, monkeypatch) -> None:
    make_distribution(tmp_path, "zoo-inproc", "0.1", "zoo_inproc", light_plugin(("inproc",)),
                      ["inproc"])
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        manager = PluginManager(strict=True)
        with pytest.raises(zoo.UnknownNameError, match="unknown variant 'inproc'"):
            manager.require("inproc").get_variant("inproc")
        assert "zoo_inproc" not in sys.modules and manager.plugins == {}
    finally:
        sys.modules.pop("zoo_inproc", None)


def test_an_explicit_managers_unknown_name_mentions_its_failed_plugins() -> None:
    class Failing:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            raise RuntimeError("no config file")

    manager = PluginManager(strict=False)
    with pytest.warns(zoo.plugins.ZooPluginWarning):
        manager.register(Failing(), name="failing")
    with pytest.raises(zoo.UnknownNameError) as info:
        manager.registry.get_variant("anything")
    assert "which may provide it: 'failing'" in str(info.value)
    assert "RuntimeError: no config file" in str(info.value)


@pytest.mark.parametrize(("directory", "plugin", "module"), [
    ("zoo-beta-vae", "beta-vae", "zoo_beta_vae.plugin"), ("zoo-cvae", "cvae", "zoo_cvae.plugin"),
    ("zoo-vqvae", "vqvae", "zoo_vqvae.plugin"),
    ("zoo-betatcvae", "beta-tcvae", "zoo_betatcvae.plugin"),
])
def test_first_party_plugins_declare_exactly_the_names_they_register(directory, plugin,
                                                                     module) -> None:
    """Each first-party pyproject.toml's "zoo.names" (read from the source tree) against what
    its plugin registers (registered explicitly): a new pretrained entry or preset must be
    declared, or a lookup of it would import every plugin."""
    pyproject = Path(__file__).resolve().parents[1] / "plugins" / directory / "pyproject.toml"
    entry_points = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
    assert entry_points["zoo"] == {plugin: module}
    declared = entry_points["zoo.names"]
    assert set(declared.values()) == {module}
    info = PluginManager(strict=True).register(importlib.import_module(module), name=plugin)
    assert sorted(declared) == sorted({*info.variants, *info.pretrained, *info.datasets,
                                       *info.presets})
