"""The helpers every spec uses: lazy callables, name checks, and the kinds a variant can be."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from zoo.errors import PluginError
from zoo.names import NAME

__all__ = ["LATENT_KINDS", "VARIANT_KINDS", "check_name", "lazy"]


#: What a variant can be (:attr:`VariantSpec.kind`).
VARIANT_KINDS = ("vae", "classifier")
#: What a variant's latent can be (:attr:`VariantSpec.latent`).
LATENT_KINDS = ("gaussian", "discrete", "none")


def lazy(target: str) -> Callable[..., Any]:
    """A callable standing for ``"package.module:attribute"``, imported on its first call.

    Plugins use it for factories and losses so that their entry-point module stays light::

        VariantSpec(..., factory=lazy("my_plugin.model:MyVAE"), loss=lazy("my_plugin.loss:loss"))
    """
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise PluginError(f"lazy target {target!r} must look like 'package.module:attribute'")
    resolved: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not resolved:
            resolved.append(getattr(importlib.import_module(module_name), attr))
        return resolved[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    call.__doc__ = f"{target}, imported on first use."
    call.target = target  # type: ignore[attr-defined]
    return call


def check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise PluginError(
            f"{kind} name {name!r} is invalid: use lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (e.g. 'beta-vae')"
        )
