"""zoo.save / zoo.load: bit-exact round trip, strict fit check, damaged files."""

from __future__ import annotations

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.flax import save_file

import zoo
from zoo.checkpoint import flat_state, read_safetensors


def _weights(model) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.get_value()) for k, v in flat_state(model).items()}


def test_round_trip_is_bit_exact_and_includes_non_trainable_state(toy_manager, tmp_path) -> None:
    model = zoo.create("toy", seed=3)
    model.stat.set_value(jnp.arange(4.0))
    out = zoo.save(model, tmp_path / "m")
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]
    meta = json.loads((out / "config.json").read_text())
    assert meta["variant"] == "toy" and meta["format_version"] == 1
    assert meta["plugin"] == "toy-plugin" and meta["config"] == {"features": 4, "scale": 1.0}
    assert sorted(read_safetensors(out / "model.safetensors")) == [
        "dense.bias", "dense.kernel", "stat"]
    loaded = zoo.load(out)
    assert loaded.config == model.config and loaded.zoo_variant == "toy"
    a, b = _weights(model), _weights(loaded)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes()


def test_mismatch_lists_missing_unexpected_and_misshaped_together(toy_manager, tmp_path) -> None:
    model = zoo.create("toy")
    out = zoo.save(model, tmp_path / "m")
    tensors = read_safetensors(out / "model.safetensors")
    del tensors["dense.bias"]
    tensors["extra.weight"] = jnp.zeros(2)
    tensors["dense.kernel"] = jnp.zeros((5, 4))
    save_file(tensors, str(out / "model.safetensors"))
    with pytest.raises(zoo.WeightsMismatchError) as info:
        zoo.load(out)
    msg = str(info.value)
    assert "missing keys (1): dense.bias" in msg
    assert "unexpected keys (1): extra.weight" in msg
    assert "dense.kernel: file (5, 4) vs model (4, 4)" in msg


def test_dtype_mismatch_needs_cast_on_request(toy_manager, tmp_path) -> None:
    model = zoo.create("toy")
    out = zoo.save(model, tmp_path / "m")
    tensors = {k: v.astype(jnp.bfloat16) for k, v in read_safetensors(
        out / "model.safetensors").items()}
    save_file(tensors, str(out / "model.safetensors"))
    with pytest.raises(zoo.WeightsMismatchError, match="file bfloat16 vs model float32"):
        zoo.load(out)
    loaded = zoo.load(out, cast_dtype=True)
    kernel = loaded.dense.kernel.get_value()
    assert kernel.dtype == jnp.float32
    np.testing.assert_array_equal(kernel, tensors["dense.kernel"].astype(jnp.float32))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_weights_file_is_a_clear_error(toy_manager, tmp_path, damage) -> None:
    out = zoo.save(zoo.create("toy"), tmp_path / "m")
    path = out / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) - 7], "garbage": b"\xff" * 64,
                      "empty": b""}[damage])
    with pytest.raises(zoo.CorruptWeightsError, match="truncated or corrupted"):
        zoo.load(out)


def test_config_errors(toy_manager, tmp_path) -> None:
    out = zoo.save(zoo.create("toy"), tmp_path / "m")
    cfg_path = out / "config.json"
    good = json.loads(cfg_path.read_text())

    cfg_path.write_text("{not json")
    with pytest.raises(zoo.CorruptWeightsError, match="not valid JSON"):
        zoo.load(out)
    cfg_path.write_text(json.dumps({**good, "variant": "vq-something",
                                    "plugin_distribution": "zoo-vq-something"}))
    with pytest.raises(zoo.ZooError, match=r"pip install zoo-vq-something"):
        zoo.load(out)
    cfg_path.write_text(json.dumps({**good, "config": {"features": "four"}}))
    with pytest.raises(zoo.ConfigError, match=r"ToyConfig\.features: expected int"):
        zoo.load(out)
    cfg_path.write_text(json.dumps({**good, "config": {"featurez": 4}}))
    with pytest.raises(zoo.ConfigError, match="did you mean 'features'"):
        zoo.load(out)
    cfg_path.write_text(json.dumps({**good, "format_version": 99}))
    with pytest.raises(zoo.ZooError, match="format_version 99"):
        zoo.load(out)
    cfg_path.unlink()
    with pytest.raises(zoo.ZooError, match=r"config\.json is missing"):
        zoo.load(out)


def test_load_bad_targets(toy_manager, tmp_path) -> None:
    with pytest.raises(zoo.ZooError, match="no such directory"):
        zoo.load(tmp_path / "absent")
    with pytest.raises(zoo.ZooError, match="is a variant, not a trained model"):
        zoo.load("toy")
    with pytest.raises(zoo.UnknownNameError, match="unknown pretrained model or directory"):
        zoo.load("nothing-like-this")
    (tmp_path / "file").write_text("x")
    with pytest.raises(zoo.ZooError, match="is a file"):
        zoo.load(tmp_path / "file")


def test_save_refuses_untagged_models_and_file_targets(toy_manager, tmp_path) -> None:
    from flax import nnx

    from .conftest import ToyConfig, ToyModel

    with pytest.raises(zoo.ZooError, match=r"built by zoo\.create"):
        zoo.save(ToyModel(ToyConfig(), rngs=nnx.Rngs(0)), tmp_path / "x")
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(zoo.ZooError, match="not a directory"):
        zoo.save(zoo.create("toy"), tmp_path / "f")
    assert (tmp_path / "f").read_text() == "keep me"


def test_failed_save_leaves_previous_files_intact(toy_manager, tmp_path, monkeypatch) -> None:
    out = zoo.save(zoo.create("toy", seed=1), tmp_path / "m")
    before = (out / "model.safetensors").read_bytes()

    import zoo._io as zio

    def exploding_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(zio.os, "replace", exploding_replace)
    with pytest.raises(OSError, match="disk full"):
        zoo.save(zoo.create("toy", seed=2), out)
    assert (out / "model.safetensors").read_bytes() == before
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]  # no temp files left
