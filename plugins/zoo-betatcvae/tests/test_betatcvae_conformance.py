"""zoo's conformance kit through its pytest fixture, as any third-party plugin's tests use it:
the variant, and the pretrained model this distribution bundles (``beta-tcvae-dsprites``) with
its model card: the weights load, match their manifest hashes and the card's file table."""

from __future__ import annotations

from pathlib import Path

import zoo_betatcvae.plugin

CARDS = Path(__file__).resolve().parents[3] / "model_cards"


def test_plugin_and_its_bundled_model_pass_the_conformance_kit(zoo_check_plugin) -> None:
    checked = zoo_check_plugin(zoo_betatcvae.plugin, cards_dir=CARDS if CARDS.is_dir() else None)
    assert checked == ["beta-tcvae", "beta-tcvae-dsprites"]
