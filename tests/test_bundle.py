"""zoo bundle, pretrained manifests and the card check, on a tiny model and a temporary package."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

import zoo
from zoo.bundle import bundle
from zoo.cardcheck import check_card_file, format_report
from zoo.cards import card_metrics, parse_card
from zoo.errors import PluginError, ZooError
from zoo.evaluate import evaluate
from zoo.hub import sha256_file
from zoo.manifest import manifest_entry, specs_from_manifest, write_manifest

TINY = {"height": 8, "width": 8, "hidden_dims": (8,), "latent_dim": 3}


def _spec(name: str = "toy-a", **kw: Any) -> zoo.PretrainedSpec:
    fields = {"name": name, "variant": "toy", "config": {"features": 4}, "repo_id": "org/toy",
              "revision": "", "files": {"model.safetensors": "a" * 64, "config.json": "b" * 64},
              "license": "apache-2.0", "dataset": "stripes", "bundled": "pkg:pretrained/x"}
    return zoo.PretrainedSpec(**(fields | kw))


def test_manifest_round_trip(tmp_path: Path) -> None:
    specs = [_spec("toy-b"), _spec("toy-a", revision="c" * 40)]
    path = write_manifest(tmp_path / "manifest.json", specs)
    back = specs_from_manifest(json.loads(path.read_text()), str(path))
    assert [s.name for s in back] == ["toy-a", "toy-b"]  # sorted by name
    assert [manifest_entry(s) for s in back] == [manifest_entry(s) for s in sorted(
        specs, key=lambda s: s.name)]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["models"][0].update(colour="red"), "unknown keys \\['colour'\\]"),
    (lambda d: d["models"][0].pop("files"), "missing keys \\['files'\\]"),
    (lambda d: d.update(format=99), "format 99 is not supported"),
    (lambda d: d["models"][0].update(revision="main"), "40-hex commit sha"),
    (lambda d: d.update(extra=1), "exactly 'format' and 'models'"),
])
def test_manifest_errors(mutate: Any, message: str) -> None:
    data = {"format": 1, "models": [manifest_entry(_spec())]}
    mutate(data)
    with pytest.raises(PluginError, match=message):
        specs_from_manifest(data, "test manifest")


class ManifestPlugin:
    def __init__(self, package: str) -> None:
        self.package = package

    @zoo.hookimpl
    def zoo_register_pretrained(self, register: Any) -> None:
        for spec in zoo.read_manifest(self.package):
            register(spec)


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty importable package in a temporary directory."""
    name = f"zoo_bundle_test_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / "site" / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import huggingface_hub.constants  # noqa: F401  (reads HF_HUB_OFFLINE once, at import)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return pkg


def _model_and_eval(tmp_path: Path) -> tuple[Any, Path, dict]:
    model = zoo.create("beta-vae", seed=3, **TINY)
    directory = zoo.save(model, tmp_path / "model")
    return model, directory, evaluate(directory, "stripes", batch_size=32)


def test_bundle_then_load_and_check(world: Any, tmp_path: Path, package: Path) -> None:
    _, directory, result = _model_and_eval(tmp_path)
    figure = tmp_path / "traversal.png"
    figure.write_bytes(b"\x89PNG fake")
    cards_dir = tmp_path / "cards"
    spec = bundle(directory, "tiny-stripes", package, eval_result=result,
                  repo_id="org/tiny-stripes", description="A tiny beta-VAE.",
                  card={"limitations": "Untrained."}, cards_dir=cards_dir,
                  figures=[{"title": "Traversal", "file": str(figure)}])
    target = package / "pretrained" / "tiny-stripes"
    assert spec.files == {f: sha256_file(target / f) for f in ("model.safetensors",
                                                                "config.json")}
    assert spec.config == {k: TINY[k] for k in TINY} | {"hidden_dims": [8]}
    assert (cards_dir / "assets" / "tiny-stripes" / "traversal.png").read_bytes() == (
        figure.read_bytes())
    text = (cards_dir / "tiny-stripes.md").read_text()
    front, body = parse_card(text)
    options = front["zoo"]["eval"]
    assert options["dataset"] == "stripes" and options["batch_size"] == 32
    assert options["split"] == "test" and options["binarize"] is False
    assert card_metrics(front)["reconstruction_mse"] == pytest.approx(
        result["reconstruction_mse"])
    assert "![Traversal](assets/tiny-stripes/traversal.png)" in body and "Untrained." in body
    from huggingface_hub import ModelCard

    assert ModelCard(text).data.library_name == "zoo"

    world.register(ManifestPlugin(package.name), name="bundled-test")
    loaded = zoo.load("tiny-stripes")
    assert loaded.zoo_source == "bundled"
    for a, b in zip(jax.tree.leaves(zoo.create("beta-vae", seed=3, **TINY)),
                    jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    rows = check_card_file(cards_dir / "tiny-stripes.md")
    assert rows and all(r.ok for r in rows), format_report(rows)
    # a card that drifted from its weights is caught
    drifted = text.replace(f"value: {result['reconstruction_mse']!r}", "value: 0.5")
    assert drifted != text
    (cards_dir / "tiny-stripes.md").write_text(drifted)
    bad = [r for r in check_card_file(cards_dir / "tiny-stripes.md") if r.ok is False]
    assert [r.metric for r in bad] == ["reconstruction_mse"]


def test_bundle_replaces_an_entry(world: Any, tmp_path: Path, package: Path) -> None:
    _, directory, result = _model_and_eval(tmp_path)
    kw = {"eval_result": result, "repo_id": "org/x", "cards_dir": tmp_path / "cards"}
    first = bundle(directory, "tiny-a", package, **kw)
    bundle(directory, "tiny-b", package, **kw)
    other = zoo.save(zoo.create("beta-vae", seed=4, **TINY), tmp_path / "other")
    again = bundle(other, "tiny-a", package, **kw | {"eval_result": evaluate(other, "stripes")})
    entries = zoo.read_manifest(package.name)
    assert [e.name for e in entries] == ["tiny-a", "tiny-b"]
    assert again.files["model.safetensors"] != first.files["model.safetensors"]
    assert entries[0].files == again.files
    assert sorted(p.name for p in (package / "pretrained").iterdir()) == [
        "manifest.json", "tiny-a", "tiny-b"]  # no staging leftovers


def test_bundle_refuses_before_writing(world: Any, tmp_path: Path, package: Path) -> None:
    _, directory, result = _model_and_eval(tmp_path)
    no_metrics = {"dataset": "stripes", "split": "test", "variant": "beta-vae"}
    with pytest.raises(ZooError, match="no metrics"):
        bundle(directory, "tiny", package, eval_result=no_metrics, repo_id="org/x",
               cards_dir=tmp_path / "cards")
    with pytest.raises(ZooError, match="does not exist"):
        bundle(directory, "tiny", package, eval_result=result, repo_id="org/x",
               cards_dir=tmp_path / "cards", figures=[{"title": "t", "file": "nope.png"}])
    with pytest.raises(ZooError, match="variant 'vqvae'"):
        bundle(directory, "tiny", package, eval_result=result | {"variant": "vqvae"},
               repo_id="org/x", cards_dir=tmp_path / "cards")
    assert not (package / "pretrained").exists() and not (tmp_path / "cards").exists()
