"""The plugin through the zoo API: registration, create, save/load (bit-exact, EMA state too)."""

from __future__ import annotations

import subprocess
import sys

import jax
import numpy as np
import optax
import pytest
import zoo_vqvae.plugin
from flax import nnx
from zoo_vqvae.config import VQVAEConfig

import zoo
import zoo.plugins
from zoo.checkpoint import flat_state

TINY = {"height": 8, "width": 8, "hidden_dims": (4,), "embedding_dim": 4, "num_embeddings": 8}


@pytest.fixture
def manager():
    manager = zoo.plugins.PluginManager(strict=True)
    manager.register(zoo_vqvae.plugin, name="vqvae")
    with zoo.plugins.use_manager(manager):
        yield manager


def test_registers_the_vqvae_variant(manager):
    assert "vqvae" in zoo.list_variants()
    spec = zoo.get_variant("vqvae")
    assert spec.config_class is VQVAEConfig
    assert spec.default_config == VQVAEConfig()
    assert spec.default_config.architecture == "cnn" and spec.default_config.use_ema
    assert spec.plugin == "vqvae"


def test_create_applies_and_checks_overrides(manager):
    model = zoo.create("vqvae", **TINY)
    assert model.config == VQVAEConfig(**TINY)
    with pytest.raises(zoo.ConfigError, match="architecture"):
        zoo.create("vqvae", architecture="mlp")
    with pytest.raises(zoo.ConfigError, match="ema_decay"):
        zoo.create("vqvae", ema_decay=1.5)


@nnx.jit(static_argnames="loss")
def train_step(model, optimizer, rngs, x, loss):
    def loss_fn(model, rngs):
        return loss(model(x, rngs=rngs), x, config=model.config, step=0)

    (_, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, rngs)
    optimizer.update(model, grads)
    return metrics


@pytest.mark.parametrize("use_ema", [True, False])
def test_save_load_is_bit_exact_including_ema_state(manager, tmp_path, use_ema):
    model = zoo.create("vqvae", seed=3, use_ema=use_ema, dead_code_threshold=1, **TINY)
    spec = zoo.get_variant("vqvae")
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    x = jax.random.uniform(jax.random.key(0), (4, 8, 8, 1))
    rngs = nnx.Rngs(noise=0)
    for _ in range(3):  # move the EMA statistics and step counters away from their init
        train_step(model, optimizer, rngs, x, loss=spec.loss)
    saved = {k: np.asarray(v.get_value()) for k, v in flat_state(model).items()}
    stats = {"quantizer.codebook", "quantizer.steps_since_used"}
    if use_ema:
        stats |= {"quantizer.cluster_size", "quantizer.embed_sum"}
    assert stats <= set(saved)
    zoo.save(model, tmp_path / "m")
    loaded = zoo.load(tmp_path / "m")
    assert loaded.config == model.config
    assert loaded.quantizer.deterministic  # zoo.load returns eval mode
    got = {k: np.asarray(v.get_value()) for k, v in flat_state(loaded).items()}
    assert set(got) == set(saved)
    for key, value in saved.items():
        assert got[key].dtype == value.dtype, key
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    model.eval()
    np.testing.assert_array_equal(
        np.asarray(loaded.reconstruct(x)), np.asarray(model.reconstruct(x))
    )


def test_plugin_module_does_not_import_jax():
    code = (
        "import sys, zoo_vqvae.plugin; "
        "bad = [m for m in ('jax', 'flax', 'zoo_vqvae.model') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
