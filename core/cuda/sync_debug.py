"""``ember.cuda.set_sync_debug_mode``: warn about, or refuse, operations that make the host wait
for the GPU (``.item()``, ``.tolist()``, ``.cpu()``, printing), to find the hidden waits in a
training step.

The CUDA backend calls :func:`check` before each copy from the device to the host; a
synchronization the user asks for by name (``ember.cuda.synchronize()``) is not reported.
"""

from __future__ import annotations

import warnings

from .availability import backend as _backend

__all__ = ["get_sync_debug_mode", "set_sync_debug_mode", "check"]

_NAMES = {"default": 0, "warn": 1, "error": 2}

mode = 0  # 0: silent, 1: warn, 2: raise; read by the CUDA backend before a copy to the host


def set_sync_debug_mode(debug_mode: int | str) -> None:
    """Report synchronizing operations from now on: ``"default"`` (0) says nothing, ``"warn"``
    (1) warns with a ``UserWarning``, ``"error"`` (2) raises ``RuntimeError``.

    Args:
        debug_mode (str or int): the mode.

    Example::

        >>> ember.cuda.set_sync_debug_mode("warn")  # doctest: +SKIP
        >>> loss.item()  # doctest: +SKIP
        UserWarning: called a synchronizing CUDA operation (a copy from the GPU to the host)
    """
    global mode
    _backend()
    if isinstance(debug_mode, str):
        if debug_mode not in _NAMES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`")
        debug_mode = _NAMES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode {debug_mode}, expected 0, 1 or 2")
    mode = debug_mode


def get_sync_debug_mode() -> int:
    """The mode :func:`set_sync_debug_mode` set, as an int (0 by default)."""
    _backend()
    return mode


def check(operation: str) -> None:
    """Warn about or refuse ``operation``, which waits for the GPU, as the mode says."""
    message = f"called a synchronizing CUDA operation ({operation})"
    if mode == 2:
        raise RuntimeError(message)
    warnings.warn(message, UserWarning, stacklevel=3)
