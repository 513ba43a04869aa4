"""Several steps per dispatch (zoo.training.chunks) and the on-device non-finite flag: the
chunked loop computes what the one-step-per-call loop computes, resumes exactly, names the first
non-finite step although it syncs only at log points, and never saves a non-finite state."""

from __future__ import annotations

import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from zoo.checkpoint import flat_state
from zoo.train import TrainConfig, TrainingDiverged, train
from zoo.training import chunks
from zoo.training.pending import Pending

from .conftest import TINY_MODEL


def _tc(**kw: Any) -> TrainConfig:
    """Six batches of 32 per epoch, a log row every 8 steps: chunks of 4 fit between points."""
    base = {"dataset": "stripes", "batch_size": 32, "max_steps": 20, "validation_size": 40,
            "eval_every": 10, "checkpoint_every": 10, "log_every": 8, "seed": 5}
    return TrainConfig(**{**base, **kw})


def _rows(run: Any) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _weights(model: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.get_value()) for k, v in flat_state(model).items()}


# -- the pure functions ------------------------------------------------------------------------
def _counting_step(state, x, labels, key, step, scale=1.0):
    """A toy step: adds the batch mean (times ``scale``) to the state; its "loss" is the new
    state, made NaN when the batch holds a NaN."""
    new = state + scale * jnp.mean(x) + 0.0 * jax.random.uniform(key)
    return new, {"loss": new, "step": jnp.asarray(step, jnp.float32), "vector": jnp.ones(3)}


def test_a_chunk_is_the_same_steps_with_the_same_keys() -> None:
    xs = jnp.arange(12.0).reshape(4, 3)
    base = jax.random.key_data(jax.random.key(0))
    flag = jnp.int32(chunks.ALL_FINITE)
    one = chunks.keyed(_counting_step)
    state, rows = jnp.float32(1.0), []
    for k in range(4):
        state, m, flag = one(state, xs[k], None, base, 7 + k, flag, 2.0)
        rows.append(m)
    cstate, cm, cflag = chunks.scan_steps(_counting_step)(
        jnp.float32(1.0), xs, jnp.zeros((4, 3)), base, 7, jnp.int32(-1), 2.0)
    assert float(cstate) == float(state) == 1.0 + 2.0 * float(jnp.mean(xs, axis=1).sum())
    assert cm["step"].tolist() == [7, 8, 9, 10]  # step numbers, hence keys, run on
    assert cm["loss"].tolist() == [float(r["loss"]) for r in rows]
    assert int(cflag) == int(flag) == chunks.ALL_FINITE


def test_the_flag_keeps_the_first_non_finite_step() -> None:
    xs = jnp.array([[0.0], [jnp.nan], [1.0], [jnp.inf]])
    base = jax.random.key_data(jax.random.key(0))
    _, _, flag = chunks.scan_steps(_counting_step)(
        jnp.float32(0.0), xs, jnp.zeros((4, 1)), base, 10, jnp.int32(-1))
    assert int(flag) == 12  # steps 10..13 are the 11th..14th; the second of them went NaN
    _, _, again = chunks.scan_steps(_counting_step)(
        jnp.float32(0.0), jnp.zeros((4, 1)), jnp.zeros((4, 1)), base, 20, flag)
    assert int(again) == 12  # once set, it stays
    assert not bool(chunks.all_finite({"a": jnp.float32(1), "b": jnp.float32(jnp.inf)}))
    assert bool(chunks.all_finite({"a": jnp.float32(1), "v": jnp.full(3, jnp.nan)}))  # scalars


def test_pending_metrics_mix_single_steps_and_chunks() -> None:
    pending = Pending([{"loss": 4.0}])  # restored from a checkpoint
    pending.add({"loss": jnp.float32(2.0)})
    pending.add({"loss": jnp.array([1.0, jnp.nan], jnp.float32)})
    assert [r["loss"] for r in pending.rows()][:3] == [4.0, 2.0, 1.0]
    assert len(pending.rows()) == 4 and pending.non_finite() == ["loss"]
    pending.clear()
    pending.add({"loss": jnp.array([1.0, 3.0])})
    assert pending.mean() == {"loss": 2.0} and pending.non_finite() == []


