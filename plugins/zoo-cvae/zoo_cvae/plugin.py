"""Entry point of the CVAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl, lazy, read_manifest
from zoo_cvae.config import CVAEConfig

ZOO_PLUGIN_API = 1


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="cvae",
            config_class=CVAEConfig,
            default_config=CVAEConfig(),
            factory=lazy("zoo_cvae.model:CVAE"),
            loss=lazy("zoo_cvae.loss:cvae_loss"),
            conditional=True,
            latent="gaussian",
            architectures=("mlp", "cnn"),
            tiny_config=CVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3,
                                   label_embedding_dim=4),
            description="Conditional VAE (Sohn et al. 2015): encoder and decoder see class labels",
        )
    )


@hookimpl
def zoo_register_pretrained(register: Any) -> None:
    """The trained models bundled in this distribution (pretrained/manifest.json)."""
    for spec in read_manifest("zoo_cvae"):
        register(spec)


@hookimpl
def zoo_register_presets(register: Any) -> None:
    """The training recipes of this plugin's variants (zoo_cvae/presets.py: data, no JAX)."""
    from zoo_cvae.presets import PRESETS

    for spec in PRESETS:
        register(spec)
