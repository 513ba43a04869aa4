"""Reliability: zoo.save is atomic as a whole, a run directory has one owner, a resume needs a
checkpoint, and temporaries of killed writes are cleaned up.

``ZOO_RELIABILITY_TRIALS`` scales the fault counts (default: the quick numbers below, in the
normal test run); RELIABILITY.md records a larger run and its command.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zoo
from zoo._io import old_name, writing_dir
from zoo.runs import RunDir, RunError

CHILD = Path(__file__).with_name("child.py")
TRIALS = int(os.environ.get("ZOO_RELIABILITY_TRIALS", "0"))


def _trials(default: int) -> int:
    return TRIALS or default


def _tiny(latent: int, seed: int = 0):
    return zoo.create("beta-vae", seed=seed, hidden_dims=(8,), latent_dim=latent)


# -- zoo.save ------------------------------------------------------------------------------------
def test_save_replaces_the_directory_as_a_whole(world, tmp_path) -> None:
    target = tmp_path / "m"
    zoo.save(_tiny(2), target, card=None)
    (target / "notes.txt").write_text("mine")
    (target / "README.md").write_text("an old card")
    zoo.save(_tiny(3), target)
    assert zoo.load(target).config.latent_dim == 3
    assert (target / "notes.txt").read_text() == "mine"  # the user's file is kept
    assert not (target / "README.md").exists()  # the old model's card went with it
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporaries, no .old


def test_a_failed_save_leaves_the_old_model(world, tmp_path, monkeypatch) -> None:
    target = tmp_path / "m"
    zoo.save(_tiny(2), target)
    from zoo import serialization

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "write_files", broken)
    with pytest.raises(OSError, match="No space"):
        zoo.save(_tiny(3), target)
    assert zoo.load(target).config.latent_dim == 2
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_swap_cut_between_its_renames_is_undone_by_the_next_reader(world, tmp_path) -> None:
    target = tmp_path / "m"
    zoo.save(_tiny(2), target)
    target.rename(old_name(target))  # killed after parking the old model, before the swap-in
    assert zoo.load(target).config.latent_dim == 2  # put back, not lost
    with writing_dir(target) as tmp:  # and a writer recovers it first too
        (tmp / "x").write_text("new")
    assert (target / "x").is_file() and not old_name(target).exists()


def test_sigkill_during_save_never_mixes_or_loses_the_model(world, tmp_path) -> None:
    """A process saving two different models into one directory in turn is SIGKILLed at random
    moments: the directory always loads, as one of the two models, whole."""
    target = tmp_path / "m"
    outcomes = {2: 0, 3: 0}
    rng = random.Random(0)
    for _ in range(_trials(6)):
        proc = subprocess.Popen([sys.executable, str(CHILD), "save-loop", str(target)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        model = zoo.load(target)  # strict: mixed weights and config would raise
        outcomes[model.config.latent_dim] += 1
    assert sum(outcomes.values()) == _trials(6)
    zoo.save(_tiny(2), target)  # the next save cleans up after the killed ones
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


# -- run directories -----------------------------------------------------------------------------
def _race(run: Path, *mode: str) -> list[str]:
    """Two child processes claim ``run`` (``mode``: ``"resume"`` or nothing) at the same
    instant; what each printed."""
    start = time.time() + 3.0  # both are started and waiting by then
    procs = [subprocess.Popen([sys.executable, str(CHILD), "claim", str(run), str(start), *mode],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    return [p.communicate(timeout=60)[0].strip() for p in procs]


def _run_with_a_checkpoint(path: Path) -> RunDir:
    """A run directory claimed and released, holding a (minimal) last checkpoint."""
    run = RunDir(path)
    run.claim({"variant": "x"}, resume=False)
    with run.writing_checkpoint() as tmp:
        (tmp / "trainer.json").write_text("{}")
    run.release()
    return run


def test_two_processes_never_own_one_run(tmp_path) -> None:
    """Two processes claim one new run directory at the same instant: exactly one gets it."""
    for trial in range(_trials(3)):
        outs = _race(tmp_path / f"r{trial}")
        assert sorted(o.split(":")[0] for o in outs) == ["claimed", "refused"], outs
        refusal = next(o for o in outs if o.startswith("refused"))
        assert "in use: another process (pid" in refusal or "already holds" in refusal


def test_two_processes_never_resume_one_run(tmp_path) -> None:
    """Two ``--resume`` of one run at the same instant: exactly one continues it."""
    run = _run_with_a_checkpoint(tmp_path / "r")
    for _ in range(_trials(2)):
        outs = _race(run.path, "resume")
        assert sorted(o.split(":")[0] for o in outs) == ["claimed", "refused"], outs


def test_a_held_run_directory_is_refused_with_its_holder(tmp_path) -> None:
    run = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, str(CHILD), "claim", str(run), "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "claimed"
        with pytest.raises(RunError, match=rf"in use: another process \(pid {proc.pid}\)"):
            RunDir(run).claim({"variant": "x"}, resume=True)
    finally:
        proc.wait(timeout=30)
    # once its holder has ended, the directory is free again (and still holds that run, which
    # has logged a step: another run is refused for that, not for the lock)
    RunDir(run).log([{"step": 1, "loss": 1.0}])
    with pytest.raises(RunError, match="already holds another run"):
        RunDir(run).claim({"variant": "y"}, resume=False)


def test_resume_without_a_checkpoint_is_refused_and_a_fresh_start_allowed(world, tmp_path) -> None:
    run = RunDir(tmp_path / "r")
    run.claim({"variant": "x"}, resume=False)
    run.release()
    with pytest.raises(RunError, match=r"holds no checkpoint yet.*without --resume"):
        run.claim({"variant": "x"}, resume=True)
    run.log([{"step": 1, "loss": 1.0}])
    assert run.claim({"variant": "x"}, resume=False) is False  # started again, afresh
    assert run.read_metrics() == []
    run.log([{"step": 1, "loss": 1.0}])  # it trained: a run of other settings is refused
    run.release()
    with pytest.raises(RunError, match="already holds another run"):
        run.claim({"variant": "other"}, resume=False)


def test_a_failed_claim_of_a_new_directory_leaves_nothing(tmp_path) -> None:
    with pytest.raises(RunError, match="holds no run"):
        RunDir(tmp_path / "new").claim({"variant": "x"}, resume=True)
    assert not (tmp_path / "new").exists()


def test_stale_temporaries_are_removed_by_the_next_claim(tmp_path) -> None:
    run = _run_with_a_checkpoint(tmp_path / "r")
    # what a process killed mid-write leaves
    (run.path / ".metrics.jsonl.abc123.tmp").write_text("half")
    (run.path / "checkpoints" / ".last.xyz.tmp").mkdir()
    run.claim({"variant": "x"}, resume=True)
    names = {p.name for p in run.path.rglob("*")}
    assert ".metrics.jsonl.abc123.tmp" not in names and ".last.xyz.tmp" not in names
    assert (run.last / "trainer.json").is_file()


# -- full disk, read-only output (injected: as root, permissions do not stop a write) -----------
def _train_argv(out: Path) -> list[str]:
    return ["train", "beta-vae", "--dataset", "stripes", "--out", str(out), "--no-progress",
            "max_steps=12", "batch_size=32", "validation_size=32", "checkpoint_every=4",
            "eval_every=4", "hidden_dims=8", "latent_dim=2"]


def test_a_full_disk_during_training_is_an_error_and_keeps_the_last_checkpoint(
        world, tmp_path, monkeypatch, capsys) -> None:
    import errno

    from zoo.checkpoint import save_weights
    from zoo.cli import main
    from zoo.training import checkpoints

    calls = {"n": 0}

    def filling_up(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:  # the disk fills after the first checkpoint
            raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))
        return save_weights(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_weights", filling_up)
    assert main(_train_argv(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "disk is full" in err and "--resume" in err
    assert "Traceback" not in err
    last = tmp_path / "r" / "checkpoints" / "last"
    assert json.loads((last / "trainer.json").read_text())["step"] == 4
    assert zoo.load(last).config.latent_dim == 2
    assert not [p for p in (tmp_path / "r").rglob("*") if p.name.endswith(".tmp")]


def test_a_read_only_output_is_an_error(world, tmp_path, monkeypatch, capsys) -> None:
    import errno

    from zoo.cli import main

    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if tmp_path / "ro" in (self, *self.parents):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(_train_argv(tmp_path / "ro" / "run")) == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "choose a writable --out" in err
