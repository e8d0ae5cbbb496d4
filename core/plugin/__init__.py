"""ember's plugin host: one pluggy ``PluginManager`` that loads entry points of group ``ember``.

Plugin authors import :data:`hookimpl` from here; the hooks are documented in
:mod:`ember.plugin.hookspec`.
"""

from __future__ import annotations

import os
import threading

import pluggy

from . import hookspec
from .registry import BackendRegistry, BackendSpec

__all__ = [
    "hookimpl",
    "get_plugin_manager",
    "backend_registry",
    "checkpoint_format_registry",
    "communicator_registry",
    "BackendRegistry",
    "BackendSpec",
    "failed_plugins",
]

hookimpl = pluggy.HookimplMarker("ember")

_manager = None
_lock = threading.RLock()
_failed = {}


def get_plugin_manager():
    """The process-wide plugin manager, created (and entry points loaded) on first use."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                manager = pluggy.PluginManager("ember")
                manager.add_hookspecs(hookspec)
                if not os.environ.get("EMBER_DISABLE_PLUGIN_AUTOLOAD"):
                    _load_entry_points(manager)
                manager.check_pending()
                _manager = manager
    return _manager


def _load_entry_points(manager):
    from importlib.metadata import entry_points

    for ep in entry_points(group="ember"):
        if manager.get_plugin(ep.name) is not None or manager.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must never break `import ember`
            _failed[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        manager.register(plugin, name=ep.name)


def failed_plugins():
    """Entry points whose import failed, mapped to the reason."""
    get_plugin_manager()
    return dict(_failed)


_registries = {}


def _registry(hook_name, make, historic=False):
    """The registry that ``hook_name``'s implementations fill, made and filled once on first use."""
    registry = _registries.get(hook_name)
    if registry is None:
        with _lock:
            registry = _registries.get(hook_name)
            if registry is None:
                registry = make()
                hook = getattr(get_plugin_manager().hook, hook_name)
                if historic:  # plugins registered later (by hand) add to it too
                    hook.call_historic(kwargs={"registry": registry})
                else:
                    hook(registry=registry)
                _registries[hook_name] = registry
    return registry


def backend_registry():
    """The backend registry, filled by every plugin's ``ember_register_backends`` on first use."""
    return _registry("ember_register_backends", BackendRegistry, historic=True)


def checkpoint_format_registry():
    """The checkpoint-format registry, filled by every plugin's ``ember_register_checkpoint_formats`` on first use."""
    from ..serialization import CheckpointFormatRegistry

    return _registry("ember_register_checkpoint_formats", CheckpointFormatRegistry)


def communicator_registry():
    """The communicator registry, filled by every plugin's ``ember_register_communicators`` on first use."""
    from ..distributed.communicator import CommunicatorRegistry

    return _registry("ember_register_communicators", CommunicatorRegistry)
