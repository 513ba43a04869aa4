"""A run that failed before its first step (model build, first step) leaves only its run.json:
that is no run to protect, so the next ``zoo train`` into the same --out, with the settings
fixed, takes the directory. A directory holding a run that trained is still refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.runs import RunDir, RunError


def _files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _train(out: Path, *settings: str) -> list[str]:
    return ["train", "beta-vae", "--dataset", "stripes", "--out", str(out), "--no-progress",
            "max_steps=4", "batch_size=32", "validation_size=32", "checkpoint_every=4",
            "eval_every=4", "hidden_dims=8", *settings]


def test_a_run_that_failed_building_its_model_gives_way_to_the_fixed_command(
        world, tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "run"
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "100")  # the model is refused when built
    assert main(_train(out, "latent_dim=2")) == 2
    assert "size budget" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [".lock", "run.json"]
    monkeypatch.delenv("ZOO_MAX_MODEL_BYTES")
    assert main(_train(out, "latent_dim=3")) == 0, capsys.readouterr().err  # other settings
    assert json.loads((out / "run.json").read_text())["model_config"]["latent_dim"] == 3
    assert (out / "best" / "model.safetensors").is_file()
    # that one trained: a run of other settings into it is refused, and nothing is changed
    before = _files(out)
    assert main(_train(out, "latent_dim=4")) == 2
    assert "already holds another run" in capsys.readouterr().err
    assert _files(out) == before


def test_a_run_that_never_trained_is_replaced_with_its_temporaries(tmp_path) -> None:
    run = RunDir(tmp_path / "r")
    assert run.claim({"variant": "x"}, resume=False) is False
    run.release()
    (run.path / ".metrics.jsonl.123-abc.tmp").write_text("half")  # what a crash leaves
    (run.path / "checkpoints").mkdir()
    (run.path / "checkpoints" / ".last.123-xyz.tmp").mkdir()
    assert run.never_trained()
    assert run.claim({"variant": "y"}, resume=False) is False
    assert run.read_identity() == {"variant": "y"}
    assert not list(run.path.rglob("*.tmp"))
    run.release()


def _trace(run: RunDir, kind: str) -> None:
    """What a run that trained (or a person) leaves in its directory."""
    if kind == "logged step":
        run.log([{"step": 2, "loss": 1.0}])
    elif kind in ("checkpoint", "best model"):
        with run.writing_checkpoint(run.last if kind == "checkpoint" else run.best) as tmp:
            (tmp / "trainer.json").write_text("{}")
    elif kind == "parked checkpoint":  # a crash in the middle of swapping the last one
        (run.path / "checkpoints" / "last.old").mkdir(parents=True)
        (run.path / "checkpoints" / "last.old" / "trainer.json").write_text("{}")
    else:
        (run.path / "notes.txt").write_text("mine")


@pytest.mark.parametrize("kind", ["logged step", "checkpoint", "best model", "parked checkpoint",
                                  "other file"])
def test_a_run_that_trained_is_still_refused_to_other_settings(tmp_path, kind) -> None:
    run = RunDir(tmp_path / "r")
    run.claim({"variant": "x"}, resume=False)
    _trace(run, kind)
    run.release()
    assert not run.never_trained()
    with pytest.raises(RunError, match="already holds another run"):
        run.claim({"variant": "y"}, resume=False)
    assert run.read_identity() == {"variant": "x"}
    assert list(run.path.rglob("trainer.json")) or list(run.path.rglob("notes.txt")) \
        or run.read_metrics()
