"""The issue's bad-input list, end to end through the ``zoo`` command in fresh processes: broken
plugins installed next to a good one (as ``.dist-info`` folders on ``PYTHONPATH``). Each problem
is reported with the plugin's name and the fix; the good plugin and the CLI keep working."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .plugin_helpers import make_distribution

_MODEL = """
import dataclasses
import numpy as np
import jax.numpy as jnp
import zoo
from zoo.data import ArrayDataset
from zoo.losses import gaussian_elbo_terms
from zoo.vae import GaussianVAE

@dataclasses.dataclass(frozen=True)
class Cfg(zoo.ImageModelConfig):
    height: int = 8
    width: int = 8
    hidden_dims: tuple[int, ...] | None = (16,)
    latent_dim: int = 3

def spec(name, loss, factory=GaussianVAE):
    return zoo.VariantSpec(name=name, config_class=Cfg, default_config=Cfg(), factory=factory,
                           loss=loss)
"""

_PLUGINS = {
    "zoo-good": _MODEL + """
def loss(outputs, x, *, config, step):
    rec, kl = gaussian_elbo_terms(outputs, x, "bernoulli")
    return rec + kl.sum(), {"loss": rec + kl.sum()}

def load(partition, *, cache_dir=None, **options):
    rng = np.random.default_rng(0 if partition == "train" else 1)
    images = (rng.random((128, 8, 8, 1)) < 0.3).astype(np.uint8) * 255
    return ArrayDataset(images=images, labels=None, name="noise", split=partition)

@zoo.hookimpl
def zoo_register_variants(register):
    register(spec("good-vae", loss))
    register(spec("shared", loss))

@zoo.hookimpl
def zoo_register_datasets(register):
    register(zoo.DatasetSpec(name="noise", loader=load, image_shape=(8, 8, 1)))
""",
    "zoo-bad-import": "import a_dependency_that_is_not_installed\n",
    "zoo-bad-hook": """
import zoo

@zoo.hookimpl
def zoo_register_variants(register):
    raise RuntimeError("settings file missing")
""",
    "zoo-bad-factory": _MODEL + """
@zoo.hookimpl
def zoo_register_variants(register):
    register(spec("bad-factory", loss=lambda outputs, x, *, config, step: (0.0, {}),
                  factory=lambda config, *, rngs: {"not": "a module"}))
""",
    "zoo-nan-loss": _MODEL + """
def loss(outputs, x, *, config, step):
    rec, kl = gaussian_elbo_terms(outputs, x, "bernoulli")
    return rec + kl.sum() * jnp.nan, {}

@zoo.hookimpl
def zoo_register_variants(register):
    register(spec("nan-loss", loss))
""",
    "zoo-shape-loss": _MODEL + """
def loss(outputs, x, *, config, step):
    rec, kl = gaussian_elbo_terms(outputs, x, "bernoulli")
    return rec + kl, {}  # [D]: forgot to sum the KL over dimensions

@zoo.hookimpl
def zoo_register_variants(register):
    register(spec("shape-loss", loss))
""",
    "zoo-dup": _MODEL + """
def loss(outputs, x, *, config, step):
    rec, kl = gaussian_elbo_terms(outputs, x, "bernoulli")
    return rec + kl.sum(), {}

@zoo.hookimpl
def zoo_register_variants(register):
    register(spec("shared", loss))
    register(spec("dup-only", loss))
