"""zoo eval and the picture commands on tiny trained models (synthetic data, tiny configs)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import zoo
from zoo.cli import main
from zoo.data import ArrayDataset
from zoo.evaluate import evaluate
from zoo.train import TrainConfig, train

from .conftest import LATENT, TINY_MODEL


class FactorsPlugin:
    """8x8 'bars': factor 0 = bar row (4 values), factor 1 = bar column (4 values)."""

    @zoo.hookimpl
    def zoo_register_datasets(self, register: Any) -> None:
        def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> ArrayDataset:
            rows, cols = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
            factors = np.stack([rows.ravel(), cols.ravel()], 1).repeat(8, axis=0)
            images = np.zeros((len(factors), 8, 8, 1), np.uint8)
            for i, (r, c) in enumerate(factors):
                images[i, 2 * r: 2 * r + 2, :, 0] = 255
                images[i, :, 2 * c: 2 * c + 2, 0] = 255
            return ArrayDataset(images=images, factors=factors, name="bars", split=partition,
                                factor_names=("row", "col"), factor_sizes=(4, 4))

        register(zoo.DatasetSpec(name="bars", loader=loader, image_shape=(8, 8, 1),
                                 factor_names=("row", "col"), factor_sizes=(4, 4),
                                 splits=("train",)))


def _trained(variant: str, tmp_path: Any, dataset: str = "stripes") -> Any:
    tc = TrainConfig(dataset=dataset, batch_size=32, max_steps=30, validation_size=32,
                     eval_every=30, checkpoint_every=30, log_every=10, learning_rate=3e-3)
    train(variant, out=tmp_path / variant, train_config=tc,
          model_overrides={**TINY_MODEL, **LATENT.get(variant, {"latent_dim": 3})},
          progress=False)
    return tmp_path / variant / "best"


def test_eval_gaussian_model_with_iw_nll(world, tmp_path) -> None:
    best = _trained("beta-vae", tmp_path)
    r = evaluate(best, "stripes", binarize=True, iw_samples=20, iw_examples=16, iw_chunk=8)
    json.dumps(r)  # JSON-ready
    assert r["examples"] == 64 and r["binarized"]
    assert 0 < r["reconstruction_mse"] < 0.5
    assert len(r["kl_per_dim"]) == 3 and r["kl_total"] == pytest.approx(sum(r["kl_per_dim"]))
    assert 0 <= r["active_units_variance"] <= 3 and 0 <= r["active_units_kl"] <= 3
    assert len(r["mutual_information_with_labels"]) == 3
    # the importance-weighted bound is tighter than the ELBO (in expectation; small noise allowed)
    assert r["iw_nll"] <= r["negative_elbo"] + 1.0
    assert r["iw_examples"] == 16 and r["iw_samples"] == 20


def test_eval_reports_the_variants_own_loss_metrics(world, tmp_path) -> None:
    """Averaged over the split with schedules at their final values (beta annealed 1 -> 3 here,
    though training stopped at step 30)."""
    tc = TrainConfig(dataset="stripes", batch_size=32, max_steps=30, validation_size=32,
                     eval_every=30, checkpoint_every=30, log_every=10)
    train("beta-vae", out=tmp_path / "run", train_config=tc, progress=False,
          model_overrides={**TINY_MODEL, "latent_dim": 3, "beta_start": 1.0, "beta": 3.0,
                           "beta_anneal_steps": 1000})
    r = evaluate(tmp_path / "run" / "best", "stripes", batch_size=24)  # 64 = 24 + 24 + 16
    m = r["loss_metrics"]
    assert m["beta"] == 3.0
    # the analytic KL, batch means weighted by batch size, is the split's mean KL exactly
    assert m["kl_loss"] == pytest.approx(r["kl_total"], rel=1e-5)
    assert m["loss"] == pytest.approx(m["reconstruction_loss"] + 3.0 * m["kl_loss"], rel=1e-5)
    assert m["negative_elbo"] == pytest.approx(m["reconstruction_loss"] + m["kl_loss"], rel=1e-5)
    assert "kl_per_dim" not in m  # scalars only


def test_eval_vq_codebook_health(world, tmp_path) -> None:
    r = evaluate(_trained("vqvae", tmp_path), "stripes")
    book = r["codebook"]
    assert len(book["counts"]) == 16 and sum(book["counts"]) == 64 * 4 * 4  # 4x4 code grid
    assert 1.0 <= book["perplexity"] <= 16 and 0 < book["fraction_used"] <= 1
    assert book["num_dead"] == len(book["dead_codes"])
    assert 1.0 <= r["perplexity_batch_mean"] <= 16


def test_eval_disentanglement_on_factor_data(world, tmp_path) -> None:
    world.register(FactorsPlugin(), name="bars")
    best = _trained("beta-vae", tmp_path, dataset="bars")
    r = evaluate(best, "bars", split="train", disentanglement_points=80, dci_model="lasso")
    d = r["disentanglement"]
    assert 0 <= d["mig"]["mig"] <= 1
    assert 0 <= d["dci"]["disentanglement"] <= 1 and 0 <= d["sap"]["sap"] <= 1
    # the same points and numbers from encoding only those points
    alone = evaluate(best, "bars", split="train", disentanglement_points=80, dci_model="lasso",
                     only_disentanglement=True)
    assert set(alone) == {"variant", "dataset", "split", "examples", "binarized", "options",
                          "disentanglement"} and alone["options"]["only_disentanglement"]
    a = alone["disentanglement"]
    assert a["mig"]["mig"] == pytest.approx(d["mig"]["mig"], abs=1e-6)
    assert a["sap"]["sap"] == pytest.approx(d["sap"]["sap"], abs=1e-6)
    for key in ("disentanglement", "completeness", "informativeness_test"):
        assert a["dci"][key] == pytest.approx(d["dci"][key], abs=1e-6)
    with pytest.raises(zoo.ZooError, match="ground-truth factors"):
        evaluate(best, "stripes", only_disentanglement=True)


def test_eval_bad_inputs(world, tmp_path) -> None:
    best = _trained("beta-vae", tmp_path)
    with pytest.raises(zoo.UnknownNameError):
        evaluate(best, "no-such-data")
    with pytest.raises(zoo.InputError, match="expects"):
        evaluate(best, "mnist", max_examples=10)


def test_picture_commands(world, tmp_path, capsys) -> None:
    from PIL import Image

    best = str(_trained("cvae", tmp_path))
    for args in (["sample", best, "--out", str(tmp_path / "s.png"), "--per-class", "2"],
                 ["sample", best, "--label", "2", "--n", "4", "--out", str(tmp_path / "s2.png")],
                 ["reconstruct", best, "--dataset", "stripes", "--n", "4",
                  "--out", str(tmp_path / "r.png")],
                 ["traverse", best, "--dataset", "stripes", "--out", str(tmp_path / "t.png")],
                 ["plot-run", str(tmp_path / "cvae")]):
        assert main(args) == 0, args
    for name in ("s.png", "s2.png", "r.png", "t.png"):
        assert Image.open(tmp_path / name).size[0] > 16
    assert (tmp_path / "cvae" / "plots" / "class_samples.png").is_file()
    assert main(["eval", best, "--dataset", "stripes", "--output", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["variant"] == "cvae"
    capsys.readouterr()
    assert main(["datasets", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert {"mnist", "dsprites", "fashion-mnist", "stripes"} <= set(names)


# -- conditional generation judged by a classifier (zoo.evaluate.conditional) ----------------------

CLASSIFIER_TINY = {"conv_channels": (4, 8), "conv_strides": (2, 2), "feature_dim": 16}


class StripesEntries:
    """Pretrained entries declared for 'stripes' (none of them on disk): a classifier that fits
    the data, one whose images do not, and a VAE."""

    @zoo.hookimpl
    def zoo_register_pretrained(self, register: Any) -> None:
        files = {"model.safetensors": "0" * 64, "config.json": "1" * 64}
        for name, variant, config in (
            ("clf-stripes", "classifier", {"height": 8, "width": 8, "num_classes": 4}),
            ("clf-stripes-28", "classifier", {"num_classes": 4}),
            ("vae-stripes", "beta-vae", {}),
        ):
            register(zoo.PretrainedSpec(name=name, variant=variant, config=config,
                                        repo_id=f"test/{name}", revision="", files=files,
                                        license="mit", dataset="stripes"))


def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from huggingface_hub import constants  # read the environment at import: import it first

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


def test_default_classifier_is_found_by_declared_metadata(world, tmp_path, monkeypatch) -> None:
    from zoo.checkpoint import flat_state
    from zoo.evaluate import conditional

    _offline(monkeypatch, tmp_path)
    images, labels = np.zeros((2, 28, 28, 1), np.uint8), np.zeros(2, np.int64)
    mnist_like = ArrayDataset(images=images, labels=labels, name="mnist", num_classes=10)
    assert conditional.classifier_entries(mnist_like) == ["classifier-mnist"]
    found = conditional.default_classifier_for(mnist_like)
    def weights(model: Any) -> dict[str, bytes]:
        return {k: np.asarray(v.get_value()).tobytes() for k, v in flat_state(model).items()}

    assert weights(found) == weights(zoo.load("classifier-mnist"))
    assert dict(found.record)["test_accuracy"] == 0.9915
    fashion = ArrayDataset(images=images, labels=labels, name="fashion-mnist", num_classes=10)
    assert conditional.classifier_entries(fashion) == []
    assert conditional.default_classifier_for(fashion) is None

    world.register(StripesEntries(), name="stripes-entries")
    stripes = zoo.load_dataset("stripes", "test")
    assert conditional.classifier_entries(stripes) == ["clf-stripes"]  # kind, dataset and fit
    with pytest.raises(zoo.ZooError, match="zoo download clf-stripes"):
        conditional.default_classifier_for(stripes)


def test_eval_cvae_judged_by_a_classifier_passed_in(world, tmp_path) -> None:
    from zoo.evaluate.conditional import load_classifier

    cvae = _trained("cvae", tmp_path)
    r = evaluate(cvae, "stripes")  # no classifier declared for 'stripes'
    assert r["conditional_accuracy_note"] == "no classifier for this dataset"
    assert "conditional_accuracy" not in r
    tc = TrainConfig(dataset="stripes", batch_size=32, max_steps=24, validation_size=32,
                     eval_every=24, checkpoint_every=24, log_every=8, learning_rate=1e-2)
    train("classifier", out=tmp_path / "clf", train_config=tc, model_overrides=CLASSIFIER_TINY,
          progress=False, pictures=False)
    r = evaluate(cvae, "stripes", classifier=load_classifier(tmp_path / "clf" / "best"))
    assert 0.0 <= r["conditional_accuracy"] <= 1.0 and r["conditional_accuracy_samples"] == 400
    assert r["fid_zoo_classifier"] >= 0.0 and r["fid_samples"] == 400
    assert r["fid_name"] == "FID (zoo stripes classifier features)"
    assert r["classifier"] == {"name": "zoo stripes classifier", "test_accuracy": None,
                               "trained_with": None}
