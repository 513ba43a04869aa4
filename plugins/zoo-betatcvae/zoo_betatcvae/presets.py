"""The training recipe of the beta-TCVAE plugin: the recorded config and seed of
``beta-tcvae-dsprites``, with what publishing that model needs (``release``). Data only, no JAX.

A third-party plugin ships its recipes the same way: a ``zoo_register_presets`` hook in its
entry-point module registers these :class:`zoo.PresetSpec` objects."""

from __future__ import annotations

from zoo import PresetSpec

__all__ = ["PRESETS"]

PRESETS = (
    PresetSpec(
        name="beta-tcvae-dsprites",
        variants=("beta-tcvae",),
        description="the recipe of beta-tcvae-dsprites: beta = 6 on procedural dSprites, 36k steps",
        model={"latent_dim": 10, "beta": 6.0, "dataset_size": 737280},
        train={"dataset": "dsprites", "batch_size": 256, "learning_rate": 1e-3,
               "max_steps": 36000, "validation_size": 10000, "eval_every": 4000,
               "checkpoint_every": 1000, "log_every": 250, "seed": 0},
        release={
            "summary": "beta-TCVAE on procedural dSprites (the example third-party plugin)",
            "eval": {"dataset": "dsprites", "split": "train", "dci_model": "gbt"},
            "figures": {"traversal.png": "Latent traversals (-3 to 3), latents ordered by KL",
                        "reconstructions.png": "Images (top) and their reconstructions"},
            "description": "beta-TCVAE (Chen et al. 2018) on procedural dSprites (737,280 64x64 "
                           "binary images of 3 shapes over 6 scales, 40 orientations and 32x32 "
                           "positions): total correlation weighted beta = 6 (alpha = gamma = 1), "
                           "minibatch-weighted sampling with N = 737,280, batch 256, Adam 1e-3, "
                           "36,000 steps (9.2 M images), 10 latents, MLP 4096-512-256. Ships in "
                           "zoo-betatcvae, the example third-party plugin.",
            "limitations": "Disentanglement scores vary a lot with the seed (Locatello et al. "
                           "2019): this recipe with seed 1 instead of 0 scored far lower in our "
                           "probes. dSprites has no test split: the metrics are measured on the "
                           "full factor grid, as is customary.",
        },
    ),
)
