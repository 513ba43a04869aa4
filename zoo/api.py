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
    "call_variant",
    "create",
    "download",
    "get_variant",
    "list_models",
    "list_pretrained",
    "list_variants",
    "load",
    "push",
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


def call_variant(model: Any, method: str, *args: Any, conditional: bool, labels: Any = None,
                 **kwargs: Any) -> Any:
    """``model.method(*args, **kwargs)``, with ``labels`` [B] after the positional arguments when
    the variant is conditional (``VariantSpec.conditional``): how zoo calls every variant."""
    fn = getattr(model, method)
    return fn(*args, labels, **kwargs) if conditional else fn(*args, **kwargs)


def get_variant(name: str) -> VariantSpec:
    """The :class:`VariantSpec` registered as ``name`` (error lists close matches)."""
    return get_manager().registry.get_variant(name)


def model_kind(model: Any) -> str | None:
    """The :attr:`VariantSpec.kind` of a model from :func:`create` or :func:`load` (``"vae"``,
    ``"classifier"``), or ``None`` when it names no registered variant."""
    variant = getattr(model, "zoo_variant", None)
    spec = get_manager().registry.variants.get(variant) if isinstance(variant, str) else None
    return None if spec is None else spec.kind


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


def save(
    model: Any, directory: str | os.PathLike[str], *, card: dict[str, Any] | None = None
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``directory`` (each atomically).

    With ``card`` (a dict of metadata and measured metrics, see :mod:`zoo.cards`), also write the
    ``README.md`` model card. Returns the directory. The model must come from :func:`create` or
    :func:`load`.
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
    if card is not None:
        from zoo.cards import write_card

        write_card(directory, card)
    return directory


def _read_config(directory: Path, label: str | None = None) -> tuple[VariantSpec, Config]:
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
            f"{label or repr(str(path))} needs variant {meta['variant']!r}, which no installed "
            f"plugin provides; install it (pip install {dist}) and check `zoo plugins`"
        ) from None
    try:
        config = spec.config_class.from_dict(meta["config"])
    except ConfigError as exc:
        raise ConfigError(f"{str(path)!r}: {exc}") from None
    return spec, config


def load_directory(
    directory: str | os.PathLike[str], *, cast_dtype: bool = False, label: str | None = None
) -> Any:
    """Load a model that :func:`save` wrote, strictly, in eval mode."""
    from flax import nnx

    from zoo.checkpoint import load_weights, read_safetensors

    directory = Path(directory)
    spec, config = _read_config(directory, label)
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
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> Any:
    """Load trained weights: a local directory, a pretrained name, or ``"hf-hub:org/repo[@rev]"``.

    A path that exists is always loaded as that directory. A pretrained name is resolved from its
    bundled copy, the Hugging Face cache, then the Hub (see :mod:`zoo.hub`), every file checked
    against its recorded sha256. ``revision`` overrides the pinned revision (or the one in an
    ``hf-hub:`` reference); ``local_files_only`` (or ``HF_HUB_OFFLINE=1``) never touches the
    network; ``cache_dir``, ``endpoint`` and ``token`` default to ``HF_HUB_CACHE``,
    ``HF_ENDPOINT`` and ``HF_TOKEN``. The model comes back in eval mode with ``model.config``.
    """
    text = os.fspath(name)
    if text.startswith(HUB_PREFIX) or (not os.path.exists(text) and _is_registered(text)):
        hub = {"revision": revision, "local_files_only": local_files_only,
               "cache_dir": cache_dir, "endpoint": endpoint, "token": token}
        return _load_named(text, hub, cast_dtype=cast_dtype)
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


def _load_named(name: str, hub: dict[str, Any], *, cast_dtype: bool) -> Any:
    """Pretrained names and ``hf-hub:`` references: resolve the files, then load them."""
    from zoo import hub as hub_mod

    if name.startswith(HUB_PREFIX):
        resolved = hub_mod.fetch_hub_ref(name, **hub)
        label = f"Hub model {name!r}"
    else:
        spec = get_manager().registry.lookup(name)
        if isinstance(spec, VariantSpec):
            raise ZooError(
                f"{name!r} is a variant, not a trained model: use zoo.create({name!r}) for a new "
                "model, or zoo.load(DIRECTORY) for one you saved"
            )
        resolved = hub_mod.resolve_pretrained(spec, **hub)
        label = f"pretrained model {name!r} ({resolved.source})"
    model = load_directory(resolved.directory, cast_dtype=cast_dtype, label=label)
    model.zoo_source = resolved.source
    return model


def download(
    name: str,
    revision: str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    force: bool = False,
) -> Path:
    """Fetch a pretrained name or ``"hf-hub:org/repo[@rev]"`` into the Hugging Face cache, so that
    :func:`load` works offline later; returns the snapshot directory (files hash-checked).
    ``force`` downloads again, e.g. after a hash mismatch."""
    from zoo import hub

    return hub.download(name, revision, cache_dir=cache_dir, endpoint=endpoint, token=token,
                        force=force)


def push(
    model_or_directory: Any,
    repo_id: str,
    *,
    revision: str | None = None,
    create_pr: bool = False,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    card: dict[str, Any] | None = None,
    commit_message: str | None = None,
) -> str:
    """Publish a model, a directory :func:`save` wrote, or a run directory (its ``best/``) to
    the Hub as ``model.safetensors``, ``config.json`` and a ``README.md`` card, in one commit.

    ``card`` is a dict of metadata and measured metrics (:func:`zoo.cards.card_from_eval`); without
    it the directory's own README.md is used. A model without a card, or a card without metrics,
    is refused. Creates the repo (``private``) if needed; ``revision`` is the branch (created from
    main if missing); ``create_pr`` opens a pull request instead of committing to the branch.

    Returns the commit sha to pin (a ``str`` with ``.changed``, ``.pr_revision``, ``.pr_url``).
    An unchanged model makes no commit and returns the branch's head sha.
    """
    from zoo import publish

    return publish.push(model_or_directory, repo_id, revision=revision, create_pr=create_pr,
                    private=private, token=token, endpoint=endpoint, card=card,
                    commit_message=commit_message)
