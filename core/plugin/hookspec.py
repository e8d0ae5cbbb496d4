"""The hooks a plugin can implement. Every hook is prefixed ``ember_``.

A plugin is a module (or object) with functions marked ``@ember.plugin.hookimpl``,
announced through an entry point of group ``ember`` in the plugin's ``pyproject.toml``::

    [project.entry-points.ember]
    mybackend = "ember_mybackend.plugin"

and, in ``ember_mybackend/plugin.py``::

    import ember.plugin

    @ember.plugin.hookimpl
    def ember_register_backends(registry):
        registry.register_backend(
            name="mybackend",
            device_type="mydev",
            loader="ember_mybackend.backend:MyBackend",
        )

ember's own backends register through these very hooks and entry points. Set
``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry points (plugins can then be
registered by hand with ``ember.plugin.get_plugin_manager().register(module)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ..distributed.communicator import CommunicatorRegistry
    from ..serialization import CheckpointFormatRegistry
    from .registry import BackendRegistry

__all__ = [
    "hookspec",
    "ember_register_backends",
    "ember_register_checkpoint_formats",
    "ember_register_communicators",
]

hookspec = pluggy.HookspecMarker("ember")


@hookspec(historic=True)
def ember_register_backends(registry: BackendRegistry) -> None:
    """Register the backends this plugin provides.

    Call ``registry.register_backend(name, device_type, loader, priority=0)`` once per
    backend. ``loader`` is a ``"module:attribute"`` string (or a callable) that returns a
    :class:`ember.backend.Backend` *instance or class*; it is imported only when the device
    type is first used or listed, and any exception it raises (a missing library, no
    driver) is recorded as the reason the backend is unavailable. When several backends
    claim one device type, the highest ``priority`` wins unless the user picks one with
    ``EMBER_BACKEND_<TYPE>=name`` or :func:`ember.backends.use`. The hook is historic: a
    plugin registered by hand after the first backend lookup still gets called.

    Args:
        registry: the :class:`ember.plugin.BackendRegistry` to add to.
    """


@hookspec
def ember_register_checkpoint_formats(registry: CheckpointFormatRegistry) -> None:
    """Register file formats for :func:`ember.save` / :func:`ember.load`.

    Call ``registry.register_format(name, saver, loader, suffixes=())``, where
    ``saver(obj, stream)`` writes ``obj`` to a binary stream (a saver may also take the keywords
    ``pickle_protocol`` and ``_use_new_zipfile_serialization``, which ``ember.save`` passes when
    they are not the default) and
    ``loader(stream, map_location, weights_only)`` returns the object read from one (a loader
    that can memory-map a file on disk also takes a keyword ``mmap``, which
    ``ember.load(..., mmap=True)`` passes with the opened file as ``stream``; one that unpickles
    may take ``pickle_load_args``, the unpickler's keywords given to ``ember.load``). A
    loader validates the file's header before it reads tensor data, reads that data in
    bounded pieces into the arrays it returns, and raises
    :class:`ember.serialization.CorruptCheckpoint` for bytes it cannot read (helpers:
    :func:`ember.serialization.flatten`, :func:`~ember.serialization.unflatten`,
    :func:`~ember.serialization.read_exactly`, :func:`~ember.serialization.place`).

    Args:
        registry: the :class:`ember.serialization.CheckpointFormatRegistry` to add to
            (ember.serialization owns it; the plugin host fills it).
    """


@hookspec
def ember_register_communicators(registry: CommunicatorRegistry) -> None:
    """Register collective communicators for :mod:`ember.distributed`.

    Call ``registry.register_communicator(name, loader)``; ``loader`` returns a
    communicator class, imported only when ``init_process_group(backend=name)`` asks
    for it.

    Args:
        registry: the :class:`ember.distributed.CommunicatorRegistry` to add to
            (ember.distributed owns it; the plugin host fills it).
    """
