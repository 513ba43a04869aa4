"""Checking whole plugins: every variant and pretrained entry they register."""

from __future__ import annotations

import contextlib
import importlib.metadata
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

from zoo.plugins import PluginManager, get_manager, use_manager
from zoo.testing.presets import check_preset
from zoo.testing.pretrained import check_pretrained
from zoo.testing.variants import check_variant


def _plugin_name(plugin: object) -> str:
    """The entry-point name a plugin module is installed under, else its module (or class)
    name."""
    if not isinstance(plugin, types.ModuleType):
        return type(plugin).__name__
    for ep in importlib.metadata.entry_points(group="zoo"):
        if ep.value == plugin.__name__:
            return ep.name
    return plugin.__name__


@contextlib.contextmanager
def plugin_manager(plugins: object | Sequence[object],
                   name: str | None = None) -> Iterator[PluginManager]:
    """A fresh strict :class:`PluginManager` with ``plugins`` (one plugin, or a list such as a
    plugin yours depends on, then yours) registered, active inside the block. ``name`` names the
    last one (default: its entry-point name)."""
    items = list(plugins) if isinstance(plugins, list | tuple) else [plugins]
    manager = PluginManager(strict=True)
    for i, plugin in enumerate(items):
        last = i == len(items) - 1
        manager.register(plugin, name=name if name and last else _plugin_name(plugin))
    with use_manager(manager):
        yield manager


def check_plugin(plugin: object | Sequence[object] | None, directory: str | Path, *,
                 cards_dir: str | Path | None = None, variants: Sequence[str] | None = None,
                 pretrained: bool = True, name: str | None = None) -> list[str]:
    """Run :func:`check_variant` on every variant the plugin registers (or on ``variants``),
    :func:`check_pretrained` on its pretrained entries (those of ``variants``, if given) and
    :func:`check_preset` on its presets.

    ``plugin`` (or a list ending with it, see :func:`plugin_manager`) is registered into a fresh
    strict manager; ``None`` checks everything the active manager holds. Returns the names
    checked, variants first.
    """
    if plugin is not None:
        with plugin_manager(plugin, name) as manager:
            info = list(manager.plugins.values())[-1]
            names = list(info.variants) if variants is None else list(variants)
            entries = list(info.pretrained)
            checked = _check_names(names, entries, directory, cards_dir, variants is not None,
                                   pretrained)
            for preset in info.presets:
                check_preset(manager.registry.presets[preset])
            return checked
    registry = get_manager().registry
    names = sorted(registry.variants) if variants is None else list(variants)
    checked = _check_names(names, sorted(registry.pretrained), directory, cards_dir,
                           variants is not None, pretrained)
    for preset in sorted(registry.presets):
        check_preset(registry.presets[preset])
    return checked


def _check_names(names: list[str], entries: list[str], directory: str | Path,
                 cards_dir: str | Path | None, only_of_names: bool, pretrained: bool) -> list[str]:
    registry = get_manager().registry
    for variant in names:
        check_variant(registry.get_variant(variant), Path(directory) / variant)
    checked = list(names)
    if pretrained:
        for entry in sorted(entries):
            spec = registry.get_pretrained(entry)
            if not only_of_names or spec.variant in names:
                check_pretrained(spec, cards_dir)
                checked.append(entry)
    return checked
