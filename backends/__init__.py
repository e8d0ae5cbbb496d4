"""First-party backends, and choosing which backend serves a device type.

Each backend is a plugin registered through an entry point of group ``ember``, exactly
as a third-party backend would be; see :mod:`ember.plugin.hookspec`. Beside them live
PyTorch's flag modules, which are not backends: :mod:`ember.backends.cudnn`,
:mod:`ember.backends.cuda` and :mod:`ember.backends.mps` (``import ember.backends.cudnn``
works as ``import torch.backends.cudnn`` does).
"""

from __future__ import annotations

__all__ = ["use", "get_backend", "list_backends"]

_FLAG_MODULES = ("cudnn", "cuda", "mps")


def __getattr__(name):
    # ``ember.backends.cudnn.benchmark = True`` right after ``import ember``, as with torch
    if name in _FLAG_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def use(device_type, name):
    """Serve ``device_type`` with the backend called ``name`` for the rest of the process.

    Example::

        >>> ember.backends.use("cpu", "numpy")
    """
    from ember.plugin import backend_registry
    from ember.tensor import _forget_backend_cache

    backend_registry().use(device_type, name)
    _forget_backend_cache()


def get_backend(device="cpu"):
    """The backend object serving ``device`` (a device or string)."""
    from ember.device import device as _device
    from ember.tensor import backend_for_device

    return backend_for_device(_device(device))


def list_backends():
    """Every registered backend, loaded, as ``(spec, devices)`` with the failure reason in ``spec.error``."""
    from ember.plugin import backend_registry

    result = []
    for spec in backend_registry().specs():
        backend = spec.load()
        devices = []
        if backend is not None:
            devices = [(f"{spec.device_type}:{i}", backend.device_name(i)) for i in range(backend.device_count())]
        result.append((spec, devices))
    return result
