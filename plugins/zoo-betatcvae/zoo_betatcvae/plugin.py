"""Entry point of the beta-TCVAE plugin. Light on purpose: JAX and the model code are imported
only when a model is built or its loss is first called (``zoo.lazy``)."""

from __future__ import annotations

from typing import Any

import zoo
from zoo_betatcvae.config import BetaTCVAEConfig

#: The zoo plugin API this plugin was written for (``zoo.PLUGIN_API_VERSION``).
ZOO_PLUGIN_API = 1


@zoo.hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        zoo.VariantSpec(
            name="beta-tcvae",
            config_class=BetaTCVAEConfig,
            default_config=BetaTCVAEConfig(),
            factory=zoo.lazy("zoo_betatcvae.model:BetaTCVAE"),
            loss=zoo.lazy("zoo_betatcvae.loss:beta_tcvae_loss"),
            latent="gaussian",
            architectures=("mlp", "cnn"),
            tiny_config=BetaTCVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3),
            description="beta-TCVAE (Chen et al. 2018): KL split into index-code MI, total "
                        "correlation and dimension-wise KL, weighted alpha/beta/gamma",
        )
    )


@zoo.hookimpl
def zoo_register_pretrained(register: Any) -> None:
    """The trained models bundled in this distribution (pretrained/manifest.json, written by
    ``zoo bundle``): a third-party plugin ships its weights exactly as first-party ones do."""
    for spec in zoo.read_manifest("zoo_betatcvae"):
        register(spec)


@zoo.hookimpl
def zoo_register_presets(register: Any) -> None:
    """The training recipes of this plugin's variants (zoo_betatcvae/presets.py: data, no JAX)."""
    from zoo_betatcvae.presets import PRESETS

    for spec in PRESETS:
        register(spec)
