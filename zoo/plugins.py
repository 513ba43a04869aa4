"""Plugin discovery and isolation (pluggy over entry points of group ``"zoo"``).

Environment variables (read when plugins are first loaded):

``ZOO_PLUGINS``
    Comma-separated allow-list of plugins to load, by entry-point name or distribution name.
    Empty loads none.
``ZOO_DISABLE_PLUGIN_AUTOLOAD``
    ``1`` disables entry-point discovery entirely (plugins can still be registered in code).
``ZOO_STRICT_PLUGINS``
    ``1`` makes any plugin error (import failure, raising hook, invalid or conflicting
    registration) raise instead of being reported and skipped.

The core's own built-ins are registered through the same hooks by :func:`get_manager` before
any entry point, whatever the variables above say (:func:`register_builtins`):

- plugin ``"zoo-datasets"`` (module ``zoo.data.builtin``): the datasets mnist, fashion-mnist and
  dsprites;
- plugin ``"zoo-classifier"`` (module ``zoo.metrics.builtin``): the evaluation classifier, as
  the variant ``classifier`` (kind ``"classifier"``) and the pretrained ``classifier-mnist``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import os
import threading
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pluggy

from zoo import hookspecs
from zoo._env import distribution_version, env_flag
from zoo.errors import NameConflictError, PluginError
from zoo.registry import DatasetSpec, PretrainedSpec, Registry, VariantSpec

__all__ = [
    "PluginInfo",
    "PluginManager",
    "ZooPluginWarning",
    "get_manager",
    "load_plugins",
    "register_builtins",
    "use_manager",
]

ENTRY_POINT_GROUP = "zoo"
_HOOKS = {
    "zoo_register_variants": VariantSpec,
    "zoo_register_pretrained": PretrainedSpec,
    "zoo_register_datasets": DatasetSpec,
}
#: The core's own datasets and evaluation classifier, registered as ordinary plugins by
#: :func:`get_manager` (always, whatever ZOO_PLUGINS / ZOO_DISABLE_PLUGIN_AUTOLOAD say: they are
#: part of the core).
BUILTIN_DATASETS_PLUGIN = "zoo-datasets"
BUILTIN_DATASETS_MODULE = "zoo.data.builtin"
BUILTIN_CLASSIFIER_PLUGIN = "zoo-classifier"
BUILTIN_CLASSIFIER_MODULE = "zoo.metrics.builtin"
#: plugin name -> module of every core built-in, in registration order.
BUILTIN_PLUGINS = {
    BUILTIN_DATASETS_PLUGIN: BUILTIN_DATASETS_MODULE,
    BUILTIN_CLASSIFIER_PLUGIN: BUILTIN_CLASSIFIER_MODULE,
}


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
        self._lock = threading.RLock()

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
        self, info: PluginInfo, spec: VariantSpec | PretrainedSpec | DatasetSpec,
        conflict: NameConflictError,
    ) -> None:
        """Report a name two plugins registered on both of them; neither keeps the name."""
        is_dataset = isinstance(spec, DatasetSpec)
        for other in self.plugins.values():
            names = [other.datasets] if is_dataset else [other.variants, other.pretrained]
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
                else:
                    info.pretrained.append(spec.name)
            return info

    def _run_hooks(self, plugin: object, info: PluginInfo) -> list[Any] | None:
        collected: list[Any] = []
        seen: set[tuple[bool, str]] = set()  # datasets have their own namespace
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
                key = (isinstance(spec, DatasetSpec), spec.name)
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
            if allow is None and "ZOO_PLUGINS" in os.environ:
                allow = [p.strip() for p in os.environ["ZOO_PLUGINS"].split(",") if p.strip()]
            seen: set[tuple[str, str]] = set()
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                if (ep.name, ep.value) in seen:
                    continue
                seen.add((ep.name, ep.value))
                dist = ep.dist.name if ep.dist is not None else None
                version = ep.dist.version if ep.dist is not None else None
                if allow is not None and ep.name not in allow and dist not in allow:
                    continue
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
                    continue
                self.register(plugin, name=ep.name, distribution=dist, version=version)


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def register_builtins(manager: PluginManager) -> None:
    """Register the core's built-ins on ``manager``: the datasets (plugin ``"zoo-datasets"``)
    and the evaluation classifier (plugin ``"zoo-classifier"``), see :data:`BUILTIN_PLUGINS`."""
    version = distribution_version()  # None when running from a source tree
    for name, module_name in BUILTIN_PLUGINS.items():
        module = importlib.import_module(module_name)
        manager.register(module, name=name, distribution="vae-zoo", version=version)


def get_manager() -> PluginManager:
    """The process-wide plugin manager: the core's built-ins (datasets, evaluation
    classifier), then the entry points (unless disabled)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            manager = PluginManager()
            register_builtins(manager)
            if not env_flag("ZOO_DISABLE_PLUGIN_AUTOLOAD"):
                manager.load_entry_points()
            _manager = manager
        return _manager


def load_plugins() -> PluginManager:
    """Load the installed plugins if that has not happened yet (idempotent)."""
    return get_manager()


@contextlib.contextmanager
def use_manager(manager: PluginManager) -> Iterator[PluginManager]:
    """Make ``manager`` the process-wide one inside the ``with`` block (for tests)."""
    global _manager
    with _manager_lock:
        previous, _manager = _manager, manager
    try:
        yield manager
    finally:
        with _manager_lock:
            _manager = previous