""",
}
_TRAIN = ["--dataset", "noise", "--no-progress", "max_steps=4", "batch_size=16",
          "validation_size=32", "log_every=2", "eval_every=4", "checkpoint_every=4"]


@pytest.fixture(scope="module")
def zoo_cli(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    for dist, body in _PLUGINS.items():
        make_distribution(site, dist, "0.1", dist.replace("-", "_"), body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path]),
           "ZOO_PLUGINS": ",".join(_PLUGINS), "HF_HUB_OFFLINE": "1"}
    for key in ("ZOO_STRICT_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD", "PYTHONWARNINGS"):
        env.pop(key, None)

    def run(*args: str, cwd=None, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zoo.cli", *args], env={**env, **extra_env},
                              cwd=cwd or tmp_path_factory.mktemp("cwd"), capture_output=True,
                              text=True, timeout=300)

    return run


def test_listing_reports_every_broken_plugin_and_keeps_the_rest(zoo_cli) -> None:
    out = zoo_cli("plugins")
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("zoo: warning: ")]
    assert len(warnings) == 3, out.stderr  # import, hook, name reuse; one line each
    assert "Traceback" not in out.stderr and "plugins.py:" not in out.stderr
    text = out.stdout
    assert "'zoo-bad-import'" in text and "a_dependency_that_is_not_installed" in text
    assert "reinstall or fix it, or exclude it with ZOO_PLUGINS" in text
    assert "'zoo-bad-hook' failed in zoo_register_variants: RuntimeError: settings file missing" \
        in text and "fix or upgrade the plugin" in text
    conflict = "name 'shared' is registered by plugins 'zoo-dup' and 'zoo-good'"
    assert text.count(conflict) == 2  # on both plugins' entries
    listing = zoo_cli("list")
    assert listing.returncode == 0, listing.stderr
    names = {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
    assert {"good-vae", "dup-only", "bad-factory", "nan-loss", "shape-loss"} <= names
    assert "shared" not in names


def test_strict_mode_makes_a_broken_plugin_fatal(zoo_cli) -> None:
    out = zoo_cli("list", ZOO_STRICT_PLUGINS="1")
    assert out.returncode == 2
    assert out.stderr.startswith("zoo: error: ") and "plugin" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(("variant", "expected"), [
    ("bad-factory", "plugin 'zoo-bad-factory': the factory of variant 'bad-factory' returned "
                    "dict, not a flax.nnx.Module; return the model instance"),
    ("nan-loss", "the loss of variant 'nan-loss' (plugin 'zoo-nan-loss') may be at fault"),
    ("shape-loss", "the loss of variant 'shape-loss' (plugin 'zoo-shape-loss') returned a loss "
                   "of shape (3,)"),
    ("shared", "name 'shared' is registered by plugins 'zoo-dup' and 'zoo-good'"),
])
def test_training_a_broken_variant_names_the_plugin_and_the_fix(zoo_cli, variant,
                                                               expected) -> None:
    out = zoo_cli("train", variant, "--out", "run", *_TRAIN)
    assert out.returncode == 2, out.stdout + out.stderr
    error = out.stderr.strip().splitlines()[-1]
    assert error.startswith("zoo: error: ") and expected in error, out.stderr


def test_the_good_plugin_trains_beside_the_broken_ones(zoo_cli, tmp_path) -> None:
    out = zoo_cli("train", "good-vae", "--out", str(tmp_path / "run"), *_TRAIN)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()


def test_training_a_name_a_failed_plugin_may_provide_names_it_and_its_failure(zoo_cli) -> None:
    """These plugins declare no names ("zoo.names"), so either failed one may provide it."""
    out = zoo_cli("train", "missing-vae", "--out", "run", *_TRAIN)
    assert out.returncode == 2, out.stdout + out.stderr
    error = out.stderr.strip().splitlines()[-1]
    assert error.startswith("zoo: error: unknown variant 'missing-vae'"), out.stderr
    assert "Plugins that failed to load, which may provide it: " in error
    assert "'zoo-bad-import' (distribution 'zoo-bad-import'): plugin 'zoo-bad-import'" in error
    assert "a_dependency_that_is_not_installed" in error
    assert "'zoo-bad-hook' (distribution 'zoo-bad-hook'): plugin 'zoo-bad-hook' failed in " \
           "zoo_register_variants: RuntimeError: settings file missing" in error
