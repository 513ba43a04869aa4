"""The training loop: determinism, exact resume, safe stops, run-directory rules, the CLI."""

from __future__ import annotations

import json
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from zoo.checkpoint import flat_state
from zoo.cli import main
from zoo.runs import RunError
from zoo.train import TrainConfig, TrainingDiverged, train

from .conftest import LATENT, TINY_MODEL, toy_spec


def _tc(**kw: Any) -> TrainConfig:
    base = {"dataset": "stripes", "batch_size": 32, "max_steps": 12, "validation_size": 64,
            "eval_every": 5, "checkpoint_every": 4, "log_every": 2, "seed": 3}
    return TrainConfig(**{**base, **kw})


def _weights(model: Any) -> dict[str, bytes]:
    return {k: np.asarray(v.get_value()).tobytes() for k, v in flat_state(model).items()}


@pytest.mark.parametrize("variant", ["beta-vae", "cvae", "vqvae"])
def test_resume_equals_uninterrupted(world, tmp_path, variant) -> None:
    """Stop at step 5 (mid-epoch: 6 batches per epoch), resume: same weights, same log."""
    model = {**TINY_MODEL, **LATENT[variant]}
    full = train(variant, out=tmp_path / "a", train_config=_tc(), model_overrides=model,
                 progress=False)
    part = train(variant, out=tmp_path / "b", train_config=_tc(), model_overrides=model,
                 until_step=5, progress=False)
    assert (part.step, part.finished) == (5, False)
    resumed = train(variant, out=tmp_path / "b", train_config=_tc(), model_overrides=model,
                    resume=True, progress=False)
    assert resumed.finished and resumed.step == 12
    assert _weights(full.model) == _weights(resumed.model)  # includes VQ EMA state
    log_a = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    log_b = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert log_a == log_b
    for d in ("a", "b"):
        assert zoo.load(tmp_path / d / "best").config == full.model.config
        assert (tmp_path / d / "summary.json").is_file()
        assert (tmp_path / d / "plots" / "training_curves.png").is_file()
        assert (tmp_path / d / "plots" / "reconstructions.png").is_file()


def test_same_seed_same_weights_and_adapted_shape(world, tmp_path) -> None:
    runs = [train("beta-vae", out=tmp_path / str(i), train_config=_tc(max_steps=6),
                  model_overrides=TINY_MODEL, progress=False) for i in range(2)]
    assert _weights(runs[0].model) == _weights(runs[1].model)
    assert runs[0].model.config.image_shape == (8, 8, 1)  # taken from the dataset
    other = train("beta-vae", out=tmp_path / "s", train_config=_tc(max_steps=6, seed=4),
                  model_overrides=TINY_MODEL, progress=False)
    assert _weights(other.model) != _weights(runs[0].model)


def test_the_checkpoint_interval_changes_no_computation(world, tmp_path) -> None:
    """Runs of one recipe may differ in checkpoint_every (zoo.bundle's seed runs): same weights,
    same log."""
    runs = [train("beta-vae", out=tmp_path / str(every), train_config=_tc(checkpoint_every=every),
                  model_overrides=TINY_MODEL, progress=False) for every in (3, 5)]
    assert _weights(runs[0].model) == _weights(runs[1].model)
    logs = [(tmp_path / str(every) / "metrics.jsonl").read_text() for every in (3, 5)]
    assert logs[0] == logs[1]


def test_loss_goes_down(world, tmp_path) -> None:
    r = train("beta-vae", out=tmp_path / "r", train_config=_tc(max_steps=150, log_every=10,
                                                               learning_rate=3e-3,
                                                               eval_every=150),
              model_overrides={"hidden_dims": (64,), "latent_dim": 3, "beta_anneal_steps": 0,
                               "beta": 1.0}, progress=False)
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in rows if "loss" in row]
    assert losses[-1] < 0.6 * losses[0]
    assert r.best_validation is not None


def test_run_directory_rules(world, tmp_path) -> None:
    train("beta-vae", out=tmp_path / "r", train_config=_tc(max_steps=4),
          model_overrides=TINY_MODEL, progress=False)
    before = (tmp_path / "r" / "checkpoints" / "last" / "model.safetensors").read_bytes()
    with pytest.raises(RunError, match="already holds another run"):
        train("beta-vae", out=tmp_path / "r", train_config=_tc(max_steps=4),
              model_overrides=TINY_MODEL, progress=False)
    with pytest.raises(RunError, match="different train_config"):
        train("beta-vae", out=tmp_path / "r", train_config=_tc(max_steps=4, learning_rate=0.1),
              model_overrides=TINY_MODEL, resume=True, progress=False)
    with pytest.raises(RunError, match="holds no run"):
        train("beta-vae", out=tmp_path / "new", train_config=_tc(), resume=True,
              progress=False)
    assert (tmp_path / "r" / "checkpoints" / "last" / "model.safetensors").read_bytes() == before
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="other files"):
        train("beta-vae", out=tmp_path / "junk", train_config=_tc(), progress=False)
    assert (tmp_path / "junk" / "notes.txt").read_text() == "mine"


