"""Shared fixtures. Tests register plugins explicitly and never rely on what is installed."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import settings

import zoo
from zoo.config import Config
from zoo.data import ArrayDataset
from zoo.plugins import PluginManager, register_builtins, use_manager

# JAX compiles on first use, so per-example timings are meaningless: no deadline.
settings.register_profile("zoo", deadline=None, max_examples=40)
settings.load_profile("zoo")

FIRST_PARTY_PLUGINS = {
    "beta-vae": "zoo_beta_vae.plugin",
    "cvae": "zoo_cvae.plugin",
    "vqvae": "zoo_vqvae.plugin",
}


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    features: int = 4
    scale: float = 1.0


class ToyModel(nnx.Module):
    def __init__(self, config: ToyConfig, *, rngs: nnx.Rngs) -> None:
        self.config = config
        self.dense = nnx.Linear(config.features, config.features, rngs=rngs)
        self.stat = nnx.BatchStat(jnp.zeros((config.features,)))

    def __call__(self, x: jax.Array, *, rngs: Any = None) -> dict[str, jax.Array]:
        logits = self.dense(x)
        return {"logits": logits, "reconstruction": jax.nn.sigmoid(logits)}


def toy_loss(outputs: dict, x: jax.Array, *, config: ToyConfig, step: Any) -> Any:
    loss = jnp.mean((outputs["reconstruction"] - x) ** 2) * config.scale
    return loss, {"loss": loss, "reconstruction_loss": loss}


def toy_spec(name: str = "toy", **kwargs: Any) -> zoo.VariantSpec:
    return zoo.VariantSpec(
        name=name, config_class=ToyConfig, default_config=ToyConfig(),
        factory=lambda config, *, rngs: ToyModel(config, rngs=rngs), loss=toy_loss, **kwargs,
    )


class ToyPlugin:
    """An inline plugin registering the given variant names."""

    def __init__(self, *names: str) -> None:
        self.names = names or ("toy",)

    @zoo.hookimpl
    def zoo_register_variants(self, register: Any) -> None:
        for name in self.names:
            register(toy_spec(name))


@pytest.fixture
def manager() -> Any:
    """A fresh, strict, empty plugin manager installed as the process-wide one."""
    with use_manager(PluginManager(strict=True)) as m:
        yield m


@pytest.fixture
def toy_manager(manager: PluginManager) -> PluginManager:
    manager.register(ToyPlugin("toy"), name="toy-plugin")
    return manager


def _first_party_manager() -> PluginManager:
    """The core's built-ins (datasets, the ``classifier`` variant) and the first-party plugins."""
    m = PluginManager(strict=True)
    register_builtins(m)
    for name, module in FIRST_PARTY_PLUGINS.items():
        m.register(importlib.import_module(module), name=name)
    return m


@pytest.fixture(scope="session")
def first_party_manager_obj() -> PluginManager:
    return _first_party_manager()


@pytest.fixture
def first_party(first_party_manager_obj: PluginManager) -> Any:
    """The core's built-ins and the first-party plugins, imported and registered explicitly."""
    with use_manager(first_party_manager_obj) as m:
        yield m


def _first_party_variants() -> dict[str, zoo.VariantSpec]:
    """Every variant of :func:`_first_party_manager` -> its spec."""
    variants = _first_party_manager().registry.variants
    return {name: variants[name] for name in sorted(variants)}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``variant_name`` parametrizes over every registered variant (core built-ins and
    first-party plugins); ``variant_case`` over the (variant, architecture) pairs each declares
    (``VariantSpec.architectures``; architecture ``None`` for a variant without that choice,
    e.g. the classifier)."""
    if "variant_name" in metafunc.fixturenames:
        metafunc.parametrize("variant_name", list(_first_party_variants()))
    if "variant_case" in metafunc.fixturenames:
        cases: list[tuple[str, str | None]] = []
        for name, spec in _first_party_variants().items():
            cases += [(name, arch) for arch in spec.architectures or (None,)]
        metafunc.parametrize("variant_case", cases,
                             ids=[n if a is None else f"{n}-{a}" for n, a in cases])


# -- a tiny labelled dataset and the first-party world, for training and evaluation tests --

TINY_MODEL = {"hidden_dims": (8,)}
LATENT = {"beta-vae": {"latent_dim": 3}, "cvae": {"latent_dim": 3, "label_embedding_dim": 4},
          "vqvae": {"num_embeddings": 16, "embedding_dim": 4, "dead_code_threshold": 3}}


def _stripes(n: int, seed: int) -> ArrayDataset:
    """8x8 images: class c lights up column block c (4 classes), with a little noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = (rng.random((n, 8, 8, 1)) < 0.02).astype(np.uint8) * 255
    for c in range(4):
        images[labels == c, :, 2 * c: 2 * c + 2, :] = 255
    return ArrayDataset(images=images, labels=labels, name="stripes", split="", num_classes=4)


class StripesPlugin:
    @zoo.hookimpl
    def zoo_register_datasets(self, register: Any) -> None:
        def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> ArrayDataset:
            return _stripes(256 if partition == "train" else 64, {"train": 0, "test": 1}[partition])

        register(zoo.DatasetSpec(name="stripes", loader=loader, image_shape=(8, 8, 1),
                                 num_classes=4))


@pytest.fixture
def world() -> Any:
    """Built-in datasets, the first-party variants and the 'stripes' dataset, registered."""
    with use_manager(world_manager()) as m:
        yield m


def world_manager() -> PluginManager:
    """A fresh strict manager of the :func:`world` fixture (also for test subprocesses)."""
    m = _first_party_manager()
    m.register(StripesPlugin(), name="stripes")
    return m


