"""An opt-in check a plugin author runs in their own environment: are the plugin's names free,
and does its ``"zoo.names"`` metadata (:mod:`zoo.plugin_index`) list them all?"""

from __future__ import annotations

import importlib.metadata
import types
import warnings

from zoo.errors import ZooError
from zoo.plugin_index import PluginIndex, normalize
from zoo.plugins import PluginManager, ZooPluginWarning, register_builtins
from zoo.testing._rules import ConformanceError, _fail, _rule

__all__ = ["check_names_available"]

#: PluginInfo list -> the registry namespace its names live in.
_NAMESPACES = {"variants": "model", "pretrained": "model", "datasets": "dataset",
               "presets": "preset"}


def _entry_points(plugin: types.ModuleType | str,
                  index: PluginIndex) -> tuple[str, list[importlib.metadata.EntryPoint]]:
    """The plugin's distribution and its ``"zoo"`` entry points."""
    if isinstance(plugin, types.ModuleType):
        what, eps = f"module {plugin.__name__!r}", [
            ep for ep in index.plugins() if ep.value == plugin.__name__]
    elif isinstance(plugin, str):
        what, eps = repr(plugin), index.plugins(plugin) or [
            ep for ep in index.plugins() if plugin in (ep.name, ep.value)]
    else:
        raise ZooError(f"check_names_available takes a plugin module or a distribution name, "
                       f"got {type(plugin).__name__}; pass e.g. my_package.plugin")
    if not eps or eps[0].dist is None:
        raise _fail("names-installed", f"{what} is not the \"zoo\" entry point of any installed "
                    "distribution, so zoo's plugin index cannot see it",
                    "install the plugin into this environment (pip install -e .) with its "
                    "[project.entry-points.zoo] entry, then run the check again")
    dist = eps[0].dist.name
    return dist, [ep for ep in eps if ep.dist is not None and ep.dist.name == dist]


def _listed(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _them(names: list[str]) -> str:
    return "them" if len(names) > 1 else "it"


def check_names_available(plugin: types.ModuleType | str) -> list[str]:
    """Check the names an installed plugin (its module, or its distribution name) registers
    against the names every other installed distribution registers or declares, and against
    its own ``[project.entry-points."zoo.names"]``; returns the names checked.

    Raises :class:`ConformanceError` listing every problem: a name another distribution (or the
    core) also claims (``name-taken``: rename it), a registered name missing from the metadata
    (``name-undeclared``), a declared name nothing registers (``name-stale``) and a declaration
    naming another module than the plugin's entry point (``name-module``).
    """
    index = PluginIndex()
    dist, eps = _entry_points(plugin, index)
    who = f"plugin {_listed([ep.name for ep in eps])} (distribution {dist!r})"
    own = PluginManager(strict=True)
    with _rule("plugin-loads", f"loading {who}", "make the plugin import and register cleanly "
               "first (zoo.testing.check_plugin tells more)"):
        for ep in eps:
            own.register(ep.load(), name=ep.name, distribution=dist)
    registered: dict[str, set[str]] = {}
    for info in own.plugins.values():
        for attr, namespace in _NAMESPACES.items():
            for name in getattr(info, attr, []):
                registered.setdefault(name, set()).add(namespace)
    declared = index.declared(dist)
    modules = sorted({ep.value for ep in eps})
    problems: list[ConformanceError] = []

    undeclared = sorted(set(registered) - set(declared))
    if undeclared:
        lines = "; ".join(f'"{n}" = "{modules[0]}"' for n in undeclared)
        them = _them(undeclared)
        problems.append(_fail(
            "name-undeclared",
            f"{who} registers {_listed(undeclared)} without declaring {them} in its "
            f"\"zoo.names\" entry-point metadata, so zoo's plugin index misses {them}: a lookup "
            "of such a name imports every plugin, and a clash over it goes unseen until then",
            f"add {them} under [project.entry-points.\"zoo.names\"] in pyproject.toml ({lines}) "
            "and reinstall the plugin (pip install -e .)"))
    stale = sorted(set(declared) - set(registered))
    if stale:
        problems.append(_fail(
            "name-stale",
            f"{who} declares {_listed(stale)} in its \"zoo.names\" metadata but registers no "
            "such name, so a lookup of it imports the plugin for nothing",
            f"remove {_them(stale)} from [project.entry-points.\"zoo.names\"] (or register "
            f"{_them(stale)}) and reinstall the plugin"))
    elsewhere = sorted(n for n, m in declared.items() if m not in modules)
    if elsewhere:
        problems.append(_fail(
            "name-module",
            f"{who} declares {_listed(elsewhere)} with a module that is not its \"zoo\" entry "
            f"point ({', '.join(modules)})",
            f"give every entry of [project.entry-points.\"zoo.names\"] the value "
            f"\"{modules[0]}\""))

    scratch = PluginManager(strict=False)  # the whole environment, this plugin first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZooPluginWarning)
        register_builtins(scratch)
        for ep in eps:
            scratch.load_entry_point(ep)
        scratch.load_entry_points(allow=[ep.name for ep in index.plugins()])
    ours = {ep.name for ep in eps}
    short = normalize(dist).removeprefix("zoo-")
    for name in sorted(set(registered) | set(declared)):
        others: dict[str, str] = {}
        for namespace in registered.get(name, ()):
            table = (scratch.registry.conflicts if namespace == "model"
                     else getattr(scratch.registry, f"{namespace}_conflicts", {}))
            for other in table.get(name, []):
                info = scratch.plugins.get(other)
                if other not in ours:
                    others[info.distribution if info and info.distribution else other] = (
                        f"registers it too (plugin {other!r})")
        for claim in index.claims(name):
            if normalize(claim.distribution) != normalize(dist):
                others.setdefault(claim.distribution, "declares it in its \"zoo.names\" metadata")
        if others:
            taken = "; ".join(f"distribution {d!r} {how}" for d, how in others.items())
            problems.append(_fail(
                "name-taken",
                f"{who} claims the name {name!r}, but {taken}; zoo refuses a name two plugins "
                "claim (a NameConflictError naming both, wherever it is used)",
                f"rename {name!r} in your plugin (e.g. to '{short}-{name}') and in its "
                "\"zoo.names\" metadata, then reinstall it"))
    if problems:
        raise ConformanceError("\n".join(str(p) for p in problems), problems[0].rule)
    return sorted(set(registered) | set(declared))
