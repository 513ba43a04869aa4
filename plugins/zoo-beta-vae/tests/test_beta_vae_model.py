"""beta-VAE specifics: the objective's math, schedules, sampling and traversals."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo_beta_vae.config import BetaVAEConfig
from zoo_beta_vae.loss import beta_vae_loss
from zoo_beta_vae.model import BetaVAE

import zoo
from zoo.losses import gaussian_kl

TINY = BetaVAEConfig(height=8, width=8, hidden_dims=(16,), latent_dim=3)


def _outputs(seed: int, batch: int = 5, d: int = 3) -> tuple[dict, jax.Array]:
    k1, k2, k3, k4 = jax.random.split(jax.random.key(seed), 4)
    x = jax.random.uniform(k1, (batch, 8, 8, 1))
    outputs = {
        "logits": jax.random.normal(k2, (batch, 8, 8, 1)) * 3,
        "mean": jax.random.normal(k3, (batch, d)),
        "logvar": jax.random.normal(k4, (batch, d)) * 0.5,
    }
    return outputs, x


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_beta_one_loss_is_the_negative_elbo(seed) -> None:
    outputs, x = _outputs(seed)
    cfg = TINY.replace(beta=1.0, beta_start=1.0, beta_anneal_steps=0)
    loss, metrics = beta_vae_loss(outputs, x, config=cfg, step=0)
    p = jax.nn.sigmoid(outputs["logits"].astype(jnp.float64) if jax.config.x64_enabled
                       else outputs["logits"])
    log_lik = np.sum(np.asarray(x * jnp.log(p) + (1 - x) * jnp.log1p(-p)), axis=(1, 2, 3))
    kl = np.sum(np.asarray(gaussian_kl(outputs["mean"], outputs["logvar"])), axis=1)
    np.testing.assert_allclose(float(loss), np.mean(-log_lik + kl), rtol=1e-4)
    np.testing.assert_allclose(float(metrics["negative_elbo"]), float(loss), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(metrics["kl_per_dim"]).sum(), np.mean(kl), rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), step=st.integers(0, 50_000))
def test_capacity_loss_is_gamma_abs_kl_minus_c(seed, step) -> None:
    outputs, x = _outputs(seed)
    cfg = TINY.replace(use_capacity_control=True, capacity_max=25.0, capacity_num_iter=10_000,
                       gamma=1000.0)
    loss, m = beta_vae_loss(outputs, x, config=cfg, step=step)
    c = min(step / 10_000, 1.0) * 25.0
    np.testing.assert_allclose(float(m["current_capacity"]), c, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(float(m["capacity_loss"]), 1000 * abs(float(m["kl_loss"]) - c),
                               rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(float(loss), float(m["reconstruction_loss"] + m["capacity_loss"]),
                               rtol=1e-5)


def test_beta_is_annealed_linearly_from_start() -> None:
    outputs, x = _outputs(0)
    cfg = TINY.replace(beta=4.0, beta_start=1.0, beta_anneal_steps=100)
    betas = [float(beta_vae_loss(outputs, x, config=cfg, step=s)[1]["beta"])
             for s in (0, 50, 100, 1000)]
    assert betas == [1.0, 2.5, 4.0, 4.0]
    _, m = beta_vae_loss(outputs, x, config=cfg, step=50)
    np.testing.assert_allclose(float(m["loss"]),
                               float(m["reconstruction_loss"] + 2.5 * m["kl_loss"]), rtol=1e-6)


def test_decoder_output_layer_has_no_activation_before_the_sigmoid() -> None:
    """Logits must reach negative values; a ReLU before the sigmoid would clip them at 0."""
    model = BetaVAE(TINY, rngs=nnx.Rngs(0))
    logits = model.decode_logits(jax.random.normal(jax.random.key(1), (64, 3)) * 3)
    assert float(logits.min()) < 0 < float(logits.max())


def test_sample_reconstruct_and_traverse() -> None:
    model = BetaVAE(TINY, rngs=nnx.Rngs(0))
    assert model.sample(6, rngs=nnx.Rngs(1)).shape == (6, 8, 8, 1)
    x = jax.random.uniform(jax.random.key(2), (2, 8, 8, 1))
    rec = model.reconstruct(x)
    assert rec.shape == x.shape and float(rec.min()) >= 0 and float(rec.max()) <= 1
    base = np.array([0.1, 0.2, 0.3], np.float32)  # a mutable numpy base must stay untouched
    grid = model.traverse(jnp.asarray(base), dims=[0, 2], values=jnp.array([-1.0, 0.0, 1.0]))
    assert grid.shape == (2, 3, 8, 8, 1)
    np.testing.assert_array_equal(base, np.array([0.1, 0.2, 0.3], np.float32))
    # row 0, value 0.0 decodes base with dim 0 set to 0
    expect = model.decode(jnp.array([[0.0, 0.2, 0.3]]))[0]
    np.testing.assert_allclose(np.asarray(grid[0, 1]), np.asarray(expect), rtol=1e-5, atol=1e-6)


def test_wrong_image_shape_is_an_input_error() -> None:
    model = BetaVAE(TINY, rngs=nnx.Rngs(0))
    with pytest.raises(zoo.InputError, match=r"expected images of shape \[batch, 8, 8, 1\]"):
        model(jnp.zeros((2, 28, 28, 1)))
    with pytest.raises(zoo.InputError):
        model(jnp.zeros((8, 8, 1)))


@pytest.mark.parametrize("capacity", [False, True])
def test_training_reduces_the_loss(capacity) -> None:
    """A few dozen Adam steps on a structured toy set lower the objective."""
    cfg = TINY.replace(use_capacity_control=capacity, gamma=10.0, capacity_num_iter=0,
                       capacity_max=2.0, beta=1.0, beta_anneal_steps=0)
    model = BetaVAE(cfg, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.random((64, 8, 8, 1)) < np.linspace(0.1, 0.9, 8)[None, None, :, None])
                    .astype(np.float32))

    @nnx.jit
    def step(model, opt, key, i):
        def loss_fn(m):
            return beta_vae_loss(m(x, rngs=key), x, config=cfg, step=i)

        (loss, _), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        opt.update(model, grads)
        return loss

    losses = [float(step(model, opt, jax.random.key(i), i)) for i in range(60)]
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:5])
