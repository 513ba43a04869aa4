"""The plugin's training recipes (presets): each builds a valid train config and model config
for its variant, and a published model's recipe is exactly the config of its weights."""

from __future__ import annotations

import pytest
import zoo_betatcvae.plugin

from zoo.plugins import PluginManager, use_manager
from zoo.presets import preset_configs

NAMES = ['beta-tcvae-dsprites']


@pytest.fixture
def manager():
    manager = PluginManager(strict=True)
    manager.register(zoo_betatcvae.plugin, name='beta-tcvae')
    with use_manager(manager):
        yield manager


def test_presets_are_registered(manager) -> None:
    assert manager.plugins['beta-tcvae'].presets == NAMES
    assert all(manager.registry.presets[n].plugin == 'beta-tcvae' for n in NAMES)


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


def test_beta_tcvae_dsprites_is_the_recorded_recipe(manager) -> None:
    """The settings the example plugin's model was recorded with, once given as key=value."""
    train_config, model_config = preset_configs("beta-tcvae-dsprites", "beta-tcvae")
    assert (model_config.latent_dim, model_config.beta, model_config.dataset_size) == (
        10, 6.0, 737280)
    assert train_config == train_config.replace(
        dataset="dsprites", batch_size=256, learning_rate=1e-3, max_steps=36000,
        validation_size=10000, eval_every=4000, checkpoint_every=1000, log_every=250, seed=0)
    assert train_config.replace(dataset="mnist", batch_size=128, learning_rate=1e-3,
                                max_steps=0, validation_size=10_000, eval_every=1000,
                                checkpoint_every=1000, log_every=50) == type(train_config)()
