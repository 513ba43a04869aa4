"""Reliability: training killed at random moments (SIGKILL: no chance to save) and stopped by
SIGTERM (what kill, timeout, containers and schedulers send) resumes to exactly the weights of
an uninterrupted run; a killed run leaves nothing that blocks its resumption."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zoo

CHILD = Path(__file__).with_name("child.py")
TRIALS = int(os.environ.get("ZOO_RELIABILITY_TRIALS", "0"))
#: a tiny run of 60 steps on 'stripes', a checkpoint every 5 steps
SETTINGS = ["max_steps=60", "batch_size=32", "validation_size=32", "checkpoint_every=5",
            "eval_every=10", "log_every=5", "hidden_dims=8", "latent_dim=2", "seed=4"]


def _train(out: Path, *extra: str) -> subprocess.Popen:
    """``zoo train`` of :data:`SETTINGS` in a child process; ``extra`` key=value settings
    replace those of the same key, flags are added."""
    replaced = {e.split("=")[0] for e in extra if "=" in e}
    settings = [s for s in SETTINGS if s.split("=")[0] not in replaced]
    argv = [sys.executable, str(CHILD), "zoo", "train", "beta-vae", "--dataset", "stripes",
            "--out", str(out), "--no-progress", *settings, *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _weights(directory: Path) -> dict[str, np.ndarray]:
    from zoo.checkpoint import flat_state

    return {k: np.asarray(v.get_value()) for k, v in flat_state(zoo.load(directory)).items()}


def _step(out: Path) -> int:
    trainer = out / "checkpoints" / "last" / "trainer.json"
    return json.loads(trainer.read_text())["step"] if trainer.is_file() else 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_weights(world,
                                                                               tmp_path) -> None:
    full = tmp_path / "full"
    assert _train(full).wait(timeout=600) == 0
    out, rng, kills = tmp_path / "killed", random.Random(1), 0
    for _ in range(TRIALS or 4):
        proc = _train(out, *(["--resume"] if _step(out) else []))
        time.sleep(rng.uniform(2.0, 6.0))  # import and compile take ~2-4 s of it
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        if (out / "summary.json").is_file():
            break
    while not (out / "summary.json").is_file():  # finish it
        proc = _train(out, *(["--resume"] if _step(out) else []))
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert kills >= 1
    a, b = _weights(full / "checkpoints" / "last"), _weights(out / "checkpoints" / "last")
    assert {k: v.tobytes() for k, v in a.items()} == {k: v.tobytes() for k, v in b.items()}
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith((".tmp", ".old"))]
    assert leftovers == []


def test_sigterm_saves_the_run_where_it_stopped(world, tmp_path) -> None:
    out = tmp_path / "r"
    proc = _train(out, "checkpoint_every=1000", "max_steps=100000")
    deadline = time.time() + 120
    while not (out / "metrics.jsonl").is_file() and time.time() < deadline:
        time.sleep(0.2)  # training has begun once a row is logged
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted (SIGTERM)" in err and "--resume" in err
    assert _step(out) > 5  # saved where it stopped, not at a periodic checkpoint (none yet)
