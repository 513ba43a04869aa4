"""``zoo sweep``: the grid and its refusals, members identical to separate ``zoo train`` runs
(metrics, weights, loadable, resumable), sweep resume, a diverging member frozen and reported,
and the command line's table, summary.json and summary.png."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import zoo
import zoo.sweep as sweeping
from zoo.checkpoint import read_safetensors
from zoo.cli import main
from zoo.config import Config
from zoo.errors import ConfigError
from zoo.plugins import use_manager
from zoo.runs import RunError
from zoo.training import TrainConfig, run_training
from zoo.training.sweep_grid import split_axes

from .conftest import LATENT, TINY_MODEL, ToyConfig, ToyModel, world_manager

TC = TrainConfig(dataset="stripes", batch_size=16, max_steps=12, log_every=4, eval_every=6,
                 checkpoint_every=6, validation_size=32)
MODEL = {**TINY_MODEL, **LATENT["beta-vae"], "beta_anneal_steps": 8}
AXES = {"beta": [1.0, 3.0], "seed": [0, 1]}


def _weights(run: Path) -> dict[str, np.ndarray]:
    return read_safetensors(run / "checkpoints" / "last" / "model.safetensors")


def _assert_same_run(a: Path, b: Path) -> None:
    """Two run directories hold the same run: identity, metrics rows, final weights."""
    assert json.loads((a / "run.json").read_text()) == json.loads((b / "run.json").read_text())
    rows_a = [json.loads(line) for line in (a / "metrics.jsonl").read_text().splitlines()]
    rows_b = [json.loads(line) for line in (b / "metrics.jsonl").read_text().splitlines()]
    assert [sorted(r) for r in rows_a] == [sorted(r) for r in rows_b]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        np.testing.assert_allclose([ra[k] for k in sorted(ra)], [rb[k] for k in sorted(ra)],
                                   rtol=1e-4, atol=1e-6)
    wa, wb = _weights(a), _weights(b)
    assert sorted(wa) == sorted(wb)
    for k in wa:
        np.testing.assert_allclose(wa[k], wb[k], rtol=1e-4, atol=1e-6, err_msg=k)


@pytest.fixture(scope="module")
def full_sweep(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One uninterrupted 2x2 sweep (beta x seed) shared by the tests below, in chunks of 2
    steps per dispatch (the program GPUs and TPUs run by default; CPU's default is 1)."""
    out = tmp_path_factory.mktemp("sweep") / "full"
    with use_manager(world_manager()):
        result = sweeping.sweep("beta-vae", AXES, out=out, train_config=TC,
                                model_overrides=MODEL, progress=False, pictures=False, chunk=2)
    return result


# -- the grid ----------------------------------------------------------------------------------


def test_split_axes_routes_lists_and_keeps_tuples_whole() -> None:
    types = {"beta": float, "hidden_dims": tuple[int, ...] | None, "seed": int}
    axes, fixed = split_axes({"beta": "1, 2", "hidden_dims": "8,8", "seed": "3"}, types)
    assert axes == {"beta": ["1", "2"]}
    assert fixed == {"hidden_dims": "8,8", "seed": "3"}
    with pytest.raises(ConfigError, match="empty value"):
        split_axes({"beta": "1,,2"}, types)


