"""The spec of a model variant (hook ``zoo_register_variants``), with its declared capabilities."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from zoo.config import Config
from zoo.errors import PluginError
from zoo.specs._common import LATENT_KINDS, VARIANT_KINDS, check_name

__all__ = ["VariantSpec"]


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
        check_name("variant", self.name)
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
