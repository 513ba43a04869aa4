"""Plugin discovery and isolation (pluggy over entry points of group ``"zoo"``).

Environment variables (read when plugins are first loaded):

``ZOO_PLUGINS``
    Comma-separated allow-list of installed plugins (entry points) to load, by entry-point name
    or distribution name. Empty loads no installed plugin; the core's built-ins (below) are
    registered all the same.
``ZOO_DISABLE_PLUGIN_AUTOLOAD``
    ``1`` disables entry-point discovery entirely (plugins can still be registered in code).
``ZOO_STRICT_PLUGINS``
    ``1`` makes any plugin error (import failure, raising hook, invalid or conflicting
    registration) raise instead of being reported and skipped.

Looking one name up (:func:`manager_for`) imports only the plugins that declare it in their
metadata (:mod:`zoo.plugin_index`); :func:`get_manager` (listings) imports them all.

The core's own built-ins are registered through the same hooks by :func:`get_manager` before
any entry point, whatever the variables above say (:func:`register_builtins`):

- plugin ``"zoo-datasets"`` (module ``zoo.data.builtin``): the datasets mnist, fashion-mnist and
  dsprites;
- plugin ``"zoo-classifier"`` (module ``zoo.classifier.plugin``): the evaluation classifier, as
  the variant ``classifier`` (kind ``"classifier"``) and the pretrained ``classifier-mnist``.
- plugin ``"zoo-presets"`` (module ``zoo.presets``): the generic training recipe ``smoke``
  (every other recipe ships with the plugin of its variant, ``zoo_register_presets``).

Keep this list short: a built-in is something every installation needs.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator

from zoo import plugin_index
from zoo._env import distribution_version, env_flag
from zoo.plugin_manager import ENTRY_POINT_GROUP, PluginInfo, PluginManager, ZooPluginWarning

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginManager",
    "ZooPluginWarning",
    "get_manager",
    "load_plugins",
    "manager_for",
    "register_builtins",
    "use_manager",
]

BUILTIN_DATASETS_PLUGIN = "zoo-datasets"
BUILTIN_DATASETS_MODULE = "zoo.data.builtin"
BUILTIN_CLASSIFIER_PLUGIN = "zoo-classifier"
BUILTIN_PRESETS_PLUGIN = "zoo-presets"
BUILTIN_PRESETS_MODULE = "zoo.presets"
BUILTIN_CLASSIFIER_MODULE = "zoo.classifier.plugin"
#: plugin name -> module of every core built-in, in registration order.
BUILTIN_PLUGINS = {
    BUILTIN_DATASETS_PLUGIN: BUILTIN_DATASETS_MODULE,
    BUILTIN_CLASSIFIER_PLUGIN: BUILTIN_CLASSIFIER_MODULE,
    BUILTIN_PRESETS_PLUGIN: BUILTIN_PRESETS_MODULE,
}


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def register_builtins(manager: PluginManager) -> None:
    """Register the core's built-ins on ``manager``: the datasets (plugin ``"zoo-datasets"``),
    the evaluation classifier (plugin ``"zoo-classifier"``) and the generic presets (plugin
    ``"zoo-presets"``), see :data:`BUILTIN_PLUGINS`."""
    version = distribution_version()  # None when running from a source tree
    for name, module_name in BUILTIN_PLUGINS.items():
        module = importlib.import_module(module_name)
        manager.register(module, name=name, distribution="vae-zoo", version=version)


def get_manager() -> PluginManager:
    """The process-wide plugin manager: the core's built-ins (datasets, evaluation
    classifier), then every entry point (unless disabled). To look one name up, use
    :func:`manager_for`, which imports only the plugins that provide it."""
    manager = manager_for(None)
    if manager.autoload:
        manager.load_entry_points()
    return manager


def manager_for(name: str | None, namespace: str = "model") -> PluginManager:
    """The process-wide plugin manager with the built-ins and (at least) the plugins that
    provide ``name`` loaded (:meth:`PluginManager.require`); ``None``: no other plugin yet."""
    global _manager
    with _manager_lock:
        if _manager is None:
            manager = PluginManager()
            register_builtins(manager)
            manager.index = plugin_index.PluginIndex()
            manager.autoload = not env_flag("ZOO_DISABLE_PLUGIN_AUTOLOAD")
            _manager = manager
        manager = _manager
    if name is not None:
        manager.require(name, namespace)
    return manager


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