@pytest.mark.parametrize(("axes", "message"), [
    ({"betta": [1, 2]}, "unknown sweep setting 'betta'.*Did you mean beta"),
    ({"beta": []}, "'beta' needs a non-empty list"),
    ({"beta": ["1", "1.0"]}, "lists 1.0 twice"),
    ({"beta": [1, -2], "seed": [0, 1]}, "sweep member beta--2.0_seed-0: .*beta must be >= 0"),
    ({"batch_size": [8, 16]}, "cannot sweep 'batch_size'.*sweepable training settings: seed"),
    ({"reconstruction_loss": ["bernoulli", "mse"]},
     "cannot sweep 'reconstruction_loss'.*Python control flow"),
    ({}, "at least one setting"),
])
def test_grid_errors_name_the_setting(world: Any, axes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sweeping.grid("beta-vae", axes, train_config=TC, model_overrides=MODEL)


def test_grid_members_are_the_product_in_order(world: Any) -> None:
    grid = sweeping.grid("beta-vae", {"beta": ["1", "2"], "learning_rate": ["0.01", "0.1"]},
                         train_config=TC, model_overrides=MODEL)
    assert [m.name for m in grid.members] == [
        "beta-1.0_learning_rate-0.01", "beta-1.0_learning_rate-0.1",
        "beta-2.0_learning_rate-0.01", "beta-2.0_learning_rate-0.1"]
    assert grid.members[1].train_config.learning_rate == 0.1
    assert grid.members[2].model_overrides == {**MODEL, "beta": 2.0}


@pytest.mark.parametrize(("variant", "axes", "model", "message"), [
    ("beta-vae", {"latent_dim": [3, 4]}, MODEL, "'latent_dim'.*changes the model.*shapes"),
    ("vqvae", {"ema_decay": [0.9, 0.99]}, {**TINY_MODEL, **LATENT["vqvae"]},
     "'ema_decay'.*changes the model.*static attribute"),
    ("beta-vae", {"use_capacity_control": [False, True]}, MODEL,
     "'use_capacity_control'.*Python control flow"),
])
def test_refused_settings_are_named_before_anything_is_written(
        world: Any, tmp_path: Path, variant: str, axes: dict, model: dict,
        message: str) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(ConfigError, match=message):
        sweeping.sweep(variant, axes, out=out, train_config=TC, model_overrides=model,
                       progress=False)
    assert not out.exists()


# -- members are ordinary runs -----------------------------------------------------------------


def test_members_match_separate_runs_and_load(world: Any, full_sweep: Any,
                                              tmp_path: Path) -> None:
    assert full_sweep.finished and not full_sweep.diverged
    names = [m.name for m in full_sweep.members]
    assert names == ["beta-1.0_seed-0", "beta-1.0_seed-1", "beta-3.0_seed-0", "beta-3.0_seed-1"]
    for member in full_sweep.members:
        m = member.member
        alone = tmp_path / m.name
        run_training("beta-vae", alone, m.train_config, m.model_overrides, progress=False)
        _assert_same_run(member.run_dir.path, alone)
        summary = json.loads((member.run_dir.path / "summary.json").read_text())
        assert summary["steps"] == 12
    model = zoo.load(str(full_sweep.members[3].run_dir.path))
    assert model.config.beta == 3.0


def test_stopped_sweep_resumes_to_the_same_result_and_members_resume_alone(
        world: Any, full_sweep: Any, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    stopped = sweeping.sweep("beta-vae", AXES, out=out, train_config=TC,
                             model_overrides=MODEL, until_step=6, progress=False,
                             pictures=False)
    assert stopped.step == 6 and not stopped.finished
    assert {r["status"] for r in stopped.summary["members"]} == {"stopped at step 6"}
    # a member continues alone, as `zoo train ... --resume` would
    member = stopped.members[2]
    alone = tmp_path / "alone"
    shutil.copytree(member.run_dir.path, alone)
    run_training("beta-vae", alone, member.member.train_config, member.member.model_overrides,
                 resume=True, progress=False)
    _assert_same_run(full_sweep.members[2].run_dir.path, alone)
    # the sweep continues where it stopped
    resumed = sweeping.sweep("beta-vae", AXES, out=out, train_config=TC, model_overrides=MODEL,
                             resume=True, progress=False, pictures=False)
    assert resumed.finished
    for a, b in zip(full_sweep.members, resumed.members, strict=True):
        _assert_same_run(a.run_dir.path, b.run_dir.path)
    # another grid, or members at different steps, cannot resume
    with pytest.raises(RunError, match="different axes"):
        sweeping.sweep("beta-vae", {"beta": [1.0, 2.0]}, out=out, train_config=TC,
                       model_overrides=MODEL, resume=True, progress=False)
    with pytest.raises(RunError, match="already holds another sweep"):
        sweeping.sweep("beta-vae", AXES, out=out, train_config=TC, model_overrides=MODEL,
                       progress=False)


# -- a member that diverges ------------------------------------------------------------------


def _nan_loss(outputs: dict, x: Any, *, config: ToyConfig, step: Any) -> Any:
    """The toy's loss, NaN from step 5 on when ``scale`` > 1.5."""
    loss = jnp.mean((outputs["reconstruction"] - x) ** 2) * config.scale
    loss = loss * jnp.where((step >= 4) & (config.scale > 1.5), jnp.nan, 1.0)
    return loss, {"loss": loss, "reconstruction_loss": loss}


class _NanPlugin:
    @zoo.hookimpl
    def zoo_register_variants(self, register: Any) -> None:
        register(zoo.VariantSpec(
            name="toy-nan", config_class=ToyConfig, default_config=ToyConfig(features=1),
            factory=lambda config, *, rngs: ToyModel(config, rngs=rngs), loss=_nan_loss))


def test_a_diverging_member_is_stopped_and_reported(world: Any, tmp_path: Path) -> None:
    world.register(_NanPlugin(), name="nan-plugin")
    tc = dataclasses.replace(TC, log_every=2, checkpoint_every=2, eval_every=2)
    result = sweeping.sweep("toy-nan", {"scale": [1.0, 2.0]}, out=tmp_path / "s",
                            train_config=tc, progress=False)
    good, bad = result.members
    assert result.finished and list(result.diverged) == [bad.name]
    message = result.diverged[bad.name]
    assert "scale-2.0" in message and "non-finite at step 5" in message
    assert "last good checkpoint" in message
    rows = {r["member"]: r for r in result.summary["members"]}
    assert rows[bad.name]["status"] == "diverged at step 5"
    assert rows[good.name]["status"] == "finished"
    # stopped: nothing logged, checkpointed or promoted after its last good step
    trainer = json.loads((bad.run_dir.last / "trainer.json").read_text())
    assert trainer["step"] == 4
    logged = bad.run_dir.metrics_path.read_text().splitlines()
    assert max(json.loads(line)["step"] for line in logged) == 4
    assert not (bad.run_dir.path / "summary.json").exists()
    assert json.loads((good.run_dir.last / "trainer.json").read_text())["step"] == 12
    assert json.loads((tmp_path / "s" / "state.json").read_text()) == {
        "diverged": {bad.name: 5}}


# -- the command line --------------------------------------------------------------------------


def test_cli_prints_the_table_and_writes_the_summary(world: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    argv = ["sweep", "beta-vae", "beta=1,2", "learning_rate=0.001,0.01", "hidden_dims=8",
            "latent_dim=3", "max_steps=4", "log_every=2", "eval_every=4",
            "checkpoint_every=4", "batch_size=16", "validation_size=32", "--dataset",
            "stripes", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    header = printed.splitlines()[0].split()
    assert header[:2] == ["beta", "learning_rate"] and "status" in header
    assert printed.count("finished") >= 4
    summary = json.loads((out / "summary.json").read_text())
    assert [r["settings"] for r in summary["members"]][1] == {"beta": 1.0,
                                                               "learning_rate": 0.01}
    assert (out / "summary.png").stat().st_size > 1000
    assert main(["sweep", "beta-vae", "beta=1,2", "--out", str(tmp_path / "d"),
                 "--devices", "2"]) == 2
    assert "one device" in capsys.readouterr().err


def test_config_copy_with_values_is_untouched(world: Any) -> None:
    """The traced copy a loss sees never changes the member's real config."""
    from zoo.training.steps import with_values

    config: Config = ToyConfig()
    copy = with_values(config, {"scale": "traced"})
    assert copy.scale == "traced" and config.scale == 1.0


def test_the_benchmark_measures_both_set_ups(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks/sweep.py runs (tiny network): numbers are measurements, never asserted."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    bench = importlib.import_module("sweep")
    world.register(bench._RandomImages(), name="bench-random")
    got = bench.measure(2, batch=8, chunk=2, dispatches=1, rounds=1,
                        overrides={"hidden_dims": (8,), "latent_dim": 3})
    assert got["members"] == 2 and got["sweep"] > 0 and got["sequential"] > 0
