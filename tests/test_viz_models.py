"""zoo.viz model-facing helpers on tiny first-party models built with zoo.create (so that they
carry their variant, whose declared capabilities the helpers read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image
from zoo_beta_vae.config import BetaVAEConfig
from zoo_beta_vae.model import BetaVAE

import zoo
from zoo import viz
from zoo.errors import InputError, ZooError
from zoo.plugins import PluginManager, use_manager

SHAPE = {"height": 8, "width": 8, "channels": 1, "hidden_dims": (8,)}


@pytest.fixture(autouse=True)
def _first_party(first_party: PluginManager) -> Iterator[PluginManager]:
    """The helpers look the models' variants up in the active registry."""
    yield first_party


def _create(manager: PluginManager, name: str, **overrides: Any) -> Any:
    with use_manager(manager):
        return zoo.create(name, **overrides)


@pytest.fixture(scope="module")
def beta(first_party_manager_obj: PluginManager) -> Any:
    return _create(first_party_manager_obj, "beta-vae", **SHAPE, latent_dim=3)


@pytest.fixture(scope="module")
def cvae(first_party_manager_obj: PluginManager) -> Any:
    return _create(first_party_manager_obj, "cvae", seed=1, **SHAPE, latent_dim=2,
                   num_classes=3, label_embedding_dim=4)


@pytest.fixture(scope="module")
def vqvae(first_party_manager_obj: PluginManager) -> Any:
    """Abstract (shapes only, no weights, no compile time): the helpers must refuse a VQ-VAE
    before computing anything."""
    return nnx.eval_shape(lambda: _create(first_party_manager_obj, "vqvae", seed=2, **SHAPE,
                                          embedding_dim=4, num_embeddings=8))


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)


class DecodeSpy:
    """A zoo model (it claims the wrapped model's variant) whose decode records its codes."""

    def __init__(self, model: Any) -> None:
        self.model, self.codes = model, []
        self.zoo_variant = model.zoo_variant

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def decode(self, z: Any) -> Any:
        self.codes.append(np.asarray(z))
        return self.model.decode(z)


def test_traversal_rows_follow_kl_and_codes_vary_one_dimension(beta: Any) -> None:
    spy = DecodeSpy(beta)
    base = np.array([0.5, -0.25, 1.0], np.float32)
    keep = base.copy()
    values = np.linspace(-2, 2, 5)
    images, dims = viz.traverse_model(spy, base, values=values, kl_per_dim=[0.1, 5.0, 1.0])
    np.testing.assert_array_equal(base, keep)  # the base code is not mutated
    assert dims == [1, 2, 0]
    assert images.shape == (3, 5, 8, 8, 1) and images.dtype == np.float32
    codes = spy.codes[0].reshape(3, 5, 3)
    for r, d in enumerate(dims):
        expected = np.tile(keep, (5, 1))
        expected[:, d] = values
        np.testing.assert_allclose(codes[r], expected, rtol=0, atol=1e-6)
        np.testing.assert_allclose(
            images[r], np.asarray(beta.traverse(jnp.asarray(keep), [d], values))[0], atol=1e-6
        )


def test_traversal_from_an_image_orders_by_its_posterior_kl(beta: Any, x: np.ndarray) -> None:
    images, dims = viz.traverse_model(beta, x[:1])
    assert sorted(dims) == [0, 1, 2] and images.shape == (3, 9, 8, 8, 1)
    assert dims == viz.order_by_kl(viz.posterior_kl_per_dim(beta, x[:1]))
    kl = viz.posterior_kl_per_dim(beta, x)
    assert kl.shape == (3,) and (kl >= 0).all()
    _, top = viz.traverse_model(beta, x[:1], kl_per_dim=kl, max_dims=2, dims=[0, 2])
    assert top == [d for d in viz.order_by_kl(kl) if d in (0, 2)]
    with pytest.raises(InputError, match="one base image"):
        viz.traverse_model(beta, x)
    with pytest.raises(InputError, match="not conditional"):
        viz.traverse_model(beta, x[:1], labels=1)


