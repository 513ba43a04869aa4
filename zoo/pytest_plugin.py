"""pytest fixtures of zoo's conformance kit, for the test suites of variant plugins.

Installed with ``vae-zoo`` (entry point group ``pytest11``, name ``zoo``), so pytest loads it
in any project whose environment has zoo: a plugin's tests need no conftest::

    import my_package.plugin

    def test_conforms(zoo_check_variant):
        zoo_check_variant("my-vae", plugin=my_package.plugin)

    def test_everything_it_registers(zoo_check_plugin):
        zoo_check_plugin(my_package.plugin, cards_dir="model_cards")

Fixtures:

``zoo_check_variant(name, plugin=None, *, config=None, cards_dir=None, pretrained=True,
plugin_name=None)``
    Registers ``plugin`` (a module or object with ``@zoo.hookimpl`` hooks, or a list ending
    with it) into a fresh strict plugin manager, then runs every rule of
    :func:`zoo.testing.check_variant` on variant ``name`` (on ``config`` if given, else on a
    tiny config) and :func:`zoo.testing.check_pretrained` on the pretrained entries of that
    variant (their model cards too, with ``cards_dir``). ``plugin=None`` checks the active
    plugin manager instead.
``zoo_check_plugin(plugin, *, cards_dir=None, pretrained=True, plugin_name=None)``
    The same for every variant and pretrained entry the plugin registers; returns their names.
``zoo_fresh_manager``
    A fresh, empty, strict :class:`zoo.plugins.PluginManager`, active for the test
    (``zoo_fresh_manager.register(my_package.plugin, name="my-vae")``, then ``zoo.create``...).
``zoo_check_names_available(plugin)``
    Opt-in, against the installed environment (install your plugin first):
    :func:`zoo.testing.check_names_available` on ``plugin`` (its module or distribution name):
    no name it claims is claimed by another installed plugin, and its
    ``[project.entry-points."zoo.names"]`` lists every name it registers.

A failure raises :class:`zoo.testing.ConformanceError` naming the variant, the plugin, the broken
rule and the fix. Disable the plugin with ``pytest -p no:zoo``. This module imports neither JAX
nor the kit until a fixture is used, so loading it costs pytest nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["zoo_check_names_available", "zoo_check_plugin", "zoo_check_variant",
           "zoo_fresh_manager"]


@pytest.fixture
def zoo_fresh_manager() -> Iterator[Any]:
    """A fresh, empty, strict plugin manager, installed as the process-wide one for the test."""
    from zoo.plugins import PluginManager, use_manager

    with use_manager(PluginManager(strict=True)) as manager:
        yield manager


@pytest.fixture
def zoo_check_variant(tmp_path: Path) -> Callable[..., None]:
    """``zoo_check_variant(name, plugin=None, *, config=None, cards_dir=None,
    pretrained=True, plugin_name=None)``: run the conformance kit on one variant."""

    def check(name: str, plugin: Any = None, *, config: Any = None,
              cards_dir: str | os.PathLike[str] | None = None, pretrained: bool = True,
              plugin_name: str | None = None) -> None:
        from zoo import testing

        scope = (testing.plugin_manager(plugin, plugin_name) if plugin is not None
                 else contextlib.nullcontext())
        with scope:
            from zoo.plugins import get_manager

            registry = get_manager().registry
            testing.check_variant(registry.get_variant(name), tmp_path / name, config=config)
            if pretrained:
                for entry in sorted(registry.pretrained.values(), key=lambda s: s.name):
                    if entry.variant == name:
                        testing.check_pretrained(entry, cards_dir)

    return check


@pytest.fixture
def zoo_check_plugin(tmp_path: Path) -> Callable[..., list[str]]:
    """``zoo_check_plugin(plugin, *, cards_dir=None, pretrained=True, plugin_name=None)``: run
    the conformance kit on everything a plugin registers; returns the names checked."""

    def check(plugin: Any, *, cards_dir: str | os.PathLike[str] | None = None,
              pretrained: bool = True, plugin_name: str | None = None) -> list[str]:
        from zoo import testing

        return testing.check_plugin(plugin, tmp_path, cards_dir=cards_dir,
                                    pretrained=pretrained, name=plugin_name)

    return check


@pytest.fixture
def zoo_check_names_available() -> Callable[..., list[str]]:
    """``zoo_check_names_available(plugin)``: check, in this environment, that the names an
    installed plugin claims are its own and all declared in its "zoo.names" metadata."""

    def check(plugin: Any) -> list[str]:
        from zoo import testing

        return testing.check_names_available(plugin)

    return check
