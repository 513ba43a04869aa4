"""Entry point of the beta-VAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl
from zoo_beta_vae.config import BetaVAEConfig

ZOO_PLUGIN_API = 1


def create_model(config: BetaVAEConfig, *, rngs: Any) -> Any:
    """Factory: a :class:`zoo_beta_vae.model.BetaVAE` for ``config``."""
    from zoo_beta_vae.model import BetaVAE

    return BetaVAE(config, rngs=rngs)


def loss(outputs: dict[str, Any], x: Any, *, config: BetaVAEConfig, step: Any) -> Any:
    """See :func:`zoo_beta_vae.loss.beta_vae_loss`."""
    from zoo_beta_vae.loss import beta_vae_loss

    return beta_vae_loss(outputs, x, config=config, step=step)


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="beta-vae",
            config_class=BetaVAEConfig,
            default_config=BetaVAEConfig(),
            factory=create_model,
            loss=loss,
            description="beta-VAE (Higgins et al. 2017) with linear beta annealing",
        )
    )
    register(
        VariantSpec(
            name="beta-vae-capacity",
            config_class=BetaVAEConfig,
            default_config=BetaVAEConfig(use_capacity_control=True, beta=1.0,
                                         beta_anneal_steps=0),
            factory=create_model,
            loss=loss,
            description="beta-VAE with capacity control, gamma*|KL - C| (Burgess et al. 2018)",
        )
    )
