"""Every *installed* plugin (entry points of group "zoo" in this environment) passes the
conformance kit: its variants and its pretrained entries with their model cards.

This is the one test that looks at what is installed, on purpose: it is what CI's environment
ships (the README's set-up: core, first-party plugins, and whatever else was pip-installed). An
environment with no plugin installed has nothing to check, and the test says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.plugins import PluginManager, register_builtins, use_manager
from zoo.testing import check_pretrained, check_variant

CARDS = Path(__file__).resolve().parents[1] / "model_cards"


def _installed() -> PluginManager:
    manager = PluginManager(strict=True)  # any broken installed plugin fails here, loudly
    register_builtins(manager)
    manager.load_entry_points(allow=None)
    return manager


def _names(kind: str) -> list[str]:
    try:
        registry = _installed().registry
    except Exception:  # reported by test_installed_plugins_load below
        return []
    return sorted(registry.variants if kind == "variants" else registry.pretrained)


def test_installed_plugins_load_strictly() -> None:
    manager = _installed()
    assert not [p for p in manager.plugins.values() if p.errors]


@pytest.mark.parametrize("name", _names("variants") or [pytest.param(None, marks=pytest.mark.skip(
    reason="no zoo plugin is installed in this environment"))])
def test_installed_variant_conforms(name: str, tmp_path: Path) -> None:
    manager = _installed()
    with use_manager(manager):
        check_variant(manager.registry.get_variant(name), tmp_path)


@pytest.mark.parametrize("name", _names("pretrained") or [pytest.param(None, marks=pytest.mark.skip(
    reason="no pretrained model is installed in this environment"))])
def test_installed_pretrained_entry_conforms(name: str) -> None:
    manager = _installed()
    with use_manager(manager):
        spec = manager.registry.get_pretrained(name)
        card_dir = CARDS if (CARDS / f"{name}.md").is_file() else None
        check_pretrained(spec, cards_dir=card_dir)
