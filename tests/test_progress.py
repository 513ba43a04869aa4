"""Progress of the long evaluation passes: bars on stderr with ``progress=True`` (the default of
``zoo eval``), nothing at all without, and the same result either way; ``--json`` stays clean;
DCI reports each fitted factor."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import zoo
from zoo import cardcheck
from zoo.cards import render_card
from zoo.cli import main
from zoo.evaluate import evaluate
from zoo.metrics.dci import dci

from .conftest import TINY_MODEL
from .test_card_seeds import _card, _result
from .test_evaluate import FactorsPlugin


def _model(tmp_path: Any) -> Any:
    """An untrained tiny beta-VAE for 8x8 images, saved (the numbers do not matter here)."""
    model = zoo.create("beta-vae", latent_dim=3, height=8, width=8, **TINY_MODEL)
    return zoo.save(model, tmp_path / "bvae")


def test_evaluate_progress_on_stderr_and_the_same_result(world, tmp_path, capfd) -> None:
    world.register(FactorsPlugin(), name="bars")
    path = _model(tmp_path)
    options = {"split": "train", "batch_size": 32, "binarize": True, "iw_samples": 4,
               "iw_examples": 16, "disentanglement_points": 80, "dci_model": "lasso"}
    evaluate(path, "bars", **options)  # compiles, and lets JAX say what it says once
    capfd.readouterr()
    quiet = evaluate(path, "bars", **options)
    assert capfd.readouterr() == ("", "")  # progress off (the default): nothing at all
    shown = evaluate(path, "bars", **options, progress=True)
    err = capfd.readouterr()
    assert shown == quiet
    assert err.out == ""
    for text in ("encode + reconstruct 128 examples", "IW-NLL (K=4) on 16 examples",
                 "MIG on 80 points", "DCI (lasso) on 80 points", "factor", "SAP on 80 points",
                 "beta-vae loss on 128 examples"):
        assert text in err.err, text

    alone = evaluate(path, "bars", **options, only_disentanglement=True, progress=True)
    assert "encode 120 points" in capfd.readouterr().err
    assert alone["disentanglement"] == quiet["disentanglement"]


def test_zoo_eval_json_stays_clean_with_bars_on_stderr(world, tmp_path, capfd) -> None:
    path = _model(tmp_path)
    expected = evaluate(path, "stripes")
    capfd.readouterr()
    assert main(["eval", str(path), "--dataset", "stripes", "--json"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == expected
    assert "encode + reconstruct 64 examples" in err
    assert main(["eval", str(path), "--dataset", "stripes", "--json", "--no-progress"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == expected and err == ""


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_dci_calls_back_once_per_scored_factor(n_jobs: int) -> None:
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 3, 60), np.zeros(60, int), rng.integers(0, 2, 60)], 1)
    codes = factors + 0.1 * rng.normal(size=factors.shape)
    done: list[int] = []
    result = dci(codes[:40], factors[:40], codes[40:], factors[40:], model="lasso",
                 n_jobs=n_jobs, on_factor_done=done.append)
    assert sorted(done) == [0, 2] and result["skipped_factors"] == [1]  # factor 1 is constant
    plain = dci(codes[:40], factors[:40], codes[40:], factors[40:], model="lasso", n_jobs=n_jobs)
    assert (result["disentanglement"], result["completeness"]) == (
        plain["disentanglement"], plain["completeness"])


def test_check_cards_names_each_card_and_passes_progress_on(tmp_path, monkeypatch, capfd) -> None:
    for name in ("toy-a", "toy-b"):
        (tmp_path / f"{name}.md").write_text(render_card(_card()))
    calls: list[dict[str, Any]] = []

    def fake_evaluate(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return _result(1)

    monkeypatch.setattr(cardcheck, "load_dataset", lambda *a, **k: range(10))
    monkeypatch.setattr(cardcheck, "evaluate", fake_evaluate)
    assert main(["check-cards", "--cards-dir", str(tmp_path), "--fast"]) == 0
    out, err = capfd.readouterr()
    assert err.splitlines() == ["card 1/2: toy-a", "card 2/2: toy-b"]
    assert "ok" in out and [c["progress"] for c in calls] == [True, True]
    calls.clear()
    assert main(["check-cards", "--cards-dir", str(tmp_path), "--fast", "--no-progress"]) == 0
    assert capfd.readouterr().err == "" and [c["progress"] for c in calls] == [False, False]
