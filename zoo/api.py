"""The public functions: list, create, save and load models."""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from zoo.config import Config
from zoo.errors import ConfigError, CorruptWeightsError, PluginError, UnknownNameError, ZooError
from zoo.plugins import get_manager
from zoo.registry import PretrainedSpec, VariantSpec

__all__ = [
    "FORMAT_VERSION",
    "build",
    "create",
    "get_variant",
    "list_models",
    "list_pretrained",
    "list_variants",
    "load",
    "save",
]

#: Version of the on-disk layout written by :func:`save` (config.json + model.safetensors).
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
HUB_PREFIX = "hf-hub:"


def zoo_version() -> str:
    try:
        return version("vae-zoo")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of all variants and pretrained models matching an fnmatch ``pattern``."""
    return get_manager().registry.list_models(pattern)


def list_variants() -> list[str]:
    """Sorted names of the registered model variants."""
    return sorted(get_manager().registry.variants)


def list_pretrained() -> list[str]:
    """Sorted names of the registered pretrained models."""
    return sorted(get_manager().registry.pretrained)


def get_variant(name: str) -> VariantSpec:
    """The :class:`VariantSpec` registered as ``name`` (error lists close matches)."""
    return get_manager().registry.get_variant(name)


def build(spec: VariantSpec, config: Config, *, seed: int = 0) -> Any:
    """Run ``spec.factory`` and check what it returns; tags the model with its variant name."""
    from flax import nnx

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


def _resolve_config(
    spec: VariantSpec, config: Config | None, overrides: dict[str, Any]
) -> Config:
    base = spec.default_config if config is None else config
    return base.replace(**overrides) if overrides else base


def create(name: str, *, seed: int = 0, config: Config | None = None, **overrides: Any) -> Any:
    """A new, untrained model of a variant (or of a pretrained model's architecture).

    Args:
        name: variant name (``"vqvae"``) or pretrained name (its config is used, not its weights).
        seed: seed of the parameter initialisation.
        config: a full config to start from instead of the default.
        **overrides: config fields to change, type-checked (``latent_dim=8``).
    """
    registry = get_manager().registry
    spec = registry.lookup(name)
    if isinstance(spec, PretrainedSpec):
        variant = registry.get_variant(spec.variant)
        base = config or variant.default_config.replace(**dict(spec.config))
        return build(variant, _resolve_config(variant, base, overrides), seed=seed)
    return build(spec, _resolve_config(spec, config, overrides), seed=seed)


def save(model: Any, directory: str | os.PathLike[str]) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``directory`` (each atomically).

    Returns the directory. The model must come from :func:`create` or :func:`load`.
    """
    from zoo._io import atomic_write_text
    from zoo.checkpoint import save_weights

    variant = getattr(model, "zoo_variant", None)
    config = getattr(model, "config", None)
    if variant is None or not isinstance(config, Config):
        raise ZooError(
            "zoo.save needs a model built by zoo.create or zoo.load (it has no variant/config "
            "attached); build it with zoo.create(name, ...)"
        )
    spec = get_variant(variant)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ZooError(f"cannot save into {str(directory)!r}: it exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    plugin = get_manager().plugins.get(spec.plugin)
    meta = {
        "format_version": FORMAT_VERSION,
        "zoo_version": zoo_version(),
        "variant": variant,
        "plugin": spec.plugin,
        "plugin_distribution": plugin.distribution if plugin else None,
        "plugin_version": plugin.version if plugin else None,
        "config": config.to_dict(),
    }
    save_weights(model, directory / WEIGHTS_FILE, metadata={"variant": variant})
    atomic_write_text(directory / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")
    return directory


def _read_config(directory: Path) -> tuple[VariantSpec, Config]:
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise ZooError(
            f"{str(directory)!r} is not a zoo model directory: {CONFIG_FILE} is missing "
            "(zoo.save writes one)"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptWeightsError(f"{str(path)!r} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or "variant" not in meta or "config" not in meta:
        raise CorruptWeightsError(
            f"{str(path)!r} lacks the 'variant' and 'config' entries zoo.save writes"
        )
    fmt = meta.get("format_version", FORMAT_VERSION)
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise ZooError(
            f"{str(path)!r} has format_version {fmt!r}; this zoo reads up to {FORMAT_VERSION}. "
            "Upgrade zoo (pip install -U vae-zoo)"
        )
    try:
        spec = get_variant(meta["variant"])
    except UnknownNameError:
        dist = meta.get("plugin_distribution") or meta.get("plugin") or "the plugin providing it"
        raise ZooError(
            f"{str(path)!r} needs variant {meta['variant']!r}, which no installed plugin "
            f"provides; install it (pip install {dist}) and check `zoo plugins`"
        ) from None
    try:
        config = spec.config_class.from_dict(meta["config"])
    except ConfigError as exc:
        raise ConfigError(f"{str(path)!r}: {exc}") from None
    return spec, config


def load_directory(directory: str | os.PathLike[str], *, cast_dtype: bool = False) -> Any:
    """Load a model that :func:`save` wrote, strictly, in eval mode."""
    from flax import nnx

    from zoo.checkpoint import load_weights, read_safetensors

    directory = Path(directory)
    spec, config = _read_config(directory)
    tensors = read_safetensors(directory / WEIGHTS_FILE)
    model = nnx.eval_shape(lambda: build(spec, config))
    load_weights(model, tensors, cast_dtype=cast_dtype, source=str(directory / WEIGHTS_FILE))
    model.eval()
    return model


def load(
    name: str | os.PathLike[str],
    *,
    revision: str | None = None,
    local_files_only: bool = False,
    cast_dtype: bool = False,
) -> Any:
    """Load trained weights: a local directory, a pretrained name, or ``"hf-hub:org/repo[@rev]"``.

    The model comes back in eval mode with ``model.config`` set.
    """
    text = os.fspath(name)
    if text.startswith(HUB_PREFIX) or (not os.path.exists(text) and _is_registered(text)):
        return _load_named(text, revision=revision, local_files_only=local_files_only)
    path = Path(text)
    if path.is_dir():
        return load_directory(path, cast_dtype=cast_dtype)
    if path.exists():
        raise ZooError(f"{text!r} is a file; zoo.load takes the directory zoo.save wrote")
    names = get_manager().registry.names()
    if os.sep in text or text.startswith("."):
        raise ZooError(f"no such directory: {text!r}")
    raise get_manager().registry._unknown("pretrained model or directory", text, names)


def _is_registered(name: str) -> bool:
    registry = get_manager().registry
    return name in registry.pretrained or name in registry.variants or name in registry.conflicts


def _load_named(name: str, *, revision: str | None, local_files_only: bool) -> Any:
    """Pretrained and Hub names. Weight resolution from the Hub is not part of this release."""
    registry = get_manager().registry
    if not name.startswith(HUB_PREFIX):
        spec = registry.lookup(name)
        if isinstance(spec, VariantSpec):
            raise ZooError(
                f"{name!r} is a variant, not a trained model: use zoo.create({name!r}) for a new "
                "model, or zoo.load(DIRECTORY) for one you saved"
            )
    raise ZooError(
        f"loading {name!r} needs pretrained-weight resolution (bundled copy, HF cache, Hub), "
        "which this version of zoo does not have yet; load a local directory written by "
        "zoo.save instead"
    )
