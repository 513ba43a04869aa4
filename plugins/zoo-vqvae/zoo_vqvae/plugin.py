"""Entry point of the VQ-VAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl
from zoo_vqvae.config import VQVAEConfig

ZOO_PLUGIN_API = 1


def create_model(config: VQVAEConfig, *, rngs: Any) -> Any:
    """Factory: a :class:`zoo_vqvae.model.VQVAE` for ``config``."""
    from zoo_vqvae.model import VQVAE

    return VQVAE(config, rngs=rngs)


def loss(outputs: dict[str, Any], x: Any, *, config: VQVAEConfig, step: Any) -> Any:
    """See :func:`zoo_vqvae.loss.vqvae_loss`."""
    from zoo_vqvae.loss import vqvae_loss

    return vqvae_loss(outputs, x, config=config, step=step)


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="vqvae",
            config_class=VQVAEConfig,
            default_config=VQVAEConfig(),
            factory=create_model,
            loss=loss,
            description="VQ-VAE (van den Oord et al. 2017), EMA codebook with dead-code reset",
        )
    )
