"""``ember.distributed``: collectives between the processes of one training job.

The API is ``torch.distributed``'s default-group subset. The collectives run through a
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

from __future__ import annotations

import datetime
import pickle
import sys
import traceback
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes, plugin
from ..ops.creation import zeros
from ..tensor import Tensor
from ..tensor import tensor as _make_tensor
from .communicator import Communicator, CommunicatorRegistry, DistributedError, ReduceOp, Watchdog, Work

if TYPE_CHECKING:
    from ..types import Device

__all__ = [
    "Communicator",
    "CommunicatorRegistry",
    "DistributedError",
    "ReduceOp",
    "Watchdog",
    "Work",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "reduce",
]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."

_state: dict[str, Any] = {"comm": None, "excepthook": None}

#: PyTorch's default collective timeout (``torch.distributed.constants.default_pg_timeout``).
default_pg_timeout = datetime.timedelta(minutes=30)


def is_available() -> bool:
    """True: the package is always there (each communicator may still lack its library)."""
    return True


def _comm():
    comm = _state["comm"]
    if comm is None:
        raise ValueError(_NOT_INITIALIZED)
    return comm


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: datetime.timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the job: create the default process group over communicator ``backend``.

    Every collective then waits at most ``timeout`` for the other ranks, and raises
    :class:`DistributedError` naming this rank and the collective when they do not come.
    An exception that no one catches on any rank ends the whole job at once (the
    communicator is aborted, so no rank waits for a dead one) with a non-zero exit status,
    after printing the traceback under the rank's name.

    Args:
        backend (str): the communicator: ``"mpi"`` (any device, through host memory),
            ``"gloo"`` (PyTorch's name for the CPU backend: the same MPI communicator),
            ``"nccl"`` (CUDA tensors), or a plugin's. Default: ``"mpi"``.
        init_method (str, optional): rendezvous address for communicators that need one;
            ``mpi`` and ``nccl`` take the job from the MPI launcher. Default: ``None``.
        timeout (datetime.timedelta or float): how long a collective waits for the other
            ranks (a number is seconds). Default: 30 minutes, as in PyTorch.
        world_size (int): number of processes; ``-1`` takes it from the launcher. A value
            that contradicts the launcher raises ValueError. Default: ``-1``.
        rank (int): this process's rank; ``-1`` takes it from the launcher. Default: ``-1``.

    Example::

        >>> dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))   # under mpiexec
        >>> dist.get_world_size()
        2
    """
    if _state["comm"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    for arg, value in (("world_size", world_size), ("rank", rank)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"init_process_group: {arg} must be an int, got {type(value).__name__}")
    if world_size != -1 and world_size < 1:
        raise ValueError(f"init_process_group: world_size must be positive or -1, got {world_size}")
    if rank != -1 and not 0 <= rank < (world_size if world_size > 0 else rank + 1):
        raise ValueError(f"init_process_group: rank {rank} is not in [0, world_size={world_size})")
    seconds = _seconds(default_pg_timeout if timeout is None else timeout)
    cls = plugin.communicator_registry().load(name)
    comm = cls(init_method=init_method, world_size=world_size, rank=rank)
    comm.name = name
    comm.timeout = seconds
    _state["comm"] = comm
    _state["excepthook"] = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def _seconds(timeout):
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"init_process_group: timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    if not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout}")
    return seconds


def _abort_on_uncaught(kind, value, tb):
    """``sys.excepthook`` while a group exists: report under the rank's name, then abort every rank."""
    comm = _state["comm"]
    if comm is None or issubclass(kind, KeyboardInterrupt):
        return (_state["excepthook"] or sys.__excepthook__)(kind, value, tb)
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(
        f"{text}ember.distributed: rank {comm.rank} of {comm.world_size} failed with the exception above; "
        "aborting the job on every rank\n"
    )
    sys.stderr.flush()
    comm.abort(1)


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has been called (and not undone)."""
    return _state["comm"] is not None


def get_rank(group: object = None) -> int:
    """This process's rank in the default group."""
    return _comm().rank


def get_world_size(group: object = None) -> int:
    """The number of processes in the default group."""
    return _comm().world_size


def get_backend(group: object = None) -> str:
    """The name of the default group's communicator (``"mpi"``, ``"nccl"``)."""
    return _comm().name


def destroy_process_group(group: object = None) -> None:
    """Leave the default group; :func:`init_process_group` may be called again afterwards."""
    comm = _comm()
    _state["comm"] = None
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _state["excepthook"] or sys.__excepthook__
    comm.destroy()


def _check_tensor(op, tensor, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(tensor).__name__}")
    if tensor.is_sparse:
        raise RuntimeError(f"{op}: sparse tensors are not supported")


def _check_op(name, tensor, op):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be an ember.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")


