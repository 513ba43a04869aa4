"""The spec of a training recipe (hook ``zoo_register_presets``), with what publishing its
model needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from zoo.errors import PluginError
from zoo.names import NAME
from zoo.specs._common import check_name

__all__ = ["PUBLISHED_SCORES", "RELEASE_KEYS", "PresetSpec"]


#: What a preset's ``release`` may hold (what ``scripts/pretrained.py`` publishes a model with):
#: key -> (type, required).
RELEASE_KEYS: dict[str, tuple[type, bool]] = {
    "summary": (str, True),        # one line: the pretrained entry's description
    "description": (str, True),    # the model card's description
    "limitations": (str, True),    # the model card's limitations
    "eval": (Mapping, True),       # zoo eval's options for the card's numbers; needs "dataset"
    "figures": (Mapping, False),   # plot file of the run -> its title in the card
    "pipeline_tag": (str, False),  # the Hub's pipeline tag, e.g. "image-classification"
    "train_command": (str, False),  # the card's training command, if not `zoo train --preset`
    "card_only": (bool, False),    # the weights already ship (the pretrained entry's bundled
                                   # copy): measure them and write only the card
    "published": (Mapping, False),  # score -> {"range": [lo, hi], "source": text}: published
                                    # ranges the card's per-seed figure shows (PUBLISHED_SCORES)
}

#: The scores a release's ``published`` ranges may give -> the eval result's metric they match.
PUBLISHED_SCORES: dict[str, str] = {
    "mig": "disentanglement.mig.mig",
    "dci_disentanglement": "disentanglement.dci.disentanglement",
    "sap": "disentanglement.sap.sap",
}


@dataclasses.dataclass(frozen=True)
class PresetSpec:
    """A named training recipe a plugin provides: ``zoo train VARIANT --preset NAME``.

    Presets have their own namespace (``vqvae-mnist`` is both a preset and the pretrained model
    it makes). Command-line ``key=value`` settings win over a preset's.

    Attributes:
        name: registry name, e.g. ``"vqvae-mnist"``.
        variants: the variants it is for, e.g. ``("vqvae",)``; ``()`` means any variant.
        model: overrides of the variant's config fields (JSON-ready values).
        train: :class:`zoo.training.TrainConfig` fields. Keys are checked against the variant's
            config and ``TrainConfig`` when the preset is used (:func:`zoo.presets.get_preset`):
            an unknown one is a :class:`~zoo.errors.ConfigError`, never ignored.
        description: one line for listings.
        release: ``None``, or what publishing the model this recipe makes needs (the keys of
            :data:`RELEASE_KEYS`: card text, evaluation options, figures...). A preset with a
            release names exactly one variant; ``scripts/pretrained.py`` trains, measures and
            bundles it into the package of the plugin that registered it.
        plugin: the plugin that registered the spec (filled in by the registry).
    """

    name: str
    variants: tuple[str, ...] = ()
    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    train: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""
    release: Mapping[str, Any] | None = None
    plugin: str = ""

    def validate(self) -> None:
        """Raise :class:`PluginError` if the spec is malformed."""
        check_name("preset", self.name)
        where = f"preset {self.name!r}"
        if not (isinstance(self.variants, tuple)
                and all(isinstance(v, str) and NAME.match(v) for v in self.variants)):
            raise PluginError(f"{where}: variants must be a tuple of variant names such as "
                              f"('beta-vae',), or () for any variant; got {self.variants!r}")
        for attr in ("model", "train"):
            table = getattr(self, attr)
            if not isinstance(table, Mapping) or not all(
                isinstance(k, str) and k.isidentifier() for k in table
            ):
                raise PluginError(f"{where}: {attr} must be a mapping of setting names to "
                                  f"values, got {table!r}")
        if not isinstance(self.description, str):
            raise PluginError(f"{where}: description must be a string")
        if self.release is not None:
            self._validate_release(where)

    def _validate_release(self, where: str) -> None:
        release = self.release
        if not isinstance(release, Mapping):
            raise PluginError(f"{where}: release must be a mapping or None, got {release!r}")
        unknown = sorted(set(release) - set(RELEASE_KEYS))
        if unknown:
            raise PluginError(f"{where}: unknown release key(s) {', '.join(map(repr, unknown))}; "
                              f"a release may hold {', '.join(RELEASE_KEYS)}")
        for key, (kind, required) in RELEASE_KEYS.items():
            if key not in release:
                if required:
                    raise PluginError(f"{where}: release needs {key!r} ({kind.__name__})")
            elif not isinstance(release[key], kind):
                raise PluginError(f"{where}: release[{key!r}] must be a {kind.__name__}, "
                                  f"got {release[key]!r}")
        if not isinstance(release["eval"].get("dataset"), str):
            raise PluginError(f"{where}: release['eval'] must name the 'dataset' to measure on")
        if not all(isinstance(k, str) and isinstance(v, str)
                   for k, v in release.get("figures", {}).items()):
            raise PluginError(f"{where}: release['figures'] maps plot file names to titles")
        _check_published(where, release.get("published", {}))
        if len(self.variants) != 1:
            raise PluginError(f"{where}: a preset with a release makes one model, so it names "
                              f"exactly one variant; got {self.variants!r}")


def _check_published(where: str, published: Mapping[str, Any]) -> None:
    """Raise :class:`PluginError` unless ``published`` maps known scores to a range and a
    source: ``{"mig": {"range": [0.05, 0.35], "source": "Locatello et al. 2019"}}``."""
    hint = ('e.g. {"mig": {"range": [0.05, 0.35], "source": "Locatello et al. 2019, Fig. 7"}}')
    for key, entry in published.items():
        if key not in PUBLISHED_SCORES:
            raise PluginError(f"{where}: release['published'] has unknown score {key!r}; known: "
                              f"{', '.join(PUBLISHED_SCORES)}")
        bounds = entry.get("range") if isinstance(entry, Mapping) else None
        if not (isinstance(entry, Mapping) and set(entry) == {"range", "source"}
                and isinstance(entry["source"], str) and entry["source"].strip()
                and isinstance(bounds, list | tuple) and len(bounds) == 2
                and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
                and bounds[0] <= bounds[1]):
            raise PluginError(f"{where}: release['published'][{key!r}] must be a mapping with "
                              f"'range' [low, high] (numbers, low <= high) and a non-empty "
                              f"'source'; {hint}")
