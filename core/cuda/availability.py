"""Whether a backend serves the ``cuda`` device type: the probe that :mod:`ember.cuda` and the
mixed-precision classes (``autocast("cuda")``, ``GradScaler("cuda")``) share."""

from __future__ import annotations

from ..device import device as _device
from ..tensor import backend_for_device

__all__ = ["backend", "is_available"]


def backend():
    """The backend serving ``cuda:0`` (raises with the reason when none does)."""
    return backend_for_device(_device("cuda", 0))


def is_available():
    """True when a backend serves ``cuda`` and sees at least one GPU.

    Example::

        >>> isinstance(ember.cuda.is_available(), bool)
        True
    """
    try:
        backend()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True
