"""A thread pool over the batch for the NumPy kernels that NumPy runs on one core.

NumPy releases the GIL inside its copy and ufunc loops, so slices of one array processed by
several threads run on several cores. :func:`parallel_range` splits ``range(n)`` into one
contiguous chunk per thread (``ember.get_num_threads()`` of them) and runs ``fn(start, stop)``
on each; the caller's thread does the first chunk.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ember.threads import get_num_threads

__all__ = ["parallel_range"]

_pool = {"size": 0, "executor": None}

# Below this many elements per call the hand-off costs more than the second core saves.
MIN_PARALLEL_ELEMENTS = 1 << 16


def _executor(workers):
    if _pool["size"] != workers:
        if _pool["executor"] is not None:
            _pool["executor"].shutdown(wait=False)
        _pool["executor"] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ember-cpu")
        _pool["size"] = workers
    return _pool["executor"]


def parallel_range(n, fn, elements):
    """Run ``fn(start, stop)`` over ``range(n)`` split across the intra-op threads.

    ``elements`` (the work's total size) decides whether splitting pays; the chunks are
    disjoint, so ``fn`` may write to its own rows of a shared output.
    """
    threads = min(get_num_threads(), n)
    if threads <= 1 or elements < MIN_PARALLEL_ELEMENTS:
        fn(0, n)
        return
    bounds = [n * i // threads for i in range(threads + 1)]
    executor = _executor(threads - 1)
    futures = [executor.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    fn(bounds[0], bounds[1])
    for future in futures:
        future.result()
