"""``ember.backends.cudnn``: PyTorch's ``torch.backends.cudnn`` flags for ember's cuDNN convolutions.

The CuPy backend convolves through cuDNN's graph API (the ``nvidia-cudnn-frontend``
package) and reads these flags at every convolution:

- ``enabled``: use cuDNN at all; when False, convolutions run as im2col + cuBLAS.
  Default: ``True``
- ``allow_tf32``: let float32 convolutions use TF32 tensor cores (PyTorch's default is on).
  Default: ``True``
- ``deterministic``: refuse engines that cuDNN marks non-deterministic. Default: ``False``
- ``benchmark``, ``benchmark_limit``: kept for PyTorch programs that set them; ember does not
  autotune yet and always takes the first engine of cuDNN's heuristic (mode A). Defaults:
  ``False``, ``10``

Example::

    >>> import ember.backends.cudnn
    >>> ember.backends.cudnn.allow_tf32
    True
    >>> with ember.backends.cudnn.flags(enabled=True, allow_tf32=False):
    ...     ember.backends.cudnn.allow_tf32
    False
    >>> ember.backends.cudnn.allow_tf32
    True
"""

from __future__ import annotations

import contextlib
import importlib.util

__all__ = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "is_available", "version", "flags"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def _frontend():
    """The ``cudnn`` frontend module, or None when it is not installed."""
    if importlib.util.find_spec("cudnn") is None:
        return None
    import cudnn

    return cudnn


def is_available():
    """True when cuDNN can serve ember: the frontend is installed and a CUDA device is usable."""
    from ember import cuda

    return _frontend() is not None and cuda.is_available()


def version():
    """cuDNN's version as an integer (e.g. ``91000`` for 9.10.0), or None when it is unavailable."""
    frontend = _frontend()
    if frontend is None:
        return None
    try:
        return int(frontend.backend_version())
    except Exception:  # noqa: BLE001 - the library failed to load: no version to report
        return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the flags inside a ``with`` block and restore them after it (PyTorch's defaults as arguments).

    Args:
        enabled (bool): use cuDNN. Default: ``False``
        benchmark (bool): kept for PyTorch programs (no autotuning in ember). Default: ``False``
        benchmark_limit (int): kept for PyTorch programs. Default: ``10``
        deterministic (bool): deterministic engines only. Default: ``False``
        allow_tf32 (bool): TF32 tensor cores for float32. Default: ``True``
    """
    module = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {name: module[name] for name in names}
    module.update(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    try:
        yield
    finally:
        module.update(saved)
