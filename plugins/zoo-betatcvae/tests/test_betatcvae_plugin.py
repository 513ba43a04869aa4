"""The plugin through zoo's public API: registration, config, the conformance kit, the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import zoo_betatcvae
import zoo_betatcvae.plugin
from flax import nnx
from zoo_betatcvae.config import BetaTCVAEConfig
from zoo_betatcvae.model import BetaTCVAE

import zoo
from zoo.plugins import PluginManager, use_manager
from zoo.testing import check_variant, tiny_config

TINY = BetaTCVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3)


@pytest.fixture
def manager():
    """A fresh, strict manager holding only this plugin (never what happens to be installed)."""
    manager = PluginManager(strict=True)
    manager.register(zoo_betatcvae.plugin, name="beta-tcvae")
    with use_manager(manager):
        yield manager


def test_registers_the_variant(manager) -> None:
    assert zoo.list_variants() == ["beta-tcvae"]
    spec = zoo.get_variant("beta-tcvae")
    assert spec.plugin == "beta-tcvae" and spec.kind == "vae" and not spec.conditional
    assert spec.config_class is BetaTCVAEConfig
    assert (spec.latent, spec.architectures, spec.has_prior) == ("gaussian", ("mlp", "cnn"), True)
    assert spec.tiny_config.image_shape == (8, 8, 1)
    cfg = spec.default_config
    assert (cfg.alpha, cfg.beta, cfg.gamma) == (1.0, 6.0, 1.0)
    assert (cfg.dataset_size, cfg.estimator, cfg.latent_dim) == (60_000, "mws", 10)
    assert manager.plugins["beta-tcvae"].variants == ["beta-tcvae"]
    assert zoo_betatcvae.plugin.ZOO_PLUGIN_API == zoo.PLUGIN_API_VERSION


@pytest.mark.parametrize("architecture", ["mlp", "cnn"])
@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_conformance_kit(manager, tmp_path, architecture, estimator) -> None:
    spec = zoo.get_variant("beta-tcvae")
    config = tiny_config(spec).replace(architecture=architecture, estimator=estimator)
    check_variant(spec, tmp_path, config)


def test_config_validation() -> None:
    with pytest.raises(zoo.ConfigError, match="dataset_size must be > 0"):
        BetaTCVAEConfig(dataset_size=0)
    for field in ("alpha", "beta", "gamma"):
        with pytest.raises(zoo.ConfigError, match=field):
            BetaTCVAEConfig(**{field: -1.0})
    with pytest.raises(zoo.ConfigError, match="estimator"):
        BetaTCVAEConfig(estimator="exact")
    with pytest.raises(zoo.ConfigError, match="latent_dim"):
        BetaTCVAEConfig(latent_dim=0)
    cfg = BetaTCVAEConfig().replace_from_strings({"estimator": "mss", "dataset_size": "737280",
                                                  "beta": "4"})
    assert (cfg.estimator, cfg.dataset_size, cfg.beta) == ("mss", 737_280, 4.0)
    assert BetaTCVAEConfig.from_json(cfg.to_json()) == cfg


def test_create_applies_overrides(manager) -> None:
    model = zoo.create("beta-tcvae", seed=1, height=8, width=8, hidden_dims=(8,), latent_dim=2,
                       estimator="mss")
    assert isinstance(model, BetaTCVAE)
    assert model.config.estimator == "mss" and model.config.latent_dim == 2
    with pytest.raises(zoo.ConfigError, match="dataset_size"):
        zoo.create("beta-tcvae", dataset_size=-5)


@pytest.mark.parametrize("architecture", ["mlp", "cnn"])
def test_outputs_and_vae_methods(architecture) -> None:
    model = BetaTCVAE(TINY.replace(architecture=architecture), rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.key(1), (4, 8, 8, 1))
    out = model(x, rngs=nnx.Rngs(2))
    assert set(out) == {"logits", "reconstruction", "mean", "logvar", "z"}
    assert out["logits"].shape == out["reconstruction"].shape == x.shape
    assert out["mean"].shape == out["logvar"].shape == out["z"].shape == (4, 3)
    assert not np.allclose(np.asarray(out["z"]), np.asarray(out["mean"]))
    det = model(x)  # no rngs: z is the posterior mean
    np.testing.assert_array_equal(np.asarray(det["z"]), np.asarray(det["mean"]))
    mean, logvar = model.encode(x)
    np.testing.assert_allclose(np.asarray(mean), np.asarray(det["mean"]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(logvar), np.asarray(det["logvar"]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(model.decode(mean)),
                               np.asarray(jax.nn.sigmoid(model.decode_logits(mean))), rtol=1e-6)
    rec = model.reconstruct(x)
    assert rec.shape == x.shape and float(rec.min()) >= 0 and float(rec.max()) <= 1
    assert model.sample(5, rngs=nnx.Rngs(3)).shape == (5, 8, 8, 1)
    with pytest.raises(ValueError, match="rngs"):
        model.sample(2, rngs=None)
    grid = model.traverse(jnp.zeros(3), dims=[0, 2], values=jnp.array([-1.0, 0.0, 1.0]))
    assert grid.shape == (2, 3, 8, 8, 1)
    np.testing.assert_allclose(np.asarray(grid[1, 1]),
                               np.asarray(model.decode(jnp.zeros((1, 3)))[0]), rtol=1e-5,
                               atol=1e-6)
    assert model.traverse(jnp.zeros(3)).shape == (3, 9, 8, 8, 1)


def test_wrong_image_shape_is_an_input_error() -> None:
    model = BetaTCVAE(TINY, rngs=nnx.Rngs(0))
    with pytest.raises(zoo.InputError, match=r"expected images of shape \[batch, 8, 8, 1\]"):
        model(jnp.zeros((2, 28, 28, 1)))


def test_plugin_module_does_not_import_jax() -> None:
    """Listing plugins imports the entry-point module only: it must not pull in JAX or Flax."""
    root = Path(zoo_betatcvae.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    code = (
        "import sys, zoo_betatcvae.plugin; "
        "bad = [m for m in ('jax', 'flax', 'zoo_betatcvae.model', 'zoo_betatcvae.tc') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
