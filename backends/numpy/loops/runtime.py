"""Numba, found and set up once: the compiled loops' module, the OpenMP team they run on, and their
thread count.

With the optional ``numba`` extra installed (``pip install ember[numba]``), the NumPy backend runs
its ReLU, normalization and max-pooling kernels, the ``cpu`` generator's float32 Box-Muller, its
rejection samplers (Poisson, Gamma, binomial) and the C library's float64 functions for its other
samplers (and, with oneDNN, the cross entropy's row sums) as
loops that Numba compiles to machine code and runs over ``ember.get_num_threads()`` threads without
the GIL (``parallel=True``). They run on
Numba's ``omp`` threading layer, which is GNU OpenMP: the same team of threads that oneDNN's
matrix products and LSTM layers use (:mod:`..onednn`), so a kernel that follows a oneDNN call finds
the team's threads awake instead of fighting them for the cores (the reason the Python thread pool
of :mod:`..parallel` steps aside after such a call). A process that already chose another Numba
threading layer keeps it; where neither OpenMP nor TBB is found, Numba's own work queue serves,
one launch at a time.

The loops are compiled once per signature and kept in Numba's on-disk cache (``cache=True``), so a
later process loads them in milliseconds. :func:`get` returns None where Numba is missing or fails
to load, in a child process forked from one that ran the loops (GNU OpenMP does not survive a
fork), and while ``enabled`` is False: the NumPy kernels then serve alone.

They serve on several threads only where oneDNN does (the ``onednn`` extra, ``ember.backends.mkldnn``
enabled), the products and convolutions then running on the same team. Without it those run on
OpenBLAS's own threads and ember's pool, which the team's threads, spinning after each loop, would
take the cores from (2-thread training steps without oneDNN: the MLP 2.48x PyTorch's time with the
loops against 1.12x without, the CNN 1.77x against 1.42x); on one thread there is no team, and they
serve.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading

import numpy as np

from ember.backends import mkldnn
from ember.dtypes import native_dtype_name
from ember.threads import get_num_threads

from .. import onednn
from ..parallel import after_openmp_team

__all__ = [
    "MIN_ELEMENTWISE",
    "enabled",
    "get",
    "installed",
    "launch",
    "serial",
    "takes",
    "takes_bfloat16",
    "takes_elementwise",
]

#: use the compiled loops (where Numba is installed); tests set it False to check the NumPy kernels
enabled = True

#: element-wise kernels on fewer elements stay with NumPy, whose one call costs less than a loop's
#: launch (ReLU on 256 float32: 1.2 us, against 4.3 us)
MIN_ELEMENTWISE = 1 << 14

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_state: dict = {}
_loading = threading.Lock()


def _load():
    try:
        import numba
    except ImportError:
        return None
    if "NUMBA_THREADING_LAYER" not in os.environ:  # the user's choice stands
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
    from . import activation, bfloat16, fused, libm, normalization, pooling, rejection, rows, sampling

    openmp = _openmp()
    saved = openmp.omp_get_max_threads() if openmp is not None else None
    activation.relu(np.zeros(1, np.float32), np.empty(1, np.float32))  # starts the threading layer, or raises
    if openmp is not None:  # starting, the omp layer set OpenMP's thread count to NUMBA_NUM_THREADS: put it back
        openmp.omp_set_num_threads(saved)
    _state["numba"] = numba
    _state["max_threads"] = numba.config.NUMBA_NUM_THREADS
    # Numba's own work queue (no OpenMP or TBB on the machine) takes one launch at a time
    _state["serial"] = threading.Lock() if numba.threading_layer() == "workqueue" else contextlib.nullcontext()
    os.register_at_fork(after_in_child=_forget_after_fork)

    class Loops:
        """The compiled loops, by name."""

    loops = Loops()
    for module in (activation, bfloat16, fused, libm, normalization, pooling, rejection, rows, sampling):
        for name in module.__all__:
            setattr(loops, name, getattr(module, name))
    return loops


def _openmp():
    """The process's GNU OpenMP runtime (``libgomp.so.1``: the one Numba's ``omp`` layer, oneDNN and a
    PyTorch imported before share), or None where it does not load."""
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


def _loaded():
    """The compiled loops, loaded on the first call; None where Numba is missing or fails to load."""
    if "loops" not in _state:
        with _loading:  # one thread loads, the others wait for it
            if "loops" not in _state:
                try:
                    _state["loops"] = _load()
                except Exception:  # a broken Numba install, no threading layer: the NumPy kernels serve
                    _state["loops"] = None
    return _state["loops"]


def get():
    """The compiled loops (attributes named as in :mod:`.activation`, :mod:`.bfloat16`, :mod:`.fused`, :mod:`.libm`, :mod:`.normalization`,
    :mod:`.pooling`, :mod:`.rejection`, :mod:`.rows` and :mod:`.sampling`), or None where they do not serve (see the module's text)."""
    if not enabled:
        return None
    loops = _loaded()
    if loops is not None and get_num_threads() > 1 and not (mkldnn.enabled and onednn.load() is not None):
        return None  # no team to share (see the module's text)
    return loops


def serial():
    """The compiled loops for a loop that runs on the calling thread only (no team to share, so at any
    thread count), or None where Numba is missing, fails to load or ``enabled`` is False."""
    return _loaded() if enabled else None


def installed():
    """Whether Numba is installed and the loops load, whether or not they serve now (see :func:`get`)."""
    return enabled and _loaded() is not None


def _forget_after_fork():
    _state.clear()
    _state["loops"] = None


def takes(*arrays):
    """Whether the loops serve ``arrays``: C-contiguous, all float32 or all float64, not empty."""
    dtype = arrays[0].dtype
    return dtype in _FLOATS and arrays[0].size > 0 and all(a.dtype == dtype and a.flags.c_contiguous for a in arrays)


def takes_elementwise(*arrays):
    """:func:`takes` for an element-wise kernel: also at least :data:`MIN_ELEMENTWISE` elements."""
    return arrays[0].size >= MIN_ELEMENTWISE and takes(*arrays)


def takes_bfloat16(*arrays):
    """Whether the bfloat16 loops (:mod:`.bfloat16`) serve ``arrays``: C-contiguous, all bfloat16, at
    least :data:`MIN_ELEMENTWISE` elements."""
    first = arrays[0]
    return (
        first.size >= MIN_ELEMENTWISE
        and native_dtype_name(first.dtype) == "bfloat16"
        and all(a.dtype == first.dtype and a.flags.c_contiguous for a in arrays)
    )


def launch(loop, *args):
    """Run ``loop(*args)`` on ``ember.get_num_threads()`` threads (at most Numba's ``NUMBA_NUM_THREADS``)."""
    numba = _state["numba"]
    threads = min(get_num_threads(), _state["max_threads"])
    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)
    with _state["serial"]:
        loop(*args)
    if threads > 1:
        after_openmp_team()
