"""Building models from the registry: the factory call and its checks, configs, and the
builder the model-directory reader (:mod:`zoo.serialization`) is given.

Every model zoo builds comes from :func:`build`, which tags it with its variant name
(``model.zoo_variant``); :func:`spec_of` reads the tag back, so callers ask a model's
:class:`~zoo.specs.VariantSpec` what it can do instead of guessing from its attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zoo._env import zoo_version
from zoo.config import Config
from zoo.errors import ConfigError, PluginError, UnknownNameError, ZooError
from zoo.plugins import manager_for
from zoo.serialization import FORMAT_VERSION
from zoo.specs import PretrainedSpec, VariantSpec

__all__ = ["build", "call_variant", "constructor_from_meta", "create", "model_meta", "spec_of"]


def build(spec: VariantSpec, config: Config, *, seed: int = 0) -> Any:
    """Run ``spec.factory`` and check what it returns; tags the model with its variant name."""
    from flax import nnx  # imports JAX

    if not isinstance(config, spec.config_class):
        raise ConfigError(
            f"variant {spec.name!r} needs a {spec.config_class.__name__}, got "
            f"{type(config).__name__}"
        )
    model = spec.factory(config, rngs=nnx.Rngs(seed))
    if not isinstance(model, nnx.Module):
        raise PluginError(
            f"plugin {spec.plugin!r}: the factory of variant {spec.name!r} returned "
            f"{type(model).__name__}, not a flax.nnx.Module; return the model instance"
        )
    if getattr(model, "config", None) != config:
        raise PluginError(
            f"plugin {spec.plugin!r}: the model built for variant {spec.name!r} must keep the "
            "config it was built from as its `config` attribute"
        )
    model.zoo_variant = spec.name
    return model


def create(name: str, *, seed: int = 0, config: Config | None = None,
           **overrides: Any) -> Any:
    """A new, untrained model of a variant, or of a pretrained model's architecture (its
    config, not its weights); see :func:`zoo.create`."""
    spec = manager_for(name).registry.lookup(name)
    if isinstance(spec, PretrainedSpec):
        variant = manager_for(spec.variant, "variant").registry.get_variant(spec.variant)
        base = config or variant.default_config.replace(**dict(spec.config))
    else:
        variant, base = spec, config or spec.default_config
    return build(variant, base.replace(**overrides) if overrides else base, seed=seed)


def spec_of(model: Any) -> VariantSpec | None:
    """The :class:`VariantSpec` of a model from :func:`build` (``zoo.create`` / ``zoo.load``),
    or ``None`` when it names no registered variant."""
    variant = getattr(model, "zoo_variant", None)
    if not isinstance(variant, str):
        return None
    return manager_for(variant, "variant").registry.variants.get(variant)


def call_variant(model: Any, method: str, *args: Any, conditional: bool, labels: Any = None,
                 **kwargs: Any) -> Any:
    """``model.method(*args, **kwargs)``, with ``labels`` [B] after the positional arguments when
    the variant is conditional (``VariantSpec.conditional``): how zoo calls every variant."""
    fn = getattr(model, method)
    return fn(*args, labels, **kwargs) if conditional else fn(*args, **kwargs)


def model_meta(model: Any) -> dict[str, Any]:
    """The ``config.json`` object of a model built by :func:`build` (variant, plugin, config)."""
    variant = getattr(model, "zoo_variant", None)
    config = getattr(model, "config", None)
    if variant is None or not isinstance(config, Config):
        raise ZooError(
            "zoo.save needs a model built by zoo.create or zoo.load (it has no variant/config "
            "attached); build it with zoo.create(name, ...)"
        )
    manager = manager_for(variant, "variant")
    spec = manager.registry.get_variant(variant)
    plugin = manager.plugins.get(spec.plugin)
    return {
        "format_version": FORMAT_VERSION,
        "zoo_version": zoo_version(),
        "variant": variant,
        "plugin": spec.plugin,
        "plugin_distribution": plugin.distribution if plugin else None,
        "plugin_version": plugin.version if plugin else None,
        "config": config.to_dict(),
    }


def constructor_from_meta(meta: Mapping[str, Any], label: str) -> Callable[[], Any]:
    """The builder :func:`zoo.serialization.load_dir` takes: the variant a config.json names,
    looked up once, and its parsed config, as a function that builds the model."""
    registry = manager_for(meta["variant"], "variant").registry
    try:
        spec = registry.get_variant(meta["variant"])
    except UnknownNameError:
        hint = registry.unknown_hint
        advice = hint("variant", meta["variant"]) if hint is not None else ""
        if advice:  # the plugin index knows who should provide it, and why it did not
            raise ZooError(f"{label} needs variant {meta['variant']!r}. {advice}") from None
        dist = meta.get("plugin_distribution") or meta.get("plugin") or "the plugin providing it"
        raise ZooError(
            f"{label} needs variant {meta['variant']!r}, which no installed plugin provides; "
            f"install it (pip install {dist}) and check `zoo plugins`"
        ) from None
    try:
        config = spec.config_class.from_dict(meta["config"])
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return lambda: build(spec, config)
