"""The hooks a zoo plugin may implement (pluggy, project name ``"zoo"``).

Hooks use the register-callback style: the core hands the plugin a ``register`` function and the
plugin calls it once per thing it provides. The core validates and de-duplicates what it gets, so
one faulty plugin never corrupts the registry of the others.

A plugin is any module or object with functions decorated by :data:`hookimpl`, exposed through an
entry point in group ``"zoo"``, with every name it provides in group ``"zoo.names"``
(:mod:`zoo.plugin_index`)::

    [project.entry-points.zoo]
    my-plugin = "my_package.plugin"

    [project.entry-points."zoo.names"]
    my-vae = "my_package.plugin"

The key in group ``"zoo"`` is the plugin's name, not a variant's: ``zoo plugins``, error
messages and each saved model's ``config.json`` (``"plugin"``) name the plugin by it, and
``ZOO_PLUGINS`` selects by it (or by the distribution name). The variants' names are the ones
the hooks register. ``zoo new-plugin NAME`` writes a working plugin to start from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from zoo.specs import DatasetSpec, PresetSpec, PretrainedSpec, VariantSpec

__all__ = ["PLUGIN_API_VERSION", "hookimpl", "hookspec"]

#: The plugin API version this core speaks. A plugin may declare ``ZOO_PLUGIN_API = <int>``; one
#: built for a different version is refused with a message naming both.
PLUGIN_API_VERSION = 1

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def zoo_register_variants(register: Callable[[VariantSpec], None]) -> None:
    """Call ``register(VariantSpec(...))`` once for each model variant the plugin provides."""


@hookspec
def zoo_register_pretrained(register: Callable[[PretrainedSpec], None]) -> None:
    """Call ``register(PretrainedSpec(...))`` once for each pretrained model the plugin ships."""


@hookspec
def zoo_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Call ``register(DatasetSpec(...))`` once for each dataset the plugin provides."""


@hookspec
def zoo_register_presets(register: Callable[[PresetSpec], None]) -> None:
    """Call ``register(PresetSpec(...))`` once for each training recipe the plugin ships
    (``zoo train VARIANT --preset NAME``), e.g. the recipe of each of its pretrained models."""
