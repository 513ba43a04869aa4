"""Which installed plugin provides which name, read from entry-point metadata: no plugin is
imported to build it.

Each plugin distribution declares every name it provides (variants, pretrained models,
datasets, presets) in the entry-point group ``"zoo.names"``, one entry per name (a name used in
several namespaces, such as a pretrained model and its preset, once), whose value is the
plugin's ``"zoo"`` entry-point module::

    [project.entry-points.zoo]
    vqvae = "zoo_vqvae.plugin"

    [project.entry-points."zoo.names"]
    vqvae = "zoo_vqvae.plugin"
    vqvae-mnist = "zoo_vqvae.plugin"

The process-wide plugin manager loads lazily with it (:meth:`zoo.plugins.PluginManager.require`):
looking one name up imports only the plugins that declare it, plus every installed plugin that
declares no names at all (it could provide anything). A name two distributions declare loads
both, so the registry reports the conflict as it always did. A name nobody declares, and every
listing, load all plugins. A name a plugin registers without declaring it is found only by such
a full load (and a clash on it goes unseen until then): ``zoo.testing.check_names_available``
tells plugin authors about both. An unknown-name error names the plugin that should have
provided the name and why it did not (:func:`explain_unknown`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import os
import re
from typing import Any

__all__ = ["NAMES_GROUP", "PLUGIN_GROUP", "Claim", "PluginIndex", "allow_list", "allowed",
           "explain_unknown", "has_name", "normalize", "require"]

#: The entry-point group of the plugins themselves, and the one of the names they provide.
PLUGIN_GROUP = "zoo"
NAMES_GROUP = "zoo.names"


def normalize(distribution: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Zoo_VQVAE`` -> ``zoo-vqvae``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _dist(ep: importlib.metadata.EntryPoint) -> str | None:
    return _dist_name(ep.dist) if ep.dist is not None else None


@functools.lru_cache(maxsize=1024)
def _dist_name(dist: importlib.metadata.Distribution) -> str:
    """``dist.name``, which parses the distribution's METADATA on every call, once per
    distribution object (the entry points of one scan share theirs)."""
    return dist.name


@dataclasses.dataclass(frozen=True)
class Claim:
    """Distribution ``distribution`` declares that its plugin module ``module`` provides
    ``name``."""

    name: str
    distribution: str
    module: str


class PluginIndex:
    """The ``"zoo.names"`` declarations and the ``"zoo"`` entry points of this environment, read
    from metadata once (on first use)."""

    def __init__(self) -> None:
        self._claims: dict[str, list[Claim]] | None = None
        self._declaring: set[str] = set()  # normalized names of distributions that declare
        self._plugins: list[importlib.metadata.EntryPoint] = []

    def _read(self) -> dict[str, list[Claim]]:
        if self._claims is None:
            claims: dict[str, list[Claim]] = {}
            every = importlib.metadata.entry_points()  # one scan of the installed distributions
            for ep in every.select(group=NAMES_GROUP):
                claim = Claim(ep.name, _dist(ep) or "?", ep.value)
                if claim not in claims.get(ep.name, []):
                    claims.setdefault(ep.name, []).append(claim)
                    self._declaring.add(normalize(claim.distribution))
            seen: set[tuple[str, str]] = set()
            for ep in every.select(group=PLUGIN_GROUP):
                if (ep.name, ep.value) not in seen:
                    seen.add((ep.name, ep.value))
                    self._plugins.append(ep)
            self._claims = claims
        return self._claims

    def claims(self, name: str) -> list[Claim]:
        """Who declares ``name``, in metadata order."""
        return list(self._read().get(name, []))

    def declared(self, distribution: str) -> dict[str, str]:
        """The names ``distribution`` declares -> the module each one names."""
        key = normalize(distribution)
        return {c.name: c.module for claims in self._read().values() for c in claims
                if normalize(c.distribution) == key}

    def declares_names(self, distribution: str | None) -> bool:
        """Whether ``distribution`` declares any name (else it may provide anything)."""
        self._read()
        return distribution is not None and normalize(distribution) in self._declaring

    def plugins(self, distribution: str | None = None) -> list[importlib.metadata.EntryPoint]:
        """The ``"zoo"`` entry points, all or those of one distribution."""
        self._read()
        if distribution is None:
            return list(self._plugins)
        key = normalize(distribution)
        return [ep for ep in self._plugins if normalize(_dist(ep) or "") == key]

    def plugins_of(self, claim: Claim) -> list[importlib.metadata.EntryPoint]:
        """The ``"zoo"`` entry points that provide a claimed name: the distribution's one whose
        module the claim names, else all of the distribution's."""
        eps = self.plugins(claim.distribution)
        return [ep for ep in eps if ep.value == claim.module] or eps

    def entry_points_for(self, name: str) -> list[importlib.metadata.EntryPoint]:
        """What to import to look ``name`` up: the plugins of every distribution that declares
        it, then every plugin whose distribution declares no names. Empty when nobody declares
        ``name`` (then only a full load can find it)."""
        claims = self.claims(name)
        if not claims:
            return []
        found = [ep for claim in claims for ep in self.plugins_of(claim)]
        found += [ep for ep in self._plugins if not self.declares_names(_dist(ep))]
        return list({(ep.name, ep.value): ep for ep in found}.values())


