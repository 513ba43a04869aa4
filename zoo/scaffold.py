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
import importlib.metadata
import importlib.util
import os
import re
import shutil
import string
import tempfile
from importlib.resources import files
from pathlib import Path

from zoo.errors import ZooError
from zoo.hookspecs import PLUGIN_API_VERSION
from zoo.plugins import get_manager

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

#: path inside the plugin directory -> its template in ``zoo/skeleton/`` (package data, filled
#: by :class:`string.Template`); ``{pkg}`` is the package name.
_FILES = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "src/{pkg}/__init__.py": "__init__.py.tmpl",
    "src/{pkg}/plugin.py": "plugin.py.tmpl",
    "src/{pkg}/config.py": "config.py.tmpl",
    "src/{pkg}/model.py": "model.py.tmpl",
    "src/{pkg}/loss.py": "loss.py.tmpl",
    "tests/test_{pkg}.py": "test_plugin.py.tmpl",
}


def render(names: PluginNames) -> dict[str, str]:
    """Path (relative to the plugin directory) -> text of every file of the skeleton."""

    templates = files("zoo").joinpath("skeleton")
    values = {**dataclasses.asdict(names), "lower": names.package.removeprefix("zoo_"),
              "api": str(PLUGIN_API_VERSION), "zoo_min": "0.1"}
    return {
        path.format(pkg=names.package): string.Template(
            templates.joinpath(template).read_text(encoding="utf-8")
        ).substitute(values)
        for path, template in _FILES.items()
    }


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
