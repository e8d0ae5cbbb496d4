"""ember's plugin host: one pluggy ``PluginManager`` that loads entry points of group ``ember``.

Plugin authors import :data:`hookimpl` from here; the hooks are documented in
:mod:`ember.plugin.hookspec`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspec
from .registry import BackendRegistry, BackendSpec

if TYPE_CHECKING:
    from ..distributed.communicator import CommunicatorRegistry
    from ..serialization import CheckpointFormatRegistry

__all__ = [
    "hookimpl",
    "get_plugin_manager",
    "backend_registry",
    "checkpoint_format_registry",
    "communicator_registry",
    "declare_registry",
    "filled_registry",
    "BackendRegistry",
    "BackendSpec",
    "failed_plugins",
]

hookimpl = pluggy.HookimplMarker("ember")

_manager: pluggy.PluginManager | None = None
_lock = threading.RLock()
_failed: dict[str, str] = {}


def get_plugin_manager() -> pluggy.PluginManager:
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


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    for ep in entry_points(group="ember"):
        if manager.get_plugin(ep.name) is not None or manager.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must never break `import ember`
            _failed[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        manager.register(plugin, name=ep.name)


def failed_plugins() -> dict[str, str]:
    """Entry points whose import failed, mapped to the reason."""
    get_plugin_manager()
    return dict(_failed)


_registries: dict[str, Any] = {}
# hook name -> (registry type, historic): what each registry hook fills. A registry belongs to
# its subsystem, which declares it here when imported; the host only makes and fills it.
_declared: dict[str, tuple[Callable[[], Any], bool]] = {"ember_register_backends": (BackendRegistry, True)}


def declare_registry(hook_name: str, make: Callable[[], Any], historic: bool = False) -> None:
    """Declare that ``hook_name``'s implementations fill a ``make()`` registry.

    The subsystem that owns a registry calls this when it is imported (``ember.serialization``
    declares the checkpoint formats, ``ember.distributed`` the communicators), so the plugin
    host fills registries without importing the subsystems that use them.

    Args:
        hook_name: the ``ember_register_*`` hook of :mod:`ember.plugin.hookspec`.
        make: the registry type (called with no argument).
        historic: plugins registered by hand after the first use add to the registry too.
    """
    # no lock: a subsystem declares while it is imported, possibly under the lock of a plugin load
    if _declared.setdefault(hook_name, (make, historic)) != (make, historic):
        raise ValueError(f"a different registry is already declared for hook {hook_name!r}")


def filled_registry(hook_name: str) -> Any:
    """The registry ``hook_name``'s implementations fill, made and filled once on first use."""
    registry = _registries.get(hook_name)
    if registry is None:
        manager = get_plugin_manager()  # loading the plugins imports (and so declares) what they fill
        with _lock:
            registry = _registries.get(hook_name)
            if registry is None:
                if hook_name not in _declared:
                    raise LookupError(
                        f"no registry is declared for hook {hook_name!r}; "
                        "import the subsystem that owns it (e.g. ember.distributed) first"
                    )
                make, historic = _declared[hook_name]
                registry = make()
                hook = getattr(manager.hook, hook_name)
                if historic:  # plugins registered later (by hand) add to it too
                    hook.call_historic(kwargs={"registry": registry})
                else:
                    hook(registry=registry)
                _registries[hook_name] = registry
    return registry


def backend_registry() -> BackendRegistry:
    """The backend registry, filled by every plugin's ``ember_register_backends`` on first use."""
    return filled_registry("ember_register_backends")


def checkpoint_format_registry() -> CheckpointFormatRegistry:
    """The checkpoint-format registry (:class:`ember.serialization.CheckpointFormatRegistry`, declared
    by :mod:`ember.serialization`), filled by every plugin's ``ember_register_checkpoint_formats``."""
    return filled_registry("ember_register_checkpoint_formats")


def communicator_registry() -> CommunicatorRegistry:
    """The communicator registry (:class:`ember.distributed.CommunicatorRegistry`, declared by
    :mod:`ember.distributed`), filled by every plugin's ``ember_register_communicators``."""
    return filled_registry("ember_register_communicators")