def allow_list() -> list[str] | None:
    """``ZOO_PLUGINS`` as a list of plugin or distribution names; ``None`` when unset."""
    if "ZOO_PLUGINS" not in os.environ:
        return None
    return [p.strip() for p in os.environ["ZOO_PLUGINS"].split(",") if p.strip()]


def allowed(ep: importlib.metadata.EntryPoint, allow: list[str] | None) -> bool:
    """Whether the allow list (``None``: everything) admits entry point ``ep``."""
    return allow is None or ep.name in allow or _dist(ep) in allow


#: lookup namespace -> the registry tables it reads; any other namespace ``x`` (``"dataset"``,
#: ``"preset"``) reads ``xs`` and ``x_conflicts``.
_TABLES = {"model": ("variants", "pretrained", "conflicts"), "variant": ("variants", "conflicts"),
           "pretrained": ("pretrained", "conflicts")}
#: registry table -> what its names are, for messages.
_KINDS = {"variants": "a variant", "pretrained": "a pretrained model", "datasets": "a dataset",
          "presets": "a preset"}


def has_name(registry: Any, name: str, namespace: str = "model") -> bool:
    """Whether ``registry`` holds ``name`` (or a conflict over it) where a lookup in
    ``namespace`` reads: ``"model"`` (variant or pretrained), ``"variant"``, ``"pretrained"``,
    ``"dataset"``, ``"preset"``."""
    tables = _TABLES.get(namespace, (f"{namespace}s", f"{namespace}_conflicts"))
    return any(name in getattr(registry, table, {}) for table in tables)


def require(manager: Any, name: str, namespace: str = "model") -> None:
    """Load onto ``manager`` (a :class:`zoo.plugins.PluginManager` with an ``index``) the
    plugins :meth:`PluginIndex.entry_points_for` names for ``name``, unless the registry already
    has it; when that does not find it, load every plugin."""
    if has_name(manager.registry, name, namespace):
        return
    allow = allow_list()
    for ep in manager.index.entry_points_for(name):
        if allowed(ep, allow):
            manager.load_entry_point(ep)
    if not has_name(manager.registry, name, namespace):
        manager.load_entry_points()


def _failed(manager: Any) -> dict[str, Any]:
    """Plugins that failed to import or raised in a hook (they hold no name), by name."""
    return {p.name: p for p in manager.plugins.values()
            if p.errors and not manager.pm.has_plugin(p.name)}


def _why_not(manager: Any, claim: Claim, kind: str, failed: dict[str, Any]) -> str:
    dist, name = claim.distribution, claim.name
    eps = manager.index.plugins_of(claim)
    if not eps:
        return (f"Distribution {dist!r} declares {name!r} in its \"zoo.names\" metadata but has "
                f"no \"zoo\" entry point; reinstall or upgrade it (pip install --force-reinstall "
                f"{dist}).")
    plugins = " and ".join(repr(ep.name) for ep in eps)
    for ep in eps:
        if ep.name in failed:
            return (f"It is provided by plugin {ep.name!r} (distribution {dist!r}), which failed "
                    f"to load: {failed[ep.name].errors[0]}. Fix or reinstall it (pip install "
                    f"--force-reinstall {dist}); `zoo plugins` shows every plugin's errors.")
    if not manager.autoload:
        return (f"It is provided by plugin {plugins} (distribution {dist!r}), which is not "
                "loaded because ZOO_DISABLE_PLUGIN_AUTOLOAD is set; unset it, or register the "
                "plugin in code.")
    allow = allow_list()
    if not any(allowed(ep, allow) for ep in eps):
        return (f"It is provided by plugin {plugins} (distribution {dist!r}), which ZOO_PLUGINS "
                f"leaves out; add {eps[0].name!r} to ZOO_PLUGINS.")
    kinds = [what for table, what in _KINDS.items()
             if name in getattr(manager.registry, table, {})]
    if kinds:
        return f"{name!r} is {' and '.join(kinds)} (plugin {plugins}), not {_a(kind)}."
    return (f"Distribution {dist!r} declares {name!r} in its \"zoo.names\" metadata, but its "
            f"plugin {plugins} registers no {kind} of that name; upgrade or reinstall {dist}, "
            "or tell its authors their metadata is out of date.")


def _from(distribution: str | None) -> str:
    """`` (distribution 'x')``, or nothing for a plugin registered in code."""
    return f" (distribution {distribution!r})" if distribution else ""


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def explain_unknown(manager: Any, kind: str, name: str) -> str:
    """Advice for an unknown ``kind`` ``name`` on ``manager``: the plugin that declares the name
    and why it is missing; else the failed plugins that may provide it. ``""`` when there is
    nothing to add."""
    failed = _failed(manager)
    index = manager.index
    claims = index.claims(name) if index is not None else []
    if claims:
        return " ".join(_why_not(manager, claim, kind, failed) for claim in claims)
    suspects = [p for p in failed.values()
                if index is None or not index.declares_names(p.distribution)]
    if not suspects:
        return ""
    listed = "; ".join(f"{p.name!r}{_from(p.distribution)}: {p.errors[0]}" for p in suspects)
    return (f"Plugins that failed to load, which may provide it: {listed}. Fix or reinstall "
            "them; `zoo plugins` shows every plugin's errors.")
