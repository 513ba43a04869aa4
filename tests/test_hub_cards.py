"""Model cards: render/parse round trip, what the Hub's own parser reads, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoo import cards

EVAL_VQ = {
    "variant": "vqvae", "dataset": "mnist", "split": "test", "examples": 10000, "binarized": False,
    "reconstruction_mse": 0.0041, "perplexity_batch_mean": 210.5,
    "codebook": {"counts": [3, 0, 5], "total": 8, "perplexity": 331.25, "fraction_used": 0.97,
                 "dead_codes": [1], "num_dead": 1},
}
EVAL_CVAE = {
    "variant": "cvae", "dataset": "mnist", "split": "test", "examples": 10000, "binarized": True,
    "reconstruction_mse": 0.012, "negative_elbo": 95.5, "iw_nll": 91.2, "iw_samples": 1000,
    "iw_examples": 2000, "kl_per_dim": [0.5, 0.1], "conditional_accuracy": 0.97,
    "conditional_accuracy_samples": 1000, "fid_zoo_classifier": 3.5,
    "classifier": {"name": "zoo MNIST classifier", "test_accuracy": 0.9915,
                   "trained_with": "zoo train-classifier --dataset mnist --epochs 3 --seed 0"},
}


def test_card_from_eval_keeps_numeric_metrics_only() -> None:
    card = cards.card_from_eval(EVAL_VQ, model="runs/vq/best")
    assert card["metrics"] == {"reconstruction_mse": 0.0041, "perplexity_batch_mean": 210.5,
                               "codebook.perplexity": 331.25, "codebook.fraction_used": 0.97,
                               "codebook.num_dead": 1}
    assert card["eval_command"] == "zoo eval runs/vq/best --dataset mnist"
    assert card["dataset"] == "mnist" and card["split"] == "test" and card["variant"] == "vqvae"
    card = cards.card_from_eval(EVAL_CVAE, model="M", license="mit")
    assert card["eval_command"] == ("zoo eval M --dataset mnist --binarize --iw-samples 1000 "
                                    "--iw-examples 2000")
    assert "classifier.test_accuracy" not in card["metrics"] and card["license"] == "mit"
    assert set(card["metrics"]) == {"reconstruction_mse", "negative_elbo", "iw_nll",
                                    "conditional_accuracy", "fid_zoo_classifier"}


def test_render_parse_round_trip_and_body() -> None:
    card = cards.card_from_eval(
        EVAL_CVAE, model="runs/cvae/best", name="cvae-mnist", repo_id="zoo-models/cvae-mnist",
        train_command="zoo train cvae --dataset mnist epochs=30 --out RUN", seed=0,
        config={"latent_dim": 16}, limitations="MNIST only.",
        files={"model.safetensors": "a" * 64})
    text = cards.render_card(card)
    front, body = cards.parse_card(text)
    assert front["library_name"] == "zoo" and front["license"] == "apache-2.0"
    assert front["tags"][:4] == ["vae", "jax", "flax", "zoo"] and "cvae" in front["tags"]
    assert front["datasets"] == ["mnist"] and front["pipeline_tag"] == "image-to-image"
    assert cards.card_metrics(front) == card["metrics"]
    result = front["model-index"][0]["results"][0]
    assert result["dataset"] == {"name": "mnist", "type": "mnist", "split": "test"}
    assert body.startswith("# cvae-mnist")
    for needle in ('zoo.load("cvae-mnist")', 'zoo.load("hf-hub:zoo-models/cvae-mnist@REVISION")',
                   "zoo train cvae --dataset mnist epochs=30", "Seed: 0.",
                   "zoo eval runs/cvae/best --dataset mnist --binarize",
                   "| conditional accuracy (zoo MNIST classifier) (`conditional_accuracy`) "
                   "| 0.97 |",
                   "test accuracy 99.15%", "zoo train-classifier --dataset mnist", "MNIST only.",
                   "a" * 64, '"latent_dim": 16'):
        assert needle in body, needle
    assert cards.render_card(card) == text  # deterministic


def test_the_hubs_own_card_parser_reads_our_cards() -> None:
    from huggingface_hub import ModelCard

    card = cards.card_from_eval(EVAL_VQ, name="vqvae-mnist")
    parsed = ModelCard(cards.render_card(card))
    assert parsed.data.library_name == "zoo" and parsed.data.license == "apache-2.0"
    values = {r.metric_type: r.metric_value for r in parsed.data.eval_results}
    assert values == card["metrics"]
    assert {r.dataset_split for r in parsed.data.eval_results} == {"test"}


_keys = st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True)
_values = st.one_of(st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False, width=64))


@given(metrics=st.dictionaries(_keys, _values, min_size=1, max_size=6),
       description=st.text(max_size=80))
def test_round_trip_property(metrics: dict, description: str) -> None:
    card = {"metrics": metrics, "dataset": "mnist", "description": description}
    front, _ = cards.parse_card(cards.render_card(card))
    assert cards.card_metrics(front) == metrics


def test_check_card_and_parse_errors() -> None:
    with pytest.raises(cards.CardError, match="no model card"):
        cards.check_card(None)
    with pytest.raises(cards.CardError, match="has no metrics"):
        cards.check_card({"metrics": {}, "dataset": "mnist"})
    with pytest.raises(cards.CardError, match="not finite numbers: a, b"):
        cards.check_card({"metrics": {"a": float("inf"), "b": "1.0", "c": 1}, "dataset": "x"})
    with pytest.raises(cards.CardError, match="which dataset"):
        cards.check_card({"metrics": {"a": 1.0}})
    assert cards.parse_card("# no front matter\n") == ({}, "# no front matter\n")
    with pytest.raises(cards.CardError, match="does not parse"):
        cards.parse_card("---\nkey: [unclosed\n---\nbody\n")
    with pytest.raises(cards.CardError, match="must be a mapping"):
        cards.parse_card("---\n- a list\n---\nbody\n")
