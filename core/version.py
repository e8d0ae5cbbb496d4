"""``ember.version``: the versions of ember and of the accelerator libraries it runs on, under
PyTorch's names (``torch.version``).

``cuda`` is the CUDA runtime version of the CUDA backend's library (CuPy), ``'12.8'`` for
example, and None when no such library is installed; reading it imports CuPy. ``hip`` is None:
ember has no ROCm backend.

Example::

    >>> import ember.version
    >>> ember.version.__version__ == ember.__version__
    True
    >>> ember.version.hip is None
    True
"""

from __future__ import annotations

import importlib.util

from . import __version__

__all__ = ["__version__", "hip", "debug"]  # and cuda, read on demand (__getattr__)

hip: str | None = None
debug = False


def _cuda_runtime_version() -> str | None:
    if importlib.util.find_spec("cupy") is None:
        return None
    try:
        import cupy  # imported only when the version is asked for

        number = cupy.cuda.runtime.runtimeGetVersion()
    except Exception:  # noqa: BLE001 - a CuPy that cannot load its CUDA runtime: no CUDA version
        return None
    return f"{number // 1000}.{number % 1000 // 10}"


def __getattr__(name: str) -> str | None:
    if name == "cuda":
        return _cuda_runtime_version()
    raise AttributeError(f"module 'ember.version' has no attribute {name!r}")
