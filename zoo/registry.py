"""The registry: names -> specs, with conflicts kept aside and reported when a name is used.

The specs themselves live in :mod:`zoo.specs` (re-exported here for compatibility).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable

from zoo.errors import NameConflictError, UnknownNameError
from zoo.specs import VARIANT_KINDS, DatasetSpec, PresetSpec, PretrainedSpec, VariantSpec, lazy

__all__ = ["VARIANT_KINDS", "DatasetSpec", "PresetSpec", "PretrainedSpec", "Registry",
           "VariantSpec", "lazy"]


class Registry:
    """Names -> specs, with conflicts kept aside and reported when the name is used."""

    def __init__(self) -> None:
        self.variants: dict[str, VariantSpec] = {}
        self.pretrained: dict[str, PretrainedSpec] = {}
        #: name -> plugins that all claimed it; such a name resolves to a NameConflictError.
        self.conflicts: dict[str, list[str]] = {}
        #: datasets live in their own namespace (a dataset may share a name with a model).
        self.datasets: dict[str, DatasetSpec] = {}
        self.dataset_conflicts: dict[str, list[str]] = {}
        #: presets (training recipes) too: ``vqvae-mnist`` is a preset and a pretrained model.
        self.presets: dict[str, PresetSpec] = {}
        self.preset_conflicts: dict[str, list[str]] = {}
        #: datasets named by a path or handed over as arrays (:mod:`zoo.data.local`), for this
        #: process only: found by :meth:`get_dataset`, never listed among the plugins' ones.
        self.local_datasets: dict[str, DatasetSpec] = {}
        #: ``(kind, name) -> advice`` added to unknown-name errors (the plugin manager sets it:
        #: which plugin should have provided the name, and why it did not).
        self.unknown_hint: Callable[[str, str], str] | None = None

    def _owner(self, name: str) -> str | None:
        spec = self.variants.get(name) or self.pretrained.get(name)
        return spec.plugin if spec is not None else None

    def add(
        self, spec: VariantSpec | PretrainedSpec | DatasetSpec | PresetSpec
    ) -> NameConflictError | None:
        """Add a validated spec; on a name another plugin has, drop it, return the conflict."""
        name = spec.name
        if isinstance(spec, DatasetSpec):
            return self._add_separate(spec, self.datasets, self.dataset_conflicts, "dataset ")
        if isinstance(spec, PresetSpec):
            return self._add_separate(spec, self.presets, self.preset_conflicts, "preset ")
        if name in self.conflicts:
            self.conflicts[name].append(spec.plugin)
            return self._conflict_error(name)
        owner = self._owner(name)
        if owner is not None:
            self.variants.pop(name, None)
            self.pretrained.pop(name, None)
            self.conflicts[name] = [owner, spec.plugin]
            return self._conflict_error(name)
        table = self.variants if isinstance(spec, VariantSpec) else self.pretrained
        table[name] = spec
        return None

    def _add_separate(
        self, spec: DatasetSpec | PresetSpec, table: dict, conflicts: dict[str, list[str]],
        kind: str,
    ) -> NameConflictError | None:
        """Add to a namespace of its own (datasets, presets), with its own conflicts."""
        name = spec.name
        if name in conflicts:
            conflicts[name].append(spec.plugin)
            return self._conflict_error(name, conflicts, kind)
        owner = table.get(name)
        if owner is not None:
            del table[name]
            conflicts[name] = [owner.plugin, spec.plugin]
            return self._conflict_error(name, conflicts, kind)
        table[name] = spec
        return None

    def _conflict_error(
        self, name: str, conflicts: dict[str, list[str]] | None = None, kind: str = ""
    ) -> NameConflictError:
        conflicts = self.conflicts if conflicts is None else conflicts
        plugins = " and ".join(repr(p) for p in conflicts[name])
        return NameConflictError(
            f"{kind}name {name!r} is registered by plugins {plugins}; zoo will not pick one "
            "silently. Uninstall one of them, or restrict loading with "
            "ZOO_PLUGINS=<plugin>[,<plugin>...]"
        )

    def names(self) -> list[str]:
        return sorted({*self.variants, *self.pretrained})

    def list_models(self, pattern: str = "*") -> list[str]:
        return [n for n in self.names() if fnmatch.fnmatchcase(n, pattern)]

    def unknown(
        self, kind: str, name: str, candidates: list[str], listing: str = "zoo list"
    ) -> UnknownNameError:
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(candidates) if candidates else "none (is any zoo plugin installed?)"
        advice = self.unknown_hint(kind, name) if self.unknown_hint is not None else ""
        return UnknownNameError(
            f"unknown {kind} {name!r}.{hint} Known: {known}. {advice + ' ' if advice else ''}"
            f"Run `{listing}` to see all names and `zoo plugins` to see installed plugins."
        )

    def get_variant(self, name: str) -> VariantSpec:
        if name in self.conflicts:
            raise self._conflict_error(name)
        if name in self.variants:
            return self.variants[name]
        raise self.unknown("variant", name, sorted(self.variants))

    def get_pretrained(self, name: str) -> PretrainedSpec:
        if name in self.conflicts:
            raise self._conflict_error(name)
        if name in self.pretrained:
            return self.pretrained[name]
        raise self.unknown("pretrained model", name, sorted(self.pretrained))

    def add_local_dataset(self, spec: DatasetSpec) -> None:
        """Add (or replace) a dataset named by a path or arrays (:mod:`zoo.data.local`)."""
        self.local_datasets[spec.name] = spec

    def get_dataset(self, name: str) -> DatasetSpec:
        if name in self.dataset_conflicts:
            raise self._conflict_error(name, self.dataset_conflicts, "dataset ")
        if name in self.datasets:
            return self.datasets[name]
        if name in self.local_datasets:
            return self.local_datasets[name]
        raise self.unknown("dataset", name, sorted(self.datasets))

    def get_preset(self, name: str) -> PresetSpec:
        if name in self.preset_conflicts:
            raise self._conflict_error(name, self.preset_conflicts, "preset ")
        if name in self.presets:
            return self.presets[name]
        raise self.unknown("preset", name, sorted(self.presets), listing="zoo list --presets")

    def lookup(self, name: str) -> VariantSpec | PretrainedSpec:
        """A variant or pretrained spec by name (one namespace for both)."""
        if name in self.conflicts:
            raise self._conflict_error(name)
        spec = self.variants.get(name) or self.pretrained.get(name)
        if spec is None:
            raise self.unknown("model", name, self.names())
        return spec
