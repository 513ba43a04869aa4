"""Cards that report several training seeds of one recipe: rendered, bundled, checked; tiny fake
data (made-up eval results, an untrained tiny model), no training."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

import zoo
from zoo import cardcheck
from zoo.bundle import bundle
from zoo.cards import card_metrics, parse_card, render_card
from zoo.cards_seeds import seed_entry, seed_findings
from zoo.errors import PluginError, ZooError

TINY = {"height": 8, "width": 8, "hidden_dims": (8,), "latent_dim": 3}
OPTIONS = {"split": "test", "batch_size": 32, "binarize": False, "disentanglement_points": 100,
           "seed": 0, "dci_model": "gbt"}
#: (MIG, DCI D, DCI C, DCI I test, SAP) of seeds 0, 1, 2; seed 1 has the best MIG
SCORES = {0: (0.11, 0.21, 0.31, 0.81, 0.031), 1: (0.25, 0.35, 0.45, 0.85, 0.065),
          2: (0.18, 0.28, 0.38, 0.83, 0.052)}


def _result(seed: int) -> dict[str, Any]:
    mig, d, c, i, sap = SCORES[seed]
    return {"dataset": "stripes", "split": "test", "variant": "beta-vae", "options": OPTIONS,
            "reconstruction_mse": 0.01 + seed / 1000, "kl_total": 5.0 + seed,
            "disentanglement": {"mig": {"mig": mig, "num_bins": 20}, "sap": {"sap": sap},
                                "dci": {"disentanglement": d, "completeness": c,
                                        "informativeness_train": 0.9,
                                        "informativeness_test": i}}}


def _card(shipped: int = 1) -> dict[str, Any]:
    result = _result(shipped)
    from zoo.cards import card_from_eval

    return card_from_eval(result, model="toy-seeds", name="toy-seeds", seed=shipped,
                          eval_options={"dataset": "stripes", **OPTIONS},
                          seeds=[seed_entry(s, _result(s)) for s in SCORES], shipped_seed=shipped,
                          seed_figures=[{"title": "Seeds", "path": "assets/toy-seeds/seeds.png"}],
                          published={"mig": {"range": [0.05, 0.35], "source": "a paper"}})


def _findings(text: str) -> list[Any]:
    front, body = parse_card(text)
    return seed_findings(front, body, card_metrics(front))


def test_a_card_with_seeds_renders_and_agrees_with_itself() -> None:
    text = render_card(_card())
    front, body = parse_card(text)
    meta = front["zoo"]
    assert meta["shipped_seed"] == 1 and [s["seed"] for s in meta["seeds"]] == [0, 1, 2]
    assert meta["seeds"][1]["metrics"]["disentanglement.mig.mig"] == 0.25
    assert meta["seed_summary"]["median"]["disentanglement.mig.mig"] == 0.18
    assert meta["seed_summary"]["min"]["disentanglement.sap.sap"] == 0.031
    assert body.index("## Evaluation") < body.index("## Seeds")
    assert "Seed 1 ships: the best MIG of the 3 seeds" in body
    assert "| 1 | 0.250 | 0.350 | 0.450 | 0.850 | 0.065 | yes |" in body
    assert "| median | 0.180 | 0.280 | 0.380 | 0.830 | 0.052 |  |" in body
    assert "![Seeds](assets/toy-seeds/seeds.png)" in body and "MIG 0.05 to 0.35 (a paper)." in body
    assert "Seed: 1 (one of 3 seeds of this recipe: see Seeds)." in body
    findings = _findings(text)
    assert findings and all(f.ok for f in findings), [f.note for f in findings if not f.ok]


def test_a_card_without_seeds_is_unchanged() -> None:
    card = _card()
    for key in ("seeds", "shipped_seed", "seed_figures", "published"):
        card.pop(key)
    text = render_card(card)
    front, body = parse_card(text)
    assert set(front["zoo"]) == {"name", "variant", "eval"}
    assert "## Seeds" not in body and "Seed: 1.\n" in body
    assert _findings(text) == []


def test_shipping_a_seed_that_is_not_the_best_says_so() -> None:
    body = parse_card(render_card(_card(shipped=2)))[1]
    assert "Seed 2 ships: not the best MIG of the 3 seeds (seed 1's is" in body


@pytest.mark.parametrize("old, new, metric, words", [
    # a seed row of the front matter: the median no longer follows from it
    ("disentanglement.mig.mig: 0.18", "disentanglement.mig.mig: 0.3",
     "seeds median: disentanglement.mig.mig", "its seed rows give 0.25"),
    # the median in the body's table
    ("| median | 0.180 |", "| median | 0.200 |", "seeds table: median MIG",
     "shows MIG 0.200 in row 'median', the front matter gives 0.180"),
    # a seed row in the body's table
    ("| 0 | 0.110 |", "| 0 | 0.410 |", "seeds table: 0 MIG", "shows MIG 0.410 in row '0'"),
    # the shipped marker moved
    ("| 0.065 | yes |", "| 0.065 |  |", "seeds table: 1 shipped", "shows shipped nothing"),
])
def test_a_tampered_seed_table_fails_clearly(old: str, new: str, metric: str, words: str) -> None:
    text = render_card(_card())
    assert text.count(old) >= 1
    bad = [f for f in _findings(text.replace(old, new, 1)) if not f.ok]
    assert metric in [f.metric for f in bad]
    note = next(f.note for f in bad if f.metric == metric)
    assert words in note and "scripts/pretrained.py bundle" in note


def test_the_shipped_seed_must_carry_the_cards_metrics() -> None:
    card = _card()
    card["metrics"] = dict(card["metrics"], **{"disentanglement.sap.sap": 0.5})
    bad = [f for f in _findings(render_card(card)) if not f.ok]
    assert [f.metric for f in bad] == ["seeds shipped 1: disentanglement.sap.sap"]
    assert "0.065 in the seed rows but 0.5 in the card's metrics" in bad[0].note


def test_check_card_file_reports_seed_rows_in_fast_mode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "toy-seeds.md"
    path.write_text(render_card(_card()))
    monkeypatch.setattr(cardcheck, "load_dataset", lambda *a, **k: range(10))
    monkeypatch.setattr(cardcheck, "evaluate", lambda *a, **k: _result(1))
    rows = cardcheck.check_card_file(path, fast=True)
    assert any(r.metric.startswith("seeds ") for r in rows)
    assert all(r.ok is not False for r in rows), cardcheck.format_report(rows)
    path.write_text(render_card(_card()).replace("| max | 0.250 |", "| max | 0.900 |"))
    rows = cardcheck.check_card_file(path, fast=True)
    report = cardcheck.format_report(rows)
    assert [r.metric for r in rows if r.ok is False] == ["seeds table: max MIG"]
    assert "1 mismatched" in report and "toy-seeds: seeds table: max MIG: the Seeds" in report


# -- bundle ------------------------------------------------------------------------------------
@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "site" / f"zoo_seed_test_{uuid.uuid4().hex[:8]}"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return pkg


def _runs(tmp_path: Path, seeds: tuple[int, ...] = (0, 1, 2), **train: Any) -> list[Path]:
    model = zoo.create("beta-vae", seed=3, **TINY)
    runs = []
    for seed in seeds:
        run = tmp_path / "runs" / f"seed-{seed}"
        zoo.save(model, run / "best")
        identity = {"variant": "beta-vae", "model_config": model.config.to_dict(),
                    "train_config": {"dataset": "stripes", "seed": seed, **train}}
        (run / "run.json").write_text(json.dumps(identity))
        runs.append(run)
    return runs


def test_bundle_with_seed_runs(world: Any, tmp_path: Path, package: Path) -> None:
    runs = _runs(tmp_path)
    figure = tmp_path / "seeds.png"
    figure.write_bytes(b"\x89PNG fake")
    cards_dir = tmp_path / "cards"
    bundle(runs[1], "toy-seeds", package, eval_result=_result(1), repo_id="org/toy",
           cards_dir=cards_dir, seed_runs={r: _result(s) for s, r in enumerate(runs)},
           seed_figures=[{"title": "Seeds", "file": str(figure)}])
    text = (cards_dir / "toy-seeds.md").read_text()
    assert (cards_dir / "assets" / "toy-seeds" / "seeds.png").is_file()
    assert "![Seeds](assets/toy-seeds/seeds.png)" in text and "## Figures" not in text
    assert parse_card(text)[0]["zoo"]["shipped_seed"] == 1
    assert all(f.ok for f in _findings(text))


@pytest.mark.parametrize("change, message", [
    (lambda runs, evals: (runs[0], {r: evals[r] for r in runs[1:]}), "none of the seed runs"),
    (lambda runs, evals: (runs[1], evals | {runs[2]: dict(evals[runs[2]], options={})}),
     "other options"),
    (lambda runs, evals: (runs[1], evals | {runs[1]: _result(2)}), "differs from the shipped"),
])
def test_bundle_refuses_inconsistent_seed_runs(world: Any, tmp_path: Path, package: Path,
                                               change: Any, message: str) -> None:
    runs = _runs(tmp_path)
    source, seed_runs = change(runs, {r: _result(s) for s, r in enumerate(runs)})
    shipped = json.loads((source / "run.json").read_text())["train_config"]["seed"]
    with pytest.raises(ZooError, match=message):
        bundle(source, "toy-seeds", package, eval_result=_result(shipped), repo_id="org/toy",
               cards_dir=tmp_path / "cards", seed_runs=seed_runs)
    assert not (tmp_path / "cards").exists()


def test_bundle_refuses_seed_runs_of_another_recipe(world: Any, tmp_path: Path,
                                                    package: Path) -> None:
    runs = _runs(tmp_path, (0, 1)) + _runs(tmp_path / "other", (2,), batch_size=7)
    with pytest.raises(ZooError, match="not of the shipped run's recipe"):
        bundle(runs[0], "toy-seeds", package, eval_result=_result(0), repo_id="org/toy",
               cards_dir=tmp_path / "cards",
               seed_runs={r: _result(s) for s, r in enumerate(runs)})


def test_seed_runs_may_differ_in_their_checkpoint_interval(world: Any, tmp_path: Path,
                                                           package: Path) -> None:
    """Checkpoints change no computation, so a run that wrote them more often is of the recipe."""
    runs = _runs(tmp_path, (0, 1), checkpoint_every=4) + _runs(tmp_path / "other", (2,),
                                                               checkpoint_every=3)
    bundle(runs[0], "toy-seeds", package, eval_result=_result(0), repo_id="org/toy",
           cards_dir=tmp_path / "cards", seed_runs={r: _result(s) for s, r in enumerate(runs)})
    assert parse_card((tmp_path / "cards" / "toy-seeds.md").read_text())[0]["zoo"]["seeds"]


# -- figures and the release's published ranges ------------------------------------------------
def test_seed_figures_are_drawn(tmp_path: Path) -> None:
    from zoo.viz import save_mig_curves, save_seed_scores

    seeds = [seed_entry(s, _result(s)) for s in SCORES]
    published = {"mig": {"range": [0.05, 0.35], "source": "x"},
                 "sap": {"range": [0.01, 0.1], "source": "y"}}
    out = save_seed_scores(tmp_path / "seeds.png", seeds, shipped_seed=1, published=published)
    assert out.read_bytes().startswith(b"\x89PNG")
    curves = {f"seed {s}": [{"images": 64 * k * 1000, "mig": 0.05 * k + s / 100}
                            for k in range(1, 4)] for s in SCORES}
    out = save_mig_curves(tmp_path / "mig_curve.png", curves, highlight="seed 1")
    assert out.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ZooError, match="unknown published score"):
        save_seed_scores(tmp_path / "x.png", seeds, published={"fvae": published["mig"]})
    with pytest.raises(ZooError, match="need 'images' and 'mig'"):
        save_mig_curves(tmp_path / "y.png", {"seed 0": [{"step": 1, "mig": 0.1}]})


@pytest.mark.parametrize("published, ok", [
    ({"mig": {"range": [0.05, 0.35], "source": "Locatello et al. 2019"}}, True),
    ({"fvae": {"range": [0.1, 0.2], "source": "s"}}, False),
    ({"mig": {"range": [0.35, 0.05], "source": "s"}}, False),
    ({"sap": {"range": [0.0, 0.1]}}, False),
])
def test_release_published_ranges_are_checked(published: dict, ok: bool) -> None:
    release = {"summary": "s", "description": "d", "limitations": "l",
               "eval": {"dataset": "dsprites"}, "published": published}
    spec = zoo.PresetSpec(name="toy-recipe", variants=("beta-vae",), release=release)
    if ok:
        spec.validate()
    else:
        with pytest.raises(PluginError, match="published"):
            spec.validate()
