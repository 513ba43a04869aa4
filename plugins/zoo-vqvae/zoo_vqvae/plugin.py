"""Entry point of the VQ-VAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl, lazy, read_manifest
from zoo_vqvae.config import VQVAEConfig

ZOO_PLUGIN_API = 1


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="vqvae",
            config_class=VQVAEConfig,
            default_config=VQVAEConfig(),
            factory=lazy("zoo_vqvae.model:VQVAE"),
            loss=lazy("zoo_vqvae.loss:vqvae_loss"),
            latent="discrete",
            architectures=("cnn",),  # a VQ-VAE quantises a grid of vectors
            tiny_config=VQVAEConfig(height=8, width=8, hidden_dims=(8,), num_embeddings=8,
                                    embedding_dim=4),
            description="VQ-VAE (van den Oord et al. 2017), EMA codebook with dead-code reset",
        )
    )


@hookimpl
def zoo_register_pretrained(register: Any) -> None:
    """The trained models bundled in this distribution (pretrained/manifest.json)."""
    for spec in read_manifest("zoo_vqvae"):
        register(spec)


@hookimpl
def zoo_register_presets(register: Any) -> None:
    """The training recipes of this plugin's variants (zoo_vqvae/presets.py: data, no JAX)."""
    from zoo_vqvae.presets import PRESETS

    for spec in PRESETS:
        register(spec)