def test_bad_inputs(world, tmp_path) -> None:
    with pytest.raises(zoo.UnknownNameError, match="stripes"):
        train("beta-vae", out=tmp_path / "x", train_config=_tc(dataset="stripez"))
    with pytest.raises(zoo.ConfigError, match="height=8"):
        train("beta-vae", out=tmp_path / "y", train_config=_tc(),
              model_overrides={"height": 28}, progress=False)
    with pytest.raises(zoo.ConfigError, match="batch_size"):
        TrainConfig(batch_size=0)


def test_nan_stops_run_and_keeps_last_good_checkpoint(world, tmp_path) -> None:
    def exploding_loss(outputs, x, *, config, step):
        loss = jnp.mean((outputs["reconstruction"] - x) ** 2)
        loss = jnp.where(step >= 6, jnp.nan, loss)
        return loss, {"loss": loss, "reconstruction_loss": loss}

    class Exploding:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            spec = toy_spec("exploding")
            register(type(spec)(**{**spec.__dict__, "loss": exploding_loss,
                                   "factory": _flat_toy_factory}))

    world.register(Exploding(), name="exploding")
    diverged = r"loss became non-finite at step 7.*intact.*plugin 'exploding'"
    with pytest.raises(TrainingDiverged, match=diverged):
        train("exploding", out=tmp_path / "r", train_config=_tc(checkpoint_every=4,
                                                                  validation_size=0),
              progress=False)
    state = json.loads((tmp_path / "r" / "checkpoints" / "last" / "trainer.json").read_text())
    assert state["step"] == 4
    assert zoo.load(tmp_path / "r" / "checkpoints" / "last").zoo_variant == "exploding"


@pytest.mark.parametrize("bad, message", [
    (lambda loss: (jnp.full((3,), loss), {}), r"a loss of shape \(3,\)"),
    (lambda loss: loss, r"an array of shape \(\) and no metrics"),
    (lambda loss: (loss, {}, 1), "a tuple of 3"),
])
def test_malformed_loss_is_named_with_its_plugin(world, tmp_path, bad, message) -> None:
    def broken_loss(outputs, x, *, config, step):
        return bad(jnp.mean((outputs["reconstruction"] - x) ** 2))

    class Broken:
        @zoo.hookimpl
        def zoo_register_variants(self, register):
            spec = toy_spec("broken")
            register(type(spec)(**{**spec.__dict__, "loss": broken_loss,
                                   "factory": _flat_toy_factory}))

    world.register(Broken(), name="broken-plugin")
    with pytest.raises(zoo.PluginError, match=f"variant 'broken' \\(plugin 'broken-plugin'\\) "
                                              f"returned {message}.*scalar loss"):
        train("broken", out=tmp_path / "r", train_config=_tc(validation_size=0), progress=False)


def _flat_toy_factory(config, *, rngs):
    from flax import nnx

    class FlatToy(nnx.Module):
        def __init__(self):
            self.config = config
            self.dense = nnx.Linear(64, 64, rngs=rngs)

        def __call__(self, x, *, rngs=None):
            logits = self.dense(x.reshape(x.shape[0], -1)).reshape(x.shape)
            return {"logits": logits, "reconstruction": jnp.tanh(logits)}

    return FlatToy()


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_interrupt_checkpoints_between_steps_and_resumes(world, tmp_path, monkeypatch,
                                                         signame) -> None:
    """A real SIGINT (Ctrl-C) or SIGTERM (kill, timeout, schedulers) arrives while step 4's
    batch is being read: the loop finishes that step, checkpoints and stops; resuming gives the
    uninterrupted run's weights."""
    import os
    import signal

    from zoo.training import loop as training_loop

    real_batches = training_loop.Loop.__init__

    def init(self, *args, **kwargs):
        real_batches(self, *args, **kwargs)
        batches = self._batches

        def interrupted_at_step_3(*a, **kw):
            for b in batches(*a, **kw):
                if self.step == 3:
                    os.kill(os.getpid(), getattr(signal, signame))
                yield b

        self._batches = interrupted_at_step_3

    monkeypatch.setattr(training_loop.Loop, "__init__", init)
    with pytest.raises(KeyboardInterrupt, match=rf"interrupted \({signame}\) at step 4"):
        train("beta-vae", out=tmp_path / "r", train_config=_tc(), model_overrides=TINY_MODEL,
              progress=False)
    state = json.loads((tmp_path / "r" / "checkpoints" / "last" / "trainer.json").read_text())
    assert state["step"] == 4
    monkeypatch.undo()
    done = train("beta-vae", out=tmp_path / "r", train_config=_tc(), model_overrides=TINY_MODEL,
                 resume=True, progress=False)
    full = train("beta-vae", out=tmp_path / "f", train_config=_tc(), model_overrides=TINY_MODEL,
                 progress=False)
    assert _weights(done.model) == _weights(full.model)


def test_cli_train(world, tmp_path, capsys) -> None:
    args = ["train", "beta-vae", "--dataset", "stripes", "--out", str(tmp_path / "r"),
            "--no-progress", "max_steps=4", "batch_size=32", "validation_size=64",
            "hidden_dims=8", "latent_dim=2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "finished at step 4" in out and "images/s" in out
    assert zoo.load(tmp_path / "r" / "best").config.latent_dim == 2
    assert main(["train", "beta-vae", "--out", str(tmp_path / "q"), "latnet_dim=3"]) == 2
    assert "Did you mean latent_dim" in capsys.readouterr().err
    assert main(["train", "beta-vae", "--out", str(tmp_path / "q"), "--preset", "nope"]) == 2
