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
# # Conditional VAE: any digit on demand
#
# A conditional VAE (Sohn et al. 2015) gives the label y to both networks: the encoder models
# q(z | x, y), the decoder p(x | z, y), and the prior on z stays N(0, I). Since the decoder is
# told the digit, the latent z does not need to encode it and is left with what the label does
# not say: the *style* (slant, stroke width, size). Two things follow:
#
# - **Generation on demand**: draw z from the prior and decode it with the label you want,
#   `model.sample(n, labels)`.
# - **Style transfer**: encode a digit with its own label, then decode its z with other labels;
#   every digit comes out in the first one's style.
#
# How good the generated digits are is judged by the zoo's own MNIST classifier (the pretrained
# `classifier-mnist`, 99.15% test accuracy): **conditional accuracy** is the share of samples
# it assigns to the class they were asked for (100 per class), and **FID** is the Frechet
# distance between Gaussians fitted to the classifier's features of real test digits and of
# samples (lower is better; it is not comparable with Inception FIDs).
#
# **Modes.** `ZOO_EXAMPLES_QUICK=1`: 300 steps on a slice of MNIST, evaluated on 1,000 test
# images (seconds). Without it: the recipe of the pretrained `cvae-mnist` (`zoo list
# --presets`: 16 latents, a 16-d label embedding, 100 epochs) evaluated on the whole test split,
# which lands on its model card's numbers (conditional accuracy 97.1%, FID 27.9) up to
# run-to-run noise. Pictures go to `examples/out/conditional_vae/` (or under
# `$ZOO_EXAMPLES_OUT`).

# %%
import os
import sys
from pathlib import Path

import jax
import numpy as np

import zoo
import zoo.evaluate
import zoo.train
from zoo import viz
from zoo.presets import get_preset
from zoo.train import TrainConfig

QUICK = os.environ.get("ZOO_EXAMPLES_QUICK", "0") not in ("", "0")
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("ZOO_EXAMPLES_OUT", HERE / "out")) / "conditional_vae"
RUNS = OUT / ("runs-quick" if QUICK else "runs")
OUT.mkdir(parents=True, exist_ok=True)
print(f"{'quick' if QUICK else 'full'} mode: pictures in {OUT}, runs in {RUNS}")


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
# ## Train
#
# `zoo train cvae --preset cvae-mnist --out RUN` from the command line; here, the same from
# Python.

# %%
recipe = get_preset("cvae-mnist", "cvae")
train_config = TrainConfig().replace(**recipe.train)
if QUICK:
    train_config = train_config.replace(
        max_steps=300, batch_size=64, train_limit=8192, validation_size=1000,
        eval_every=150, checkpoint_every=300, log_every=50)
EVAL = {"max_examples": 1000} if QUICK else {}  # full mode: the whole test split
run = RUNS / "cvae"
zoo.train.train("cvae", out=run, train_config=train_config, model_overrides=dict(recipe.model),
                resume=(run / "run.json").exists(), progress=not QUICK, pictures=False)
models = {"this run": zoo.load(run), "cvae-mnist (pretrained)": zoo.load("cvae-mnist")}

# %% [markdown]
# ## Each digit on demand
#
# `model.sample(n, labels, rngs=key)` draws z ~ N(0, I) and decodes it with the labels given
# (one int for all n, or an integer array [n]). One row per digit:

# %%
per_class = 10
labels = np.repeat(np.arange(10), per_class)
for name, model in models.items():
    samples = np.asarray(model.sample(len(labels), labels, rngs=jax.random.key(0)))
    grid = samples.reshape(10, per_class, *samples.shape[1:])
    slug = "pretrained" if "pretrained" in name else "run"
    show(viz.save_class_grid(OUT / f"class_samples_{slug}.png", grid, [str(d) for d in range(10)],
                             title=f"{name}: model.sample(n, labels), one row per label"))

# %% [markdown]
# ## Style transfer
#
# Encode eight test digits with their own labels (the posterior mean is their style), then
# decode each style with every label: each row is one writer's hand, each column one digit.

# %%
test = zoo.load_dataset("mnist", "test")
x = test.images[:8].astype(np.float32) / 255.0
y = np.asarray(test.labels[:8], np.int32)
for name, model in models.items():
    style, _ = model.encode(x, y)  # posterior means [8, D]
    z = np.repeat(np.asarray(style), 10, axis=0)  # each style 10 times
    digits = np.tile(np.arange(10, dtype=np.int32), len(x))  # with each label
    images = np.asarray(model.decode(z, digits)).reshape(len(x), 10, *x.shape[1:])
    rows = np.concatenate([x[:, None], images], axis=1)  # the source digit first
    slug = "pretrained" if "pretrained" in name else "run"
    show(viz.save_class_grid(OUT / f"style_transfer_{slug}.png", rows,
                             [f"test #{i}, a {d}" for i, d in enumerate(y)],
                             title=f"{name}: source digit, then its style decoded as 0..9"))

# %% [markdown]
# ## Conditional accuracy and FID
#
# `zoo.evaluate.evaluate` samples 100 digits of each class, classifies them with the bundled
# classifier and computes FID on its features, besides the usual VAE numbers.

# %%
results = {name: zoo.evaluate.evaluate(model, "mnist", **EVAL) for name, model in models.items()}
judge = next(iter(results.values()))["classifier"]
print(f"judged by: {judge['name']} (test accuracy {judge['test_accuracy']:.4f})")
print_table(["model", "cond. accuracy", "FID (classifier)", "-ELBO", "KL (nats)", "MSE"],
            [[name, r["conditional_accuracy"], r["fid_zoo_classifier"], r["negative_elbo"],
              r["kl_total"], r["reconstruction_mse"]] for name, r in results.items()])

# %% [markdown]
# Per class, the classifier's verdict on the pretrained model's samples shows which digits are
# hardest to draw. (`zoo.load("classifier-mnist")` is the classifier; `logits(x)` its output.)

# %%
classifier = zoo.load("classifier-mnist")
model = models["cvae-mnist (pretrained)"]
asked = np.repeat(np.arange(10), 100)
samples = np.asarray(model.sample(len(asked), asked, rngs=jax.random.key(1)))
predicted = np.asarray(classifier.logits(samples)).argmax(axis=-1)
print_table(["digit", *map(str, range(10))],
            [["accuracy", *[float(np.mean(predicted[asked == d] == d)) for d in range(10)]]])
