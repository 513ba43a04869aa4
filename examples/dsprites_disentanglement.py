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
# # Measuring disentanglement on dSprites: MIG, DCI and SAP
#
# dSprites (Matthey et al. 2017) is the standard test bed for disentanglement because every
# image is generated from five known, independent factors: shape (3 values), scale (6),
# orientation (40), x position (32) and y position (32), one image per combination, 737,280 in
# all. A representation is *disentangled* when each factor is captured by its own latent and
# each latent captures one factor. With the factors known, that can be measured; the field uses
# several scores because each rewards a different part of the idea:
#
# - **MIG**, the mutual information gap (Chen et al. 2018): for each factor, the mutual
#   information of the most informative latent minus that of the runner-up, divided by the
#   factor's entropy; averaged over factors. It rewards a factor concentrated in *one* latent,
#   and is blind to one latent holding several factors.
# - **DCI** (Eastwood & Williams 2018): a regressor (gradient-boosted trees in
#   disentanglement_lib) predicts each factor from all latents, and its feature importances form
#   a latents x factors matrix. *Disentanglement*: each latent's importance sits on one factor;
#   *completeness*: each factor's importance sits on one latent; *informativeness*: how well the
#   factors are predicted at all (here, test accuracy).
# - **SAP**, separated attribute predictability (Kumar et al. 2018): for each factor, how well
#   the best single latent predicts it (a linear classifier's accuracy) minus the second best;
#   averaged. Like MIG, but with a predictor instead of mutual information.
#
# All three are computed on posterior means, with disentanglement_lib's protocol (10,000 points
# of the factor grid; dSprites has no test split). This example measures the pretrained dSprites
# models the zoo ships and draws, for each, the mutual-information matrix behind MIG and a
# traversal whose rows are labelled by the factor each latent captures.
#
# **Modes.** `ZOO_EXAMPLES_QUICK=1`: 1,000 points and a lasso for DCI's importances (seconds).
# Without it: the cards' protocol (10,000 points, gradient-boosted trees; minutes per model on
# two CPU cores), which reproduces the numbers in `model_cards/`. When no pretrained dSprites
# model is installed, the example trains the `beta-vae-dsprites` recipe itself (100 steps in
# quick mode; the whole recipe, about half an hour on two CPU cores, in full mode). Pictures and
# runs go to `examples/out/dsprites_disentanglement/` (or under `$ZOO_EXAMPLES_OUT`).

# %%
import os
import sys
from pathlib import Path

import zoo
import zoo.evaluate
import zoo.train
from zoo import viz
from zoo.presets import get_preset
from zoo.train import TrainConfig

QUICK = os.environ.get("ZOO_EXAMPLES_QUICK", "0") not in ("", "0")
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("ZOO_EXAMPLES_OUT", HERE / "out")) / "dsprites_disentanglement"
RUNS = OUT / ("runs-quick" if QUICK else "runs")
OUT.mkdir(parents=True, exist_ok=True)
print(f"{'quick' if QUICK else 'full'} mode: pictures in {OUT}")

POINTS = 1000 if QUICK else 10_000
DCI_MODEL = "lasso" if QUICK else "gbt"


def show(path):
    """Show a picture inline in a notebook; in a script, say where it was written."""
    print(f"wrote {path}")
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))


def print_table(header, rows):
    """Print rows as aligned columns (floats to 3 decimals)."""
    cells = [header] + [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)))


# %% [markdown]
# ## The models
#
# Three dSprites recipes exist (`zoo list --presets`): beta-VAE, beta-VAE with capacity control
# and beta-TCVAE (from the example third-party plugin `zoo-betatcvae`). Each ships bundled
# weights with its plugin; one whose plugin is not installed is skipped. Train one yourself with,
# e.g., `zoo train beta-vae --preset beta-vae-dsprites --out RUN` and pass `RUN` to `zoo.load`
# instead of the name.

# %%
NAMES = ["beta-vae-dsprites", "beta-vae-capacity-dsprites", "beta-tcvae-dsprites"]
models = {}
for name in NAMES:
    try:
        models[name] = zoo.load(name)
    except zoo.UnknownNameError:
        print(f"skipping {name}: no pretrained weights are installed under that name")
        continue
    config = models[name].config
    print(f"{name}: {config.architecture} encoder, {config.latent_dim} latents")

