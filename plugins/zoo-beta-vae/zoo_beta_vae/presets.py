"""The training recipes of the beta-VAE plugin: each is the recorded config and seed of one of
its pretrained models, with what publishing that model needs (``release``: card text, the
evaluation options of the card's numbers, its figures). Data only, no JAX."""

from __future__ import annotations

from zoo import PresetSpec
from zoo.config import DSPRITES_NETWORK

__all__ = ["PRESETS"]

_LONG_RUN = {"eval_every": 2000, "checkpoint_every": 2000, "log_every": 100, "seed": 0}
_TRAVERSAL = "Latent traversals (-3 to 3), latents ordered by KL"
_RECONSTRUCTIONS = "Test digits (top) and their reconstructions"

# dSprites: disentanglement_lib's network and batch, Adam 5e-4 instead of 1e-4 and 30,000 steps
# (1.9 M images) instead of 300,000: the MIG-vs-steps curves in the cards show the budget.
_DSPRITES_TRAIN = {"dataset": "dsprites", "batch_size": 64, "learning_rate": 5e-4,
                   "max_steps": 30000, "validation_size": 10000, "eval_every": 2500,
                   "checkpoint_every": 1250, "log_every": 250, "seed": 0}
# Capacity control: C reaches its 5 nats at step 10,000 and MIG is flat from there to 30,000
# (seed 0 of the 30,000-step recipe: 0.203 at 10k, 0.19-0.22 up to 30k), so 15,000 steps
# (0.96 M images): 5,000 steps at C_max, and three seeds in the time of 1.5 long runs.
_CAPACITY_TRAIN = {**_DSPRITES_TRAIN, "max_steps": 15000}
# beta-VAE: beta annealed down from 100 to 16 over 10,000 steps, then 2,000 steps at 16 (0.77 M
# images). The same curriculum as capacity control: early, only x and y are worth their nats,
# each in its own latent; constant beta 16 reached MIG 0.12 at 30,000 steps and 0.19 at 52,500.
_BETA_TRAIN = {**_DSPRITES_TRAIN, "max_steps": 12000}
_DSPRITES_EVAL = {"dataset": "dsprites", "split": "train", "dci_model": "gbt"}
_DSPRITES_FIGURES = {"traversal.png": "Latent traversals (-3 to 3), each row labelled by the "
                                      "factor that latent captures most",
                     "mutual_info.png": "Mutual information of each latent with each factor, "
                                        "as a share of the factor's entropy (rows as in the "
                                        "traversal)",
                     "reconstructions.png": "Images (top) and their reconstructions"}


def _network_text(steps: str, images: str) -> str:
    return ("Network: disentanglement_lib's (Locatello et al. 2019): four 4x4 stride-2 convs "
            "(32, 32, 64, 64 channels), dense 256, mirrored decoder (3x3 conv + pixel shuffle "
            f"per stage); Adam 5e-4, batch 64, {steps} steps ({images} images).")


_DSPRITES_LIMITS = ("Disentanglement scores vary a lot with the seed (Locatello et al. 2019): "
                    "the card reports every seed of the same recipe. dSprites has no test split: "
                    "the metrics are measured on 10,000 points of the full factor grid, as is "
                    "customary.")

