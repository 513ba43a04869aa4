"""zoo's conformance kit, through its pytest fixture as any third-party plugin's tests use it:
every variant and every bundled pretrained entry this plugin registers (with its model card)."""

from __future__ import annotations

from pathlib import Path

import zoo_beta_vae.plugin

CARDS = Path(__file__).resolve().parents[3] / "model_cards"


def test_plugin_passes_the_conformance_kit(zoo_check_plugin) -> None:
    checked = zoo_check_plugin(zoo_beta_vae.plugin, cards_dir=CARDS if CARDS.is_dir() else None)
    assert checked == ["beta-vae", "beta-vae-capacity", "beta-vae-capacity-dsprites",
                       "beta-vae-capacity-mnist", "beta-vae-dsprites", "beta-vae-mnist",
                       "vae-mnist"]
