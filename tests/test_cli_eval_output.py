"""What ``zoo eval`` prints: a short table of the headline metrics by default (built from the
result dict by :func:`zoo.cli.eval_table.eval_table`), the full JSON with ``--json`` or in
``--output``; and a run directory means its ``best/``."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from zoo.cli import main
from zoo.cli.eval_table import eval_table, number
from zoo.cli.table import aligned
from zoo.evaluate import evaluate
from zoo.train import TrainConfig, train

from .conftest import LATENT, TINY_MODEL

OPTIONS = {"split": "test", "batch_size": 250, "max_examples": 0, "binarize": False,
           "iw_samples": 0, "iw_examples": 2000, "disentanglement_points": 10_000, "seed": 0,
           "dci_model": "gbt"}


def _vq_result() -> dict[str, Any]:
    counts = [(7 * i) % 300 + 1 for i in range(512)]
    counts[17] = counts[200] = 0
    return {"variant": "vqvae", "dataset": "mnist", "split": "test", "examples": 10_000,
            "binarized": False, "options": OPTIONS, "reconstruction_mse": 0.0024082984309643507,
            "perplexity_batch_mean": 181.82347526550294,
            "codebook": {"counts": counts, "total": sum(counts), "perplexity": 188.1337,
                         "fraction_used": 510 / 512, "dead_codes": [17, 200], "num_dead": 2},
            "loss_metrics": {"codebook_loss": 0.0, "codes_used": 0.33, "commitment_loss": 0.0123,
                             "loss": 0.0871, "perplexity": 170.2, "reconstruction_loss": 0.0748,
                             "vq_loss": 0.0031}}


def _beta_vae_result() -> dict[str, Any]:
    kl = [0.001, 3.1, 2.2, 0.002, 3.4, 1.9, 2.5, 2.0, 0.004, 2.19]
    return {"variant": "beta-vae", "dataset": "mnist", "split": "test", "examples": 10_000,
            "binarized": True, "options": OPTIONS | {"binarize": True, "iw_samples": 1000},
            "reconstruction_mse": 0.0312, "negative_elbo": 101.234, "kl_total": sum(kl),
            "kl_per_dim": kl, "active_units_variance": 7,
            "active_units_variance_mask": [v > 0.01 for v in kl], "active_units_kl": 7,
            "mutual_information_with_labels": [0.01, 0.4, 0.81, 0, 0.2, 0.3, 0.1, 0.2, 0, 0.3],
            "iw_nll": 96.71, "iw_nll_stderr": 0.31, "iw_samples": 1000, "iw_examples": 2000,
            "loss_metrics": {"beta": 4.0, "kl_loss": 17.31, "loss": 153.2,
                             "negative_elbo": 101.3, "reconstruction_loss": 84.0}}


def _row(text: str, label: str) -> list[str]:
    """The cells of the row whose label is ``label`` (cells are 2+ spaces apart)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().split("  ") if c.strip()]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{text}")


def _value_columns(text: str) -> set[int]:
    """Where the value of each top-level metric row starts."""
    starts = set()
    for line in text.splitlines()[1:]:
        if line.startswith("  ") and not line.startswith("   ") and "  " in line.strip():
            label = line.strip().split("  ")[0]
            rest = line[2 + len(label):]
            starts.add(2 + len(label) + len(rest) - len(rest.lstrip()))
    return starts


def test_vq_table_is_short_and_has_the_headline_rows() -> None:
    text = eval_table(_vq_result(), "runs/vq/best")
    lines = text.splitlines()
    assert lines[0] == "runs/vq/best (vqvae) on mnist, split test, 10,000 examples"
    assert len(lines) < 40 and len(text) < 2000  # 512 codebook counts are not dumped
    assert _row(text, "reconstruction MSE per pixel") == ["reconstruction MSE per pixel",
                                                          "0.002408"]
    assert _row(text, "codebook perplexity, batch mean")[1] == "181.8"
    assert _row(text, "codebook perplexity, whole split")[1:] == ["188.1", "of 512 codes"]
    assert _row(text, "codes used")[1] == "510 / 512 (99.6%)"
    assert _row(text, "dead codes")[1:] == ["2", "ids 17, 200"]
    # the variant's own loss terms close the table, the total first
    at = lines.index("  vqvae loss terms, split mean")
    assert lines[at + 1].split() == ["loss", "0.0871"]
    assert {line.split()[0] for line in lines[at + 1:]} == set(_vq_result()["loss_metrics"])
    assert len(_value_columns(text)) == 1  # aligned


