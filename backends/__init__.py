"""First-party backends, and choosing which backend serves a device type.

Each backend is a plugin registered through an entry point of group ``ember``, exactly
as a third-party backend would be; see :mod:`ember.plugin.hookspec`. Beside them live
PyTorch's flag modules, which are not backends: :mod:`ember.backends.cudnn`, :mod:`ember.backends.mkldnn`,
:mod:`ember.backends.cuda`, :mod:`ember.backends.mps`, :mod:`ember.backends.mha`, :mod:`ember.backends.cpu`,
:mod:`ember.backends.mkl`, :mod:`ember.backends.openmp` and :mod:`ember.backends.opt_einsum` (``import ember.backends.cudnn``
works as ``import torch.backends.cudnn`` does). ``use``, ``get_backend``, ``list_backends`` and
``build_namespace`` are those of :mod:`ember.backend`, the backend contract.
"""

from __future__ import annotations

from ember.backend import build_namespace, get_backend, list_backends, use

__all__ = ["build_namespace", "get_backend", "list_backends", "use"]

_FLAG_MODULES = ("cudnn", "cuda", "mkldnn", "mps", "mha", "cpu", "mkl", "openmp", "opt_einsum")


def __getattr__(name):
    # ``ember.backends.cudnn.benchmark = True`` right after ``import ember``, as with torch
    if name in _FLAG_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
