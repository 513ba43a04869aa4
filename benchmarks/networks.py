"""The networks the benchmarks measure: each first-party variant's default architecture, and the
dSprites network of the literature in zoo's closest config. Data only; imports no JAX or torch.

A network is a zoo variant plus config overrides. ``preset_batch`` is the batch size its
presets train with (the plugins' ``presets.py``); ``note`` says what the row stands for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["NETWORKS", "Network", "by_name", "select"]


@dataclasses.dataclass(frozen=True)
class Network:
    """One benchmarked network.

    Attributes:
        name: the row name in the tables.
        variant: the zoo variant that builds it.
        overrides: config overrides on the variant's default config.
        preset_batch: the batch size of the presets that train this network.
        note: what the row stands for (printed under the tables).
    """

    name: str
    variant: str
    overrides: dict[str, Any]
    preset_batch: int
    note: str

    def config(self) -> Any:
        """The zoo config of this network (the variant's default with the overrides)."""
        import zoo

        return zoo.get_variant(self.variant).default_config.replace(**self.overrides)


NETWORKS: tuple[Network, ...] = (
    Network("beta-vae", "beta-vae", {}, 100,
            "default: MLP 784-512-256, 10 latents, beta annealed 1 -> 4 (preset batch: "
            "vae-mnist's 100; beta-vae-mnist uses 128)"),
    Network("beta-vae-cnn", "beta-vae", {"architecture": "cnn"}, 128,
            "architecture=cnn: convs 32, 64 (4x4 stride 2), pixel-shuffle decoder, 10 latents"),
    Network("beta-vae-capacity", "beta-vae-capacity", {}, 128,
            "default: the MLP of beta-vae, loss rec + gamma |KL - C(step)|"),
    Network("cvae", "cvae", {}, 128,
            "default: MLP 784+16-512-256, 16 latents, 16-d label embedding in encoder and "
            "decoder"),
    Network("vqvae", "vqvae", {}, 128,
            "default: CNN 32, 64 to a 7x7 grid of 16-d vectors, 512-code EMA codebook, "
            "dead-code reset"),
    Network("dsprites-cnn", "beta-vae",
            {"architecture": "cnn", "hidden_dims": (32, 32, 64, 64), "latent_dim": 10,
             "height": 64, "width": 64, "channels": 1}, 256,
            "zoo's closest config to the dSprites network of disentanglement_lib: beta-vae, "
            "64x64x1, convs 32, 32, 64, 64, 10 latents (no dense-256 layer: zoo's encoder "
            "head is one linear map); preset batch of the dSprites presets, 256"),
)


def by_name(name: str) -> Network:
    """The network called ``name``; a ValueError lists the known ones."""
    for net in NETWORKS:
        if net.name == name:
            return net
    known = ", ".join(n.name for n in NETWORKS)
    raise ValueError(f"unknown network {name!r}; choose from {known}")


def select(names: str) -> list[Network]:
    """Networks from a comma-separated list (empty: all of them)."""
    if not names.strip():
        return list(NETWORKS)
    return [by_name(n.strip()) for n in names.split(",") if n.strip()]