def test_beta_vae_table_summarises_lists() -> None:
    text = eval_table(_beta_vae_result(), "beta-vae-mnist")
    assert text.splitlines()[0] == ("beta-vae-mnist (beta-vae) on mnist, split test, "
                                    "10,000 examples, binarised")
    assert _row(text, "negative ELBO (nats/image)")[1] == "101.2"
    assert _row(text, "importance-weighted NLL (nats)")[1:] == [
        "96.71", "± 0.31, K = 1000, 2,000 examples"]
    assert _row(text, "KL, all latents (nats)")[1] == "17.3"
    assert _row(text, "KL per latent (nats)")[1:] == ["max 3.4 (z4)", "10 values"]
    assert _row(text, "active units (mean variance > 0.01)")[1] == "7 / 10"
    assert _row(text, "active units (KL > 0.01 nats)")[1] == "7 / 10"
    assert _row(text, "MI with labels per latent (nats)")[1] == "max 0.81 (z2)"
    assert "False" not in text and "[" not in text  # the mask and the lists are not dumped
    assert len(text.splitlines()) < 25 and len(_value_columns(text)) == 1


def test_disentanglement_conditional_classifier_and_unknown_entries() -> None:
    base = {"variant": "x", "dataset": "d", "split": "train", "examples": 100, "options": {}}
    dis = base | {"disentanglement": {
        "mig": {"mig": 0.213, "num_bins": 20, "mutual_info": [[0.1] * 5] * 10,
                "note": "factor 0 takes a single value: left out"},
        "dci": {"disentanglement": 0.41, "completeness": 0.38, "informativeness_train": 0.9,
                "informativeness_test": 0.87, "model": "gbt", "importance": [[0.1] * 5] * 10,
                "note": ""},
        "sap": {"sap": 0.05, "per_factor": [None, 0.1], "note": ""}}}
    text = eval_table(dis | {"options": {"only_disentanglement": True}})
    assert text.splitlines()[0] == "x on d, split train, 100 examples, MIG/DCI/SAP only"
    assert _row(text, "MIG")[1:] == ["0.213", "20 bins"]
    assert _row(text, "DCI disentanglement")[1:] == ["0.41", "gbt"]
    assert _row(text, "DCI completeness")[1] == "0.38"
    assert _row(text, "DCI informativeness (test accuracy)")[1] == "0.87"
    assert _row(text, "SAP")[1] == "0.05"
    assert text.splitlines()[-1] == "  note: MIG: factor 0 takes a single value: left out"

    cond = base | {"conditional_accuracy": 0.934, "conditional_accuracy_samples": 1000,
                   "fid_zoo_classifier": 12.3, "fid_name": "FID (zoo MNIST classifier features)",
                   "fid_samples": 1000, "classifier": {"name": "zoo MNIST classifier",
                                                       "test_accuracy": 0.9915},
                   "iw_nll_note": "needs a Bernoulli likelihood",
                   "plugin_score": 0.5, "plugin_detail": {"a": 1, "b": [1, 5, 3]}}
    text = eval_table(cond)
    assert _row(text, "conditional accuracy")[1:] == ["0.934", "1,000 samples"]
    assert _row(text, "FID (zoo MNIST classifier features)")[1:] == ["12.3", "1,000 samples"]
    assert _row(text, "judged by")[1:] == ["zoo MNIST classifier", "test accuracy 0.9915"]
    # what the table has no name for still shows, under its own key
    assert _row(text, "plugin_score")[1] == "0.5"
    assert _row(text, "plugin_detail.a")[1] == "1"
    assert _row(text, "plugin_detail.b")[1:] == ["max 5 (#1)", "3 values"]
    assert "  note: iw_nll: needs a Bernoulli likelihood" in text.splitlines()

    text = eval_table(base | {"accuracy": 0.9915, "cross_entropy": 0.0271}, "classifier-mnist")
    assert text.splitlines()[1:] == ["  accuracy              0.9915",
                                     "  cross-entropy (nats)  0.0271"]


