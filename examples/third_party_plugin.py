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
# # Writing a third-party plugin: from `zoo new-plugin` to a trained, published model
#
# Every model variant in the zoo is a plugin, the first-party ones included: a module with
# `@zoo.hookimpl` functions that register a `zoo.VariantSpec` (its config class, a factory that
# builds the Flax NNX model, its loss, and what it can do), found through the `zoo` entry-point
# group of an installed distribution. A variant you `pip install` is then used exactly like the
# built-in ones: `zoo train`, `zoo eval`, `zoo.load`, the pictures, the Hub.
#
# `zoo new-plugin NAME` writes a complete, pip-installable plugin to start from: a small
# Gaussian VAE split into `plugin.py` (registration only, cheap to import), `config.py`,
# `model.py` and `loss.py`, its entry points in `pyproject.toml`, and tests that run zoo's
# conformance kit. The usual next steps are `pip install -e zoo-NAME` and `pytest` in it.
#
# So that it runs anywhere without installing anything, this example registers the generated
# plugin in this process instead (`zoo.plugins.get_manager().register(module)`, what the entry
# point does when the package is installed), then checks it with the conformance kit, trains
# it, evaluates it and publishes it.
#
# **Modes.** `ZOO_EXAMPLES_QUICK=1`: 200 training steps on a slice of MNIST, evaluated on 1,000
# test images (seconds). Without it: 10 epochs on MNIST and the whole test split. The plugin is
# written to `examples/out/third_party_plugin/zoo-example-vae/` (or under `$ZOO_EXAMPLES_OUT`)
# once; a re-run uses it as it is, so you can edit it and run again. The push runs only when
# `ZOO_EXAMPLES_HUB_REPO=org/name` is set (with `HF_TOKEN`, and `HF_ENDPOINT` for a Hub other
# than huggingface.co).

# %%
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import zoo
import zoo.cards
import zoo.evaluate
import zoo.train
from zoo import viz
from zoo.plugins import get_manager
from zoo.testing import check_plugin
from zoo.train import TrainConfig

QUICK = os.environ.get("ZOO_EXAMPLES_QUICK", "0") not in ("", "0")
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("ZOO_EXAMPLES_OUT", HERE / "out")) / "third_party_plugin"
RUNS = OUT / ("runs-quick" if QUICK else "runs")
OUT.mkdir(parents=True, exist_ok=True)
HUB_REPO = os.environ.get("ZOO_EXAMPLES_HUB_REPO", "")
print(f"{'quick' if QUICK else 'full'} mode: plugin, runs and pictures in {OUT}")


def show(path):
    """Show a picture inline in a notebook; in a script, say where it was written."""
    print(f"wrote {path}")
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))


def zoo_cli(*args):
    """Run the `zoo` command (as `python -m zoo.cli`, so the same environment as this kernel)."""
    done = subprocess.run([sys.executable, "-m", "zoo.cli", *args], check=True,
                          capture_output=True, text=True)
    return done.stdout


# %% [markdown]
# ## 1. Generate the plugin
#
# `zoo new-plugin example-vae` makes distribution `zoo-example-vae`, package `zoo_example_vae`
# and variant `example-vae`. It never overwrites a directory.

# %%
PLUGIN = OUT / "zoo-example-vae"
if not PLUGIN.exists():
    zoo_cli("new-plugin", "example-vae", "--dir", str(OUT))
for path in sorted(PLUGIN.rglob("*")):
    if path.is_file() and "__pycache__" not in path.parts:
        print(path.relative_to(OUT))

# %% [markdown]
# `pyproject.toml` declares the entry point (group `zoo`: the plugin's name and the module with
# its hooks) and, in group `zoo.names`, every name the plugin provides, so that
# `zoo.load("example-vae")` imports only this plugin:

# %%
text = (PLUGIN / "pyproject.toml").read_text()
print(text[text.index("[project.entry-points.zoo]"):text.index("[tool.setuptools")])

# %% [markdown]
# `plugin.py` registers the variant; the model and loss are imported lazily on the first build
# (`zoo.lazy`), so `zoo list` stays fast:

# %%
print((PLUGIN / "src" / "zoo_example_vae" / "plugin.py").read_text())

# %% [markdown]
# ## 2. Register it in this process
#
# Installed with `pip install -e`, the plugin would be found through its entry point. Here we
# put its source on the import path and register the module by hand, under the plugin's name.

