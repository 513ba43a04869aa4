"""The plugin ships the recipes of its published models as presets, each checked by zoo's
conformance kit (valid configs; a preset named like a pretrained model is its exact recipe)."""

from __future__ import annotations

import zoo_cvae.plugin

from zoo.testing import check_preset, plugin_manager


def test_presets_are_registered_and_conform() -> None:
    with plugin_manager(zoo_cvae.plugin, "cvae") as manager:
        names = manager.plugins["cvae"].presets
        assert names == ["cvae-mnist"]
        for name in names:
            check_preset(manager.registry.presets[name])
