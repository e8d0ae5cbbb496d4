"""``ember.multiprocessing``: Python's :mod:`multiprocessing` that shares tensors, as ``torch.multiprocessing``.

Every name of :mod:`multiprocessing` is here. Importing this module registers how tensors are pickled
between processes: a CPU tensor passed to a ``Process`` (``spawn``/``forkserver`` start methods) or
put on a ``Queue`` is moved to shared memory (see :meth:`ember.Tensor.share_memory_`) and the receiving
process maps the same memory, so in-place updates made in one process are seen by the others
(Hogwild training). Under the ``fork`` start method children inherit shared tensors directly.

Examples::

    >>> import ember.multiprocessing as mp
    >>> model = ember.nn.Linear(2, 2)
    >>> _ = model.share_memory()
    >>> model.weight.is_shared()
    True
"""

import multiprocessing
from multiprocessing import *  # noqa: F403 (PyTorch re-exports the whole module)

from .reductions import init_reductions
from .spawn import (
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = [
    *multiprocessing.__all__,
    "ProcessContext",
    "ProcessExitedException",
    "ProcessRaisedException",
    "spawn",
    "start_processes",
]

init_reductions()
