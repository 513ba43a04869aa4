"""``zoo new-plugin``: write the skeleton of a third-party variant plugin.

``new_plugin("demo", parent)`` writes ``parent/zoo-demo/``: distribution ``zoo-demo``, package
``zoo_demo`` (src layout), variant ``demo``, entry point ``demo`` in group ``zoo``. The package
holds a small but real Gaussian VAE (encoder and decoder from :mod:`zoo.nn`, Bernoulli
likelihood, KL to a standard normal prior) split the way zoo's own plugins are: a light
``plugin.py`` that registers names only, ``config.py``, ``model.py`` and ``loss.py``. Its tests run
zoo's conformance kit through the ``zoo_check_variant`` pytest fixture, and pass as generated.

Everything is written into a temporary directory next to the target, which is renamed into place
at the end: an existing directory is never touched, and a failure leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import string
import tempfile
from pathlib import Path

from zoo.errors import ZooError

__all__ = ["PluginNames", "ScaffoldError", "new_plugin", "plugin_names", "render", "taken"]

_PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")  # zoo.registry's rule for names


class ScaffoldError(ZooError):
    """A plugin name that cannot be used, or a target that already exists."""


@dataclasses.dataclass(frozen=True)
class PluginNames:
    """Every name a new plugin ``demo`` gets."""

    name: str  #: ``demo``: the plugin's short name, also its entry-point name
    distribution: str  #: ``zoo-demo``: what ``pip install`` takes
    package: str  #: ``zoo_demo``: the import name
    variant: str  #: ``demo``: the registry name of its variant
    title: str  #: ``Demo``: prefix of its Python class names (``DemoConfig``, ``DemoVAE``)


def plugin_names(name: str, variant: str | None = None) -> PluginNames:
    """Check ``name`` (and ``variant``) and derive the other names from it.

    ``name`` is lowercase letters and digits in dash-separated words, starting with a letter
    (``demo``, ``my-vae2``); a leading ``zoo-`` is dropped (``zoo-demo`` is ``demo``).
    """
    if not isinstance(name, str):
        raise ScaffoldError(f"plugin name must be a string, got {name!r}")
    short = name.removeprefix("zoo-")
    if not _PLUGIN_NAME.match(short) or len(short) > 60:
        raise ScaffoldError(
            f"plugin name {name!r} is invalid: use lowercase letters and digits in words "
            "separated by single '-', starting with a letter, e.g. 'demo' or 'my-vae' (it "
            "becomes distribution 'zoo-NAME' and package 'zoo_NAME')"
        )
    variant = short if variant is None else variant
    if not isinstance(variant, str) or not _VARIANT_NAME.match(variant):
        raise ScaffoldError(
            f"variant name {variant!r} is invalid: use lowercase letters, digits, '-', '_' or "
            "'.', starting with a letter or digit (e.g. 'my-vae')"
        )
    title = "".join(part.capitalize() for part in short.split("-"))
    return PluginNames(name=short, distribution=f"zoo-{short}",
                       package=f"zoo_{short.replace('-', '_')}", variant=variant, title=title)


def taken(names: PluginNames) -> list[str]:
    """Which of ``names`` this environment already uses: an installed distribution or ``zoo``
    entry point, an importable package, a registered variant or pretrained name (a plugin using
    them would clash with what is installed)."""
    import importlib.metadata
    import importlib.util

    from zoo.plugins import get_manager

    out = [f"entry point {ep.name!r} (distribution {ep.dist.name if ep.dist else '?'!r})"
           for ep in importlib.metadata.entry_points(group="zoo") if ep.name == names.name]
    try:
        importlib.metadata.distribution(names.distribution)
        out.append(f"distribution {names.distribution!r} is installed")
    except importlib.metadata.PackageNotFoundError:
        pass
    if importlib.util.find_spec(names.package) is not None:
        out.append(f"package {names.package!r} is importable")
    registry = get_manager().registry
    spec = registry.variants.get(names.variant) or registry.pretrained.get(names.variant)
    if spec is not None:
        out.append(f"name {names.variant!r} is registered by plugin {spec.plugin!r}")
    return out


# -- templates (string.Template: $name placeholders, $$ for a literal dollar) ---------------------

_PYPROJECT = '''\
[build-system]
# license = "<SPDX expression>" (PEP 639) needs setuptools 77 or newer.
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "The $variant variational autoencoder, a plugin for zoo (JAX + Flax NNX)"
readme = "README.md"
requires-python = ">=3.11"
license = "Apache-2.0"
dependencies = ["vae-zoo>=$zoo_min"]

[project.optional-dependencies]
test = ["pytest>=8"]

# How zoo finds the plugin once it is installed.
[project.entry-points.zoo]
$name = "$package.plugin"

[tool.setuptools.packages.find]
where = ["src"]

# Trained weights that `zoo bundle` writes into src/$package/pretrained/ ship with the package.
[tool.setuptools.package-data]
$package = ["pretrained/manifest.json", "pretrained/*/*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
'''

_README = '''\
# $distribution

The `$variant` variant for [zoo](https://pypi.org/project/vae-zoo/), a model zoo of variational
autoencoders in JAX + Flax NNX: a Gaussian VAE (`q(z|x) = N(mean, diag(exp(logvar)))`,
`p(z) = N(0, I)`) with a Bernoulli likelihood on pixel logits, built from the blocks in `zoo.nn`.
It was generated by `zoo new-plugin $name`; change the model and loss to make it yours.

## Layout

| file | what it holds |
|---|---|
| `src/$package/plugin.py` | the entry point: registers variant `$variant` (light, no JAX import) |
| `src/$package/config.py` | `${title}Config`, the frozen config (defaults, validation) |
| `src/$package/model.py` | `${title}VAE`, the `flax.nnx.Module` the factory builds |
| `src/$package/loss.py` | `${lower}_loss(outputs, x, *, config, step) -> (loss, metrics)` |
| `tests/` | zoo's conformance kit through its pytest fixtures, plus a training step |

## Develop

```bash
pip install -e ".[test]"
pytest                      # the conformance kit (fixtures come with vae-zoo)
zoo plugins                 # shows $name and the variant it registers
zoo list $variant
```

## Train, evaluate, publish

```bash
zoo train $variant --dataset mnist --preset smoke --out runs/try     # a minute, end to end
zoo train $variant --dataset mnist epochs=20 latent_dim=16 --out runs/$variant
zoo eval runs/$variant/best --dataset mnist --output eval.json
zoo bundle runs/$variant $variant-mnist --package-dir src/$package --eval eval.json \\
    --repo-id YOUR-ORG/$variant-mnist
```

`zoo bundle` writes the weights into `src/$package/pretrained/` and the model card into
`model_cards/`; then enable the `zoo_register_pretrained` hook in `plugin.py` so that
`zoo.load("$variant-mnist")` works offline, and `zoo push` the model to the Hub.
'''

_INIT = '''\
"""The $variant variant for zoo. The entry point is :mod:`$package.plugin`."""
'''

_PLUGIN = '''\
"""Entry point of the $distribution plugin (group "zoo" in pyproject.toml).