PRESETS = (
    PresetSpec(
        name="vae-mnist",
        variants=("beta-vae",),
        description="the recipe of vae-mnist: the reference VAE (beta = 1) on binarised MNIST",
        model={"architecture": "mlp", "hidden_dims": (512, 256), "latent_dim": 32,
               "beta": 1.0, "beta_start": 1.0, "beta_anneal_steps": 0},
        train={"dataset": "mnist", "batch_size": 100, "epochs": 100, "binarize": True,
               "learning_rate": 1e-3, **_LONG_RUN},
        release={
            "summary": "the reference VAE on binarised MNIST (beta = 1, 32 latents)",
            "eval": {"dataset": "mnist", "binarize": True, "iw_samples": 1000,
                     "iw_examples": 2000},
            "figures": {"samples.png": "Samples from the prior",
                        "reconstructions.png": _RECONSTRUCTIONS},
            "description": "The reference VAE (Kingma & Welling 2014; beta = 1): MLP "
                           "784-512-256, 32 Gaussian latents, Bernoulli likelihood, trained on "
                           "dynamically binarised MNIST.",
            "limitations": "The importance-weighted NLL is measured on the first 2,000 test "
                           "images, binarised once with seed 0, with K = 1000 samples; "
                           "published numbers use all 10,000 test images and K = 5000, so "
                           "compare within about one standard error. Samples are blurry, as a "
                           "VAE's are.",
        },
    ),
    PresetSpec(
        name="beta-vae-mnist",
        variants=("beta-vae",),
        description="the recipe of beta-vae-mnist: beta annealed 1 -> 4, 10 latents",
        model={"latent_dim": 10, "beta": 4.0, "beta_start": 1.0, "beta_anneal_steps": 5000},
        train={"dataset": "mnist", "epochs": 30, **_LONG_RUN},
        release={
            "summary": "beta-VAE on MNIST, beta annealed 1 -> 4, 10 latents",
            "eval": {"dataset": "mnist"},
            "figures": {"traversal.png": _TRAVERSAL, "reconstructions.png": _RECONSTRUCTIONS},
            "description": "beta-VAE (Higgins et al. 2017) on MNIST: beta annealed linearly "
                           "from 1 to 4 over the first 5,000 steps, 10 Gaussian latents, MLP "
                           "784-512-256.",
            "limitations": "MNIST has no ground-truth factors, so disentanglement is shown by "
                           "traversals and by the mutual information of each latent with the "
                           "digit class, not by MIG/DCI. beta = 4 trades reconstruction for a "
                           "smoother, more factorised code.",
        },
    ),
    PresetSpec(
        name="beta-vae-capacity-mnist",
        variants=("beta-vae-capacity",),
        description="the recipe of beta-vae-capacity-mnist: C_max 25 nats, gamma 1000",
        model={"latent_dim": 10, "capacity_max": 25.0, "gamma": 1000.0,
               "capacity_num_iter": 20000},
        train={"dataset": "mnist", "epochs": 80, **_LONG_RUN},
        release={
            "summary": "capacity-controlled beta-VAE on MNIST, C_max 25, gamma 1000",
            "eval": {"dataset": "mnist"},
            "figures": {"training_curves.png": "Training curves; lower left: KL against the "
                                               "capacity target C(step)",
                        "traversal.png": _TRAVERSAL},
            "description": "beta-VAE with capacity control (Burgess et al. 2018) on MNIST: "
                           "loss = reconstruction + gamma |KL - C|, gamma = 1000, C raised "
                           "linearly from 0 to 25 nats over 20,000 steps, 10 latents.",
            "limitations": "The KL is held at C by a large gamma, which makes gradients large "
                           "(norms in the tens of thousands) and the loss noisy; the negative "
                           "ELBO is worse than a beta = 1 VAE's by design.",
        },
    ),
    PresetSpec(
        name="beta-vae-dsprites",
        variants=("beta-vae",),
        description="the recipe of beta-vae-dsprites: beta 100 -> 16, the standard dSprites net",
        model={**DSPRITES_NETWORK, "beta": 16.0, "beta_start": 100.0,
               "beta_anneal_steps": 10000},
        train=_BETA_TRAIN,
        release={
            "summary": "beta-VAE (beta annealed 100 -> 16) on procedural dSprites, the standard "
                       "conv network",
            "eval": _DSPRITES_EVAL,
            "figures": _DSPRITES_FIGURES,
            "description": "beta-VAE (Higgins et al. 2017) on procedural dSprites (737,280 64x64 "
                           "binary images of 3 shapes over 6 scales, 40 orientations and 32x32 "
                           "positions): beta annealed linearly down from 100 to 16 over the first "
                           "10,000 steps, then 16, Bernoulli likelihood, 10 latents. The high "
                           "early beta lets only position pay for its nats, so x and y settle "
                           "into one latent each before beta relaxes; with beta 16 from the "
                           "first step (disentanglement_lib's) MIG was 0.12 after 30,000 steps "
                           "and 0.19 after 52,500, and annealing beta up from 1 left position "
                           "spread over several latents (MIG 0.09). "
                           + _network_text("12,000", "0.77 M"),
            "limitations": _DSPRITES_LIMITS,
        },
    ),
    PresetSpec(
        name="beta-vae-capacity-dsprites",
        variants=("beta-vae-capacity",),
        description="the recipe of beta-vae-capacity-dsprites: C -> 5 nats, gamma 1000, conv net",
        model={**DSPRITES_NETWORK, "capacity_max": 5.0, "gamma": 1000.0,
               "capacity_num_iter": 10000},
        train=_CAPACITY_TRAIN,
        release={
            "summary": "beta-VAE with capacity control on procedural dSprites, the standard conv "
                       "network",
            "eval": _DSPRITES_EVAL,
            "figures": {**_DSPRITES_FIGURES,
                        "training_curves.png": "Training curves; lower left: KL against the "
                                               "capacity target C(step)"},
            "description": "beta-VAE with capacity control (Burgess et al. 2018) on procedural "
                           "dSprites: loss = reconstruction + gamma |KL - C|, gamma = 1000, C "
                           "raised linearly from 0 to 5 nats over 10,000 steps, 10 latents "
                           "(with C raised to 10 nats MIG fell from 0.22 at C = 4 to 0.17: the "
                           "extra capacity went into position precision and leaked into unused "
                           "latents). "
                           + _network_text("15,000", "0.96 M"),
            "limitations": _DSPRITES_LIMITS,
        },
    ),
)
