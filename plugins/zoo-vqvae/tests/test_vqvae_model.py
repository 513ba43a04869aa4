"""The VQ-VAE model and loss on tiny configs (8x8 images, one stride-2 stage, 16 codes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from zoo_vqvae.config import VQVAEConfig
from zoo_vqvae.loss import vqvae_loss
from zoo_vqvae.model import VQVAE, Codebook, CodebookStat

import zoo

TINY = VQVAEConfig(
    height=8, width=8, channels=1, hidden_dims=(4,), embedding_dim=4, num_embeddings=16,
    dead_code_threshold=3,
)
METRICS = {
    "loss", "reconstruction_loss", "vq_loss", "commitment_loss", "codebook_loss", "perplexity",
    "codes_used",
}


@nnx.jit
def train_step(model, optimizer, rngs, x):
    def loss_fn(model, rngs):
        return vqvae_loss(model(x, rngs=rngs), x, config=model.config, step=0)

    (_, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, rngs)
    optimizer.update(model, grads)
    return metrics, grads


@nnx.jit
def forward(model, rngs, x):
    return model(x, rngs=rngs)


@nnx.jit
def reconstruct(model, x):
    return model.reconstruct(x)


@nnx.jit
def evaluate(model, x):
    out = model(x)
    return vqvae_loss(out, x, config=model.config, step=0)[1], out["indices"]


@nnx.jit
def all_paths(model, x):
    out = model(x)
    z_e, indices = model.encode(x)
    decoded = model.decode_indices(indices), model.reconstruct(x), model.decode(out["z_q"])
    return out, z_e, indices, decoded


def images(n: int, seed: int = 0) -> jax.Array:
    """Synthetic 8x8 binary-ish images: a random axis-aligned rectangle each."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 8, 8, 1), np.float32)
    for i in range(n):
        r0, c0 = rng.integers(0, 6, 2)
        r1, c1 = r0 + rng.integers(2, 8 - r0 + 1), c0 + rng.integers(2, 8 - c0 + 1)
        out[i, r0:r1, c0:c1] = 1.0
    return jnp.asarray(out)


def make(config: VQVAEConfig = TINY, seed: int = 0) -> VQVAE:
    return VQVAE(config, rngs=nnx.Rngs(seed))


def quantizer_state(model: VQVAE) -> dict[str, np.ndarray]:
    q = model.quantizer
    names = ["codebook", "steps_since_used"] + (["cluster_size", "embed_sum"] if q.use_ema else [])
    return {n: np.array(getattr(q, n).get_value()) for n in names}


def test_forward_shapes_keys_and_decoding_paths():
    model = make()
    x = images(8)
    model.eval()
    out, z_e, indices, (from_indices, reconstructed, decoded) = all_paths(model, x)
    assert set(out) >= {"logits", "reconstruction", "z_e", "z_q", "indices"}
    assert out["logits"].shape == out["reconstruction"].shape == (8, 8, 8, 1)
    assert out["z_e"].shape == out["z_q"].shape == (8, 4, 4, 4)
    assert out["indices"].shape == (8, 4, 4) and out["indices"].dtype == jnp.int32
    assert float(out["reconstruction"].min()) >= 0 and float(out["reconstruction"].max()) <= 1
    codebook = np.asarray(model.quantizer.codebook.get_value())
    np.testing.assert_array_equal(np.asarray(out["z_q"]), codebook[np.asarray(out["indices"])])
    np.testing.assert_array_equal(np.asarray(indices), np.asarray(out["indices"]))
    np.testing.assert_allclose(np.asarray(z_e), np.asarray(out["z_e"]), rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(from_indices), np.asarray(out["reconstruction"]), atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(reconstructed), np.asarray(out["reconstruction"]), atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(decoded), np.asarray(out["reconstruction"]), atol=1e-5
    )
    assert not hasattr(model, "sample")


