"""Reproduce, measure and bundle the zoo's own pretrained models.

    python scripts/pretrained.py train NAME --runs runs/       # zoo train VARIANT --preset NAME
    python scripts/pretrained.py bundle NAME --runs runs/      # zoo eval + figures + zoo bundle
    python scripts/pretrained.py list

Each recipe below is the single record of how a published model was made: the training command
(a preset of zoo/presets.py: config and seed), the evaluation options its card's numbers come
from, the figures its card shows, and the plugin package it ships in. ``bundle`` writes the
weights into the plugin, its manifest entry and ``model_cards/NAME.md``; ``zoo check-cards``
measures them again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPO_ORG = "vae-zoo"

RECIPES: dict[str, dict[str, Any]] = {
    "vqvae-mnist": {
        "summary": "VQ-VAE on MNIST, CNN, 512-code EMA codebook",
        "variant": "vqvae", "package": "plugins/zoo-vqvae/zoo_vqvae",
        "train": ["--preset", "vqvae-mnist"],
        "eval": {"dataset": "mnist"},
        "figures": {"reconstructions.png": "Test digits (top) and their reconstructions",
                    "codebook_usage.png": "Codebook usage over the test split"},
        "description": "VQ-VAE (van den Oord et al. 2017) on MNIST: CNN encoder to a 7x7 grid of "
                       "16-d vectors, 512-code EMA codebook with dead-code reset.",
        "limitations": "Reconstructs MNIST-like 28x28 digits; it has no prior over code grids, "
                       "so it does not generate new images by itself (fit a prior, e.g. a "
                       "PixelCNN, over its codes for that). MSE is per pixel in [0, 1].",
    },
    "vae-mnist": {
        "summary": "the reference VAE on binarised MNIST (beta = 1, 32 latents)",
        "variant": "beta-vae", "package": "plugins/zoo-beta-vae/zoo_beta_vae",
        "train": ["--preset", "vae-mnist"],
        "eval": {"dataset": "mnist", "binarize": True, "iw_samples": 1000, "iw_examples": 2000},
        "figures": {"samples.png": "Samples from the prior",
                    "reconstructions.png": "Test digits (top) and their reconstructions"},
        "description": "The reference VAE (Kingma & Welling 2014; beta = 1): MLP 784-512-256, "
                       "32 Gaussian latents, Bernoulli likelihood, trained on dynamically "
                       "binarised MNIST.",
        "limitations": "The importance-weighted NLL is measured on the first 2,000 test "
                       "images, binarised once with seed 0, with K = 1000 samples; published "
                       "numbers use all 10,000 test images and K = 5000, so compare within "
                       "about one standard error. Samples are blurry, as a VAE's are.",
    },
    "beta-vae-mnist": {
        "summary": "beta-VAE on MNIST, beta annealed 1 -> 4, 10 latents",
        "variant": "beta-vae", "package": "plugins/zoo-beta-vae/zoo_beta_vae",
        "train": ["--preset", "beta-vae-mnist"],
        "eval": {"dataset": "mnist"},
        "figures": {"traversal.png": "Latent traversals (-3 to 3), latents ordered by KL",
                    "reconstructions.png": "Test digits (top) and their reconstructions"},
        "description": "beta-VAE (Higgins et al. 2017) on MNIST: beta annealed linearly from 1 "
                       "to 4 over the first 5,000 steps, 10 Gaussian latents, MLP 784-512-256.",
        "limitations": "MNIST has no ground-truth factors, so disentanglement is shown by "
                       "traversals and by the mutual information of each latent with the "
                       "digit class, not by MIG/DCI. beta = 4 trades reconstruction for a "
                       "smoother, more factorised code.",
    },
    "beta-vae-capacity-mnist": {
        "summary": "capacity-controlled beta-VAE on MNIST, C_max 25, gamma 1000",
        "variant": "beta-vae-capacity", "package": "plugins/zoo-beta-vae/zoo_beta_vae",
        "train": ["--preset", "beta-vae-capacity-mnist"],
        "eval": {"dataset": "mnist"},
        "figures": {"training_curves.png": "Training curves; lower left: KL against the "
                                           "capacity target C(step)",
                    "traversal.png": "Latent traversals (-3 to 3), latents ordered by KL"},
        "description": "beta-VAE with capacity control (Burgess et al. 2018) on MNIST: loss "
                       "= reconstruction + gamma |KL - C|, gamma = 1000, C raised linearly "
                       "from 0 to 25 nats over 20,000 steps, 10 latents.",
        "limitations": "The KL is held at C by a large gamma, which makes gradients large "
                       "(norms in the tens of thousands) and the loss noisy; the negative "
                       "ELBO is worse than a beta = 1 VAE's by design.",
    },
    "cvae-mnist": {
        "summary": "conditional VAE on MNIST: sample(n, labels) draws chosen digits",
        "variant": "cvae", "package": "plugins/zoo-cvae/zoo_cvae",
        "train": ["--preset", "cvae-mnist"],
        "eval": {"dataset": "mnist"},
        "figures": {"class_samples.png": "Samples of each class (one row per digit)",
                    "reconstructions.png": "Test digits (top) and their reconstructions"},
        "description": "Conditional VAE (Sohn et al. 2015) on MNIST: encoder and decoder see "
                       "a 16-d embedding of the digit class; 16 Gaussian latents; "
                       "`model.sample(n, labels)` draws the digits asked for.",
        "limitations": "Conditional accuracy and FID are judged by zoo's own MNIST classifier "
                       "(classifier-mnist); that FID is not comparable with Inception FIDs.",
    },
    "beta-vae-dsprites": {
        "summary": "beta-VAE with capacity control on procedural dSprites",
        "variant": "beta-vae-capacity", "package": "plugins/zoo-beta-vae/zoo_beta_vae",
        "train": ["--preset", "beta-vae-dsprites"],
        "eval": {"dataset": "dsprites", "split": "train", "dci_model": "gbt"},
        "figures": {"traversal.png": "Latent traversals (-3 to 3), latents ordered by KL",
                    "reconstructions.png": "Images (top) and their reconstructions"},
        "description": "beta-VAE with capacity control (Burgess et al. 2018) on procedural "
                       "dSprites (737,280 64x64 binary images of 3 shapes over 6 scales, 40 "
                       "orientations and 32x32 positions): gamma = 1000, C raised from 0 to 25 "
                       "nats over 15,000 steps of 256 images, 10 latents, MLP 4096-512-256.",
        "limitations": "Disentanglement scores vary a lot with the seed (Locatello et al. "
                       "2019); this is one seed. dSprites has no test split: the metrics are "
                       "measured on the full factor grid, as is customary.",
    },
    # The example third-party plugin's model: plain key=value settings, since a plugin cannot
    # add presets to the core. This list is the recorded config and seed.
    "beta-tcvae-dsprites": {
        "summary": "beta-TCVAE on procedural dSprites (the example third-party plugin)",
        "variant": "beta-tcvae", "package": "plugins/zoo-betatcvae/zoo_betatcvae",
        "train": ["--dataset", "dsprites", "latent_dim=10", "beta=6", "dataset_size=737280",
                  "batch_size=256", "learning_rate=1e-3", "max_steps=36000",
                  "validation_size=10000", "eval_every=4000", "checkpoint_every=1000",
                  "log_every=250", "seed=0"],
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
                       "probes. dSprites has no test split: the metrics are measured on the full "
                       "factor grid, as is customary.",
    },
    "classifier-mnist": {
        "summary": "the zoo's MNIST evaluation classifier",
        "variant": "classifier", "package": None, "pipeline_tag": "image-classification",
        "source": "zoo/metrics/weights/classifier-mnist",
        "train": [], "train_command": "zoo train-classifier --dataset mnist --epochs 3 --seed 0 "
                                      "--out DIR",
        "eval": {"dataset": "mnist"},
        "figures": {},
        "description": "A small CNN (3x3 convolutions with 32, 64, 64 channels, strides 1, 2, 2; "
                       "a 128-d ReLU feature layer; a linear head) trained for 3 epochs with "
                       "2-pixel random shifts and dropout 0.25. zoo uses it to judge generated "
                       "digits: a CVAE's conditional accuracy, and FID on its 128-d features. "
                       "It ships inside the core (vae-zoo).",
        "limitations": "Judges 28x28 MNIST-like digits only. FID on its features is not "
                       "comparable with Inception FIDs. Trained by `zoo train-classifier` "
                       "(its own loop, before the `classifier` variant could be trained by "
                       "`zoo train`).",
    },
}


def _zoo(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "zoo"), *args], check=True)


def cmd_train(args: argparse.Namespace) -> None:
    recipe = RECIPES[args.name]
    if not recipe["train"]:
        raise SystemExit(f"{args.name}: its training command is recorded in its model card")
    _zoo("train", recipe["variant"], *recipe["train"], "--out", str(args.runs / args.name),
         *(["--resume"] if args.resume else []))


def cmd_bundle(args: argparse.Namespace) -> None:
    from zoo.bundle import bundle
    from zoo.evaluate import evaluate

    recipe = RECIPES[args.name]
    run = args.run or args.runs / args.name
    model = ROOT / recipe["source"] if recipe.get("source") else run / "best"
    run.mkdir(parents=True, exist_ok=True)
    options = dict(recipe["eval"])
    dataset = options.pop("dataset")
    saved = run / "eval.json"
    result = json.loads(saved.read_text()) if args.reuse_eval and saved.is_file() else None
    if result is None or any(result["options"].get(k) != v for k, v in options.items()):
        result = evaluate(model, dataset, **options)
        saved.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    figures = [{"title": title, "file": str(run / "plots" / fname)}
               for fname, title in recipe["figures"].items()]
    card = {"limitations": recipe["limitations"], "description": recipe["description"],
            "pipeline_tag": recipe.get("pipeline_tag")}
    if recipe.get("train_command"):
        card["train_command"] = recipe["train_command"]
    if recipe["train"]:
        card["train_command"] = " ".join(["zoo", "train", recipe["variant"], *recipe["train"],
                                          "--out", "RUN"])
    if args.notes:
        card["notes"] = args.notes.read_text(encoding="utf-8")
    package = ROOT / recipe["package"] if recipe["package"] else None
    spec = bundle(model if recipe.get("source") else run, args.name, package, eval_result=result,
                  repo_id=f"{REPO_ORG}/{args.name}", description=recipe["summary"],
                  card=card, figures=figures, cards_dir=ROOT / "model_cards")
    print(json.dumps({"bundled": args.name, "files": dict(spec.files) if spec else None}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("train", cmd_train), ("bundle", cmd_bundle)):
        p = sub.add_parser(name)
        p.add_argument("name", choices=sorted(RECIPES))
        p.add_argument("--runs", type=Path, default=Path("runs"))
        p.add_argument("--run", type=Path, help="the run directory (default RUNS/NAME)")
        p.add_argument("--resume", action="store_true")
        p.add_argument("--reuse-eval", action="store_true",
                       help="reuse RUN/eval.json if it was measured with the recipe's options")
        p.add_argument("--notes", type=Path, help="Markdown added to the card's Notes")
        p.set_defaults(func=func)
    sub.add_parser("list").set_defaults(func=lambda a: print("\n".join(sorted(RECIPES))))
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