# %% [markdown]
# If none is installed, train the `beta-vae-dsprites` recipe here (beta annealed down from 100
# to 16, disentanglement_lib's convolutional network), so that the rest has a model to measure:
# `zoo train beta-vae --preset beta-vae-dsprites --out RUN` does the same. The quick mode's 100
# steps only show the mechanics; its scores are near zero.

# %%
if not models:
    recipe = get_preset("beta-vae-dsprites", "beta-vae")
    train_config = TrainConfig().replace(**recipe.train)
    if QUICK:
        train_config = train_config.replace(max_steps=100, train_limit=8192, validation_size=512,
                                            eval_every=100, checkpoint_every=100, log_every=10)
    run = RUNS / "beta-vae-dsprites"
    print(f"no pretrained dSprites model installed: training the recipe into {run} "
          f"({train_config.max_steps:,} steps)")
    zoo.train.train("beta-vae", out=run, train_config=train_config,
                    model_overrides=dict(recipe.model), resume=(run / "run.json").exists(),
                    progress=not QUICK, pictures=False)
    models["beta-vae-dsprites (trained here)"] = zoo.load(run)

# %% [markdown]
# ## Scores
#
# `only_disentanglement=True` encodes only the points the scores use (1.5 x `POINTS`: the extra
# half is DCI's and SAP's held-out split).

# %%
dsprites = zoo.load_dataset("dsprites", "train")
scores = {}
for name, model in models.items():
    result = zoo.evaluate.evaluate(model, "dsprites", split="train", only_disentanglement=True,
                                   disentanglement_points=POINTS, dci_model=DCI_MODEL)
    scores[name] = result["disentanglement"]
print(f"{POINTS:,} points, DCI importances from {DCI_MODEL}")
print_table(["model", "MIG", "DCI dis.", "DCI comp.", "DCI info.", "SAP"],
            [[name, s["mig"]["mig"], s["dci"]["disentanglement"], s["dci"]["completeness"],
              s["dci"]["informativeness_test"], s["sap"]["sap"]] for name, s in scores.items()])

# %% [markdown]
# MIG per factor shows which factors are captured by one latent and which are spread out:

# %%
factors = list(dsprites.factor_names)
print_table(["model", *factors],
            [[name, *map(float, s["mig"]["per_factor"])] for name, s in scores.items()])

# %% [markdown]
# ## The mutual-information matrix, and traversals labelled by factor
#
# `zoo.viz.latent_factors` measures I(z_d; factor_k) as MIG does, on the points the scores above
# used (the same seeded draw of `POINTS` from the grid, so its MIG is the table's), and labels
# each latent with the factor it captures most (or "inactive" when its KL is below
# 0.01 nats). `zoo.viz.factor_traversal` draws the traversal with those labels and, with
# `mutual_info_path`, the heatmap of I(z_d; factor_k) / H(factor_k). A disentangled model's
# heatmap has one bright cell per row and per column.

# %%
for name, model in models.items():
    info = viz.latent_factors(model, dsprites, points=POINTS)
    print(f"{name}: MIG {info['mig']:.3f}")
    for row in info["rows"]:
        print("   ", row.label)
    slug = name.split()[0]
    traversal, heatmap = viz.factor_traversal(
        model, dsprites, OUT / f"{slug}_traversal.png",
        mutual_info_path=OUT / f"{slug}_mutual_info.png", points=POINTS)
    show(heatmap)
    show(traversal)

# %% [markdown]
# `zoo.viz.save_mutual_info` draws the same heatmap from any matrix; here the MI matrix of the
# evaluation above, in latent order:

# %%
first = next(iter(scores))
mig = scores[first]["mig"]
show(viz.save_mutual_info(OUT / "mutual_info_matrix.png", mig["mutual_info"], mig["entropy"],
                          factors, title=f"{first}: I(z; factor) / H(factor), "
                                         f"{mig['num_points']:,} points"))

# %% [markdown]
# ## Reading the numbers
#
# - Scores vary a lot with the random seed of training (Locatello et al. 2019), so a recipe is
#   judged over several seeds; each model card lists them.
# - Position (pos_x, pos_y) is the easiest factor to isolate; shape is the hardest (a few
#   discrete values that no single smooth latent orders). Orientation is 2-fold symmetric for
#   ellipses and 4-fold for squares (different values, the same image), which caps how much
#   any latent can tell about it.
# - Compare scores only under the same protocol. The quick mode's lasso gives sparse importances,
#   which inflate DCI disentanglement next to the cards' gradient-boosted trees, and 1,000
#   points make every score noisier.
# - The full mode's numbers are the model cards' (`zoo check-cards` measures them again).
