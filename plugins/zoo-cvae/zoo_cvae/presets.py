"""The training recipe of the CVAE plugin: the recorded config and seed of its pretrained
``cvae-mnist``, with what publishing that model needs (``release``). Data only, no JAX."""

from __future__ import annotations

from zoo import PresetSpec

__all__ = ["PRESETS"]

PRESETS = (
    PresetSpec(
        name="cvae-mnist",
        variants=("cvae",),
        description="the recipe of cvae-mnist: label-conditioned VAE on MNIST, 16 latents",
        model={"latent_dim": 16, "label_embedding_dim": 16},
        train={"dataset": "mnist", "epochs": 100, "eval_every": 2000, "checkpoint_every": 2000,
               "log_every": 100, "seed": 0},
        release={
            "summary": "conditional VAE on MNIST: sample(n, labels) draws chosen digits",
            "eval": {"dataset": "mnist"},
            "figures": {"class_samples.png": "Samples of each class (one row per digit)",
                        "reconstructions.png": "Test digits (top) and their reconstructions"},
            "description": "Conditional VAE (Sohn et al. 2015) on MNIST: encoder and decoder "
                           "see a 16-d embedding of the digit class; 16 Gaussian latents; "
                           "`model.sample(n, labels)` draws the digits asked for.",
            "limitations": "Conditional accuracy and FID are judged by zoo's own MNIST "
                           "classifier (classifier-mnist); that FID is not comparable with "
                           "Inception FIDs.",
        },
    ),
)
