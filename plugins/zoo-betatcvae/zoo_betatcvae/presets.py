"""The training recipe of the beta-TCVAE plugin: the recorded config and seed of
``beta-tcvae-dsprites``, with what publishing that model needs (``release``). Data only, no JAX.

A third-party plugin ships its recipes the same way: a ``zoo_register_presets`` hook in its
entry-point module registers these :class:`zoo.PresetSpec` objects."""

from __future__ import annotations

from zoo import PresetSpec
from zoo.config import DSPRITES_NETWORK

__all__ = ["PRESETS"]

_NET = ("four 4x4 stride-2 convs (32, 32, 64, 64 channels), dense 256, mirrored decoder (3x3 "
        "conv + pixel shuffle per stage)")

# The warm-up bottleneck is the curriculum of the beta-VAE and capacity recipes (zoo-beta-vae):
# KL weights x100 falling to x1 over 10,000 steps, then 2,000 steps at the paper's weights.
# Constant weights (beta 10) left MIG at 0.014 after 9,000 steps of this network.
PRESETS = (
    PresetSpec(
        name="beta-tcvae-dsprites",
        variants=("beta-tcvae",),
        description="the recipe of beta-tcvae-dsprites: beta 6, KL weights x100 -> x1, conv net",
        model={**DSPRITES_NETWORK, "beta": 6.0, "kl_scale_start": 100.0, "kl_scale_steps": 10000,
               "dataset_size": 737280},
        train={"dataset": "dsprites", "batch_size": 64, "learning_rate": 5e-4,
               "max_steps": 12000, "validation_size": 10000, "eval_every": 2500,
               "checkpoint_every": 1250, "log_every": 250, "seed": 0},
        release={
            "summary": "beta-TCVAE on procedural dSprites (the example third-party plugin)",
            "eval": {"dataset": "dsprites", "split": "train", "dci_model": "gbt"},
            "figures": {"traversal.png": "Latent traversals (-3 to 3), each row labelled by the "
                                         "factor that latent captures most",
                        "mutual_info.png": "Mutual information of each latent with each "
                                           "factor, as a share of the factor's entropy (rows "
                                           "as in the traversal)",
                        "reconstructions.png": "Images (top) and their reconstructions"},
            "description": "beta-TCVAE (Chen et al. 2018) on procedural dSprites (737,280 64x64 "
                           "binary images of 3 shapes over 6 scales, 40 orientations and 32x32 "
                           "positions): total correlation weighted beta = 6 (alpha = gamma = 1, "
                           "as in the paper), minibatch-weighted sampling with N = "
                           "737,280, 10 latents, Bernoulli likelihood. A warm-up bottleneck "
                           "multiplies the three KL weights by a factor falling linearly from 100 "
                           "to 1 over the first 10,000 steps (kl_scale_start, kl_scale_steps), "
                           "then 1: under the early pressure only position is worth its nats, "
                           "so x and y settle into a latent each first; with beta 10 and "
                           "constant weights MIG was 0.014 after 9,000 steps. Network: "
                           "disentanglement_lib's (Locatello et al. 2019): " + _NET + "; Adam "
                           "5e-4, batch 64, 12,000 steps (0.77 M images). Ships in "
                           "zoo-betatcvae, the example third-party plugin.",
            "limitations": "Disentanglement scores vary a lot with the seed (Locatello et al. "
                           "2019): the card reports every seed of the same recipe. dSprites has "
                           "no test split: the metrics are measured on 10,000 points of the full "
                           "factor grid, as is customary.",
        },
    ),
)
