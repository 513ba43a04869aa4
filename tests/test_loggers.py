"""Metrics loggers: every row of metrics.jsonl reaches them, a failing one is dropped with one
warning, a resume sends only new rows, and the TensorBoard writer's scalars read back."""

from __future__ import annotations

import argparse
import json
import struct
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from zoo.cli import build_parser, main
from zoo.cli.logger_options import add_logger_options, loggers_from_args
from zoo.errors import InputError, ZooError
from zoo.runs import RunError
from zoo.train import TrainConfig, train
from zoo.training.loggers import (
    LoggerSet,
    MetricsLogger,
    MetricsLoggerWarning,
    TensorBoardLogger,
)

from .conftest import TINY_MODEL


def _tc(**kw: Any) -> TrainConfig:
    base = {"dataset": "stripes", "batch_size": 32, "max_steps": 12, "validation_size": 64,
            "eval_every": 5, "checkpoint_every": 4, "log_every": 2, "seed": 3}
    return TrainConfig(**{**base, **kw})


def _train(out: Path, loggers: list[Any], **kw: Any) -> Any:
    return train("beta-vae", out=out, train_config=_tc(), model_overrides=TINY_MODEL,
                 progress=False, pictures=False, loggers=loggers, **kw)


def _jsonl(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


class Recorder:
    """Keeps every row it is given, and how often it was closed."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.closed = 0

    def log(self, step: int, metrics: dict[str, float]) -> None:
        assert isinstance(step, int) and all(isinstance(v, float) for v in metrics.values())
        self.rows.append({"step": step, **metrics})

    def close(self) -> None:
        self.closed += 1


class Failing(Recorder):
    """Raises at its second row."""

    name = "failing-logger"

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self.rows:
            raise RuntimeError("the metrics service is down")
        super().log(step, metrics)


def test_a_logger_gets_every_row_of_metrics_jsonl(world, tmp_path) -> None:
    rec = Recorder()
    assert isinstance(rec, MetricsLogger)
    result = _train(tmp_path / "r", [rec])
    assert result.finished
    rows = _jsonl(tmp_path / "r")
    assert rec.rows == rows
    assert {r["step"] for r in rows if "loss" in r} == {2, 4, 6, 8, 10, 12}
    assert [r["step"] for r in rows if "val/loss" in r] == [5, 10, 12]
    assert rec.closed == 1


def test_a_failing_logger_is_dropped_with_one_warning(world, tmp_path) -> None:
    bad, good = Failing(), Recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _train(tmp_path / "r", [bad, good])
    ours = [w for w in caught if issubclass(w.category, MetricsLoggerWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "failing-logger" in message and "the metrics service is down" in message
    assert "at step 4" in message and "metrics.jsonl" in message
    assert result.finished and result.step == 12
    assert good.rows == _jsonl(tmp_path / "r") and len(bad.rows) == 1
    assert bad.closed == 1 and good.closed == 1  # the dropped one is closed, once


def test_resume_sends_only_the_new_rows(world, tmp_path) -> None:
    first, second = Recorder(), Recorder()
    part = _train(tmp_path / "r", [first], until_step=5)
    assert (part.step, part.finished) == (5, False) and first.closed == 1
    _train(tmp_path / "r", [second], resume=True)
    rows = _jsonl(tmp_path / "r")
    assert first.rows == [r for r in rows if r["step"] <= 5]
    assert second.rows == [r for r in rows if r["step"] > 5] != []
    assert second.closed == 1


def test_loggers_are_closed_when_the_run_is_refused(world, tmp_path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "something.txt").write_text("not a run")
    rec = Recorder()
    with pytest.raises(RunError):
        _train(tmp_path / "r", [rec])
    assert rec.rows == [] and rec.closed == 1


def test_logger_set_rules() -> None:
    with pytest.raises(InputError, match="not a metrics logger"):
        LoggerSet([object()])  # type: ignore[list-item]

    class BadClose(Recorder):
        def close(self) -> None:
            raise OSError("disk gone")

    rec, bad = Recorder(), BadClose()
    sinks = LoggerSet([rec, bad])
    sinks.log({"step": 3, "epoch": 0, "loss": 1})
    with pytest.warns(MetricsLoggerWarning, match="BadClose failed while closing.*disk gone"):
        sinks.close()
    assert rec.rows == [{"step": 3, "epoch": 0.0, "loss": 1.0}] and rec.closed == 1
    assert sinks.live == []


def _scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Tag -> [(step, value)] of every event file under ``logdir`` (TFRecord framing: length,
    its CRC, the serialized Event, its CRC), read with tensorboardX's own Event message."""
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        data, pos = path.read_bytes(), 0
        while pos < len(data):
            (size,) = struct.unpack("<Q", data[pos:pos + 8])
            event = Event.FromString(data[pos + 12:pos + 12 + size])
            pos += 12 + size + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return {tag: sorted(points) for tag, points in found.items()}


def test_tensorboard_logger_writes_scalars_that_read_back(world, tmp_path) -> None:
    pytest.importorskip("tensorboardX")
    logger = TensorBoardLogger(tmp_path / "tb")
    _train(tmp_path / "r", [logger])
    rows = _jsonl(tmp_path / "r")
    scalars = _scalars(tmp_path / "tb")
    expected: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        for tag, value in row.items():
            if tag != "step":
                expected.setdefault(tag, []).append((row["step"], value))
    assert set(scalars) == set(expected) >= {"loss", "epoch", "val/loss"}
    for tag, points in expected.items():
        assert [s for s, _ in scalars[tag]] == [s for s, _ in points], tag
        assert [v for _, v in scalars[tag]] == pytest.approx([v for _, v in points], rel=1e-6)
    # closed by the run; used again, it writes a second file beside the first
    logger.log(13, {"loss": 0.5})
    logger.close()
    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 2
    assert _scalars(tmp_path / "tb")["loss"][-1] == (13, 0.5)


def test_tensorboard_logger_without_the_library_names_the_extra(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails
    with pytest.raises(ZooError, match=r"pip install 'vae-zoo\[tensorboard\]'"):
        TensorBoardLogger(tmp_path / "tb")
    assert not (tmp_path / "tb").exists()


def test_the_tensorboard_option_builds_the_logger(tmp_path) -> None:
    pytest.importorskip("tensorboardX")
    p = argparse.ArgumentParser()
    add_logger_options(p)
    assert loggers_from_args(p.parse_args([])) == []
    (logger,) = loggers_from_args(p.parse_args(["--tensorboard", str(tmp_path / "tb")]))
    assert isinstance(logger, TensorBoardLogger) and logger.logdir == tmp_path / "tb"


def _train_has_tensorboard() -> bool:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "--tensorboard" in sub.choices["train"]._option_string_actions


@pytest.mark.skipif(not _train_has_tensorboard(),
                    reason="zoo/cli/training.py does not add --tensorboard to zoo train yet")
def test_cli_train_tensorboard(world, tmp_path, capsys) -> None:
    pytest.importorskip("tensorboardX")
    args = ["train", "beta-vae", "--dataset", "stripes", "--out", str(tmp_path / "r"),
            "--no-progress", "--tensorboard", str(tmp_path / "tb"), "max_steps=4",
            "batch_size=32", "validation_size=64", "log_every=2", "hidden_dims=8",
            "latent_dim=2"]
    assert main(args) == 0
    assert [s for s, _ in _scalars(tmp_path / "tb")["loss"]] == [2, 4]
