"""The plugin ships the recipes of its published models as presets, each checked by zoo's
conformance kit (valid configs; a preset named like a pretrained model is its exact recipe)."""

from __future__ import annotations

import zoo_beta_vae.plugin

from zoo.testing import check_preset, plugin_manager


def test_presets_are_registered_and_conform() -> None:
    with plugin_manager(zoo_beta_vae.plugin, "beta-vae") as manager:
        names = manager.plugins["beta-vae"].presets
        assert names == ["vae-mnist", "beta-vae-mnist", "beta-vae-capacity-mnist",
                         "beta-vae-dsprites", "beta-vae-capacity-dsprites"]
        for name in names:
            check_preset(manager.registry.presets[name])
