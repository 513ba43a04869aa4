"""Data-parallel training: a run over 4 devices computes what a run on 1 device computes, resumes
exactly, loads on one device; bad device counts are clear errors; two processes on 127.0.0.1
train one run (process 0 alone writes), and a missing or dead peer ends with an error in time.

The device count of a process is fixed when JAX starts (``XLA_FLAGS``), so every multi-device
run happens in a subprocess (tests/sharding_child.py) with 4 (or 2 per process) forced host
devices. They share this machine's cores: these tests prove correctness, not speed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

import zoo
from zoo.checkpoint import flat_state, read_safetensors
from zoo.cli import main
from zoo.errors import ConfigError
from zoo.train import Cluster, TrainConfig, train
from zoo.training import train_command_from_identity

CHILD = Path(__file__).with_name("sharding_child.py")
TRAIN = ["train", "beta-vae", "--dataset", "stripes", "--no-progress", "max_steps=12",
         "batch_size=32", "validation_size=64", "eval_every=5", "checkpoint_every=4",
         "log_every=1", "seed=3", "hidden_dims=8", "latent_dim=3"]


def _env(devices: int) -> dict[str, str]:
    """Forced host devices are CPU devices: keep JAX on the CPU even where a GPU exists."""
    return {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
            "JAX_PLATFORMS": "cpu", "ZOO_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _child(commands: list[list[str]], devices: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps(commands)], env=_env(devices),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rows(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _weights(run: Path, file: str = "model.safetensors") -> dict[str, np.ndarray]:
    tensors = read_safetensors(run / "checkpoints" / "last" / file)
    return {k: np.asarray(v) for k, v in tensors.items()}


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """One process with 4 devices: runs on 4 and on 1 device, a 4-device run stopped at step 5
    (mid-epoch) and resumed, then commands that must fail."""
    root = tmp_path_factory.mktemp("four")
    out = _child([
        [*TRAIN, "--devices", "4", "--out", str(root / "d4")],
        [*TRAIN, "--out", str(root / "d1")],
        [*TRAIN, "--devices", "all", "--until-step", "5", "--out", str(root / "r4")],
        [*TRAIN, "--devices", "4", "--resume", "--out", str(root / "r4")],
        [*TRAIN, "--devices", "2", "--resume", "--out", str(root / "r4")],  # another count
        [*TRAIN, "--devices", "8", "--out", str(root / "bad8")],
        [*TRAIN[:6], "batch_size=30", *TRAIN[7:], "--devices", "4", "--out", str(root / "bad30")],
    ], devices=4)
    assert out["devices"] == 4
    return root, out["runs"]


def test_sharded_run_matches_one_device(four) -> None:
    root, runs = four
    assert [r["rc"] for r in runs[:4]] == [0, 0, 0, 0], runs
    assert json.loads((root / "d4" / "run.json").read_text())["devices"] == 4
    assert json.loads((root / "d1" / "run.json").read_text())["devices"] == 1
    sharded, single = _rows(root / "d4"), _rows(root / "d1")
    assert [sorted(r) for r in sharded] == [sorted(r) for r in single]
    assert len(sharded) == len(single)
    for key in ("loss", "val/loss"):  # the loss curves, step by step (one row per step)
        a = [r[key] for r in sharded if key in r]
        b = [r[key] for r in single if key in r]
        assert len(a) == (12 if key == "loss" else 3)
        np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=key)
    command = train_command_from_identity(json.loads((root / "d4" / "run.json").read_text()))
    assert command.endswith("--devices 4 --out RUN")
    w4, w1 = _weights(root / "d4"), _weights(root / "d1")
    assert w4.keys() == w1.keys()
    for key in w4:
        np.testing.assert_allclose(w4[key], w1[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_sharded_resume_is_exact(four) -> None:
    root, _ = four
    assert _rows(root / "r4") == _rows(root / "d4")
    for file in ("model.safetensors", "optimizer.safetensors"):
        a, b = _weights(root / "r4", file), _weights(root / "d4", file)
        assert {k: v.tobytes() for k, v in a.items()} == {k: v.tobytes() for k, v in b.items()}
    assert (root / "r4" / "summary.json").is_file()
    assert (root / "r4" / "plots" / "training_curves.png").is_file()


def test_sharded_best_loads_on_one_device(world, four) -> None:
    root, _ = four
    model = zoo.load(root / "d4" / "best")
    leaves = list(flat_state(model).values())
    assert leaves and all(len(v.get_value().devices()) == 1 for v in leaves)
    x = np.zeros((2, 8, 8, 1), np.float32)
    assert model(x, rngs=jax.random.key(0))["reconstruction"].shape == (2, 8, 8, 1)


def test_bad_device_counts_are_clear_errors(world, tmp_path, capsys, four) -> None:
    root, runs = four
    resume, too_many, indivisible = runs[4:]
    assert resume["rc"] == 2 and "it ran on 4" in resume["err"] and "--devices 4" in resume["err"]
    assert too_many["rc"] == 2 and "only 4 cpu device(s) exist" in too_many["err"]
    assert indivisible["rc"] == 2 and "batch_size 30 does not split evenly over 4" in \
        indivisible["err"]
    assert not (root / "bad8").exists() and not (root / "bad30").exists()
    # in this process
    more = jax.device_count() + 1
    for value, message in ((str(more), f"only {more - 1} "),
                           ("two", "positive number or 'all'"), ("0", "positive number")):
        assert main([*TRAIN, "--devices", value, "--out", str(tmp_path / "x")]) == 2
        assert message in capsys.readouterr().err
    assert main([*TRAIN, "--coordinator", "127.0.0.1:1", "--out", str(tmp_path / "x")]) == 2
    assert "needs all of --coordinator" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="HOST:PORT"):
        Cluster("localhost", 2, 0)
    with pytest.raises(ConfigError, match=r"process_id must be in 0\.\.1"):
        Cluster("localhost:1234", 2, 2)
    with pytest.raises(ConfigError, match="positive number or 'all'"):
        train("beta-vae", out=tmp_path / "y", train_config=TrainConfig(dataset="stripes"),
              devices=0, progress=False)


def test_a_run_from_before_device_counts_resumes_on_one_device(world, tmp_path) -> None:
    tc = TrainConfig(dataset="stripes", batch_size=32, max_steps=4, validation_size=0)
    model = {"hidden_dims": (8,), "latent_dim": 3}
    train("beta-vae", out=tmp_path, train_config=tc, model_overrides=model, until_step=2,
          progress=False, pictures=False)
    identity = json.loads((tmp_path / "run.json").read_text())
    assert identity.pop("devices") == 1
    (tmp_path / "run.json").write_text(json.dumps(identity))
    done = train("beta-vae", out=tmp_path, train_config=tc, model_overrides=model, resume=True,
                 progress=False, pictures=False)
    assert done.finished and done.devices == 1
    assert "devices" not in json.loads((tmp_path / "run.json").read_text())


# -- one process per host, two processes on 127.0.0.1 -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(port: int, process_id: int, out: Path, *extra: str, timeout: int = 60,
            steps: int = 12) -> subprocess.Popen:
    argv = [*TRAIN[:5], f"max_steps={steps}", *TRAIN[6:], "--devices", "all", "--coordinator",
            f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(process_id),
            "--coordinator-timeout", str(timeout), "--out", str(out), *extra]
    return subprocess.Popen([sys.executable, str(CHILD), json.dumps([argv])], env=_env(2),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _two(tmp: Path, name: str, *extra: str) -> list[dict[str, Any]]:
    port = _free_port()
    procs = [_launch(port, i, tmp / f"{name}{i}", *extra) for i in (0, 1)]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr[-4000:]
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-step run of two processes with 2 devices each; process 1 was given its own --out."""
    tmp = tmp_path_factory.mktemp("two")
    results = _two(tmp, "full")
    assert [r["devices"] for r in results] == [4, 4]
    assert [r["runs"][0]["rc"] for r in results] == [0, 0]
    return tmp