@pytest.mark.parametrize("use_ema", [True, False])
def test_loss_and_grads_finite_under_jit(use_ema):
    config = TINY.replace(use_ema=use_ema)
    model = make(config)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    metrics, grads = train_step(model, optimizer, nnx.Rngs(noise=1), images(8))
    assert set(metrics) == METRICS
    for name, value in metrics.items():
        assert value.shape == () and bool(jnp.isfinite(value)), name
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    m = {k: float(v) for k, v in metrics.items()}
    assert m["vq_loss"] == pytest.approx(m["codebook_loss"] + 0.25 * m["commitment_loss"])
    assert m["loss"] == pytest.approx(m["reconstruction_loss"] + m["vq_loss"])
    assert 1.0 <= m["perplexity"] <= 16 and 0 < m["codes_used"] <= 1
    if use_ema:
        assert m["codebook_loss"] == 0.0
        # The EMA codebook is no Param: the optimiser neither sees nor updates it.
        assert "codebook" not in grads.get("quantizer", {})
        assert isinstance(model.quantizer.codebook, Codebook)
    else:
        assert m["codebook_loss"] == pytest.approx(m["commitment_loss"])


def test_loss_reduction_is_sum_per_image_mean_over_batch():
    model = make()
    model.eval()
    x = images(4)
    out = forward(model, None, x)
    _, metrics = vqvae_loss(out, x, config=TINY, step=None)
    commit = np.square(np.asarray(out["z_e"]) - np.asarray(out["z_q"])).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(float(metrics["commitment_loss"]), commit.mean(), rtol=1e-5)
    p = 1.0 / (1.0 + np.exp(-np.asarray(out["logits"], np.float64)))
    xs = np.asarray(x, np.float64)
    bce = -(xs * np.log(p) + (1 - xs) * np.log(1 - p)).sum(axis=(1, 2, 3)).mean()
    np.testing.assert_allclose(float(metrics["reconstruction_loss"]), bce, rtol=1e-4)


def test_non_ema_codebook_gets_gradient_from_codebook_loss():
    config = TINY.replace(use_ema=False, dead_code_threshold=0)
    model = make(config)
    x = images(8)
    assert isinstance(model.quantizer.codebook, nnx.Param)

    def loss_fn(model):
        return vqvae_loss(model(x), x, config=config, step=0)[0]

    grads, indices = nnx.jit(lambda m: (nnx.grad(loss_fn)(m), m.encode(x)[1]))(model)
    g = np.asarray(grads["quantizer"]["codebook"].get_value())
    used = np.unique(np.asarray(indices))
    assert np.all(np.abs(g[used]).sum(axis=1) > 0)
    unused = np.setdiff1d(np.arange(16), used)
    assert np.all(g[unused] == 0)


def test_ema_state_changes_in_train_mode_only():
    model = make(TINY.replace(dead_code_threshold=0))
    x = images(8)
    before = quantizer_state(model)
    model.eval()
    assert model.quantizer.deterministic
    forward(model, nnx.Rngs(noise=0), x)
    reconstruct(model, x)
    for name, value in quantizer_state(model).items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    model.train()
    assert not model.quantizer.deterministic
    reconstruct(model, x)  # deterministic even in train mode
    for name, value in quantizer_state(model).items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    out = forward(model, nnx.Rngs(noise=0), x)
    after = quantizer_state(model)
    for name in ("codebook", "cluster_size", "embed_sum"):
        assert not np.array_equal(after[name], before[name]), name
    used = np.zeros(16, bool)
    used[np.unique(np.asarray(out["indices"]))] = True
    np.testing.assert_array_equal(after["steps_since_used"], np.where(used, 0, 1))


