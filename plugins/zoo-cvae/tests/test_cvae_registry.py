"""The CVAE plugin through the registry: create, save, load (without the installed entry point)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import zoo_cvae.plugin
from flax import nnx
from zoo_cvae.config import CVAEConfig

import zoo
import zoo.plugins
from zoo.checkpoint import flat_state


@pytest.fixture
def manager():
    manager = zoo.plugins.PluginManager(strict=True)
    manager.register(zoo_cvae.plugin, name="cvae")
    with zoo.plugins.use_manager(manager):
        yield manager


def test_registered_as_conditional(manager) -> None:
    spec = zoo.get_variant("cvae")
    assert spec.conditional is True
    assert spec.config_class is CVAEConfig
    assert zoo.list_variants() == ["cvae"]
    assert manager.plugins["cvae"].variants == ["cvae"]


def test_create_save_load_round_trip(manager, tmp_path) -> None:
    # one-hot labels here; test_conformance round-trips a model with a label embedding
    model = zoo.create("cvae", seed=3, height=8, width=8, hidden_dims=(16,), latent_dim=2,
                       num_classes=3, label_embedding_dim=0)
    assert isinstance(model.config, CVAEConfig)
    zoo.save(model, tmp_path / "m")
    loaded = zoo.load(tmp_path / "m")
    assert loaded.config == model.config
    assert type(loaded).__name__ == "CVAE"
    original, restored = flat_state(model), flat_state(loaded)
    assert set(original) == set(restored)
    for key, var in original.items():
        a, b = np.asarray(var.get_value()), np.asarray(restored[key].get_value())
        assert a.dtype == b.dtype and a.shape == b.shape, key
        np.testing.assert_array_equal(a, b, err_msg=key)
    x = jax.random.uniform(jax.random.key(0), (2, 8, 8, 1))
    y = jnp.array([0, 2])
    np.testing.assert_array_equal(model(x, y)["logits"], loaded(x, y)["logits"])
    np.testing.assert_array_equal(
        model.sample(2, 1, rngs=nnx.Rngs(0)), loaded.sample(2, 1, rngs=nnx.Rngs(0))
    )


def test_registry_loss_wrapper(manager) -> None:
    spec = zoo.get_variant("cvae")
    model = zoo.create("cvae", height=8, width=8, hidden_dims=(16,), latent_dim=2)
    x = jnp.full((2, 8, 8, 1), 0.5)
    loss, metrics = spec.loss(model(x, jnp.array([1, 9])), x, config=model.config, step=0)
    assert bool(jnp.isfinite(loss)) and metrics["kl_per_dim"].shape == (2,)
    with pytest.raises(zoo.ConfigError, match="num_classes"):
        zoo.create("cvae", num_classes=1)


def test_conformance(manager, tmp_path) -> None:
    from zoo.testing import check_variant

    check_variant(zoo.get_variant("cvae"), tmp_path / "conformance")
