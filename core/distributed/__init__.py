"""``ember.distributed``: collectives between the processes of one training job.

The API is ``torch.distributed``'s: collectives, point-to-point sends and receives, and
process subgroups (:func:`new_group`; every call takes ``group=``). They run through a
*communicator* plugin (see :mod:`ember.distributed.communicator`): ``mpi`` moves any
device's tensors through host memory with mpi4py, ``nccl`` reduces CUDA tensors on the
GPUs with ``cupy.cuda.nccl``.

``"gloo"``, PyTorch's name for its CPU backend, is the ``mpi`` communicator here.

Faults end the job instead of hanging it: every collective waits at most the group's
``timeout`` (30 minutes unless ``init_process_group(timeout=...)`` says otherwise) and then
raises :class:`DistributedError` naming the rank and the collective; the ``mpi`` communicator
also compares each collective's arguments across ranks first (collective, dtype, shape, op,
root: one small all-reduce; ``EMBER_DISTRIBUTED_DEBUG=OFF`` skips it), so mismatched calls
raise on every rank with each rank's arguments; an exception no one catches on any rank
aborts the communicator, so the whole job exits at once with a non-zero status.

Start one process per rank with an MPI launcher; ranks and the world size come from it::

    mpiexec -n 2 python train.py                       # two processes on this machine
    mpiexec -f hostfile -n 8 python train.py           # across the machines of a hostfile

Example::

    >>> import ember.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> t = ember.tensor([float(dist.get_rank())])
    >>> dist.all_reduce(t)                             # t is now the sum over ranks
    >>> dist.destroy_process_group()
"""

from . import distributed_c10d
from .device_mesh import DeviceMesh, init_device_mesh
from .distributed_c10d import *  # noqa: F403 - the process-group API
from .distributed_c10d import (  # the private names the package's other modules and PyTorch programs use
    _NOT_INITIALIZED,
    _comm,
    _get_default_group,
    _get_default_store,
    _rank_not_in_group,
    _state,
    default_pg_timeout,
)
from .distributed_c10d import __all__ as _process_group_api

__all__ = [*_process_group_api, "DeviceMesh", "init_device_mesh"]
