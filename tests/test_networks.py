"""The image networks' options: dense layers after the conv stack and the mirrored decoder (the
standard dSprites network, ``zoo.config.DSPRITES_NETWORK``)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.config import DSPRITES_NETWORK, ImageModelConfig
from zoo.errors import ConfigError
from zoo.nn import ConvDecoder, depth_to_space


def _transposed_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A 4x4 stride-2 transposed conv with padding 1 (output 2x the input), written from its
    definition: y[o] = sum over i, k with o = 2 i + k - 1 of x[i] w[k]. x [B, H, W, I],
    w [4, 4, I, O] -> [B, 2H, 2W, O]."""
    b, h, wd, _ = x.shape
    y = np.zeros((b, 2 * h + 2, 2 * wd + 2, w.shape[-1]))
    for ky in range(4):
        for kx in range(4):
            contrib = np.einsum("bhwi,io->bhwo", x, w[ky, kx])
            # input (i, j) lands on output (2i + ky - 1, 2j + kx - 1); offset by 1 for the margin
            y[:, ky:ky + 2 * h:2, kx:kx + 2 * wd:2] += contrib
    return y[:, 1:2 * h + 1, 1:2 * wd + 1]


def _as_shuffle_kernel(w: np.ndarray) -> np.ndarray:
    """The 3x3 kernel [3, 3, I, 4 O] whose conv followed by a 2x pixel shuffle computes the
    transposed conv of ``w`` [4, 4, I, O]: output phase r of input cell m reads input m + d with
    tap k = r + 1 - 2 d (zero where k falls outside 0..3)."""
    cin, cout = w.shape[2], w.shape[3]
    k3 = np.zeros((3, 3, cin, 2, 2, cout))
    for ry in range(2):
        for rx in range(2):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ky, kx = ry + 1 - 2 * dy, rx + 1 - 2 * dx
                    if 0 <= ky < 4 and 0 <= kx < 4:
                        k3[dy + 1, dx + 1, :, ry, rx, :] = w[ky, kx]
    return k3.reshape(3, 3, cin, 4 * cout)


@settings(max_examples=10, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), cin=st.integers(1, 3), cout=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_a_shuffle_stage_computes_any_4x4_stride_2_transposed_conv(h, w, cin, cout, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, h, w, cin))
    kernel = rng.normal(size=(4, 4, cin, cout))
    conv = jax.lax.conv_general_dilated(
        jnp.asarray(x, jnp.float32), jnp.asarray(_as_shuffle_kernel(kernel), jnp.float32),
        (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    got = np.asarray(depth_to_space(conv, 2))
    np.testing.assert_allclose(got, _transposed_conv(x, kernel), rtol=1e-4, atol=1e-4)


def test_the_standard_dsprites_network_has_the_published_layers():
    model = zoo.create("beta-vae", **DSPRITES_NETWORK)
    enc, dec = model.encoder, model.decoder
    assert [c.kernel[...].shape for c in enc.conv.convs] == [
        (4, 4, 1, 32), (4, 4, 32, 32), (4, 4, 32, 64), (4, 4, 64, 64)]
    assert [layer.kernel[...].shape for layer in enc.head.layers] == [(1024, 256), (256, 20)]
    assert [layer.kernel[...].shape for layer in dec.dense.layers] == [(10, 256)]
    assert dec.proj.kernel[...].shape == (256, 1024)
    # mirrored stages 64 -> 64 -> 32 -> 32 -> 1 channels, each upsampling 2x; no extra conv
    assert [c.kernel[...].shape[2:] for c in dec.conv.ups] == [(64, 256), (64, 128), (32, 128),
                                                                 (32, 4)]
    assert dec.conv.out is None
    x = jnp.zeros((2, 64, 64, 1))
    out = model(x, rngs=nnx.Rngs(0))
    assert out["logits"].shape == (2, 64, 64, 1) and out["mean"].shape == (2, 10)
    params = sum(p.size for p in jax.tree.leaves(nnx.state(model, nnx.Param)))
    assert params * 4 < 5e6  # bundleable: under 5 MB of float32


def test_default_networks_are_unchanged_by_the_new_fields():
    config = ImageModelConfig(architecture="cnn", hidden_dims=(8, 16), height=8, width=8)
    assert config.dense_dims == () and config.mirror_decoder is False
    model = zoo.create("beta-vae", architecture="cnn", hidden_dims=(8, 16), height=8, width=8,
                       latent_dim=3)
    assert model.decoder.dense is None and model.decoder.conv.out is not None
    assert [layer.kernel[...].shape for layer in model.encoder.head.layers] == [(64, 6)]


def test_a_config_json_without_the_new_fields_loads(tmp_path):
    model = zoo.create("beta-vae", architecture="cnn", hidden_dims=(8,), height=8, width=8,
                       latent_dim=3)
    zoo.save(model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    for key in ("dense_dims", "mirror_decoder"):
        meta["config"].pop(key, None)
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    loaded = zoo.load(str(tmp_path / "m"))
    assert loaded.config.dense_dims == () and loaded.config.mirror_decoder is False


@pytest.mark.parametrize("variant", ["beta-vae", "cvae"])
def test_dense_dims_and_mirror_work_for_the_gaussian_variants(variant):
    kw = {"architecture": "cnn", "hidden_dims": (4, 8), "height": 8, "width": 8, "latent_dim": 3,
          "dense_dims": (16, 12), "mirror_decoder": True}
    model = zoo.create(variant, **kw)
    x = jnp.full((2, 8, 8, 1), 0.5)
    out = model(x, jnp.zeros(2, jnp.int32)) if variant == "cvae" else model(x)
    assert out["logits"].shape == (2, 8, 8, 1)


def test_mlp_refuses_cnn_only_fields():
    with pytest.raises(ConfigError, match="dense_dims and mirror_decoder apply to architecture"):
        ImageModelConfig(architecture="mlp", dense_dims=(256,))
    with pytest.raises(ConfigError, match="mirror_decoder"):
        ImageModelConfig(architecture="mlp", mirror_decoder=True)
    with pytest.raises(ConfigError, match="positive"):
        ImageModelConfig(architecture="cnn", dense_dims=(0,))


def test_vqvae_refuses_dense_layers_but_takes_the_mirrored_decoder():
    with pytest.raises(ConfigError, match="dense_dims must be empty"):
        zoo.create("vqvae", height=8, width=8, hidden_dims=(8,), dense_dims=(16,))
    model = zoo.create("vqvae", height=8, width=8, hidden_dims=(4, 8), mirror_decoder=True,
                       num_embeddings=8)
    assert model.decoder.out is None


def test_mirrored_decoder_shapes():
    dec = ConvDecoder(8, (4, 8), 3, "relu", rngs=nnx.Rngs(0), mirror=True)
    assert dec(jnp.zeros((2, 2, 2, 8))).shape == (2, 8, 8, 3)
