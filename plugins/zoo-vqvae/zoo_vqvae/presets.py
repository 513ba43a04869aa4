"""The training recipe of the VQ-VAE plugin: the recorded config and seed of its pretrained
``vqvae-mnist``, with what publishing that model needs (``release``). Data only, no JAX."""

from __future__ import annotations

from zoo import PresetSpec

__all__ = ["PRESETS"]

PRESETS = (
    PresetSpec(
        name="vqvae-mnist",
        variants=("vqvae",),
        description="the recipe of vqvae-mnist: the default VQ-VAE (512-code EMA codebook)",
        model={},
        train={"dataset": "mnist", "epochs": 5, "eval_every": 2000, "checkpoint_every": 2000,
               "log_every": 100, "seed": 0},
        release={
            "summary": "VQ-VAE on MNIST, CNN, 512-code EMA codebook",
            "eval": {"dataset": "mnist"},
            "figures": {"reconstructions.png": "Test digits (top) and their reconstructions",
                        "codebook_usage.png": "Codebook usage over the test split"},
            "description": "VQ-VAE (van den Oord et al. 2017) on MNIST: CNN encoder to a 7x7 "
                           "grid of 16-d vectors, 512-code EMA codebook with dead-code reset.",
            "limitations": "Reconstructs MNIST-like 28x28 digits; it has no prior over code "
                           "grids, so it does not generate new images by itself (fit a prior, "
                           "e.g. a PixelCNN, over its codes for that). MSE is per pixel in "
                           "[0, 1].",
        },
    ),
)
