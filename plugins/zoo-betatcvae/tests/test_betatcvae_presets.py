"""The plugin ships the recipes of its published models as presets, each checked by zoo's
conformance kit (valid configs; a preset named like a pretrained model is its exact recipe)."""

from __future__ import annotations

import zoo_betatcvae.plugin

from zoo.testing import check_preset, plugin_manager


def test_presets_are_registered_and_conform() -> None:
    with plugin_manager(zoo_betatcvae.plugin, "beta-tcvae") as manager:
        names = manager.plugins["beta-tcvae"].presets
        assert names == ["beta-tcvae-dsprites"]
        for name in names:
            check_preset(manager.registry.presets[name])
