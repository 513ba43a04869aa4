"""A short training run: conditional samples follow their label."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from zoo_cvae.config import CVAEConfig
from zoo_cvae.loss import cvae_loss
from zoo_cvae.model import CVAE


def _dataset(n: int, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Class 0: left half bright; class 1: right half bright (plus a little noise)."""
    labels = jnp.arange(n, dtype=jnp.int32) % 2
    left = jnp.broadcast_to((jnp.arange(8) < 4)[None, :], (8, 8)).astype(jnp.float32)
    base = jnp.where(labels[:, None, None] == 0, left, 1.0 - left)
    noise = 0.1 * jax.random.uniform(key, (n, 8, 8))
    x = jnp.clip(0.05 + 0.85 * base + noise, 0.0, 1.0)
    return x[..., None], labels


def _halves(images: jax.Array) -> tuple[float, float]:
    return float(images[:, :, :4].mean()), float(images[:, :, 4:].mean())


def test_samples_follow_their_class() -> None:
    config = CVAEConfig(height=8, width=8, channels=1, hidden_dims=(32,), latent_dim=2,
                        num_classes=2, label_embedding_dim=4)
    model = CVAE(config, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    x, y = _dataset(64, jax.random.key(1))

    @nnx.jit
    def train_step(model, optimizer, x, y, key):
        def loss_fn(model):
            return cvae_loss(model(x, y, rngs=key), x, config=config, step=0)

        (loss, _), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return loss

    keys = jax.random.split(jax.random.key(2), 60)
    first = float(train_step(model, optimizer, x, y, keys[0]))
    for key in keys[1:]:
        last = float(train_step(model, optimizer, x, y, key))
    assert last < first

    left0, right0 = _halves(model.sample(32, 0, rngs=jax.random.key(3)))
    left1, right1 = _halves(model.sample(32, 1, rngs=jax.random.key(3)))
    assert left0 > right0 + 0.3, (left0, right0)
    assert right1 > left1 + 0.3, (left1, right1)
