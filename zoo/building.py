"""Building models from the registry: the factory call and its checks, configs, and the
builder the model-directory reader (:mod:`zoo.serialization`) is given.

Every model zoo builds comes from :func:`build`, which tags it with its variant name
(``model.zoo_variant``); :func:`spec_of` reads the tag back, so callers ask a model's
:class:`~zoo.specs.VariantSpec` what it can do instead of guessing from its attributes.

Before anything is allocated, :func:`build` measures the model abstractly (``nnx.eval_shape``)
and refuses one larger than the size budget, ``ZOO_MAX_MODEL_BYTES`` (default 8 GiB of
parameters and state), so a typo such as ``num_embeddings=10**9`` is an error naming the
largest array instead of minutes of allocation and an out-of-memory crash.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from zoo._env import zoo_version
from zoo.config import Config
from zoo.errors import ConfigError, PluginError, UnknownNameError, ZooError
from zoo.inputs import check_image_values
from zoo.plugins import manager_for
from zoo.serialization import FORMAT_VERSION
from zoo.specs import PretrainedSpec, VariantSpec

__all__ = ["DEFAULT_MAX_MODEL_BYTES", "build", "call_variant", "check_size",
           "constructor_from_meta", "create", "max_model_bytes", "model_meta", "spec_of"]

#: The variant methods whose first argument is a batch of images [B, H, W, C].
IMAGE_METHODS = frozenset({"__call__", "encode", "reconstruct"})
#: ``ZOO_MAX_MODEL_BYTES`` unless set: the most parameters and state a built model may hold.
DEFAULT_MAX_MODEL_BYTES = 8 << 30


def max_model_bytes() -> int:
    """The size budget: ``ZOO_MAX_MODEL_BYTES`` (bytes, a positive integer; suffixes K, M, G
    allowed) or :data:`DEFAULT_MAX_MODEL_BYTES`."""
    text = os.environ.get("ZOO_MAX_MODEL_BYTES", "").strip().upper()
    if not text:
        return DEFAULT_MAX_MODEL_BYTES
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"ZOO_MAX_MODEL_BYTES must be a positive number of bytes (e.g. "
                          f"16G), got {os.environ['ZOO_MAX_MODEL_BYTES']!r}")
    return value


def check_size(spec: VariantSpec, config: Config, abstract: Any) -> None:
    """Raise :class:`ConfigError` if the abstract model ``abstract`` (``nnx.eval_shape``) holds
    more bytes than :func:`max_model_bytes`, naming its largest array."""
    import jax
    from flax import nnx

    def name(path: Any) -> str:
        parts = [str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path]
        return ".".join(p for p in parts if p != "value")

    arrays = [(name(path), leaf) for path, leaf in
              jax.tree_util.tree_flatten_with_path(nnx.state(abstract))[0]
              if hasattr(leaf, "shape") and hasattr(leaf, "dtype")]
    sizes = [(int(leaf.size) * leaf.dtype.itemsize, name, leaf) for name, leaf in arrays]
    total, budget = sum(s[0] for s in sizes), max_model_bytes()
    if total <= budget:
        return
    size, name, leaf = max(sizes, key=lambda s: s[0])
    raise ConfigError(
        f"variant {spec.name!r} with this config would hold {total / 2**30:.1f} GiB of "
        f"parameters and state (largest: {name} {tuple(leaf.shape)} {leaf.dtype}, "
        f"{size / 2**30:.1f} GiB), over the size budget of {budget / 2**30:.1f} GiB; check the "
        "config's sizes, or raise the budget with ZOO_MAX_MODEL_BYTES (e.g. 64G) if you mean it"
    )


def build(spec: VariantSpec, config: Config, *, seed: int = 0, sized: bool = True) -> Any:
    """Run ``spec.factory`` and check what it returns; tags the model with its variant name.
    ``sized``: check the size budget first (:func:`check_size`; off where the caller builds
    abstractly anyway)."""
    from flax import nnx  # imports JAX

    if not isinstance(config, spec.config_class):
        raise ConfigError(
            f"variant {spec.name!r} needs a {spec.config_class.__name__}, got "
            f"{type(config).__name__}"
        )

    def make() -> Any:
        model = spec.factory(config, rngs=nnx.Rngs(seed))
        if not isinstance(model, nnx.Module):
            raise PluginError(
                f"plugin {spec.plugin!r}: the factory of variant {spec.name!r} returned "
                f"{type(model).__name__}, not a flax.nnx.Module; return the model instance"
            )
        return model

    if sized:
        check_size(spec, config, nnx.eval_shape(make))
    model = make()
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
    the variant is conditional (``VariantSpec.conditional``): how zoo calls every variant. The
    images a method of :data:`IMAGE_METHODS` gets are checked first
    (:func:`zoo.inputs.check_image_values`), whatever the plugin does itself."""
    if method in IMAGE_METHODS and args and getattr(args[0], "ndim", 0) == 4:
        check_image_values(args[0], f"{getattr(model, 'zoo_variant', type(model).__name__)}"
                                    f".{method.strip('_') or method}")
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
    return lambda: build(spec, config, sized=False)  # load_dir builds it abstractly