Keep this module light: `zoo list` imports it, so it registers names, the config and metadata
only. ``zoo.lazy`` imports the model and the loss (and with them JAX) on the first build.
"""

from __future__ import annotations

from typing import Any

from zoo import VariantSpec, hookimpl, lazy

from $package.config import ${title}Config

#: The zoo plugin API this plugin was written for.
ZOO_PLUGIN_API = $api


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(
        VariantSpec(
            name="$variant",
            config_class=${title}Config,
            default_config=${title}Config(),
            factory=lazy("$package.model:${title}VAE"),
            loss=lazy("$package.loss:${lower}_loss"),
            description="Gaussian VAE with a Bernoulli likelihood ($distribution)",
        )
    )


# Once `zoo bundle` has written pretrained/manifest.json into this package, register what it
# lists:
#
# from zoo import read_manifest
#
# @hookimpl
# def zoo_register_pretrained(register: Any) -> None:
#     for spec in read_manifest("$package"):
#         register(spec)
'''

_CONFIG = '''\
"""The config of the $variant variant: a frozen dataclass zoo validates and stores as JSON."""

from __future__ import annotations

import dataclasses

from zoo import ConfigError, ImageModelConfig


@dataclasses.dataclass(frozen=True)
class ${title}Config(ImageModelConfig):
    """A Gaussian VAE: loss = reconstruction + beta * KL (beta = 1: the negative ELBO).

    Inherited fields: ``height``, ``width``, ``channels`` (the images), ``architecture``
    (``"mlp"`` or ``"cnn"``), ``hidden_dims`` (layer widths, ``None`` for the default),
    ``activation`` and ``reconstruction_loss`` (``"bernoulli"`` or ``"mse"``). Every field needs
    a default; ``zoo train ... latent_dim=8`` overrides fields by name.
    """

    latent_dim: int = 16
    beta: float = 1.0

    def validate(self) -> None:
        super().validate()
        if self.latent_dim < 1:
            raise ConfigError(f"${title}Config.latent_dim must be >= 1, got {self.latent_dim}")
        if self.beta < 0:
            raise ConfigError(f"${title}Config.beta must be >= 0, got {self.beta}")
'''

_MODEL = '''\
"""The $variant model: Gaussian encoder, decoder to pixel logits, standard normal prior."""

from __future__ import annotations

from zoo.vae import GaussianVAE


class ${title}VAE(GaussianVAE):
    """q(z|x) = N(mean, diag(exp(logvar))), p(z) = N(0, I), p(x|z) = Bernoulli(sigmoid(logits)).

    zoo builds it as ``${title}VAE(config, rngs=rngs)`` from a ``${title}Config`` and reads
    ``self.config``. The base class, zoo's public ``zoo.vae.GaussianVAE``, provides the encoder
    and decoder (MLP or CNN, by ``config.architecture``) and every method zoo calls: ``encode``,
    ``decode_logits``, ``decode``, ``__call__`` (``logits``, ``reconstruction``, ``mean``,
    ``logvar``, ``z``), ``reconstruct``, ``sample`` and ``traverse``. Override what your model
    does differently; keep the outputs and method signatures.
    """
'''

_LOSS = '''\
"""The $variant objective: reconstruction + beta * KL, per image, averaged over the batch."""

from __future__ import annotations

from typing import Any

import jax
from zoo.losses import gaussian_kl, reconstruction_nll

from $package.config import ${title}Config


def ${lower}_loss(
    outputs: dict[str, jax.Array], x: jax.Array, *, config: ${title}Config, step: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(scalar loss, metrics). Runs under ``jax.jit``: ``step`` is a traced integer.

    The reconstruction term is summed over pixels and the KL over latent dimensions, both
    averaged over the batch, so with the Bernoulli likelihood and beta = 1 the loss is the
    negative ELBO in nats per image.
    """
    rec = reconstruction_nll(outputs["logits"], x, config.reconstruction_loss).mean()
    kl_per_dim = gaussian_kl(outputs["mean"], outputs["logvar"]).mean(axis=0)
    kl = kl_per_dim.sum()
    loss = rec + config.beta * kl
    return loss, {"loss": loss, "reconstruction_loss": rec, "kl_loss": kl,
                  "negative_elbo": rec + kl, "kl_per_dim": kl_per_dim}
