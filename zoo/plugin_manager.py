"""The plugin manager: registers plugins (pluggy), runs their hooks in isolation, keeps what
each registered all or nothing, reports failures and name conflicts on every plugin involved,
and imports entry points one by one. The process-wide manager is :mod:`zoo.plugins`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import threading
import traceback
import warnings
from typing import Any

import pluggy

from zoo import hookspecs, plugin_index
from zoo._env import env_flag
from zoo.errors import NameConflictError, PluginError
from zoo.registry import DatasetSpec, PresetSpec, PretrainedSpec, Registry, VariantSpec

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "PluginManager", "ZooPluginWarning"]

ENTRY_POINT_GROUP = "zoo"
_HOOKS = {
    "zoo_register_variants": VariantSpec,
    "zoo_register_pretrained": PretrainedSpec,
    "zoo_register_datasets": DatasetSpec,
    "zoo_register_presets": PresetSpec,
}
#: The core's own datasets, evaluation classifier and generic presets, registered as plugins by
#: :func:`get_manager` (always, whatever ZOO_PLUGINS / ZOO_DISABLE_PLUGIN_AUTOLOAD say: they are
#: part of the core).
def _namespace(spec: Any) -> str:
    """The registry namespace of a spec: ``"dataset"``, ``"preset"`` or ``"model"`` (variants
    and pretrained models share one)."""
    if isinstance(spec, DatasetSpec):
        return "dataset"
    return "preset" if isinstance(spec, PresetSpec) else "model"


class ZooPluginWarning(UserWarning):
    """Emitted when a plugin is skipped because it failed (non-strict mode)."""


@dataclasses.dataclass
class PluginInfo:
    """What ``zoo plugins`` reports about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    hooks: list[str] = dataclasses.field(default_factory=list)
    variants: list[str] = dataclasses.field(default_factory=list)
    pretrained: list[str] = dataclasses.field(default_factory=list)
    datasets: list[str] = dataclasses.field(default_factory=list)
    presets: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class PluginManager:
    """Registers plugins, runs their hooks in isolation and fills a :class:`Registry`.

    Args:
        strict: raise on any plugin error instead of reporting it; defaults to
            ``ZOO_STRICT_PLUGINS``.
    """

    def __init__(self, *, strict: bool | None = None) -> None:
        self.strict = env_flag("ZOO_STRICT_PLUGINS") if strict is None else strict
        self.pm = pluggy.PluginManager("zoo")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.plugins: dict[str, PluginInfo] = {}
        self._entry_points_loaded = False
        self._attempted: set[tuple[str, str]] = set()
        #: Whether lookups import plugins on demand (:meth:`require`) and the index they go by;
        #: set on the process-wide manager only (:func:`get_manager`).
        self.autoload = False
        self.index: plugin_index.PluginIndex | None = None
        self._lock = threading.RLock()
        self.registry.unknown_hint = functools.partial(plugin_index.explain_unknown, self)

    # -- errors ------------------------------------------------------------------------------------
    def _fail(
        self, info: PluginInfo, message: str, exc: BaseException | None = None,
        consequence: str = "the plugin was skipped",
    ) -> None:
        info.errors.append(message)
        self.plugins.setdefault(info.name, info)
        if self.strict:
            if isinstance(exc, PluginError):
                raise exc
            raise PluginError(message) from exc
        warnings.warn(
            f"{message} ({consequence}; set ZOO_STRICT_PLUGINS=1 to make this an error)",
            ZooPluginWarning,
            stacklevel=3,
        )

    def _name_conflict(
        self, info: PluginInfo, spec: VariantSpec | PretrainedSpec | DatasetSpec | PresetSpec,
        conflict: NameConflictError,
    ) -> None:
        """Report a name two plugins registered on both of them; neither keeps the name."""
        namespace = _namespace(spec)
        for other in self.plugins.values():
            names = {"dataset": [other.datasets], "preset": [other.presets]}.get(
                namespace, [other.variants, other.pretrained])
            for listed in names:
                if other is not info and spec.name in listed:
                    listed.remove(spec.name)
                    other.errors.append(str(conflict))
        self._fail(info, str(conflict), conflict,
                   consequence="neither plugin's registration of that name is used; their other "
                               "names still work")

    # -- registration ------------------------------------------------------------------------------
    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginInfo:
        """Register a plugin object (module or instance with ``@hookimpl`` functions) and run its
        hooks now. Whatever the plugin registered is kept only if all its hooks succeeded."""
        with self._lock:
            name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
            module = getattr(plugin, "__name__", None) or type(plugin).__module__
            info = PluginInfo(name=name, distribution=distribution, version=version, module=module)
            if name in self.plugins:
                self._fail(info, f"plugin {name!r} is registered twice; each name may load once")
                return info
            api = getattr(plugin, "ZOO_PLUGIN_API", hookspecs.PLUGIN_API_VERSION)
            if api != hookspecs.PLUGIN_API_VERSION:
                self._fail(
                    info,
                    f"plugin {name!r} was built for zoo plugin API {api!r}, but this zoo speaks "
                    f"plugin API {hookspecs.PLUGIN_API_VERSION}; upgrade the plugin or zoo so "
                    "that they match",
                )
                return info
            try:
                self.pm.register(plugin, name=name)
            except Exception as exc:  # pluggy validation or a duplicate object
                self._fail(info, f"plugin {name!r} could not be registered: {exc}", exc)
                return info
            self.plugins[name] = info
            info.hooks = sorted(
                caller.name for caller in self.pm.get_hookcallers(plugin) or []
            )
            collected = self._run_hooks(plugin, info)
            if collected is None:
                self.pm.unregister(plugin)
                return info
            for spec in collected:
                conflict = self.registry.add(spec)
                if conflict is not None:
                    self._name_conflict(info, spec, conflict)
                    continue
                if isinstance(spec, VariantSpec):
                    info.variants.append(spec.name)
                elif isinstance(spec, DatasetSpec):
                    info.datasets.append(spec.name)
                elif isinstance(spec, PresetSpec):
                    info.presets.append(spec.name)
                else:
                    info.pretrained.append(spec.name)
            return info

    def _run_hooks(self, plugin: object, info: PluginInfo) -> list[Any] | None:
        collected: list[Any] = []
        seen: set[tuple[str, str]] = set()  # datasets and presets have their own namespaces
        for hook_name, spec_type in _HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]

            def register(spec: Any, _type: type = spec_type, _hook: str = hook_name) -> None:
                if not isinstance(spec, _type):
                    raise PluginError(
                        f"{_hook} must register {_type.__name__} objects, got "
                        f"{type(spec).__name__}"
                    )
                spec.validate()
                key = (_namespace(spec), spec.name)
                if key in seen:
                    raise PluginError(f"name {spec.name!r} registered twice by this plugin")
                seen.add(key)
                collected.append(dataclasses.replace(spec, plugin=info.name))

            for impl in impls:
                try:
                    impl.function(register=register)
                except Exception as exc:
                    detail = "".join(traceback.format_exception_only(exc)).strip()
                    self._fail(
                        info,
                        f"plugin {info.name!r} failed in {hook_name}: {detail}; fix or upgrade "
                        f"the plugin, or leave it out with ZOO_PLUGINS=<the other plugins>",
                        exc,
                    )
                    return None
        return collected

    # -- entry points ------------------------------------------------------------------------------
    def load_entry_points(self, allow: list[str] | None = None) -> None:
        """Import and register every installed ``"zoo"`` entry point, once.

        Args:
            allow: only load these (entry-point or distribution names); ``None`` reads
                ``ZOO_PLUGINS`` (unset means all).
        """
        with self._lock:
            if self._entry_points_loaded:
                return
            self._entry_points_loaded = True
            allow = plugin_index.allow_list() if allow is None else allow
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                if plugin_index.allowed(ep, allow):
                    self.load_entry_point(ep)

    def load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        """Import and register one ``"zoo"`` entry point, unless it was tried already."""
        with self._lock:
            if (ep.name, ep.value) in self._attempted:
                return
            self._attempted.add((ep.name, ep.value))
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            try:
                plugin = ep.load()
            except Exception as exc:
                detail = "".join(traceback.format_exception_only(exc)).strip()
                info = PluginInfo(name=ep.name, distribution=dist, version=version,
                                  module=ep.value)
                self._fail(
                    info,
                    f"plugin {ep.name!r} (distribution {dist!r}) failed to import: {detail}; "
                    f"reinstall or fix it, or exclude it with ZOO_PLUGINS",
                    exc,
                )
                return
            self.register(plugin, name=ep.name, distribution=dist, version=version)

    def require(self, name: str, namespace: str = "model") -> Registry:
        """The registry, with the plugins that provide ``name`` in ``namespace`` (``"model"``:
        variant or pretrained; ``"variant"``, ``"pretrained"``, ``"dataset"``, ``"preset"``)
        loaded: only those :mod:`zoo.plugin_index` names if ``autoload``, else nothing."""
        with self._lock:
            if self.autoload and not self._entry_points_loaded and self.index is not None:
                plugin_index.require(self, name, namespace)
            return self.registry