@pytest.mark.parametrize("use_ema", [True, False])
def test_dead_codes_are_reset_from_encoder_outputs(use_ema):
    model = make(TINY.replace(use_ema=use_ema))
    q = model.quantizer
    # Make every code but code 0 dead: far away from any encoder output.
    far = jnp.asarray(q.codebook.get_value()).at[1:].add(100.0).at[0].set(0.0)
    q.codebook.set_value(far)
    if use_ema:
        q.embed_sum.set_value(far)
    x = jax.random.uniform(jax.random.key(0), (8, 8, 8, 1))  # distinct encoder outputs
    rngs = nnx.Rngs(noise=3)
    for _ in range(2):  # threshold 3: not yet
        out = forward(model, rngs, x)
        assert np.all(np.asarray(out["indices"]) == 0)
    steps = np.asarray(q.steps_since_used.get_value())
    np.testing.assert_array_equal(steps, [0] + [2] * 15)
    z_e = np.asarray(out["z_e"]).reshape(-1, 4)
    out = forward(model, rngs, x)  # third unused step: codes 1..15 are re-drawn
    codebook = np.asarray(q.codebook.get_value())
    new = codebook[1:]
    # Each reset code is one of this batch's encoder outputs, all different rows.
    matches = np.all(np.abs(new[:, None, :] - z_e[None, :, :]) < 1e-6, axis=-1)
    assert np.all(matches.any(axis=1))
    assert len({tuple(r) for r in new}) == 15
    np.testing.assert_array_equal(np.asarray(q.steps_since_used.get_value())[1:], 0)
    if use_ema:
        np.testing.assert_array_equal(np.asarray(q.cluster_size.get_value())[1:], 1.0)
        np.testing.assert_array_equal(np.asarray(q.embed_sum.get_value())[1:], new)
    # The re-drawn codes get used.
    out = forward(model, rngs, x)
    assert len(np.unique(np.asarray(out["indices"]))) > 1


def test_no_reset_without_a_key():
    model = make()
    q = model.quantizer
    far = jnp.asarray(q.codebook.get_value()).at[1:].add(100.0).at[0].set(0.0)
    q.codebook.set_value(far)
    q.embed_sum.set_value(far)
    for _ in range(4):
        forward(model, None, images(8))
    np.testing.assert_array_equal(np.asarray(q.steps_since_used.get_value())[1:], 4)
    assert np.all(np.asarray(q.codebook.get_value())[1:] > 50)


def test_adam_steps_reduce_loss_and_use_several_codes():
    model = make(TINY, seed=1)
    data = images(64, seed=1)
    optimizer = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)
    rngs = nnx.Rngs(noise=0)
    model.eval()
    before, _ = evaluate(model, data)
    model.train()
    order = np.random.default_rng(0)
    for _ in range(40):
        batch = data[order.choice(64, 16, replace=False)]
        train_step(model, optimizer, rngs, batch)
    model.eval()
    after, indices = evaluate(model, data)
    assert float(after["loss"]) < 0.9 * float(before["loss"])
    assert float(after["reconstruction_loss"]) < float(before["reconstruction_loss"])
    assert len(np.unique(np.asarray(indices))) > 1


def test_state_variables_are_typed_for_filtering():
    model = make()
    assert isinstance(model.quantizer.cluster_size, CodebookStat)
    assert isinstance(model.quantizer.steps_since_used, CodebookStat)
    assert model.quantizer.steps_since_used.get_value().dtype == jnp.int32
    params = nnx.state(model, nnx.Param)
    assert "codebook" not in params.get("quantizer", {})


def test_wrong_image_shape_raises_input_error():
    model = make()
    for bad in (jnp.zeros((2, 7, 8, 1)), jnp.zeros((2, 8, 8, 3)), jnp.zeros((8, 8, 1))):
        with pytest.raises(zoo.InputError, match="expected images of shape"):
            model(bad)
        with pytest.raises(zoo.InputError):
            model.reconstruct(bad)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"architecture": "mlp"}, "architecture"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"ema_decay": -0.1}, "ema_decay"),
        ({"ema_epsilon": 0.0}, "ema_epsilon"),
        ({"num_embeddings": 0}, "num_embeddings"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"commitment_cost": -1.0}, "commitment_cost"),
        ({"dead_code_threshold": -1}, "dead_code_threshold"),
    ],
)
def test_bad_config_raises_config_error(overrides, field):
    with pytest.raises(zoo.ConfigError, match=field):
        TINY.replace(**overrides)


def test_mlp_error_says_why():
    with pytest.raises(zoo.ConfigError, match="spatial grid"):
        VQVAEConfig(architecture="mlp")
