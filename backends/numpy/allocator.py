"""Keep glibc's heap from handing large NumPy buffers back to the kernel after every op.

A training step allocates and frees many arrays of a few MB. With glibc's defaults such
blocks are either ``mmap``-ed and unmapped each time, or carved from the heap top, which is
trimmed back as soon as more than twice the (dynamic) mmap threshold is free; either way
the next step page-faults all of that memory in again, which costs as much as the
arithmetic (a chain of four 4 MB element-wise ops: about 15 ms against 3-7 ms with the
settings below, one process, loaded 2-core machine). :func:`tune_malloc` raises the mmap
threshold to glibc's maximum (32 MB) and the trim threshold to 512 MB, so freed buffers are
reused; the cost is that up to that much freed memory stays with the process. It changes
nothing when the C library is not glibc, when ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` are set (the user's choice wins), or when ``EMBER_CPU_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 512 << 20


def tune_malloc():
    """Apply the thresholds above once per process; returns True when they were applied."""
    if os.environ.get("EMBER_CPU_MALLOC_TUNING", "1") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
