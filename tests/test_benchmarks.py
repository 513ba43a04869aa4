"""The benchmark scripts (benchmarks/) run and return sane numbers on tiny configs.

Nothing here asserts a speed: numbers are only checked to be measurements (positive, finite).
PyTorch is a benchmark-only requirement; the tests that need it are skipped without it, the
others never import it.
"""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
TINY = {"height": 8, "width": 8, "hidden_dims": (8,), "latent_dim": 3}
TINY_NETS = {
    "beta-vae": ("beta-vae", TINY),
    "beta-vae-cnn": ("beta-vae", {**TINY, "architecture": "cnn", "hidden_dims": (4, 8)}),
    "beta-vae-capacity": ("beta-vae-capacity", TINY),
    "cvae": ("cvae", {**TINY, "label_embedding_dim": 4}),
    "cvae-onehot-cnn": ("cvae", {**TINY, "label_embedding_dim": 0, "architecture": "cnn"}),
    "vqvae": ("vqvae", {"height": 8, "width": 8, "hidden_dims": (4, 8), "num_embeddings": 8,
                        "embedding_dim": 4}),
}


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import a module of benchmarks/ by name (the scripts import each other as top-level
    modules, as they do when run as ``python benchmarks/NAME.py``)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def load(name: str) -> ModuleType:
        return importlib.import_module(name)

    return load


def _tiny(bench: Any, name: str, batch: int = 16) -> Any:
    variant, overrides = TINY_NETS[name]
    return bench("networks").Network(name, variant, overrides, batch, "tiny")


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def test_memory_children_measure_training_and_evaluation(bench: Any) -> None:
    memory = bench("memory")
    spec = {"variant": "beta-vae", "batch": 8, "overrides": {**TINY, "hidden_dims": [8]}}
    env = {"ZOO_PLUGINS": "beta-vae"}  # only the plugin measured, whatever else is installed
    train = memory.run_child("train", spec, steps=2, env=env, timeout=600)
    assert train["kind"] == "train" and train["batch"] == 8 and train["steps"] == 2
    assert _positive(train["first_step_s"]) and _positive(train["step_ms"])
    assert 20 < train["peak_rss_mib"] < 64 * 1024
    evaluation = memory.run_child("eval", spec, eval_examples=40, env=env, timeout=600)
    assert evaluation["examples"] == 40 and _positive(evaluation["eval_s"])
    assert 20 < evaluation["peak_rss_mib"] < 64 * 1024


def test_zoo_side_runs_the_loops_step(bench: Any, first_party: Any) -> None:
    compare, zoo_side = bench("compare"), bench("zoo_side")
    assert _positive(compare.time_zoo(_tiny(bench, "cvae"), batch=8, steps=2))
    trainer = zoo_side.ZooTrainer(_tiny(bench, "vqvae"))
    data = zoo_side.synthetic_batches(trainer.config, 8, count=2)
    assert data[0][0].shape == (8, 8, 8, 1) and data[0][1].dtype.name == "int32"
    assert _positive(trainer.run(data, 3)) and trainer.step == 3


def test_the_zoo_side_needs_no_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None  # import torch now fails\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "import compare, memory, networks, report, zoo_side\n"
        "assert not compare._torch_available()\n"
        "net = networks.Network('t', 'beta-vae', {'height': 8, 'width': 8, "
        "'hidden_dims': (8,), 'latent_dim': 3}, 8, '')\n"
        "r = compare.measure([net], [8], rounds=1, steps=2, seconds=0.0, frameworks=['zoo'], "
        "log=lambda m: None)\n"
        "print(r['results'][0]['images_per_s']['zoo'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "ZOO_PLUGINS": "beta-vae"}, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _positive(float(proc.stdout.strip().splitlines()[-1]))


def test_compare_measures_zoo_alone_and_renders(bench: Any, first_party: Any) -> None:
    compare = bench("compare")
    nets = [_tiny(bench, "beta-vae"), _tiny(bench, "vqvae", batch=32)]
    report = compare.measure(nets, [8, None], rounds=2, steps=2, seconds=0.0,
                             frameworks=["zoo"], log=lambda msg: None)
    rows = [(r["network"], r["batch"]) for r in report["results"]]
    assert rows == [("beta-vae", 8), ("beta-vae", 16), ("vqvae", 8), ("vqvae", 32)]
    for r in report["results"]:
        assert len(r["rounds"]["zoo"]) == 2 and _positive(r["images_per_s"]["zoo"])
        assert r["ratios"] == {} and r["twin_max_rel_error"] is None
    text = compare.render(report)
    assert "zoo/compile" in text and "beta-vae" in text and "jax" in text


