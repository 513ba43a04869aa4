"""Metrics loggers of a sweep: each member's own loggers get exactly its metrics.jsonl rows and
are closed once, a failing one is dropped with a warning naming its member, a resumed sweep
sends only new rows, and ``zoo sweep --tensorboard DIR`` writes DIR/<member>."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import zoo.sweep as sweeping
from zoo.cli import main
from zoo.errors import ZooError
from zoo.runs import RunError
from zoo.training import TrainConfig
from zoo.training.loggers import MetricsLoggerWarning

from .conftest import LATENT, TINY_MODEL
from .test_loggers import Failing, Recorder, _scalars

TC = TrainConfig(dataset="stripes", batch_size=16, max_steps=8, log_every=2, eval_every=4,
                 checkpoint_every=4, validation_size=32)
MODEL = {**TINY_MODEL, **LATENT["beta-vae"]}
AXES = {"beta": [1.0, 3.0]}
NAMES = ["beta-1.0", "beta-3.0"]


class Factory:
    """A member-loggers factory: ``make(name)`` builds a member's loggers; keeps them by name."""

    def __init__(self, make: Any = lambda name: [Recorder()]) -> None:
        self.make, self.made = make, {}

    def __call__(self, name: str) -> list[Any]:
        assert name not in self.made, f"called twice for {name}"
        self.made[name] = self.make(name)
        return self.made[name]


def _sweep(out: Path, loggers: Any, **kw: Any) -> Any:
    return sweeping.sweep("beta-vae", AXES, out=out, train_config=TC, model_overrides=MODEL,
                          progress=False, pictures=False, loggers=loggers, **kw)


def _jsonl(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_each_member_gets_exactly_its_rows_and_is_closed_once(world: Any,
                                                             tmp_path: Path) -> None:
    factory = Factory()
    result = _sweep(tmp_path / "s", factory)
    assert result.finished and list(factory.made) == NAMES
    for member in result.members:
        (rec,) = factory.made[member.name]
        rows = _jsonl(member.run_dir.path)
        assert rec.rows == rows  # the same steps, keys and values, in order
        assert [r["step"] for r in rows if "loss" in r] == [2, 4, 6, 8]
        assert [r["step"] for r in rows if "val/loss" in r] == [4, 8]
        assert rec.closed == 1
    (a,), (b,) = factory.made.values()
    assert [r["loss"] for r in a.rows if "loss" in r] != [r["loss"] for r in b.rows if "loss" in r]


def test_a_failing_logger_is_dropped_and_the_sweep_goes_on(world: Any, tmp_path: Path) -> None:
    factory = Factory(lambda name: [Failing(), Recorder()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _sweep(tmp_path / "s", factory)
    assert result.finished and not result.diverged
    ours = [str(w.message) for w in caught if issubclass(w.category, MetricsLoggerWarning)]
    assert len(ours) == 2  # once per member
    for name, message in zip(NAMES, ours, strict=True):
        assert f"failing-logger of sweep member {name} failed at step 4" in message
        assert "the metrics service is down" in message
    for member in result.members:
        bad, good = factory.made[member.name]
        assert good.rows == _jsonl(member.run_dir.path) and len(bad.rows) == 1
        assert bad.closed == 1 and good.closed == 1


def test_a_resumed_sweep_sends_only_the_new_rows(world: Any, tmp_path: Path) -> None:
    first, second = Factory(), Factory()
    stopped = _sweep(tmp_path / "s", first, until_step=4)
    assert stopped.step == 4 and not stopped.finished
    assert _sweep(tmp_path / "s", second, resume=True).finished
    for name in NAMES:
        rows = _jsonl(tmp_path / "s" / name)
        (a,), (b,) = first.made[name], second.made[name]
        assert a.rows == [r for r in rows if r["step"] <= 4]
        assert b.rows == [r for r in rows if r["step"] > 4] != []
        assert a.closed == b.closed == 1


def test_loggers_are_closed_when_the_sweep_is_refused(world: Any, tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("not a sweep")
    factory = Factory()
    with pytest.raises(RunError, match="already holds other files"):
        _sweep(tmp_path / "s", factory)
    assert [(rec.rows, rec.closed) for (rec,) in factory.made.values()] == [([], 1), ([], 1)]
    # a factory that fails: the loggers already built are closed, nothing is written

    def second_fails(name: str) -> list[Any]:
        if name == NAMES[1]:
            raise ZooError("no such logger")
        return [Recorder()]

    failing = Factory(second_fails)
    with pytest.raises(ZooError, match="no such logger"):
        _sweep(tmp_path / "new", failing)
    assert failing.made[NAMES[0]][0].closed == 1 and not (tmp_path / "new").exists()


def _cli(out: Path, *extra: str) -> list[str]:
    return ["sweep", "beta-vae", "beta=1,3", "hidden_dims=8", "latent_dim=3", "max_steps=4",
            "log_every=2", "eval_every=4", "checkpoint_every=4", "batch_size=16",
            "validation_size=32", "--dataset", "stripes", "--out", str(out), "--no-progress",
            "--json", *extra]


def test_cli_tensorboard_writes_one_log_dir_per_member(world: Any, tmp_path: Path) -> None:
    pytest.importorskip("tensorboardX")
    tb = tmp_path / "tb"
    assert main(_cli(tmp_path / "s", "--tensorboard", str(tb))) == 0
    assert sorted(p.name for p in tb.iterdir()) == NAMES
    for name in NAMES:
        rows = _jsonl(tmp_path / "s" / name)
        scalars = _scalars(tb / name)
        assert [s for s, _ in scalars["loss"]] == [2, 4]
        assert [v for _, v in scalars["loss"]] == pytest.approx(
            [r["loss"] for r in rows if "loss" in r], rel=1e-6)
        assert [s for s, _ in scalars["val/loss"]] == [4]


def test_cli_tensorboard_without_the_library_fails_before_anything_trains(
        world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails
    assert main(_cli(tmp_path / "s", "--tensorboard", str(tmp_path / "tb"))) == 2
    assert "pip install 'vae-zoo[tensorboard]'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists() and not (tmp_path / "tb").exists()