def _check_rank(name, arg, value, comm):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < comm.world_size:
        raise ValueError(f"{name}: {arg}={value!r} is not a rank of the group (world size {comm.world_size})")


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: object = None, async_op: bool = False
) -> Work | None:
    """Reduce ``tensor`` over all ranks with ``op``, in place; every rank gets the result.

    Args:
        tensor (Tensor): input and output, the same shape and dtype on every rank.
        op (ReduceOp): ``SUM``, ``AVG``, ``PRODUCT``, ``MIN`` or ``MAX``. Default: ``SUM``.
        group: only the default group (``None``) is supported.
        async_op (bool): return a :class:`Work` to ``wait()`` on instead of blocking.
            Default: ``False``.

    Example::

        >>> t = ember.ones(2) * (dist.get_rank() + 1)
        >>> dist.all_reduce(t, op=dist.ReduceOp.MAX)   # t == world_size everywhere
    """
    comm = _comm()
    _check_tensor("all_reduce", tensor)
    _check_op("all_reduce", tensor, op)
    return _finish(comm.all_reduce(tensor, op), async_op)


def reduce(
    tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: object = None, async_op: bool = False
) -> Work | None:
    """Like :func:`all_reduce`, but only rank ``dst``'s ``tensor`` receives the result.

    Args:
        tensor (Tensor): input, and output on rank ``dst``.
        dst (int): the receiving rank. Default: 0.
        op (ReduceOp): see :func:`all_reduce`. Default: ``SUM``.
    """
    comm = _comm()
    _check_tensor("reduce", tensor)
    _check_op("reduce", tensor, op)
    _check_rank("reduce", "dst", dst, comm)
    return _finish(comm.reduce(tensor, dst, op), async_op)


def broadcast(tensor: Tensor, src: int = 0, group: object = None, async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank.

    Args:
        tensor (Tensor): data to send on ``src``, to overwrite elsewhere.
        src (int): the sending rank. Default: 0.
    """
    comm = _comm()
    _check_tensor("broadcast", tensor)
    _check_rank("broadcast", "src", src, comm)
    return _finish(comm.broadcast(tensor, src), async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: object = None, async_op: bool = False) -> Work | None:
    """Gather every rank's ``tensor`` into ``tensor_list`` (``tensor_list[i]`` from rank ``i``).

    Args:
        tensor_list (list[Tensor]): ``world_size`` tensors shaped and typed like ``tensor``.
        tensor (Tensor): this rank's contribution.
    """
    comm = _comm()
    _check_tensor("all_gather", tensor)
    if not isinstance(tensor_list, list):
        raise TypeError(f"all_gather: tensor_list must be a list of Tensors, got {type(tensor_list).__name__}")
    if len(tensor_list) != comm.world_size:
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, expected one per rank ({comm.world_size})"
        )
    for i, t in enumerate(tensor_list):
        _check_tensor("all_gather", t, f"tensor_list[{i}]")
        if t.shape != tensor.shape or t.dtype is not tensor.dtype or t.device != tensor.device:
            raise ValueError(
                f"all_gather: tensor_list[{i}] is {t.dtype} {list(t.shape)} on {t.device}, but tensor is "
                f"{tensor.dtype} {list(tensor.shape)} on {tensor.device}"
            )
    return _finish(comm.all_gather(tensor_list, tensor), async_op)


def barrier(group: object = None, async_op: bool = False, device_ids: list[int] | None = None) -> Work | None:
    """Block until every rank has reached this call."""
    comm = _comm()
    comm.barrier()
    return Work() if async_op else None


def _object_to_tensor(obj, device):
    payload = pickle.dumps(obj)
    return _make_tensor(np.frombuffer(payload, dtype=np.uint8), device=device), len(payload)


def _tensor_to_object(t, size):
    return pickle.loads(np.asarray(t)[:size].tobytes())


def all_gather_object(object_list: list[Any], obj: Any, group: object = None) -> None:
    """Gather a picklable object from every rank into ``object_list`` (of length ``world_size``)."""
    comm = _comm()
    if not isinstance(object_list, list) or len(object_list) != comm.world_size:
        raise ValueError(f"all_gather_object: object_list must be a list of world_size={comm.world_size} entries")
    device = comm.object_device()
    payload, size = _object_to_tensor(obj, device)
    sizes = [_make_tensor([0], dtype=dtypes.int64, device=device) for _ in range(comm.world_size)]
    all_gather(sizes, _make_tensor([size], dtype=dtypes.int64, device=device))
    longest = max(int(s.item()) for s in sizes)
    padded = zeros(longest, dtype=dtypes.uint8, device=device)
    padded[:size] = payload
    gathered = [zeros(longest, dtype=dtypes.uint8, device=device) for _ in range(comm.world_size)]
    all_gather(gathered, padded)
    for i, (t, s) in enumerate(zip(gathered, sizes)):
        object_list[i] = _tensor_to_object(t, int(s.item()))


def broadcast_object_list(object_list: list[Any], src: int = 0, group: object = None, device: Device = None) -> None:
    """Replace ``object_list``'s entries on every rank with rank ``src``'s (picklable objects)."""
    gathered: list[Any] = [None] * get_world_size()
    _check_rank("broadcast_object_list", "src", src, _comm())
    all_gather_object(gathered, list(object_list) if get_rank() == src else None)
    object_list[:] = gathered[src]