# -- the loop ------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["beta-vae", "vqvae"])
def test_chunked_run_equals_one_step_per_call(world, tmp_path, variant) -> None:
    model = {**TINY_MODEL, **({"latent_dim": 3} if variant == "beta-vae" else {})}
    runs = {k: train(variant, out=tmp_path / str(k), train_config=_tc(), model_overrides=model,
                     progress=False, pictures=False, steps_per_dispatch=k) for k in (1, 4)}
    rows = {k: _rows(tmp_path / str(k)) for k in runs}
    assert [sorted(r) for r in rows[1]] == [sorted(r) for r in rows[4]]
    for a, b in zip(rows[1], rows[4], strict=True):
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=2e-5, atol=1e-6, err_msg=key)
    wa, wb = _weights(runs[1].model), _weights(runs[4].model)
    for key in wa:
        np.testing.assert_allclose(wb[key], wa[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_chunked_resume_is_exact(world, tmp_path) -> None:
    kw = {"train_config": _tc(max_steps=30), "model_overrides": TINY_MODEL, "progress": False,
          "pictures": False, "steps_per_dispatch": 4}
    full = train("beta-vae", out=tmp_path / "a", **kw)
    train("beta-vae", out=tmp_path / "b", until_step=13, **kw)  # mid-epoch, mid-log-interval
    resumed = train("beta-vae", out=tmp_path / "b", resume=True, **kw)
    assert resumed.step == 30
    assert {k: v.tobytes() for k, v in _weights(full.model).items()} == \
        {k: v.tobytes() for k, v in _weights(resumed.model).items()}
    assert _rows(tmp_path / "a") == _rows(tmp_path / "b")


def _exploding(world: Any, name: str, loss_fn: Any) -> None:
    from .conftest import toy_spec
    from .test_train import _flat_toy_factory

    class Exploding:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            spec = toy_spec(name)
            register(type(spec)(**{**spec.__dict__, "loss": loss_fn,
                                   "factory": _flat_toy_factory}))

    world.register(Exploding(), name=name)


def test_the_first_non_finite_step_inside_a_chunk_is_named(world, tmp_path) -> None:
    def loss_fn(outputs, x, *, config, step):
        loss = jnp.mean((outputs["reconstruction"] - x) ** 2)
        loss = jnp.where(step == 13, jnp.inf, loss)  # the 14th step, inside a chunk
        return loss, {"loss": loss}

    _exploding(world, "inf-at-14", loss_fn)
    tc = _tc(log_every=16, checkpoint_every=8, eval_every=100, validation_size=0, max_steps=32)
    with pytest.raises(TrainingDiverged, match=r"^loss became non-finite at step 14; .*intact"):
        train("inf-at-14", out=tmp_path / "r", train_config=tc, progress=False,
              steps_per_dispatch=4)
    last = tmp_path / "r" / "checkpoints" / "last"
    assert json.loads((last / "trainer.json").read_text())["step"] == 8
    assert not (tmp_path / "r" / "metrics.jsonl").exists() or \
        all(r["step"] < 14 for r in _rows(tmp_path / "r"))


def test_non_finite_parameters_are_never_saved(world, tmp_path) -> None:
    """A step with a finite loss whose update overflows: the checkpoint after it is refused."""
    def loss_fn(outputs, x, *, config, step):
        loss = jnp.mean(outputs["logits"]) * 1e6
        return loss, {"loss": loss}

    _exploding(world, "overflowing", loss_fn)
    tc = _tc(optimizer="sgd", learning_rate=1e36, checkpoint_every=1, log_every=1,
             validation_size=0)
    with pytest.raises(TrainingDiverged, match=r"the parameters became non-finite at step 1; "
                                               r".*nothing to resume"):
        train("overflowing", out=tmp_path / "r", train_config=tc, progress=False)
    assert not (tmp_path / "r" / "checkpoints" / "last").exists()


def test_auto_steps_per_dispatch_spares_convolutions_on_cpu(world) -> None:
    """auto: a scan of CNN steps is 14x slower on XLA:CPU (benchmarks/README.md), so a model
    with convolutions runs one step per call there; conv-free models run chunks of 16."""
    assert jax.default_backend() == "cpu"  # the test machine
    mlp = zoo.create("beta-vae", **TINY_MODEL)
    cnn = zoo.create("beta-vae", **{**TINY_MODEL, "architecture": "cnn", "hidden_dims": (4,)})
    assert chunks.resolve_steps_per_dispatch(0, mlp) == chunks.ACCELERATOR_STEPS_PER_DISPATCH
    assert chunks.resolve_steps_per_dispatch(0, cnn) == 1
    assert chunks.resolve_steps_per_dispatch(0, zoo.create("vqvae")) == 1
    assert chunks.resolve_steps_per_dispatch(0) == 1  # no model to look at: the safe choice
    assert chunks.resolve_steps_per_dispatch(3, cnn) == 3  # asked for: as asked
