"""The plugin's training recipes (presets): each builds a valid train config and model config
for its variant, and a published model's recipe is exactly the config of its weights."""

from __future__ import annotations

import pytest
import zoo_vqvae.plugin

from zoo.plugins import PluginManager, use_manager
from zoo.presets import preset_configs

NAMES = ['vqvae-mnist']


@pytest.fixture
def manager():
    manager = PluginManager(strict=True)
    manager.register(zoo_vqvae.plugin, name='vqvae')
    with use_manager(manager):
        yield manager


def test_presets_are_registered(manager) -> None:
    assert manager.plugins['vqvae'].presets == NAMES
    assert all(manager.registry.presets[n].plugin == 'vqvae' for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_builds_valid_configs(manager, name) -> None:
    preset = manager.registry.presets[name]
    assert preset.variants and preset.release is not None  # a publishable recipe
    for variant in preset.variants:
        train_config, model_config = preset_configs(name, variant)
        train_config.validate()
        model_config.validate()
        assert {k: getattr(model_config, k) for k in preset.model} == dict(preset.model)
    pretrained = manager.registry.pretrained.get(name)
    if pretrained is not None:  # its weights were made by this recipe
        spec = manager.registry.get_variant(pretrained.variant)
        assert preset.variants == (pretrained.variant,)
        assert train_config.dataset == pretrained.dataset
        published = spec.default_config.replace(**pretrained.config)
        fitted = {k: getattr(published, k) for k in ("height", "width", "channels")}
        assert model_config.replace(**fitted) == published  # image shape follows the dataset