'''

_TESTS = '''\
"""The plugin's tests. The fixtures zoo_check_variant and zoo_fresh_manager come with vae-zoo
(its pytest plugin), so no conftest is needed."""

from __future__ import annotations

import numpy as np
import zoo

import $package.plugin


def test_conforms_to_the_zoo_plugin_contract(zoo_check_variant) -> None:
    """zoo's conformance kit: builds, outputs, finite loss and gradients under jit,
    config JSON round trip, bit-exact save/load, pretrained entries."""
    zoo_check_variant("$variant", plugin=$package.plugin)


def test_create_train_step_and_sample(zoo_fresh_manager) -> None:
    import jax
    import optax
    from flax import nnx

    zoo_fresh_manager.register($package.plugin, name="$name")
    model = zoo.create("$variant", height=8, width=8, hidden_dims=(16,), latent_dim=2)
    spec = zoo.get_variant("$variant")
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

    def loss_fn(m):
        return spec.loss(m(x, rngs=jax.random.key(0)), x, config=m.config, step=0)

    (loss, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    assert np.isfinite(float(loss)) and float(metrics["kl_loss"]) >= 0
    assert model.sample(3, rngs=nnx.Rngs(1)).shape == (3, 8, 8, 1)
'''

#: path inside the plugin directory -> template; ``{pkg}`` is the package name.
_FILES = {
    "pyproject.toml": _PYPROJECT,
    "README.md": _README,
    "src/{pkg}/__init__.py": _INIT,
    "src/{pkg}/plugin.py": _PLUGIN,
    "src/{pkg}/config.py": _CONFIG,
    "src/{pkg}/model.py": _MODEL,
    "src/{pkg}/loss.py": _LOSS,
    "tests/test_{pkg}.py": _TESTS,
}


def render(names: PluginNames) -> dict[str, str]:
    """Path (relative to the plugin directory) -> text of every file of the skeleton."""
    from zoo.hookspecs import PLUGIN_API_VERSION

    values = {**dataclasses.asdict(names), "lower": names.package.removeprefix("zoo_"),
              "api": str(PLUGIN_API_VERSION), "zoo_min": "0.1"}
    return {path.format(pkg=names.package): string.Template(text).substitute(values)
            for path, text in _FILES.items()}


def new_plugin(name: str, parent: str | os.PathLike[str] = ".", *,
               variant: str | None = None) -> Path:
    """Write the skeleton of plugin ``name`` into ``parent/zoo-NAME``; return that directory.

    Raises :class:`ScaffoldError` for a bad name or when the directory already exists; nothing
    is written then, and a failure part-way leaves nothing behind.
    """
    names = plugin_names(name, variant)
    parent = Path(parent)
    target = parent / names.distribution
    if target.exists() or target.is_symlink():
        raise ScaffoldError(f"{str(target)!r} already exists; zoo new-plugin never overwrites: "
                            "choose another name or --dir, or remove it")
    if parent.exists() and not parent.is_dir():
        raise ScaffoldError(f"{str(parent)!r} is a file, not a directory; pass another --dir")
    parent.mkdir(parents=True, exist_ok=True)
    files = render(names)
    staging = Path(tempfile.mkdtemp(prefix=f".{names.distribution}-", dir=parent))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp made it private
        if target.exists() or target.is_symlink():  # appeared meanwhile
            raise ScaffoldError(f"{str(target)!r} already exists; zoo new-plugin never "
                                "overwrites: choose another name or --dir, or remove it")
        try:
            os.rename(staging, target)
        except OSError as exc:
            raise ScaffoldError(f"cannot create {str(target)!r}: {exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
