"""The training recipes of the beta-VAE plugin: each is the recorded config and seed of one of
its pretrained models, with what publishing that model needs (``release``: card text, the
evaluation options of the card's numbers, its figures). Data only, no JAX."""

from __future__ import annotations

from zoo import PresetSpec

__all__ = ["PRESETS"]

_LONG_RUN = {"eval_every": 2000, "checkpoint_every": 2000, "log_every": 100, "seed": 0}
_TRAVERSAL = "Latent traversals (-3 to 3), latents ordered by KL"
_RECONSTRUCTIONS = "Test digits (top) and their reconstructions"

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
    # MLP on dSprites; C rises to 25 nats over 15,000 steps of 256 images (3.8 M images).
    PresetSpec(
        name="beta-vae-dsprites",
        variants=("beta-vae-capacity",),
        description="the recipe of beta-vae-dsprites: capacity control on procedural dSprites",
        model={"latent_dim": 10, "capacity_max": 25.0, "gamma": 1000.0,
               "capacity_num_iter": 15000},
        train={"dataset": "dsprites", "batch_size": 256, "learning_rate": 5e-4,
               "max_steps": 20000, "validation_size": 10000, "eval_every": 5000,
               "checkpoint_every": 2500, "log_every": 250, "seed": 0},
        release={
            "summary": "beta-VAE with capacity control on procedural dSprites",
            "eval": {"dataset": "dsprites", "split": "train", "dci_model": "gbt"},
            "figures": {"traversal.png": _TRAVERSAL,
                        "reconstructions.png": "Images (top) and their reconstructions"},
            "description": "beta-VAE with capacity control (Burgess et al. 2018) on procedural "
                           "dSprites (737,280 64x64 binary images of 3 shapes over 6 scales, "
                           "40 orientations and 32x32 positions): gamma = 1000, C raised from "
                           "0 to 25 nats over 15,000 steps of 256 images, 10 latents, MLP "
                           "4096-512-256.",
            "limitations": "Disentanglement scores vary a lot with the seed (Locatello et al. "
                           "2019); this is one seed. dSprites has no test split: the metrics "
                           "are measured on the full factor grid, as is customary.",
        },
    ),
)
