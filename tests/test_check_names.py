"""zoo.testing.check_names_available, the opt-in check a plugin author runs in their own
environment, on fake installed distributions (``.dist-info`` folders on ``sys.path``)."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from zoo.testing import ConformanceError, check_names_available

from .plugin_helpers import light_plugin, make_distribution


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``install(dist, variants=(), datasets=(), declares=())``: a fake installed plugin."""
    modules: list[str] = []
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(dist: str, variants: tuple[str, ...] = (), datasets: tuple[str, ...] = (),
            declares: tuple[str, ...] = ()) -> None:
        module = dist.replace("-", "_")
        make_distribution(tmp_path, dist, "0.1", module, light_plugin(variants, datasets),
                          declares)
        modules.append(module)
        importlib.invalidate_caches()

    yield add
    for module in modules:
        sys.modules.pop(module, None)


def test_a_plugin_whose_names_are_free_and_declared_passes(install, zoo_check_names_available
                                                           ) -> None:
    install("zoo-kit-ok", ("kit-ok",), ("kit-ok-data",), ("kit-ok", "kit-ok-data"))
    assert check_names_available("zoo-kit-ok") == ["kit-ok", "kit-ok-data"]
    assert zoo_check_names_available(importlib.import_module("zoo_kit_ok")) == [
        "kit-ok", "kit-ok-data"]


def test_every_problem_is_reported_with_its_fix(install) -> None:
    install("zoo-kit-a", ("kit-one", "kit-shared", "kit-hidden"), (),
            ("kit-one", "kit-shared", "kit-gone"))
    install("zoo-kit-b", ("kit-shared",), (), ("kit-shared",))
    with pytest.raises(ConformanceError) as info:
        check_names_available("zoo-kit-a")
    lines = str(info.value).splitlines()
    assert len(lines) == 3, lines
    undeclared, stale, taken = lines
    assert undeclared.startswith("[name-undeclared] plugin 'zoo-kit-a' (distribution "
                                 "'zoo-kit-a') registers 'kit-hidden' without declaring")
    assert 'Fix: add it under [project.entry-points."zoo.names"] in pyproject.toml ' \
           '("kit-hidden" = "zoo_kit_a")' in undeclared
    assert stale.startswith("[name-stale]") and "'kit-gone'" in stale
    assert taken.startswith("[name-taken]") and "claims the name 'kit-shared'" in taken
    assert "distribution 'zoo-kit-b' registers it too (plugin 'zoo-kit-b')" in taken
    assert "Fix: rename 'kit-shared' in your plugin (e.g. to 'kit-a-kit-shared')" in taken
    assert info.value.rule == "name-undeclared"
    with pytest.raises(ConformanceError, match=r"^\[name-taken\].*distribution 'zoo-kit-a'"):
        check_names_available("zoo-kit-b")


def test_a_clash_over_a_name_the_other_plugin_never_declared_is_found(install) -> None:
    install("zoo-kit-sneaky", ("kit-taken",))  # declares nothing
    install("zoo-kit-honest", ("kit-taken",), (), ("kit-taken",))
    with pytest.raises(ConformanceError, match="distribution 'zoo-kit-sneaky' registers it too"):
        check_names_available("zoo-kit-honest")


def test_a_name_declared_by_a_plugin_that_does_not_load_still_counts(install, tmp_path) -> None:
    install("zoo-kit-mine", ("kit-wanted",), (), ("kit-wanted",))
    make_distribution(tmp_path, "zoo-kit-broken", "0.1", "zoo_kit_broken",
                      "import a_dependency_that_is_not_installed\n", ["kit-wanted"])
    importlib.invalidate_caches()
    with pytest.raises(ConformanceError, match=r"distribution 'zoo-kit-broken' declares it in "
                                               r"its \"zoo\.names\" metadata"):
        check_names_available("zoo-kit-mine")


def test_the_cores_own_names_are_taken(install) -> None:
    install("zoo-kit-data", (), ("mnist",), ("mnist",))
    with pytest.raises(ConformanceError, match="distribution 'vae-zoo' registers it too "
                                               r"\(plugin 'zoo-datasets'\)"):
        check_names_available("zoo-kit-data")


def test_a_model_may_share_a_name_with_a_core_dataset(install) -> None:
    install("zoo-kit-model", ("mnist",), (), ("mnist",))  # datasets have their own namespace
    assert check_names_available("zoo-kit-model") == ["mnist"]


def test_a_plugin_that_is_not_installed_is_told_to_install() -> None:
    with pytest.raises(ConformanceError, match=r"^\[names-installed\] module 'nowhere_plugin' "
                                               r".*Fix: install the plugin"):
        check_names_available(types.ModuleType("nowhere_plugin"))