def test_memory_table_renders(bench: Any) -> None:
    memory, report = bench("memory"), bench("report")
    row = {"network": "n", "batch": 8, "imports": {"peak_rss_mib": 300.0},
           "train": {"peak_rss_mib": 400.0, "first_step_s": 1.5, "step_ms": 2.0},
           "eval": {"peak_rss_mib": 350.0, "eval_s": 3.0}}
    text = memory.render({"environment": report.environment(with_torch=False), "steps": 2,
                          "eval_examples": 40, "results": [row]})
    assert "train MiB" in text and "1.50" in text


def test_networks_are_the_first_party_defaults_and_the_dsprites_net(bench: Any,
                                                                     first_party: Any) -> None:
    networks = bench("networks")
    names = [n.name for n in networks.NETWORKS]
    assert names == ["beta-vae", "beta-vae-cnn", "beta-vae-capacity", "cvae", "vqvae",
                     "dsprites-cnn"]
    dsprites = networks.by_name("dsprites-cnn").config()
    assert dsprites.image_shape == (64, 64, 1) and dsprites.hidden == (32, 32, 64, 64)
    assert [n.name for n in networks.select("cvae, vqvae")] == ["cvae", "vqvae"]
    with pytest.raises(ValueError, match="unknown network"):
        networks.by_name("nope")


# -- with PyTorch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(TINY_NETS))
def test_twins_compute_zoos_function(bench: Any, first_party: Any, name: str) -> None:
    pytest.importorskip("torch")
    parity = bench("parity")
    errors = parity.check_twin(_tiny(bench, name))
    if name == "vqvae":
        errors |= parity.check_twin(_tiny(bench, name), reset=True)
        assert "EMA codebook" in errors and "reset codes are encoder outputs (twin)" in errors
    assert any(k.startswith("grad ") for k in errors)
    assert max(errors.values()) <= parity.TOLERANCE


def test_a_twin_that_differs_is_refused(bench: Any, first_party: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    parity = bench("parity")
    load = parity.load_zoo_weights

    def off_by_a_little(twin: Any, model: Any) -> None:
        load(twin, model)
        with torch.no_grad():
            next(twin.parameters()).mul_(1.001)

    monkeypatch.setattr(parity, "load_zoo_weights", off_by_a_little)
    with pytest.raises(parity.TwinMismatch, match="differs from zoo"):
        parity.check_twin(_tiny(bench, "beta-vae"))


def test_compare_times_the_eager_twin(bench: Any, first_party: Any) -> None:
    pytest.importorskip("torch")
    compare = bench("compare")
    report = compare.measure([_tiny(bench, "cvae")], [8], rounds=2, steps=2, seconds=0.0,
                             frameworks=["zoo", "eager"], log=lambda msg: None)
    (row,) = report["results"]
    assert _positive(row["images_per_s"]["eager"]) and _positive(row["ratios"]["zoo/eager"])
    assert row["twin_max_rel_error"] <= 1e-4 and report["refused"] == []


def test_every_conv_lever_computes_lax_conv_and_the_profile_finds_the_convs(bench: Any) -> None:
    """conv_levers.py refuses to time a lever that is not lax.conv's function; here every lever
    passes that check on small layers (a 4x4 stride-2 and a 3x3 stride-1 conv), and
    profile_convs.py reads a CNN's convolutions from zoo's own program."""
    levers, profile = bench("conv_levers"), bench("profile_convs")
    layers = [profile.ConvLayer("t", 1, 4, 8, 8, 3, 5, 4, 2),
              profile.ConvLayer("t", 2, 4, 6, 6, 5, 4, 3, 1)]
    for name, (fn, _) in levers.LEVERS.items():
        for layer in layers:
            assert levers.check_lever(fn, layer) < levers.TOLERANCE, (name, layer.name)
    found = profile.conv_layers(_tiny(bench, "vqvae"), batch=4)
    assert found and all(layer.batch == 4 for layer in found)
    assert {layer.stride for layer in found} == {1, 2}
