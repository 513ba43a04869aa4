"""Entry point of the beta-VAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl, lazy, read_manifest
from zoo_beta_vae.config import BetaVAEConfig

ZOO_PLUGIN_API = 1


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="beta-vae",
            config_class=BetaVAEConfig,
            default_config=BetaVAEConfig(),
            factory=lazy("zoo_beta_vae.model:BetaVAE"),
            loss=lazy("zoo_beta_vae.loss:beta_vae_loss"),
            latent="gaussian",
            architectures=("mlp", "cnn"),
            tiny_config=BetaVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3),
            description="beta-VAE (Higgins et al. 2017) with linear beta annealing",
        )
    )
    register(
        VariantSpec(
            name="beta-vae-capacity",
            config_class=BetaVAEConfig,
            default_config=BetaVAEConfig(use_capacity_control=True, beta=1.0,
                                         beta_anneal_steps=0),
            factory=lazy("zoo_beta_vae.model:BetaVAE"),
            loss=lazy("zoo_beta_vae.loss:beta_vae_loss"),
            latent="gaussian",
            architectures=("mlp", "cnn"),
            tiny_config=BetaVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3,
                                      use_capacity_control=True, beta=1.0, beta_anneal_steps=0),
            description="beta-VAE with capacity control, gamma*|KL - C| (Burgess et al. 2018)",
        )
    )


@hookimpl
def zoo_register_pretrained(register: Any) -> None:
    """The trained models bundled in this distribution (pretrained/manifest.json)."""
    for spec in read_manifest("zoo_beta_vae"):
        register(spec)


@hookimpl
def zoo_register_presets(register: Any) -> None:
    """The training recipes of this plugin's variants (zoo_beta_vae/presets.py: data, no JAX)."""
    from zoo_beta_vae.presets import PRESETS

    for spec in PRESETS:
        register(spec)