def test_cvae_traversal_passes_the_label(cvae: Any, x: np.ndarray) -> None:
    with pytest.raises(InputError, match="labels="):
        viz.traverse_model(cvae, x[:1])
    images, dims = viz.traverse_model(cvae, x[:1], labels=2, values=[-1.0, 0.0, 1.0])
    assert images.shape == (2, 3, 8, 8, 1)
    mean, _ = cvae.encode(jnp.asarray(x[:1]), np.array([2]))
    expected = np.asarray(cvae.traverse(mean[0], 2, dims, jnp.array([-1.0, 0.0, 1.0])))
    np.testing.assert_allclose(images, expected, atol=1e-6)


def test_vqvae_has_no_traversal_and_no_samples(vqvae: Any, x: np.ndarray) -> None:
    with pytest.raises(ZooError, match="Gaussian-latent variant"):
        viz.traverse_model(vqvae, x[:1])
    with pytest.raises(ZooError, match="Gaussian-latent variant"):
        viz.traverse_model(vqvae, np.zeros(4, np.float32))  # a base code: refused too
    with pytest.raises(ZooError, match="no sample"):
        viz.sample_model(vqvae, 4, seed=0)
    with pytest.raises(ZooError, match="Gaussian-latent variant"):
        viz.posterior_kl_per_dim(vqvae, x)


def test_reconstruct_and_sample(beta: Any, cvae: Any, x: np.ndarray) -> None:
    out = viz.reconstruct_model(beta, x)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, np.asarray(beta.reconstruct(jnp.asarray(x))), atol=1e-6)
    with pytest.raises(InputError, match="x\\[None\\]"):
        viz.reconstruct_model(beta, x[0])
    assert viz.reconstruct_model(cvae, x, labels=1).shape == x.shape  # one class for all
    with pytest.raises(InputError, match="conditional"):
        viz.reconstruct_model(cvae, x)

    a, b = viz.sample_model(beta, 3, seed=7), viz.sample_model(beta, 3, seed=7)
    assert a.shape == (3, 8, 8, 1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(InputError, match="labels="):
        viz.sample_model(cvae, 3, seed=0)
    assert viz.sample_model(cvae, 3, seed=0, labels=[0, 1, 2]).shape == (3, 8, 8, 1)
    grid = viz.sample_classes(cvae, 2, seed=0)
    assert grid.shape == (3, 2, 8, 8, 1)


def test_model_pictures_end_to_end(beta: Any, cvae: Any, x: np.ndarray,
                                   tmp_path: Path) -> None:
    kl = viz.posterior_kl_per_dim(beta, x)
    images, dims = viz.traverse_model(beta, x[:1], kl_per_dim=kl)
    paths = [
        viz.save_traversal(tmp_path / "t.png", images, dims, viz.DEFAULT_VALUES, kl),
        viz.save_reconstructions(tmp_path / "r.png", x, viz.reconstruct_model(beta, x)),
        viz.save_samples(tmp_path / "s.png", viz.sample_model(beta, 8, seed=0)),
        viz.save_class_grid(tmp_path / "c.png", viz.sample_classes(cvae, 4, seed=0),
                            ["a", "b", "c"]),
    ]
    for path in paths:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 16


def test_a_model_not_built_by_zoo_is_refused_with_what_to_do(x: np.ndarray) -> None:
    """A bare plugin class carries no variant: the helpers cannot read what it can do."""
    bare = BetaVAE(BetaVAEConfig(**SHAPE, latent_dim=3), rngs=nnx.Rngs(0))
    for call in (lambda: viz.reconstruct_model(bare, x),
                 lambda: viz.sample_model(bare, 2, seed=0),
                 lambda: viz.traverse_model(bare, x[:1]),
                 lambda: viz.posterior_kl_per_dim(bare, x)):
        with pytest.raises(ZooError, match=r"zoo\.create.*zoo\.load"):
            call()


def test_a_base_code_of_the_wrong_size_is_refused(beta: Any) -> None:
    with pytest.raises(InputError, match="base code has 5 dimensions, BetaVAE has 3"):
        viz.traverse_model(beta, np.zeros(5, np.float32))
