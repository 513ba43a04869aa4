"""Training a run for longer: ``--resume`` with only a larger length continues it exactly."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from zoo.checkpoint import flat_state
from zoo.cli import main
from zoo.runs import RunError
from zoo.train import TrainConfig, train
from zoo.training.extension import only_length_differs

from .conftest import TINY_MODEL


def _tc(**kw: Any) -> TrainConfig:
    base = {"dataset": "stripes", "batch_size": 32, "max_steps": 12, "validation_size": 64,
            "eval_every": 4, "checkpoint_every": 4, "log_every": 2, "seed": 3}
    return TrainConfig(**{**base, **kw})


def _weights(model: Any) -> dict[str, bytes]:
    return {k: np.asarray(v.get_value()).tobytes() for k, v in flat_state(model).items()}


def _files(run) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("variant,schedule", [("beta-vae", {"beta_anneal_steps": 0}),
                                              ("beta-vae-capacity", {"capacity_num_iter": 4})])
def test_extended_run_equals_a_longer_run(world, tmp_path, variant, schedule) -> None:
    """8 steps, then extended to 12 (mid-epoch: 6 batches per epoch): the weights, optimizer
    and checkpoints of a run started at 12 steps; run.json and summary.json say 12. (Schedules
    end before step 8, so validation ranks checkpoints by the same objective in both runs.)"""
    model = {**TINY_MODEL, **schedule}
    longer = train(variant, out=tmp_path / "a", train_config=_tc(), model_overrides=model,
                   progress=False)
    short = train(variant, out=tmp_path / "b", train_config=_tc(max_steps=8),
                  model_overrides=model, progress=False)
    assert short.finished and json.loads((tmp_path / "b" / "summary.json").read_text())[
        "steps"] == 8
    extended = train(variant, out=tmp_path / "b", train_config=_tc(), model_overrides=model,
                     resume=True, progress=False)
    assert (extended.step, extended.finished) == (12, True)
    assert _weights(extended.model) == _weights(longer.model)
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("checkpoints/last/model.safetensors", "checkpoints/last/optimizer.safetensors",
                 "best/model.safetensors", "run.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert json.loads((b / "summary.json").read_text())["steps"] == 12
    rows = [json.loads(x) for x in (b / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [2, 4, 6, 8, 10, 12]


def test_cosine_schedule_cannot_be_extended(world, tmp_path) -> None:
    run = tmp_path / "r"
    train("beta-vae", out=run, train_config=_tc(max_steps=8, lr_schedule="cosine"),
          model_overrides=TINY_MODEL, progress=False)
    before = _files(run)
    with pytest.raises(RunError, match="cosine learning-rate schedule decays over the whole"):
        train("beta-vae", out=run, train_config=_tc(lr_schedule="cosine"),
              model_overrides=TINY_MODEL, resume=True, progress=False)
    assert _files(run) == before


def test_shortening_past_the_checkpoint_is_refused(world, tmp_path) -> None:
    run = tmp_path / "r"
    train("beta-vae", out=run, train_config=_tc(max_steps=8), model_overrides=TINY_MODEL,
          progress=False)
    before = _files(run)
    with pytest.raises(RunError, match=r"last checkpoint is at step 8\. Resume with a length of "
                                       "at least 8"):
        train("beta-vae", out=run, train_config=_tc(max_steps=6), model_overrides=TINY_MODEL,
              resume=True, progress=False)
    assert _files(run) == before
    # a run stopped early can still be given a shorter (but not past its checkpoint) length
    stopped = tmp_path / "s"
    train("beta-vae", out=stopped, train_config=_tc(), model_overrides=TINY_MODEL,
          until_step=4, progress=False)
    done = train("beta-vae", out=stopped, train_config=_tc(max_steps=6),
                 model_overrides=TINY_MODEL, resume=True, progress=False)
    assert (done.step, done.finished) == (6, True)


def test_other_changes_are_still_refused(world, tmp_path) -> None:
    run = tmp_path / "r"
    train("beta-vae", out=run, train_config=_tc(max_steps=4), model_overrides=TINY_MODEL,
          progress=False)
    with pytest.raises(RunError, match="different train_config"):
        train("beta-vae", out=run, train_config=_tc(max_steps=8, batch_size=16),
              model_overrides=TINY_MODEL, resume=True, progress=False)
    with pytest.raises(RunError, match="different model_config"):
        train("beta-vae", out=run, train_config=_tc(max_steps=8),
              model_overrides={**TINY_MODEL, "beta": 2.0}, resume=True, progress=False)


def test_only_length_differs() -> None:
    old = {"variant": "v", "model_config": {"a": 1}, "devices": 1,
           "train_config": {"max_steps": 10, "epochs": 10, "learning_rate": 1e-3}}
    assert not only_length_differs(old, old)
    assert only_length_differs(old, {**old, "train_config": {**old["train_config"],
                                                             "max_steps": 20}})
    assert only_length_differs(old, {**old, "train_config": {**old["train_config"],
                                                             "max_steps": 0, "epochs": 3}})
    assert not only_length_differs(old, {**old, "devices": 2, "train_config": {
        **old["train_config"], "max_steps": 20}})
    assert not only_length_differs(old, {**old, "train_config": {
        **old["train_config"], "max_steps": 20, "learning_rate": 1.0}})


def test_cli_extends_a_finished_run(world, tmp_path, capsys) -> None:
    run = tmp_path / "r"
    common = ["train", "beta-vae", "--dataset", "stripes", "--out", str(run), "--no-progress",
              "batch_size=32", "validation_size=64", "eval_every=4", "checkpoint_every=4",
              "log_every=2", "hidden_dims=[16]", "latent_dim=2"]
    assert main([*common, "max_steps=4"]) == 0
    assert main([*common, "max_steps=8", "--resume"]) == 0
    assert "finished at step 8" in capsys.readouterr().out
    assert json.loads((run / "run.json").read_text())["train_config"]["max_steps"] == 8
