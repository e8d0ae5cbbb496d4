"""Intra-op thread count: ``set_num_threads`` / ``get_num_threads``, as in PyTorch.

The count sizes the thread pool that CPU kernels split their batch over and, through
``threadpoolctl`` when it is installed (scikit-learn depends on it), the BLAS libraries' thread
pools, so that both frameworks of a side-by-side run use the same number of cores.
Without ``threadpoolctl`` BLAS keeps the count it read from ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` at start-up.
"""

from __future__ import annotations

import os
import sys

__all__ = ["get_num_threads", "set_num_threads"]


def _default_threads() -> int:
    """As PyTorch at start-up: the cores this process may run on, or fewer where
    ``OMP_NUM_THREADS`` (else ``MKL_NUM_THREADS``) asks for a positive count (a malformed
    value is ignored)."""
    cores = max(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 1)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        first = os.environ.get(name, "").split(",")[0].strip()
        if first.isdigit() and int(first) > 0:
            return min(int(first), cores)
    return cores


_state = {"threads": _default_threads()}


def get_num_threads() -> int:
    """The number of threads CPU kernels use for intra-op parallelism.

    Example::

        >>> import ember
        >>> ember.get_num_threads() >= 1
        True
    """
    return _state["threads"]


def set_num_threads(num: int) -> None:
    """Sets the number of threads CPU kernels use for intra-op parallelism (and BLAS's).

    Args:
        num (int): a positive thread count.

    Example::

        >>> import ember
        >>> previous = ember.get_num_threads()
        >>> ember.set_num_threads(1)
        >>> ember.get_num_threads()
        1
        >>> ember.set_num_threads(previous)
    """
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_threads: Number of threads must be a positive integer, got {num!r}")
    _state["threads"] = num
    for controller in blas_controllers():
        controller.set_num_threads(num)


_blas: dict = {}


def blas_controllers() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded; empty without threadpoolctl.

    The scan of the process's libraries takes milliseconds (more in a fresh data-loader worker), so it
    runs again only when modules were imported since the last one: a BLAS library comes into the
    process with an extension module (NumPy's, SciPy's).
    """
    if _blas.get("modules") != len(sys.modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas["controllers"] = []
        else:
            _blas["controllers"] = ThreadpoolController().select(user_api="blas").lib_controllers
        _blas["modules"] = len(sys.modules)  # counted after threadpoolctl's own import
    return _blas["controllers"]
