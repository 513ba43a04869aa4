"""Entry point of the CVAE plugin. Light on purpose: model code is imported on first build."""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl
from zoo_cvae.config import CVAEConfig

ZOO_PLUGIN_API = 1


def create_model(config: CVAEConfig, *, rngs: Any) -> Any:
    """Factory: a :class:`zoo_cvae.model.CVAE` for ``config``."""
    from zoo_cvae.model import CVAE

    return CVAE(config, rngs=rngs)


def loss(outputs: dict[str, Any], x: Any, *, config: CVAEConfig, step: Any) -> Any:
    """See :func:`zoo_cvae.loss.cvae_loss`."""
    from zoo_cvae.loss import cvae_loss

    return cvae_loss(outputs, x, config=config, step=step)


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="cvae",
            config_class=CVAEConfig,
            default_config=CVAEConfig(),
            factory=create_model,
            loss=loss,
            conditional=True,
            description="Conditional VAE (Sohn et al. 2015): encoder and decoder see class labels",
        )
    )