# %%
sys.path.insert(0, str(PLUGIN / "src"))
plugin = importlib.import_module("zoo_example_vae.plugin")
if "example-vae" not in zoo.list_variants():  # not installed, not registered yet
    info = get_manager().register(plugin, name="example-vae", distribution="zoo-example-vae")
    assert not info.errors, info.errors
print(zoo.get_variant("example-vae").description)
print(zoo.get_variant("example-vae").default_config)

# %% [markdown]
# ## 3. The conformance kit
#
# `zoo.testing.check_plugin` runs the checks the generated tests run under pytest (fixture
# `zoo_check_plugin`): the model builds from its tiny config, its outputs have the declared
# keys and shapes, loss and gradients are finite under `jit`, the config survives a JSON round
# trip and save/load is bit-exact.

# %%
with tempfile.TemporaryDirectory() as scratch:
    checked = check_plugin(plugin, scratch, name="example-vae")
print(f"conformance kit passed for: {', '.join(checked)}")

# %% [markdown]
# ## 4. Train and evaluate it like any variant
#
# The same as `zoo train example-vae --dataset mnist --out RUN` once the plugin is installed.

# %%
train_config = TrainConfig(dataset="mnist", epochs=10, log_every=100, eval_every=2000,
                           checkpoint_every=2000)
if QUICK:
    train_config = train_config.replace(
        max_steps=200, batch_size=64, train_limit=8192, validation_size=1000,
        eval_every=100, checkpoint_every=200, log_every=50)
run = RUNS / "example-vae"
zoo.train.train("example-vae", out=run, train_config=train_config,
                resume=(run / "run.json").exists(), progress=not QUICK, pictures=False)
result = zoo.evaluate.evaluate(run, "mnist", **({"max_examples": 1000} if QUICK else {}))
print(f"example-vae on MNIST: negative ELBO {result['negative_elbo']:.1f} nats, KL "
      f"{result['kl_total']:.1f} nats, MSE {result['reconstruction_mse']:.4f}, "
      f"{result['active_units_kl']}/{len(result['kl_per_dim'])} active units")

# %%
model = zoo.load(run)
digits = zoo.load_dataset("mnist", "test").images[:16].astype(np.float32) / 255.0
show(viz.save_reconstructions(OUT / "reconstructions.png", digits,
                              viz.reconstruct_model(model, digits), title="example-vae"))
show(viz.save_samples(OUT / "samples.png", viz.sample_model(model, 16, seed=0),
                      title="example-vae: samples from the prior"))

# %% [markdown]
# ## 5. Publish it
#
# `config.json` of the saved model names the variant, its plugin (`example-vae`) and
# distribution (`zoo-example-vae`), so whoever loads it from the Hub is told what to install.

# %%
if not HUB_REPO:
    print("no push: set ZOO_EXAMPLES_HUB_REPO=org/name (and HF_TOKEN, HF_ENDPOINT for your own "
          "Hub) to push this model. From the command line:\n"
          f"  zoo eval {run} --dataset mnist --output eval.json\n"
          f"  zoo push {run} org/example-vae-mnist --eval eval.json")
else:
    sha = zoo.push(run, HUB_REPO, card=zoo.cards.card_from_eval(result, model=str(run / "best")))
    print(f"pushed {run / 'best'} to {HUB_REPO}: commit {sha}")
    again = zoo.load(f"hf-hub:{HUB_REPO}@{sha}")
    same = np.array_equal(viz.reconstruct_model(again, digits),
                          viz.reconstruct_model(model, digits))
    assert same
    print(f"loaded back from hf-hub:{HUB_REPO}@{sha[:12]}...: the same model")

# %% [markdown]
# ## 6. Make it permanent
#
#     pip install -e examples/out/third_party_plugin/zoo-example-vae"[test]"
#     cd examples/out/third_party_plugin/zoo-example-vae && pytest   # the conformance kit
#     zoo plugins                          # plugin 'example-vae', distribution zoo-example-vae
#     zoo train example-vae --dataset mnist --preset smoke --out runs/example
#
# Then make it yours: change `model.py` and `loss.py`, add fields to `config.py`, register a
# recipe (`zoo_register_presets`) and, once trained, ship the weights inside the package with
# `zoo bundle` (see CONTRIBUTING.md; `plugins/zoo-betatcvae` is a complete worked example).
