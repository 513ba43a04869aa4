"""CVAE model and loss: shapes, label handling, gradients under jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from zoo_cvae.config import CVAEConfig
from zoo_cvae.loss import cvae_loss
from zoo_cvae.model import CVAE

import zoo

TINY = dict(height=8, width=8, channels=1, hidden_dims=(16,), latent_dim=3, num_classes=4,
            label_embedding_dim=5)


def _model(**overrides) -> CVAE:
    return CVAE(CVAEConfig(**(TINY | overrides)), rngs=nnx.Rngs(0))


def _batch(b: int = 6) -> tuple[jax.Array, jax.Array]:
    x = jax.random.uniform(jax.random.key(1), (b, 8, 8, 1))
    return x, jnp.arange(b, dtype=jnp.int32) % 4


@pytest.mark.parametrize(("architecture", "embedding_dim"), [("mlp", 5), ("cnn", 0)])
def test_forward_shapes(architecture: str, embedding_dim: int) -> None:
    model = _model(architecture=architecture, label_embedding_dim=embedding_dim)
    x, y = _batch()
    for rngs in (None, nnx.Rngs(noise=2)):
        out = model(x, y, rngs=rngs)
        assert set(out) == {"logits", "reconstruction", "mean", "logvar", "z"}
        assert out["logits"].shape == out["reconstruction"].shape == (6, 8, 8, 1)
        for key in ("mean", "logvar", "z"):
            assert out[key].shape == (6, 3)
        r = out["reconstruction"]
        assert bool(jnp.all((r >= 0) & (r <= 1)))
    # deterministic path: z is the posterior mean
    out = model(x, y)
    np.testing.assert_array_equal(out["z"], out["mean"])
    mean, logvar = model.encode(x, y)
    assert mean.shape == logvar.shape == (6, 3)
    assert model.reconstruct(x, y).shape == (6, 8, 8, 1)
    assert model.decode_logits(mean, y).shape == (6, 8, 8, 1)


def test_one_hot_mode_has_no_embedding_and_embedding_mode_does() -> None:
    assert _model(label_embedding_dim=0).label_embed is None
    emb = _model(label_embedding_dim=5).label_embed
    assert emb is not None and emb.embedding.shape == (4, 5)


@pytest.mark.parametrize("embedding_dim", [0, 5])
def test_labels_change_decoder_output(embedding_dim: int) -> None:
    model = _model(label_embedding_dim=embedding_dim)
    z = jax.random.normal(jax.random.key(3), (2, 3))
    a = model.decode(z, jnp.array([0, 0]))
    b = model.decode(z, jnp.array([1, 1]))
    assert float(jnp.max(jnp.abs(a - b))) > 1e-4


def test_sample_and_traverse() -> None:
    model = _model()
    imgs = model.sample(5, 3, rngs=nnx.Rngs(0))
    assert imgs.shape == (5, 8, 8, 1)
    assert model.sample(3, jnp.array([0, 1, 2]), rngs=jax.random.key(0)).shape == (3, 8, 8, 1)
    # same noise and class -> same images; the class alone changes them
    s3 = model.sample(4, 3, rngs=jax.random.key(7))
    np.testing.assert_array_equal(s3, model.sample(4, 3, rngs=jax.random.key(7)))
    assert not np.allclose(s3, model.sample(4, 0, rngs=jax.random.key(7)))
    with pytest.raises(zoo.InputError, match="rngs"):
        model.sample(2, 0, rngs=None)
    grid = model.traverse(jnp.zeros(3), 2, dims=[0, 2], values=jnp.array([-1.0, 0.0, 1.0]))
    assert grid.shape == (2, 3, 8, 8, 1)
    assert model.traverse(jnp.zeros(3), 1).shape == (3, 9, 8, 8, 1)
    with pytest.raises(zoo.InputError, match="one integer class"):
        model.traverse(jnp.zeros(3), jnp.array([0, 1]))


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (jnp.array([0.0, 1.0, 2.0, 3.0, 0.0, 1.0]), "integer dtype"),
        (np.array([True] * 6), "integer dtype"),
        (jnp.array([0, 1, 2]), r"shape \[6\]"),
        (jnp.zeros((6, 1), jnp.int32), r"shape \[6\]"),
        (jnp.array([0, 1, 2, 3, 0, -1]), r"\[0, 4\).*-1"),
        (jnp.array([0, 1, 2, 3, 0, 4]), r"\[0, 4\).*4"),
        (np.array([0, 1, 2, 3, 0, 2**40]), r"out-of-range.*1099511627776"),
        (["a"] * 6, "integer dtype"),
        (None, "labels are required"),
    ],
)
def test_bad_labels_raise_input_error(labels, match: str) -> None:
    model = _model()
    x, _ = _batch()
    with pytest.raises(zoo.InputError, match=match):
        model(x, labels)


def test_bad_labels_in_decode_and_sample() -> None:
    model = _model()
    with pytest.raises(zoo.InputError, match="out-of-range"):
        model.sample(2, 4, rngs=jax.random.key(0))
    with pytest.raises(zoo.InputError, match="integer dtype"):
        model.sample(2, 1.0, rngs=jax.random.key(0))
    with pytest.raises(zoo.InputError, match=r"shape \[2\]"):
        model.decode(jnp.zeros((2, 3)), jnp.array([0, 1, 2]))
    with pytest.raises(zoo.InputError, match="latents"):
        model.decode(jnp.zeros((2, 5)), jnp.array([0, 1]))


def test_labels_accept_lists_and_numpy() -> None:
    model = _model()
    x, y = _batch()
    expected = model(x, y)["logits"]
    for labels in (list(map(int, y)), np.asarray(y, np.int64), np.asarray(y, np.uint8)):
        np.testing.assert_array_equal(model(x, labels)["logits"], expected)


def test_missing_labels() -> None:
    model = _model()
    x, _ = _batch()
    with pytest.raises(TypeError, match="labels"):
        model(x)


def test_static_label_checks_under_jit() -> None:
    model = _model()
    x, y = _batch()

    @nnx.jit
    def forward(m, x, y):
        return m(x, y)["z"]

    assert forward(model, x, y).shape == (6, 3)
    with pytest.raises(zoo.InputError, match="integer dtype"):
        forward(model, x, y.astype(jnp.float32))
    with pytest.raises(zoo.InputError, match=r"shape \[6\]"):
        forward(model, x, y[:3])


def test_loss_and_grads_finite_under_jit() -> None:
    # cnn here; test_cvae_registry.test_conformance runs the same check on an mlp
    model = _model(architecture="cnn")
    config = model.config
    x, y = _batch()

    @nnx.jit
    def step(m, x, y, key):
        def loss_fn(m):
            return cvae_loss(m(x, y, rngs=key), x, config=config, step=0)

        (loss, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(m)
        return loss, metrics, grads

    loss, metrics, grads = step(model, x, y, jax.random.key(0))
    assert set(metrics) == {"loss", "reconstruction_loss", "kl_loss", "negative_elbo",
                            "kl_per_dim"}
    assert metrics["kl_per_dim"].shape == (3,)
    assert bool(jnp.isfinite(loss))
    np.testing.assert_allclose(metrics["negative_elbo"],
                               metrics["reconstruction_loss"] + metrics["kl_loss"], rtol=1e-6)
    np.testing.assert_allclose(metrics["kl_loss"], metrics["kl_per_dim"].sum(), rtol=1e-6)
    leaves = jax.tree.leaves(grads)
    assert leaves and all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    # the label embedding is trained through the loss
    assert float(jnp.abs(grads["label_embed"]["embedding"][...]).sum()) > 0


def test_loss_beta_weights_kl() -> None:
    x, y = _batch()
    model = _model()
    out = model(x, y, rngs=jax.random.key(0))
    loss1, m1 = cvae_loss(out, x, config=model.config, step=0)
    loss3, _ = cvae_loss(out, x, config=model.config.replace(beta=3.0), step=0)
    np.testing.assert_allclose(loss1, m1["negative_elbo"], rtol=1e-6)
    np.testing.assert_allclose(loss3, m1["reconstruction_loss"] + 3.0 * m1["kl_loss"], rtol=1e-5)


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_classes", 1), ("latent_dim", 0), ("label_embedding_dim", -1), ("beta", -0.5)],
)
def test_config_validation_names_field(field: str, value) -> None:
    with pytest.raises(zoo.ConfigError, match=field):
        CVAEConfig(**{field: value})


def test_default_config() -> None:
    c = CVAEConfig()
    assert (c.latent_dim, c.num_classes, c.label_embedding_dim, c.beta) == (16, 10, 16, 1.0)
    assert c.architecture == "mlp" and c.hidden == (512, 256)
    assert c.replace(architecture="cnn").hidden == (32, 64)
    assert CVAEConfig(label_embedding_dim=0).label_features == 10
