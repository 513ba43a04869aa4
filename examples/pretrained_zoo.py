# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The pretrained zoo: load, evaluate, reconstruct, push
#
# The zoo's trained models ship inside the plugins that define their variants (and the core,
# for the evaluation classifier), so `zoo.load(NAME)` works offline: the bundled files are
# checked against the sha256 their plugin declares. Each has a model card in `model_cards/`
# with the numbers measured on it and the command that measured them, and the recipe (preset)
# that trained it.
#
# This example lists them, measures each MNIST model as its card did, reconstructs the same
# digits with every VAE, and publishes one to a Hugging Face Hub and loads it back, pinned to
# the commit.
#
# **Modes.** `ZOO_EXAMPLES_QUICK=1`: 500 test images per model and no importance-weighted NLL
# (seconds). Without it: each card's own evaluation options (the whole test split; K = 1000
# importance samples for `vae-mnist`), which reproduce the cards' numbers (`zoo check-cards`
# checks the same). Pictures go to `examples/out/pretrained_zoo/` (or under
# `$ZOO_EXAMPLES_OUT`).
#
# **The push** runs only when `ZOO_EXAMPLES_HUB_REPO=org/name` names a repository to push to,
# on the Hub that `HF_ENDPOINT` points at (default huggingface.co) with the write token in
# `HF_TOKEN`; without it the example prints the commands instead. The test suite runs it
# against a local Hub-compatible server (`tests/hub_server.py`).

# %%
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import zoo
import zoo.cards
import zoo.evaluate
from zoo import viz
from zoo.presets import list_presets

QUICK = os.environ.get("ZOO_EXAMPLES_QUICK", "0") not in ("", "0")
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("ZOO_EXAMPLES_OUT", HERE / "out")) / "pretrained_zoo"
OUT.mkdir(parents=True, exist_ok=True)
HUB_REPO = os.environ.get("ZOO_EXAMPLES_HUB_REPO", "")
print(f"{'quick' if QUICK else 'full'} mode: pictures in {OUT}")


def show(path):
    """Show a picture inline in a notebook; in a script, say where it was written."""
    print(f"wrote {path}")
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))


def print_table(header, rows):
    """Print rows as aligned columns (floats to 4 significant digits)."""
    cells = [header] + [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)))


# %% [markdown]
# ## What is there
#
# `zoo list` (here with `--json`, from Python) lists variants and pretrained models;
# `zoo info NAME` shows one entry, `zoo list --presets` the recipes.

# %%
listing = json.loads(subprocess.run([sys.executable, "-m", "zoo.cli", "list", "--json"],
                                     check=True, capture_output=True, text=True).stdout)
pretrained = [entry for entry in listing if entry["kind"] == "pretrained"]
print_table(["name", "plugin", "what"],
            [[e["name"], e["plugin"], e["description"]] for e in pretrained])

# %% [markdown]
# ## Measure them as their cards did
#
# A recipe's `release["eval"]` records the evaluation options behind its card's numbers. The
# dSprites models are measured in `dsprites_disentanglement.py`.

# %%
recipes = {p.name: p for p in list_presets()}
models, results = {}, {}
for entry in pretrained:
    name = entry["name"]
    options = dict(recipes[name].release["eval"])
    dataset = options.pop("dataset")
    if dataset != "mnist":
        print(f"skipping {name} (dataset {dataset})")
        continue
    if QUICK:
        options = {"split": options.get("split", "test"), "binarize": options.get("binarize",
                   False), "max_examples": 500}
    models[name] = zoo.load(name)
    results[name] = zoo.evaluate.evaluate(models[name], dataset, **options)


def headline(result):
    """The numbers a card leads with, for whatever kind of model measured ``result``."""
    keys = [("accuracy", "accuracy"), ("reconstruction_mse", "MSE"),
            ("negative_elbo", "-ELBO"), ("iw_nll", "IW-NLL"), ("kl_total", "KL"),
            ("conditional_accuracy", "cond. acc."), ("fid_zoo_classifier", "FID")]
    parts = [f"{label} {result[key]:.4g}" for key, label in keys if key in result]
    if "codebook" in result:
        parts.append(f"perplexity {result['codebook']['perplexity']:.1f}")
    return ", ".join(parts)


print_table(["model", "examples", "binarized", "numbers"],
            [[name, r["examples"], r["binarized"], headline(r)] for name, r in results.items()])

# %% [markdown]
# ## The same digits, through every VAE
#
# `zoo.viz.reconstruct_model` calls the model's `reconstruct` (the posterior mean decoded; a
# conditional model also takes the labels). The classifier has no decoder and is left out.

# %%
test = zoo.load_dataset("mnist", "test")
digits = test.images[:10].astype(np.float32) / 255.0
labels = np.asarray(test.labels[:10], np.int32)
rows, names = [digits], ["input"]
for name, model in models.items():
    variant = zoo.get_variant(recipes[name].variants[0])  # what the model can do
    if variant.latent == "none":  # a classifier
        continue
    rows.append(viz.reconstruct_model(model, digits, labels if variant.conditional else None))
    names.append(name)
show(viz.save_class_grid(OUT / "reconstructions.png", np.stack(rows), names,
                         title="Test digits (top row) and each model's reconstruction"))

# %% [markdown]
# ## Publish to a Hub, load it back pinned
#
# `zoo.push` writes `model.safetensors`, `config.json` and a model card (`README.md`, with the
# measured metrics in the Hub's model-index) in one commit and returns the commit's sha; an
# unchanged re-push makes no new commit. `zoo.load("hf-hub:org/name@sha")` loads exactly that
# commit, every file checked against the Hub's hashes. From the command line:
#
#     zoo eval runs/vq/best --dataset mnist --output eval.json
#     zoo push runs/vq org/name --eval eval.json
#     zoo download hf-hub:org/name@SHA       # pre-fetch into the HF cache

# %%
name = "vqvae-mnist"
if not HUB_REPO:
    print("no push: set ZOO_EXAMPLES_HUB_REPO=org/name (and HF_TOKEN, HF_ENDPOINT for your own "
          "Hub) to push this model")
else:
    card = zoo.cards.card_from_eval(results[name], model=name)
    sha = zoo.push(models[name], HUB_REPO, card=card)
    print(f"pushed {name} to {HUB_REPO} at {os.environ.get('HF_ENDPOINT', 'huggingface.co')}: "
          f"commit {sha}")
    again = zoo.load(f"hf-hub:{HUB_REPO}@{sha}")
    same = np.array_equal(viz.reconstruct_model(again, digits),
                          viz.reconstruct_model(models[name], digits))
    print(f"loaded back from hf-hub:{HUB_REPO}@{sha[:12]}...: same reconstructions: {same}")
    assert same
    print(f"pushed again: new commit: {zoo.push(models[name], HUB_REPO, card=card).changed}")
    print(f"cached at {zoo.download(f'hf-hub:{HUB_REPO}@{sha}')}")
