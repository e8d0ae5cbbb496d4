"""A thread pool over the batch for the NumPy kernels that NumPy runs on one core.

NumPy releases the GIL inside its copy, ufunc and BLAS loops, so slices of one array
processed by several threads run on several cores. :func:`parallel_range` splits
``range(n)`` into one contiguous chunk per thread (``ember.get_num_threads()`` of them) and
runs ``fn(start, stop)`` on each; the caller's thread does the first chunk.

Each split costs a few wake-ups of a thread on another core (the worker's, the GIL's, the
caller's: about 150 us together on a 2-core VM), so a kernel should split its whole work
once rather than each of its passes. :func:`parallel_gemm_range` is the split for work that
calls BLAS in every chunk (the convolutions' per-chunk GEMMs): BLAS runs one thread per call
while the chunks run, so the cores go to the chunks instead of to BLAS's own threads.

oneDNN's matrix products run on its OpenMP team (:mod:`.onednn.gemm`), whose threads keep
spinning for a while after each call (libgomp's default wait), each on a core of its own. For
:data:`TEAM_SPIN_S` after such a call (:func:`after_openmp_team`), :func:`parallel_range` runs its
work on the caller's thread alone instead of making the pool's thread fight a spinning one for
the core; its results do not depend on the split.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ember.threads import blas_controllers, get_num_threads

__all__ = [
    "after_openmp_team",
    "on_one_blas_thread",
    "openmp_team_spinning",
    "parallel_chunks",
    "parallel_gemm_range",
    "parallel_range",
]

_pool = {"size": 0, "executor": None}

# Below this many elements per call the hand-off costs more than the second core saves.
MIN_PARALLEL_ELEMENTS = 1 << 16

#: seconds that an OpenMP team's idle threads spin after a call (libgomp's default: 300,000 spins)
TEAM_SPIN_S = 0.005
_team = {"spinning_until": 0.0}


def after_openmp_team():
    """Note that a call on an OpenMP team of more than one thread just returned (its threads now spin)."""
    _team["spinning_until"] = time.perf_counter() + TEAM_SPIN_S


def openmp_team_spinning():
    """Whether an OpenMP team's call returned less than :data:`TEAM_SPIN_S` ago (its threads still spin)."""
    return time.perf_counter() < _team["spinning_until"]


def _executor(workers):
    if _pool["size"] != workers:
        if _pool["executor"] is not None:
            _pool["executor"].shutdown(wait=False)
        _pool["executor"] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ember-cpu")
        _pool["size"] = workers
    return _pool["executor"]


def _threads(n, elements):
    """The number of threads that ``n`` chunks of ``elements`` total work are split over."""
    threads = min(get_num_threads(), n)
    return threads if threads > 1 and elements >= MIN_PARALLEL_ELEMENTS else 1


def parallel_chunks(n, threads, fn):
    """Run ``fn(start, stop, index)`` on ``threads`` contiguous chunks of ``range(n)``, chunk ``index``
    on a thread of its own (the caller's thread does chunk 0), whatever the work's size."""
    if threads <= 1:
        fn(0, n, 0)
        return
    bounds = [n * i // threads for i in range(threads + 1)]
    executor = _executor(threads - 1)
    futures = [executor.submit(fn, bounds[i], bounds[i + 1], i) for i in range(1, threads)]
    try:
        fn(bounds[0], bounds[1], 0)
    finally:
        for future in futures:
            future.result()


def _split(n, threads, fn):
    parallel_chunks(n, threads, lambda start, stop, _: fn(start, stop))


def parallel_range(n, fn, elements):
    """Run ``fn(start, stop)`` over ``range(n)`` split across the intra-op threads.

    ``elements`` (the work's total size) decides whether splitting pays; the chunks are
    disjoint, so ``fn`` may write to its own rows of a shared output.
    """
    threads = _threads(n, elements)
    if threads == 1 or openmp_team_spinning():
        fn(0, n)
    else:
        _split(n, threads, fn)


_blas = {}


def _blas_libraries():
    """threadpoolctl's controllers of the BLAS library NumPy calls (those loaded from NumPy's own
    directories, else every BLAS that :func:`ember.threads.blas_controllers` found), found once; empty
    without threadpoolctl."""
    if "libraries" not in _blas:
        libraries = blas_controllers()
        home = os.path.dirname(os.path.realpath(np.__file__))  # wheels: numpy/.dylibs, numpy.libs beside it
        homes = (home + os.sep, home + ".libs" + os.sep)
        own = [lib for lib in libraries if os.path.realpath(lib.filepath).startswith(homes)]
        _blas["libraries"] = own or libraries
    return _blas["libraries"]


@contextlib.contextmanager
def _blas_on_one_thread(libraries):
    """BLAS's thread count (of each of ``libraries``) set to one inside, then back as it was."""
    saved = [lib.get_num_threads() for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(libraries, saved):
            lib.set_num_threads(count)


def parallel_gemm_range(n, fn, elements):
    """:func:`parallel_range` for chunks that each call BLAS: while the chunks are split over the
    threads, BLAS runs each call on its caller's thread (its thread count set to one, then back).

    A chunk's GEMM, small enough to stay in one core's cache, runs no faster on two BLAS
    threads, and BLAS's idle threads compete with the pool's for the cores. Without
    threadpoolctl (BLAS's thread count out of reach) ``fn`` runs whole, on BLAS's threads.
    """
    threads = _threads(n, elements)
    libraries = _blas_libraries() if threads > 1 else ()
    if not libraries:
        fn(0, n)
        return
    with _blas_on_one_thread(libraries):
        _split(n, threads, fn)


def on_one_blas_thread(fn, *args):
    """``fn(*args)`` with BLAS on its caller's thread only (its thread count set to one, then back)
    while the intra-op threads are more than one; else plain ``fn(*args)``.

    For a product too small to gain from BLAS's threads (a classifier's few output features):
    once woken, OpenBLAS's threads spin for about 0.1 s after the call, taking the second core
    from the pool's kernels and from any other work for the rest of a training step.
    """
    libraries = _blas_libraries() if get_num_threads() > 1 else ()
    if not libraries:
        return fn(*args)
    with _blas_on_one_thread(libraries):
        return fn(*args)
