"""What plugins register: the specs of variants, pretrained models and datasets.

Each spec is a frozen dataclass that validates itself (:meth:`validate`); the plugin manager
(:mod:`zoo.plugins`) calls it before anything reaches the :class:`~zoo.registry.Registry`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from zoo.config import Config
from zoo.errors import PluginError
from zoo.names import BUNDLED, NAME, REPO_ID, SHA1, SHA256

__all__ = ["LATENT_KINDS", "VARIANT_KINDS", "DatasetSpec", "PretrainedSpec", "VariantSpec",
           "lazy"]

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


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise PluginError(
            f"{kind} name {name!r} is invalid: use lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (e.g. 'beta-vae')"
        )


@dataclasses.dataclass(frozen=True)
class VariantSpec:
    """A model variant a plugin provides.

    Attributes:
        name: registry name, e.g. ``"vqvae"``.
        config_class: the frozen :class:`~zoo.config.Config` subclass of this variant.
        default_config: an instance of ``config_class`` used when nothing is overridden.
        factory: ``factory(config, *, rngs: nnx.Rngs) -> nnx.Module``; the module must keep
            ``config`` as its ``config`` attribute.
        loss: ``loss(outputs, x, *, config, step) -> (scalar loss, metrics dict)`` where
            ``outputs`` is what the model's ``__call__`` returned for images ``x`` [B, H, W, C].
        conditional: whether the model's ``__call__`` takes integer ``labels`` [B].
        description: one line shown by ``zoo list`` and ``zoo info``.
        kind: what the model is, one of :data:`VARIANT_KINDS`: ``"vae"`` (the default; the
            model follows the VAE protocol: ``__call__`` returns at least ``logits`` and
            ``reconstruction`` [B, H, W, C], and it offers ``encode`` / ``decode`` /
            ``reconstruct``, with ``sample`` / ``traverse`` where its latent allows) or
            ``"classifier"`` (``conditional`` must be True; ``__call__(x, labels)`` returns
            ``logits`` [B, num_classes] and ``labels`` [B]; trained and evaluated for accuracy,
            with no pictures, sampling or latents). Evaluation, the conformance kit and the
            picture commands dispatch on it.
        latent: what the model's latent is, one of :data:`LATENT_KINDS` - declared, so that no
            caller has to guess from output keys or attributes:

            * ``"gaussian"`` (the default): ``__call__`` also returns ``mean`` and ``logvar``
              [B, D]; the model has ``encode(x, [labels]) -> (mean, logvar)``,
              ``decode_logits(z, [labels])``, ``decode``, ``sample(n, [labels], *, rngs)`` and
              ``traverse``, and its config a ``latent_dim``. ``zoo eval`` measures ELBO,
              importance-weighted NLL, active units and MIG/DCI/SAP; pictures include samples
              and traversals.
            * ``"discrete"``: a codebook (VQ). ``__call__`` also returns ``indices``; the model
              has ``encode(x) -> (z_e, indices)``, ``reconstruct`` and ``codebook_size`` (the
              number of codes). ``zoo eval`` measures codebook health; no sampling.
            * ``"none"``: no latent at all (kind ``"classifier"``).
        architectures: the values of the config's ``architecture`` field the variant supports
            (e.g. ``("mlp", "cnn")``); ``()`` when it has no such choice.
        tiny_config: a small config of this variant for fast tests (8x8 images, narrow layers);
            the conformance kit uses it, and falls back to ``default_config`` without one.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    config_class: type[Config]
    default_config: Config
    factory: Callable[..., Any]
    loss: Callable[..., Any]
    conditional: bool = False
    description: str = ""
    kind: str = "vae"
    latent: str = "gaussian"
    architectures: tuple[str, ...] = ()
    tiny_config: Config | None = None
    plugin: str = ""

    @property
    def has_prior(self) -> bool:
        """Whether the model can ``sample`` new images (a Gaussian latent with its prior)."""
        return self.latent == "gaussian"

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        _check_name("variant", self.name)
        if not (isinstance(self.config_class, type) and issubclass(self.config_class, Config)):
            raise PluginError(
                f"variant {self.name!r}: config_class must be a zoo.config.Config subclass, "
                f"got {self.config_class!r}"
            )
        if not isinstance(self.default_config, self.config_class):
            raise PluginError(
                f"variant {self.name!r}: default_config must be an instance of "
                f"{self.config_class.__name__}, got {type(self.default_config).__name__}"
            )
        for attr in ("factory", "loss"):
            if not callable(getattr(self, attr)):
                raise PluginError(f"variant {self.name!r}: {attr} must be callable")
        if self.kind not in VARIANT_KINDS:
            raise PluginError(
                f"variant {self.name!r}: kind must be one of "
                f"{', '.join(repr(k) for k in VARIANT_KINDS)}, got {self.kind!r}"
            )
        if self.kind == "classifier" and not self.conditional:
            raise PluginError(
                f"variant {self.name!r}: kind 'classifier' needs conditional=True (its "
                "__call__(x, labels) receives the labels its loss is measured against)"
            )
        if self.latent not in LATENT_KINDS:
            raise PluginError(
                f"variant {self.name!r}: latent must be one of "
                f"{', '.join(repr(k) for k in LATENT_KINDS)}, got {self.latent!r}"
            )
        if (self.kind == "classifier") != (self.latent == "none"):
            raise PluginError(
                f"variant {self.name!r}: a classifier declares latent='none' and a VAE a "
                f"'gaussian' or 'discrete' latent; got kind {self.kind!r} with latent "
                f"{self.latent!r}"
            )
        if not (isinstance(self.architectures, tuple)
                and all(isinstance(a, str) and a for a in self.architectures)):
            raise PluginError(
                f"variant {self.name!r}: architectures must be a tuple of names such as "
                f"('mlp', 'cnn'), got {self.architectures!r}"
            )
        if self.tiny_config is not None and not isinstance(self.tiny_config, self.config_class):
            raise PluginError(
                f"variant {self.name!r}: tiny_config must be an instance of "
                f"{self.config_class.__name__}, got {type(self.tiny_config).__name__}"
            )


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """A pretrained model a plugin declares.

    Attributes:
        name: registry name, e.g. ``"vqvae-mnist"``.
        variant: the variant it instantiates.
        config: overrides applied to the variant's default config (JSON-ready values).
        repo_id: Hugging Face Hub repository, ``"org/name"``.
        revision: the pinned commit sha (40 hex digits) of ``repo_id`` the weights come from, or
            ``""`` for an entry not published on the Hub yet: it is then found only in a local
            directory, its bundled copy or the HF cache, and a Hub fetch reads the default
            branch, whose files must still match ``files``' sha256 (the hashes pin the content).
        files: file name -> sha256 hex digest of every file the model needs.
        license: SPDX licence identifier of the weights.
        dataset: the dataset the weights were trained on.
        description: one line for listings.
        bundled: where a copy of the files ships inside the plugin's distribution, as a package
            resource ``"package:relative/dir"`` (e.g. ``"zoo_vqvae:pretrained/vqvae-mnist"``);
            found with importlib.resources and preferred to the HF cache and the Hub.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    variant: str
    config: Mapping[str, Any]
    repo_id: str
    revision: str
    files: Mapping[str, str]
    license: str
    dataset: str
    description: str = ""
    bundled: str = ""
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        _check_name("pretrained model", self.name)
        if self.bundled and (not BUNDLED.match(self.bundled)
                             or ".." in self.bundled.partition(":")[2].split("/")):
            raise PluginError(
                f"pretrained {self.name!r}: bundled must look like 'package:relative/dir' "
                f"(e.g. 'zoo_vqvae:pretrained/vqvae-mnist'), got {self.bundled!r}"
            )
        if not REPO_ID.match(self.repo_id or ""):
            raise PluginError(f"pretrained {self.name!r}: repo_id must look like 'org/name'")
        if self.revision and not SHA1.match(self.revision):
            raise PluginError(
                f"pretrained {self.name!r}: revision must be a pinned 40-hex commit sha (or '' "
                f"for an entry not on the Hub yet), got {self.revision!r}"
            )
        if "model.safetensors" not in self.files or "config.json" not in self.files:
            raise PluginError(
                f"pretrained {self.name!r}: files must list model.safetensors and config.json"
            )
        for fname, digest in self.files.items():
            if not SHA256.match(str(digest)):
                raise PluginError(
                    f"pretrained {self.name!r}: sha256 of {fname!r} must be 64 lowercase hex "
                    f"digits, got {digest!r}"
                )


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A dataset a plugin provides (see :mod:`zoo.data` for the loader protocol).

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        loader: ``loader(partition, *, cache_dir, **options)`` returning a
            :class:`zoo.data.ArrayDataset` or a :class:`zoo.data.DataSource` for ``partition``,
            one of ``splits``. Unknown ``options`` must raise :class:`zoo.data.DatasetError`.
        description: one line for listings.
        image_shape: ``(H, W, C)`` of every image.
        num_classes: number of label classes, or ``None`` for an unlabelled dataset.
        factor_names: names of the ground-truth factors of variation (``()`` if none).
        factor_sizes: number of values of each factor, aligned with ``factor_names``.
        splits: the partitions the loader provides: ``("train", "test")`` or ``("train",)``.
        validation_size: how many training examples the ``"validation"`` split takes by default
            (carved from ``"train"`` with a seeded permutation; 0 means none by default).
        class_names: optional display name of each class.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    loader: Callable[..., Any]
    description: str = ""
    image_shape: tuple[int, int, int] = (28, 28, 1)
    num_classes: int | None = None
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    splits: tuple[str, ...] = ("train", "test")
    validation_size: int = 0
    class_names: tuple[str, ...] = ()
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        _check_name("dataset", self.name)
        where = f"dataset {self.name!r}"
        if not callable(self.loader):
            raise PluginError(f"{where}: loader must be callable")
        shape = self.image_shape
        if not (isinstance(shape, tuple) and len(shape) == 3
                and all(isinstance(d, int) and d > 0 for d in shape)):
            raise PluginError(f"{where}: image_shape must be a tuple (H, W, C) of positive ints, "
                              f"got {shape!r}")
        if self.num_classes is not None and not (
            isinstance(self.num_classes, int) and self.num_classes >= 2
        ):
            raise PluginError(f"{where}: num_classes must be an int >= 2 or None, "
                              f"got {self.num_classes!r}")
        if not (isinstance(self.factor_names, tuple) and isinstance(self.factor_sizes, tuple)):
            raise PluginError(f"{where}: factor_names and factor_sizes must be tuples")
        if len(self.factor_names) != len(self.factor_sizes):
            raise PluginError(f"{where}: factor_names and factor_sizes must have the same length, "
                              f"got {len(self.factor_names)} and {len(self.factor_sizes)}")
        if len(set(self.factor_names)) != len(self.factor_names) or not all(
            isinstance(n, str) and n.isidentifier() for n in self.factor_names
        ):
            raise PluginError(f"{where}: factor_names must be distinct identifiers, "
                              f"got {self.factor_names!r}")
        if not all(isinstance(n, int) and n >= 1 for n in self.factor_sizes):
            raise PluginError(f"{where}: factor_sizes must be positive ints, "
                              f"got {self.factor_sizes!r}")
        if not self.splits or "train" not in self.splits or not set(self.splits) <= {
            "train", "test"
        }:
            raise PluginError(f"{where}: splits must contain 'train' and may contain 'test', "
                              f"got {self.splits!r}")
        if not (isinstance(self.validation_size, int) and self.validation_size >= 0):
            raise PluginError(f"{where}: validation_size must be an int >= 0, "
                              f"got {self.validation_size!r}")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise PluginError(f"{where}: class_names must name all {self.num_classes} classes, "
                              f"got {len(self.class_names)}")
