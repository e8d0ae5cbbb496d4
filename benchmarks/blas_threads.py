"""The BLAS thread count of a benchmark, set through the environment before NumPy loads.

NumPy's BLAS reads ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` once, when
it is first imported, so a benchmark calls :func:`set_blas_threads` before it imports NumPy.
"""

from __future__ import annotations

import os
import sys

__all__ = ["set_blas_threads"]

_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_blas_threads(threads, keep_set=False):
    """Ask for ``threads`` BLAS threads (``keep_set``: only where the caller's environment names none)."""
    for var in _VARIABLES:
        if keep_set:
            os.environ.setdefault(var, str(threads))
        else:
            os.environ[var] = str(threads)
    if "numpy" in sys.modules:
        print("warning: NumPy was imported before the thread count was set", file=sys.stderr)