@pytest.mark.parametrize(("value", "shown"), [
    (10_000, "10,000"), (0.0024082984, "0.002408"), (188.1337, "188.1"), (4.0, "4"),
    (0.0, "0"), (12345.67, "12,346"), (1.5e-7, "1.500e-07"), (float("nan"), "nan"),
    (True, "True"), ("text", "text")])
def test_number(value: Any, shown: str) -> None:
    assert number(value) == shown


def test_aligned_pads_all_but_the_last_cell_of_each_row() -> None:
    assert aligned([("a", "1", "x"), ("long name", "22"), ("a heading that runs on",)],
                   indent="  ") == ["  a          1  x", "  long name  22",
                                    "  a heading that runs on"]
    assert aligned([]) == []


def _train(variant: str, tmp_path: Any) -> Any:
    tc = TrainConfig(dataset="stripes", batch_size=32, max_steps=20, validation_size=32,
                     eval_every=20, checkpoint_every=20, log_every=10, learning_rate=3e-3)
    run = tmp_path / variant
    train(variant, out=run, train_config=tc, progress=False,
          model_overrides={**TINY_MODEL, **LATENT.get(variant, {"latent_dim": 3})})
    return run


def test_zoo_eval_run_dir_table_json_and_output(world, tmp_path, capsys) -> None:
    run = _train("vqvae", tmp_path)
    expected = evaluate(run / "best", "stripes")

    assert main(["eval", str(run), "--dataset", "stripes"]) == 0  # a run: its best/
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"{run / 'best'} (vqvae) on stripes, split test, 64 examples"
    assert len(lines) < 25 and lines[-1] == "full result: --json (or --output FILE)"
    used = expected["codebook"]["fraction_used"]
    assert _row(out, "codes used")[1] == f"{round(used * 16)} / 16 ({used:.1%})"
    assert _row(out, "reconstruction MSE per pixel")[1] == number(expected["reconstruction_mse"])

    assert main(["eval", str(run / "best"), "--dataset", "stripes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected

    path = tmp_path / "eval.json"
    assert main(["eval", str(run), "--dataset", "stripes", "--output", str(path)]) == 0
    out = capsys.readouterr().out
    assert json.loads(path.read_text()) == expected  # the full result, whatever is printed
    assert out.splitlines()[-1] == f"full result in {path}" and "counts" not in out

    shutil.rmtree(run / "best")  # a run that has no best model yet
    assert main(["eval", str(run), "--dataset", "stripes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and "has no best/ model yet" in err
    assert "train it first" in err and "--resume" in err


def test_zoo_eval_table_of_a_real_beta_vae_result(world, tmp_path, capsys) -> None:
    run = _train("beta-vae", tmp_path)
    assert main(["eval", str(run), "--dataset", "stripes", "--binarize", "--iw-samples", "4",
                 "--iw-examples", "8"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("(beta-vae) on stripes, split test, 64 examples, "
                                        "binarised")
    for label in ("reconstruction MSE per pixel", "negative ELBO (nats/image)",
                  "importance-weighted NLL (nats)", "KL, all latents (nats)",
                  "KL per latent (nats)", "active units (KL > 0.01 nats)",
                  "MI with labels per latent (nats)", "loss", "beta"):
        _row(out, label)
    assert _row(out, "KL per latent (nats)")[2] == "3 values"
    assert len(out.splitlines()) < 25
