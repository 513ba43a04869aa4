"""Named training recipes: ``zoo train VARIANT --preset NAME``.

A preset is a dict with optional ``"train"`` (TrainConfig fields) and ``"model"`` (fields of the
variant's config) overrides, optionally restricted to some ``"variants"``. Command-line
``key=value`` overrides win over the preset.
"""

from __future__ import annotations

from typing import Any

from zoo.errors import UnknownNameError

__all__ = ["PRESETS", "get_preset"]

_LONG_RUN = {"eval_every": 2000, "checkpoint_every": 2000, "log_every": 100, "seed": 0}

PRESETS: dict[str, dict[str, Any]] = {
    # A minute-long end-to-end check of the whole pipeline on a small slice of the data.
    "smoke": {
        "train": {"max_steps": 40, "eval_every": 20, "checkpoint_every": 20, "log_every": 10,
                  "train_limit": 2048, "validation_size": 512, "batch_size": 64},
    },
    # The recipes of the zoo's pretrained models (issue: the pretrained zoo). Each is the
    # recorded config and seed its published weights come from.
    "vae-mnist": {
        "variants": ["beta-vae"],
        "model": {"architecture": "mlp", "hidden_dims": (512, 256), "latent_dim": 32,
                  "beta": 1.0, "beta_start": 1.0, "beta_anneal_steps": 0},
        "train": {"dataset": "mnist", "batch_size": 100, "epochs": 100, "binarize": True,
                  "learning_rate": 1e-3, **_LONG_RUN},
    },
    "beta-vae-mnist": {
        "variants": ["beta-vae"],
        "model": {"latent_dim": 10, "beta": 4.0, "beta_start": 1.0, "beta_anneal_steps": 5000},
        "train": {"dataset": "mnist", "epochs": 30, **_LONG_RUN},
    },
    "beta-vae-capacity-mnist": {
        "variants": ["beta-vae-capacity"],
        "model": {"latent_dim": 10, "capacity_max": 25.0, "gamma": 1000.0,
                  "capacity_num_iter": 20000},
        "train": {"dataset": "mnist", "epochs": 80, **_LONG_RUN},
    },
    "cvae-mnist": {
        "variants": ["cvae"],
        "model": {"latent_dim": 16, "label_embedding_dim": 16},
        "train": {"dataset": "mnist", "epochs": 100, **_LONG_RUN},
    },
    # MLP on dSprites; C rises to 25 nats over 15,000 steps of 256 images (3.8 M images).
    "beta-vae-dsprites": {
        "variants": ["beta-vae-capacity"],
        "model": {"latent_dim": 10, "capacity_max": 25.0, "gamma": 1000.0,
                  "capacity_num_iter": 15000},
        "train": {"dataset": "dsprites", "batch_size": 256, "learning_rate": 5e-4,
                  "max_steps": 20000, "validation_size": 10000, "eval_every": 5000,
                  "checkpoint_every": 2500, "log_every": 250, "seed": 0},
    },
    "vqvae-mnist": {
        "variants": ["vqvae"],
        "model": {},
        "train": {"dataset": "mnist", "epochs": 5, **_LONG_RUN},
    },
}


def get_preset(name: str, variant: str) -> dict[str, Any]:
    """The preset ``name``; an unknown one (or one not meant for ``variant``) is an error."""
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    allowed = preset.get("variants")
    if allowed and variant not in allowed:
        raise UnknownNameError(
            f"preset {name!r} is for {', '.join(allowed)}, not {variant!r}"
        )
    return preset