def test_two_processes_train_one_run_and_only_process_0_writes(two, four) -> None:
    run = two / "full0"
    assert not (two / "full1").exists()  # process 1 never touched its --out
    assert json.loads((run / "run.json").read_text())["devices"] == 4
    for name in ("summary.json", "best/model.safetensors", "plots/training_curves.png"):
        assert (run / name).is_file(), name
    a, b = _rows(run), _rows(four[0] / "d4")  # the same mesh shape in one process
    np.testing.assert_allclose([r["loss"] for r in a if "loss" in r],
                               [r["loss"] for r in b if "loss" in r], rtol=1e-5)


@pytest.mark.slow
def test_two_processes_resume_exactly(two, tmp_path) -> None:
    """Process 0 alone reads the checkpoint; process 1 receives it (its --out never exists)."""
    _two(tmp_path, "part", "--until-step", "5")
    assert json.loads((tmp_path / "part0" / "checkpoints" / "last" / "trainer.json")
                      .read_text())["step"] == 5
    _two(tmp_path, "part", "--resume")
    assert not (tmp_path / "part1").exists()
    assert _rows(tmp_path / "part0") == _rows(two / "full0")
    a, b = _weights(tmp_path / "part0"), _weights(two / "full0")
    assert {k: v.tobytes() for k, v in a.items()} == {k: v.tobytes() for k, v in b.items()}


def test_a_peer_that_never_comes_ends_with_an_error_in_time(tmp_path) -> None:
    """Process 0 without process 1, and process 1 without process 0: both stop after the
    3-second timeout with a message that says what to do, and nothing is written."""
    start = time.monotonic()
    procs = [_launch(_free_port(), i, tmp_path / f"alone{i}", timeout=3) for i in (0, 1)]
    for p in procs:
        _, stderr = p.communicate(timeout=120)
        assert p.returncode == 2, stderr[-4000:]
        assert "not every process of this run reached the coordinator" in stderr
        assert "--coordinator-timeout" in stderr
    assert time.monotonic() - start < 60  # start-up (imports) + 3 s, not a hang
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_peer_that_dies_ends_the_run_with_an_error(tmp_path) -> None:
    """Kill process 1 mid-run: process 0 ends (non-zero) within the 5-second timeout."""
    port = _free_port()
    procs = [_launch(port, i, tmp_path / f"run{i}", timeout=5, steps=100_000) for i in (0, 1)]
    metrics = tmp_path / "run0" / "metrics.jsonl"
    trainer = tmp_path / "run0" / "checkpoints" / "last" / "trainer.json"
    deadline = time.monotonic() + 120
    # kill once process 0 has logged and checkpointed (step 4): the checkpoint must survive
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 3
               and trainer.is_file()):
        assert time.monotonic() < deadline and procs[0].poll() is None, "the run did not start"
        time.sleep(0.2)
    procs[1].kill()
    procs[1].communicate()
    killed = time.monotonic()
    _, stderr = procs[0].communicate(timeout=120)
    assert procs[0].returncode != 0
    assert time.monotonic() - killed < 60
    # zoo's message when the collective fails first, JAX's when its heartbeat notices first
    assert "a peer probably died" in stderr or "another task died" in stderr, stderr[-4000:]
    assert trainer.is_file()
