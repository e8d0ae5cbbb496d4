"""The process-group API of :mod:`ember.distributed`, as ``torch.distributed.distributed_c10d``:
:func:`init_process_group`, the collectives, point-to-point sends and receives, subgroups and the
private helpers PyTorch programs reach for (:func:`_get_default_group`, :func:`_get_default_store`,
:func:`_rank_not_in_group`). :mod:`ember.distributed` re-exports its public names; programs also
import them from here (``from torch.distributed.distributed_c10d import _get_default_group``).

Example::

    >>> from ember.distributed.distributed_c10d import ReduceOp, is_initialized
    >>> is_initialized(), ReduceOp.SUM
    (False, <ReduceOp.SUM>)
"""

from __future__ import annotations

import datetime
import os
import pickle
import sys
import time
import traceback
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes, plugin
from ..ops.creation import empty, empty_like, zeros
from ..ops.movement import cat
from ..tensor import Tensor
from ..tensor import tensor as _make_tensor
from .communicator import (
    Communicator,
    CommunicatorRegistry,
    DistributedError,
    ReduceOp,
    Watchdog,
    Work,
    _copy_into,
)
from .debug import DebugLevel, get_debug_level, set_debug_level, set_debug_level_from_env
from .errors import DistBackendError, DistError, DistNetworkError, DistStoreError
from .grad_bucket import GradBucket
from .process_group import (
    _NOT_INITIALIZED,
    Backend,
    GroupMember,
    ProcessGroup,
    _state,
    group,
    is_gloo_available,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
)
from .store import FileStore, HashStore, PrefixStore, Store, TCPStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..device import device as DeviceObject
    from ..types import Device

__all__ = [
    "Backend",
    "Communicator",
    "CommunicatorRegistry",
    "DebugLevel",
    "DistBackendError",
    "DistError",
    "DistNetworkError",
    "DistStoreError",
    "DistributedError",
    "FileStore",
    "GradBucket",
    "GroupMember",
    "HashStore",
    "P2POp",
    "PrefixStore",
    "ProcessGroup",
    "ReduceOp",
    "Store",
    "TCPStore",
    "Watchdog",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "gather_object",
    "get_backend",
    "get_debug_level",
    "get_default_backend_for_device",
    "get_global_rank",
    "get_group_rank",
    "get_node_local_rank",
    "get_pg_count",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_backend_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "is_ucc_available",
    "is_xccl_available",
    "isend",
    "monitored_barrier",
    "new_group",
    "new_subgroups",
    "new_subgroups_by_enumeration",
    "recv",
    "recv_object_list",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "scatter_object_list",
    "send",
    "send_object_list",
    "set_debug_level",
    "set_debug_level_from_env",
]

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
    store: Store | None = None,
    group_name: str = "",
    pg_options: object = None,
    device_id: object = None,
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
        store (Store, optional): a key-value store every rank reaches (a :class:`TCPStore`
            on rank 0, a :class:`FileStore`), instead of ``init_method``; ``rank`` and
            ``world_size`` are then required. Each rank checks in there (all ``world_size``
            must arrive within ``timeout``, or :class:`DistStoreError`); the collectives still
            run over the communicator. :func:`distributed_c10d._get_default_store` returns it. Default: ``None``.
        group_name, pg_options, device_id: accepted for PyTorch's signature.

    Raises:
        AssertionError: ``store`` with ``init_method``, or without ``rank``/``world_size``
            (as PyTorch).

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
    if store is not None:
        if init_method is not None:
            raise AssertionError("Cannot specify both init_method and store.")
        if world_size <= 0:
            raise AssertionError("world_size must be positive if using store")
        if rank < 0:
            raise AssertionError("rank must be non-negative if using store")
        if not isinstance(store, Store):
            raise TypeError(f"init_process_group: store must be an ember.distributed.Store, got {type(store).__name__}")
    seconds = _seconds(default_pg_timeout if timeout is None else timeout)
    cls = plugin.communicator_registry().load(name)
    comm = cls(init_method=init_method, world_size=world_size, rank=rank)
    comm.name = name
    comm.timeout = seconds
    if store is not None:
        _check_in(store, comm.rank, comm.world_size, seconds)
    _state["store"] = store
    _state["comm"] = comm
    _state["world"] = ProcessGroup(comm, list(range(comm.world_size)), "0")
    _state["groups"] = []
    _state["excepthook"] = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def _check_in(store, rank, world_size, seconds):
    """Every rank of the job reaches ``store``: each sets its key of this initialisation, then waits
    (at most ``seconds``) for all ``world_size`` keys; a rank that reports another world size fails."""
    generation = _state["inits"] = _state.get("inits", 0) + 1
    prefix = PrefixStore(f"ember_init/{generation}", store)
    prefix.set(f"rank/{rank}", str(world_size))
    keys = [f"rank/{r}" for r in range(world_size)]
    try:
        prefix.wait(keys, datetime.timedelta(seconds=seconds))
    except DistStoreError:
        missing = [r for r in range(world_size) if not prefix.check([f"rank/{r}"])]
        raise DistStoreError(
            f"init_process_group: rank {rank} waited {seconds:g} s for the {world_size} ranks at the store; "
            f"ranks {missing} did not arrive"
        ) from None
    sizes = {int(v) for v in prefix.multi_get(keys)}
    if sizes != {world_size}:
        raise ValueError(f"init_process_group: the ranks at the store disagree on world_size: {sorted(sizes)}")


def _get_default_store() -> Store:
    """The store given to :func:`init_process_group` (``store=``), as PyTorch's private function.

    Raises:
        ValueError: the default group is not initialised.
        RuntimeError: it was initialised without a store (ember's communicators find each
            other through the MPI launcher, not a store).
    """
    _comm()
    if _state.get("store") is None:
        raise RuntimeError("_get_default_store: init_process_group was called without store=")
    return _state["store"]


def _seconds(timeout, name="init_process_group"):
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"{name}: timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    if not seconds > 0:
        raise ValueError(f"{name}: timeout must be positive, got {timeout}")
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


# -- groups -------------------------------------------------------------------------------------
def _is_non_member(group: object) -> bool:
    return isinstance(group, int) and not isinstance(group, bool) and group == GroupMember.NON_GROUP_MEMBER


def _group(name: str, group: object) -> ProcessGroup | None:
    """The group a call runs on; ``None`` where this rank is not a member (the call then does nothing)."""
    world = _state["world"]
    if world is None:
        raise ValueError(_NOT_INITIALIZED)
    if group is None or group is world:
        return world
    if _is_non_member(group):
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{name}: group must be a ProcessGroup (from new_group) or None, got {type(group).__name__}")
    if group._comm is None:
        raise ValueError(f"{name}: {group!r} was destroyed")
    return group


def _peer(
    name: str, pg: ProcessGroup, arg: str, global_rank: object, group_rank: object, default: int | None = None
) -> int:
    """The group rank that ``arg`` (a global rank) or ``group_arg`` (a group rank) names in ``pg``."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError(f"{name}: can't specify both {arg} and group_{arg} (a global and a group rank)")
        if not isinstance(group_rank, int) or isinstance(group_rank, bool) or not 0 <= group_rank < pg.size():
            raise ValueError(f"{name}: group_{arg}={group_rank!r} is not a rank of the group (size {pg.size()})")
        return group_rank
    if global_rank is None:
        if default is None:
            raise ValueError(f"{name}: must specify {arg} or group_{arg}")
        global_rank = default
    if not isinstance(global_rank, int) or isinstance(global_rank, bool) or global_rank not in pg._ranks:
        where = f"world size {pg.size()}" if pg is _state["world"] else f"ranks {pg._ranks}"
        raise ValueError(f"{name}: {arg}={global_rank!r} is not a rank of the group ({where})")
    return pg._ranks.index(global_rank)


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (the default group if ``None``); ``-1`` if it is not a member."""
    pg = _group("get_rank", group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in ``group`` (the default group if ``None``); ``-1`` if this rank is not a member."""
    pg = _group("get_world_size", group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The name of ``group``'s communicator (``"mpi"``, ``"nccl"``)."""
    pg = _group("get_backend", group)
    if pg is None:
        raise ValueError("get_backend: invalid process group specified (this rank is not a member)")
    return pg.name()


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order.

    Example::

        >>> g = dist.new_group([2, 0])        # on every rank of a job of 3 or more
        >>> dist.get_process_group_ranks(g)    # on ranks 0 and 2
        [0, 2]
    """
    pg = _group("get_process_group_ranks", group)
    if pg is None:
        raise ValueError("get_process_group_ranks: this rank is not a member of the group")
    return list(pg._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of ``group``'s member number ``group_rank``; ValueError if there is none."""
    pg = _group("get_global_rank", group)
    if pg is None or pg is _state["world"]:
        return group_rank  # the default group's ranks are global ranks (torch: the identity)
    if not isinstance(group_rank, int) or isinstance(group_rank, bool) or not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg!r}")
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within ``group`` of global rank ``global_rank``; ValueError if it is not a member."""
    pg = _group("get_group_rank", group)
    if pg is None or pg is _state["world"]:
        return global_rank
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg!r}")
    return pg._ranks.index(global_rank)


def new_group(
    ranks: list[int] | None = None,
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: object = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: object = None,
    sort_ranks: bool = True,
) -> ProcessGroup | int:
    """A process group of the global ranks ``ranks``, for the ``group=`` argument of every collective.

    Every rank of the job calls it with the same ``ranks`` (only the members need to if
    ``use_local_synchronization=True``). A member gets the :class:`ProcessGroup`; any other
    rank gets ``GroupMember.NON_GROUP_MEMBER``, and collectives given that do nothing and
    return ``None``. The members' group ranks follow ``sorted(ranks)`` (``ranks``' own order
    with ``sort_ranks=False``).

    Args:
        ranks (list[int], optional): global ranks of the members. Default: all ranks.
        timeout (datetime.timedelta or float, optional): the group's collective timeout.
            Default: the default group's.
        backend (str, optional): the group's communicator, e.g. a ``"gloo"`` (``mpi``) group
            for objects beside an ``nccl`` world. Default: the default group's.
        use_local_synchronization (bool): only the members call it. Default: ``False``.

    Example::

        >>> evens = dist.new_group([0, 2])          # under mpiexec -n 3, on every rank
        >>> t = ember.ones(2)
        >>> dist.all_reduce(t, group=evens)         # ranks 0 and 2: t == 2; rank 1: no-op, None
    """
    world = _group("new_group", None)
    size = world.size()  # type: ignore[union-attr]
    if ranks is None:
        ranks = list(range(size))
    if not isinstance(ranks, (list, tuple, range)):
        raise TypeError(f"new_group: ranks must be a list of ints, got {type(ranks).__name__}")
    ranks = [int(r) if isinstance(r, int) and not isinstance(r, bool) else r for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks, key=lambda r: (not isinstance(r, int), r if isinstance(r, int) else 0))
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"ranks list must not contain duplicate entries, got {ranks}")
    if len(ranks) > size:
        raise ValueError(
            "the new group's world size should be less or equal to the world size set by init_process_group"
        )
    for r in ranks:
        if not isinstance(r, int) or not 0 <= r < size:
            raise ValueError(f"new_group: rank {r!r} is not a rank of the job (world size {size})")
    seconds = _comm().timeout if timeout is None else _seconds(timeout, "new_group")
    comm = _communicator(backend)
    _state["groups"].append(None)
    name = str(len(_state["groups"]))
    sub = comm.split(list(ranks))
    if sub is None:
        return GroupMember.NON_GROUP_MEMBER
    sub.name, sub.timeout = comm.name, seconds
    pg = ProcessGroup(sub, ranks, name)
    _state["groups"][-1] = pg
    return pg


def new_subgroups(
    group_size: int | None = None,
    group: ProcessGroup | None = None,
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: object = None,
    group_desc: str | None = None,
) -> tuple[ProcessGroup | None, list[ProcessGroup | int]]:
    """Split ``group``'s ranks into consecutive subgroups of ``group_size`` ranks each.

    Every rank of the job calls it. Returns the subgroup this rank belongs to and the list
    of all subgroups (what each rank is not a member of is ``GroupMember.NON_GROUP_MEMBER``),
    for :func:`destroy_process_group` at the end.

    Args:
        group_size (int): ranks per subgroup; it must divide the group's size. Default:
            the number of CUDA devices (so it is required without CUDA).
        group (ProcessGroup, optional): the ranks to split. Default: all of them.
        timeout, backend, pg_options, group_desc: as :func:`new_group`'s.

    Raises:
        ValueError: ``group_size`` is missing without CUDA, not positive, larger than the
            group, or does not divide its size.

    Example (under ``mpiexec -n 4``)::

        >>> mine, subgroups = dist.new_subgroups(group_size=2)   # ranks [0, 1] and [2, 3]
        >>> t = ember.ones(1)
        >>> dist.all_reduce(t, group=mine)                       # t == 2 on every rank
        >>> for g in subgroups:
        ...     dist.destroy_process_group(g)
    """
    if group_size is None:
        count = _cuda_device_count()
        if not count:
            raise ValueError(
                "Default group size only takes effect when CUDA is available. If your subgroup using a backend "
                "that does not depend on CUDA, please pass in 'group_size' correctly."
            )
        group_size = count
    if not isinstance(group_size, int) or isinstance(group_size, bool):
        raise TypeError(f"new_subgroups: group_size must be an int, got {type(group_size).__name__}")
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world size ({world_size})")
    if world_size % group_size:
        raise ValueError(f"The world size ({world_size}) must be divisible by 'group_size={group_size}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration(
        [ranks[i : i + group_size] for i in range(0, len(ranks), group_size)],
        timeout=timeout,
        backend=backend,
        pg_options=pg_options,
        group_desc=group_desc,
    )


def _cuda_device_count() -> int:
    try:
        from .. import cuda

        return int(cuda.device_count()) if cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no CUDA backend at all
        return 0


def new_subgroups_by_enumeration(
    ranks_per_subgroup_list: list[list[int]],
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: object = None,
    group_desc: str | None = None,
) -> tuple[ProcessGroup | None, list[ProcessGroup | int]]:
    """One subgroup per list of global ranks in ``ranks_per_subgroup_list`` (no rank in two).

    Every rank of the job calls it; a rank may be in none of the lists. Returns this rank's
    subgroup (``None`` if it is in none) and the list of all subgroups.

    Raises:
        ValueError: the list is empty, or a rank appears in two subgroups.

    Example (under ``mpiexec -n 4``)::

        >>> mine, subgroups = dist.new_subgroups_by_enumeration([[0, 2], [1, 3]])
        >>> dist.get_process_group_ranks(mine)                    # on rank 2
        [0, 2]
    """
    if ranks_per_subgroup_list is None or len(ranks_per_subgroup_list) == 0:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups: list[ProcessGroup | int] = []
    mine = None
    seen: dict[int, list[int]] = {}
    me = get_rank()
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(
            ranks=ranks, timeout=timeout, backend=backend, pg_options=pg_options, group_desc=group_desc
        )
        subgroups.append(subgroup)
        for r in ranks:
            if r in seen:
                raise ValueError(f"Rank {r} has appeared in both subgroup {seen[r]} and {ranks}")
            seen[r] = ranks
            if r == me:
                mine = subgroup
    return mine, subgroups  # type: ignore[return-value]


def get_pg_count() -> int:
    """The number of process groups this process has made (the default group counts; destroyed ones too)."""
    return 0 if _state["comm"] is None else 1 + len(_state["groups"])


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among those of its machine: ``LOCAL_RANK`` from the environment.

    ``python -m ember.distributed.run`` (and torchrun) set ``LOCAL_RANK``.

    Args:
        fallback_rank (int, optional): what to return where ``LOCAL_RANK`` is not set.

    Raises:
        RuntimeError: ``LOCAL_RANK`` is not set and no ``fallback_rank`` was given.

    Example::

        >>> dist.get_node_local_rank(fallback_rank=0)   # 0 outside a launcher
        0
    """
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow `get_node_local_rank` to "
        "work, assuming you are not running in a multi-device context and want the code to run locally instead."
    )


def is_backend_available(backend: str) -> bool:
    """Whether communicator ``backend`` can run here (its library imports).

    ``"gloo"`` and ``"mpi"`` need mpi4py, ``"nccl"`` ``cupy.cuda.nccl``; a plugin's name, its
    communicator class loading. A ``"cpu:gloo,cuda:nccl"`` string needs every one it names.

    Example::

        >>> dist.is_backend_available("ucc")
        False
    """
    if not isinstance(backend, str):
        raise TypeError(f"is_backend_available: backend must be a str, got {type(backend).__name__}")
    name = str(backend).lower()  # (a str: checked above)
    if ":" in name:
        parts = [p.split(":", 1)[-1].strip() for p in name.split(",") if p.strip()]
        return bool(parts) and all(is_backend_available(p) for p in parts)
    if name in ("gloo", "mpi"):
        return is_mpi_available()
    if name == "nccl":
        return is_nccl_available()
    if name not in plugin.communicator_registry().names():
        return False
    try:
        plugin.communicator_registry().load(name)
    except Exception:  # noqa: BLE001 - its library is missing or broken
        return False
    return True


def is_ucc_available() -> bool:
    """False: ember has no UCC communicator."""
    return False


def is_xccl_available() -> bool:
    """False: ember has no XCCL communicator."""
    return False


def get_default_backend_for_device(device: str | DeviceObject) -> str:
    """The communicator PyTorch programs name for ``device``'s type.

    ``"gloo"`` for ``"cpu"``, ``"nccl"`` for ``"cuda"``, ``"mpi"`` for ember's other devices
    (``"opencl"``: the ``mpi`` communicator moves any device's tensors through host memory).

    Raises:
        ValueError: ``"meta"`` (no data to communicate).

    Example::

        >>> dist.get_default_backend_for_device("cuda:1"), dist.get_default_backend_for_device("cpu")
        ('nccl', 'gloo')
    """
    from ..device import device as _device

    kind = device.type if isinstance(device, _device) else _device(device).type
    if kind == "meta":
        raise ValueError(f"Default backend not registered for device : {device}")
    return {"cpu": "gloo", "cuda": "nccl"}.get(kind, "mpi")


def _communicator(backend):
    """The world communicator of ``backend`` (the default group's if ``None``), made on first use."""
    comm = _comm()
    if backend is None:
        return comm
    name = str(backend).lower()
    cls = plugin.communicator_registry().load(name)
    if isinstance(comm, cls):
        return comm
    worlds = _state.setdefault("worlds", {})
    if name not in worlds:
        other = cls(world_size=comm.world_size, rank=comm.rank)
        other.name, other.timeout = name, comm.timeout
        worlds[name] = other
    return worlds[name]


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave ``group``; with ``None`` (the default group), leave the job and every subgroup.

    :func:`init_process_group` may be called again afterwards.
    """
    pg = _group("destroy_process_group", group)
    if pg is None:
        return
    if pg is not _state["world"]:
        comm, pg._comm = pg._comm, None
        comm.destroy()
        return
    for sub in _state["groups"]:
        if sub is not None and sub._comm is not None:
            sub._comm.destroy()
            sub._comm = None
    for other in _state.pop("worlds", {}).values():
        other.destroy()
    comm = _state["comm"]
    _state.update(comm=None, world=None, groups=[], store=None)
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _state["excepthook"] or sys.__excepthook__
    comm.destroy()


# -- argument checks ----------------------------------------------------------------------------
def _check_tensor(op, tensor, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(tensor).__name__}")
    if tensor.is_sparse:
        raise RuntimeError(f"{op}: sparse tensors are not supported")


def _check_op(name, tensor, op):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be an ember.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    if tensor.dtype.is_complex and op in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT):
        raise ValueError(f"{name} does not support ReduceOp.{op.name} on complex tensors ({tensor.dtype})")


_NOT_REDUCING = object()  # _collective_group's op where the collective takes none


def _collective_group(
    name: str, group: object, op: object = _NOT_REDUCING, stacklevel: int = 3, **tensors: object
) -> ProcessGroup | None:
    """The group a collective (or point-to-point call) runs on, after the checks each starts with.

    Each of ``tensors`` (argument name: value, in the order checked) must be a dense Tensor, and
    ``op``, for the reducing collectives, a ReduceOp that the first of them can take. ``None`` where
    this rank is not a member of ``group``: the call then does nothing, after a UserWarning (at
    ``stacklevel``: by default the caller of this function's caller), as PyTorch's collectives do.
    """
    for arg, tensor in tensors.items():
        _check_tensor(name, tensor, arg)
    if op is not _NOT_REDUCING:
        _check_op(name, next(iter(tensors.values())), op)
    pg = _group(name, group)
    if pg is None:
        warnings.warn(
            f"Running {name} on global rank {_comm().rank} which does not belong to the given group.",
            stacklevel=stacklevel,
        )
    return pg


def _describe(t):
    return f"{t.dtype} {list(t.shape)} on {t.device}"


def _check_list(name, arg, tensors, count, like, like_name="tensor", same_shape=True):
    """``tensors``: a list of ``count`` tensors of ``like``'s dtype and device (and shape).

    As in PyTorch: a dtype that differs is a ValueError, a wrong count or shape a RuntimeError.
    """
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: {arg} must be a list of Tensors, got {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        _check_tensor(name, t, f"{arg}[{i}]")
        if t.dtype != like.dtype:
            raise ValueError(
                f"{name}: invalid usage of tensors with different dtypes: {arg}[{i}] is {t.dtype}, "
                f"{like_name} is {like.dtype}"
            )
    if len(tensors) != count:
        raise RuntimeError(f"{name}: {arg} has {len(tensors)} tensors, expected one per rank of the group ({count})")
    for i, t in enumerate(tensors):
        if t.device != like.device or (same_shape and t.shape != like.shape):
            raise RuntimeError(f"{name}: {arg}[{i}] is {_describe(t)}, but {like_name} is {_describe(like)}")


def _check_same(name, a, a_name, b, b_name):
    """``a`` and ``b`` share dtype and device (a dtype that differs: ValueError, as in PyTorch)."""
    if a.dtype != b.dtype:
        raise ValueError(
            f"{name}: invalid usage of tensors with different dtypes: {a_name} is {a.dtype}, {b_name} is {b.dtype}"
        )
    if a.device != b.device:
        raise RuntimeError(f"{name}: {a_name} is on {a.device}, but {b_name} is on {b.device}")


def _collective(
    name: str,
    group: object,
    async_op: bool,
    start: Callable[..., Work | tuple[Work, list[Any]]],
    *,
    op: object = _NOT_REDUCING,
    root: tuple[str, int | None, int | None] | None = None,
    **tensors: object,
) -> Work | None:
    """Run one collective: the checks it starts with, ``start``, then the wait or the :class:`Work`.

    Args:
        name: the collective's name, for messages.
        group, op, tensors: checked by :func:`_collective_group`. Where this rank is not a
            member of ``group``, the call returns ``None`` (after a UserWarning pointing at the
            collective's caller) without running ``start``.
        async_op: return the work to wait on (its future a future of the outputs) instead of
            waiting for it and returning ``None``.
        start: ``start(pg)`` (``start(pg, root)`` with ``root``) checks the rest and starts the
            collective on ``pg``'s communicator; it returns the :class:`Work`, or ``(work,
            outputs)`` where the work's future gives ``outputs``.
        root: a rooted collective's ``(argument name, global rank, group rank)``
            (``("dst", dst, group_dst)``); ``start`` gets the group rank it names (default: the
            group's first rank).
    """
    pg = _collective_group(name, group, op, stacklevel=4, **tensors)
    if pg is None:
        return None
    if root is None:
        started = start(pg)
    else:
        arg, global_rank, group_rank = root
        started = start(pg, _peer(name, pg, arg, global_rank, group_rank, default=pg._ranks[0]))
    work, outputs = started if isinstance(started, tuple) else (started, [])
    if async_op:
        work._outputs = list(outputs)
        return work
    work.wait()
    return None


def _then(work, after):
    """A :class:`Work` that waits for ``work``, then runs ``after``."""

    def finish():
        work.wait()
        after()

    return Work(finish)


# -- collectives --------------------------------------------------------------------------------
def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None:
    """Reduce ``tensor`` over all ranks of ``group`` with ``op``, in place; every rank gets the result.

    Args:
        tensor (Tensor): input and output, the same shape and dtype on every rank.
        op (ReduceOp): ``SUM``, ``AVG``, ``PRODUCT``, ``MIN`` or ``MAX``. Default: ``SUM``.
        group (ProcessGroup, optional): the ranks taking part (see :func:`new_group`).
            Default: all of them.
        async_op (bool): return a :class:`Work` to ``wait()`` on instead of blocking.
            Default: ``False``.

    Example::

        >>> t = ember.ones(2) * (dist.get_rank() + 1)
        >>> dist.all_reduce(t, op=dist.ReduceOp.MAX)   # t == world_size everywhere
    """
    return _collective(
        "all_reduce", group, async_op, lambda pg: (pg._comm.all_reduce(tensor, op), [tensor]), op=op, tensor=tensor
    )


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op: ReduceOp = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Like :func:`all_reduce`, but only rank ``dst``'s ``tensor`` receives the result.

    Args:
        tensor (Tensor): input, and output on rank ``dst``.
        dst (int): the receiving rank (a global rank). Default: 0.
        op (ReduceOp): see :func:`all_reduce`. Default: ``SUM``.
        group_dst (int, optional): the receiving rank as a rank of ``group`` instead.
    """
    return _collective(
        "reduce",
        group,
        async_op,
        lambda pg, root: (pg._comm.reduce(tensor, root, op), [tensor]),
        op=op,
        root=("dst", dst, group_dst),
        tensor=tensor,
    )


def broadcast(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_src: int | None = None,
) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank of ``group``.

    Args:
        tensor (Tensor): data to send on ``src``, to overwrite elsewhere.
        src (int): the sending rank (a global rank). Default: 0.
        group_src (int, optional): the sending rank as a rank of ``group`` instead.
    """
    return _collective(
        "broadcast",
        group,
        async_op,
        lambda pg, root: (pg._comm.broadcast(tensor, root), [tensor]),
        root=("src", src, group_src),
        tensor=tensor,
    )


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None:
    """Gather every rank's ``tensor`` into ``tensor_list`` (``tensor_list[i]`` from group rank ``i``).

    Args:
        tensor_list (list[Tensor]): one tensor per rank of the group, shaped and typed like
            ``tensor`` (a dtype that differs raises ValueError, a count or shape RuntimeError).
        tensor (Tensor): this rank's contribution.
    """

    def start(pg):
        _check_list("all_gather", "tensor_list", tensor_list, pg.size(), tensor)
        return pg._comm.all_gather(list(tensor_list), tensor), [list(tensor_list)]

    return _collective("all_gather", group, async_op, start, tensor=tensor)


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None:
    """Gather every rank's ``input_tensor`` into one tensor, concatenated in rank order.

    Args:
        output_tensor (Tensor): ``world_size * input_tensor.numel()`` elements of the same
            dtype: shaped ``(world_size * n, ...)`` (concatenated) or ``(world_size, n, ...)``
            (stacked).
        input_tensor (Tensor): this rank's contribution.

    Example::

        >>> out = ember.empty(2 * dist.get_world_size())
        >>> dist.all_gather_into_tensor(out, ember.full((2,), float(dist.get_rank())))
        >>> out                      # on 2 ranks: tensor([0., 0., 1., 1.])
    """
    name = "all_gather_into_tensor"

    def start(pg):
        n = pg.size()
        if output_tensor.dtype != input_tensor.dtype or output_tensor.device != input_tensor.device:
            raise RuntimeError(
                f"{name}: output_tensor is {_describe(output_tensor)}, but input_tensor is {_describe(input_tensor)}"
            )
        if output_tensor.numel() != n * input_tensor.numel():
            raise RuntimeError(
                f"{name}: output_tensor {list(output_tensor.shape)} must hold world_size ({n}) times input_tensor "
                f"{list(input_tensor.shape)}: {n * input_tensor.numel()} elements, not {output_tensor.numel()}"
            )
        parts = [empty_like(input_tensor) for _ in range(n)]
        work = pg._comm.all_gather(parts, input_tensor)
        return _then(work, lambda: _copy_into(output_tensor, _stack_flat(parts, output_tensor))), [output_tensor]

    return _collective(name, group, async_op, start, output_tensor=output_tensor, input_tensor=input_tensor)


def _stack_flat(parts, like):
    return cat([p.reshape(-1) for p in parts]).reshape(like.shape)


def reduce_scatter(
    output: Tensor,
    input_list: list[Tensor],
    op: ReduceOp = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Reduce ``input_list[i]`` over the ranks with ``op`` into group rank ``i``'s ``output``.

    Args:
        output (Tensor): receives this rank's reduced part.
        input_list (list[Tensor]): one tensor per rank of the group, shaped and typed like
            ``output``.
        op (ReduceOp): see :func:`all_reduce`. Default: ``SUM``.

    Example::

        >>> out = ember.empty(1)
        >>> dist.reduce_scatter(out, [ember.ones(1) * i for i in range(dist.get_world_size())])
        >>> out                      # rank r: tensor([r * world_size])
    """

    def start(pg):
        _check_list("reduce_scatter", "input_list", input_list, pg.size(), output, "output")
        return pg._comm.reduce_scatter(output, list(input_list), op), [output]

    return _collective("reduce_scatter", group, async_op, start, op=op, output=output)


def reduce_scatter_tensor(
    output: Tensor,
    input: Tensor,  # noqa: A002 - torch's name
    op: ReduceOp = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Reduce ``input`` over the ranks and give group rank ``i`` the ``i``-th of its ``world_size`` equal parts.

    Args:
        output (Tensor): receives this rank's part, ``input.numel() / world_size`` elements.
        input (Tensor): ``world_size * output.numel()`` elements of the same dtype, split
            along its flattened order (``(world_size * n, ...)`` or ``(world_size, n, ...)``).
        op (ReduceOp): see :func:`all_reduce`. Default: ``SUM``.
    """
    name = "reduce_scatter_tensor"

    def start(pg):
        n = pg.size()
        if output.dtype != input.dtype or output.device != input.device:
            raise RuntimeError(f"{name}: output is {_describe(output)}, but input is {_describe(input)}")
        if input.numel() != n * output.numel():
            raise RuntimeError(
                f"{name}: input {list(input.shape)} must hold world_size ({n}) times output {list(output.shape)}: "
                f"{n * output.numel()} elements, not {input.numel()}"
            )
        parts = list(input.reshape(n, *output.shape).unbind(0)) if n else []
        return pg._comm.reduce_scatter(output, parts, op), [output]

    return _collective(name, group, async_op, start, op=op, output=output, input=input)


def _root_list(
    name: str, arg: str, role: str, pg: ProcessGroup, root: int, tensors: list[Tensor] | None, tensor: Tensor
) -> list[Tensor] | None:
    """The list argument of a rooted collective (``gather``'s ``gather_list``, ``scatter``'s ``scatter_list``):
    required and checked on the root (as a new list), refused elsewhere (``None`` there)."""
    if pg.rank() == root:
        if tensors is None:
            raise ValueError(f"{name}: argument ``{arg}`` must be specified on the {role} rank")
        _check_list(name, arg, tensors, pg.size(), tensor)
        return list(tensors)
    if tensors:
        raise ValueError(f"{name}: argument ``{arg}`` must NOT be specified on non-{role} ranks")
    return None


def gather(
    tensor: Tensor,
    gather_list: list[Tensor] | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Gather every rank's ``tensor`` into ``gather_list`` on rank ``dst`` only.

    Args:
        tensor (Tensor): this rank's contribution, the same shape and dtype on every rank.
        gather_list (list[Tensor], optional): on ``dst``, one tensor per rank of the group,
            shaped and typed like ``tensor``; ``None`` (or empty) on the other ranks.
        dst (int): the receiving rank (a global rank). Default: 0.
        group_dst (int, optional): the receiving rank as a rank of ``group`` instead.

    Example::

        >>> t = ember.tensor([float(dist.get_rank())])
        >>> out = [ember.empty(1) for _ in range(dist.get_world_size())] if dist.get_rank() == 0 else None
        >>> dist.gather(t, out, dst=0)      # rank 0: out == [tensor([0.]), tensor([1.]), ...]
    """

    def start(pg, root):
        parts = _root_list("gather", "gather_list", "destination", pg, root, gather_list, tensor)
        return pg._comm.gather(tensor, parts, root)

    return _collective("gather", group, async_op, start, root=("dst", dst, group_dst), tensor=tensor)


def scatter(
    tensor: Tensor,
    scatter_list: list[Tensor] | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_src: int | None = None,
) -> Work | None:
    """Give group rank ``i`` the tensor ``scatter_list[i]`` of rank ``src``, in its ``tensor``.

    Args:
        tensor (Tensor): receives this rank's part.
        scatter_list (list[Tensor], optional): on ``src``, one tensor per rank of the group,
            shaped and typed like ``tensor``; ``None`` (or empty) on the other ranks.
        src (int): the sending rank (a global rank). Default: 0.
        group_src (int, optional): the sending rank as a rank of ``group`` instead.
    """

    def start(pg, root):
        parts = _root_list("scatter", "scatter_list", "source", pg, root, scatter_list, tensor)
        return pg._comm.scatter(tensor, parts, root)

    return _collective("scatter", group, async_op, start, root=("src", src, group_src), tensor=tensor)


def all_to_all(
    output_tensor_list: list[Tensor],
    input_tensor_list: list[Tensor],
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Send ``input_tensor_list[j]`` to group rank ``j``; receive rank ``j``'s part into ``output_tensor_list[j]``.

    Args:
        output_tensor_list (list[Tensor]): one tensor per rank of the group; entry ``j``
            has the size of what rank ``j`` sends here (sizes may differ).
        input_tensor_list (list[Tensor]): one tensor per rank, all of one dtype.

    Example::

        >>> r, n = dist.get_rank(), dist.get_world_size()
        >>> out = [ember.empty(1) for _ in range(n)]
        >>> dist.all_to_all(out, [ember.tensor([10.0 * r + j]) for j in range(n)])
        >>> out                                  # [tensor([10*j + r]) for j in range(n)]
    """
    name = "all_to_all"

    def start(pg):
        for arg, tensors in (("output_tensor_list", output_tensor_list), ("input_tensor_list", input_tensor_list)):
            if not isinstance(tensors, (list, tuple)) or not tensors:
                raise RuntimeError(f"{name}: {arg} must be a list of one tensor per rank of the group ({pg.size()})")
            _check_tensor(name, tensors[0], f"{arg}[0]")
        like = input_tensor_list[0]
        _check_list(name, "input_tensor_list", input_tensor_list, pg.size(), like, "input_tensor_list[0]", False)
        _check_list(name, "output_tensor_list", output_tensor_list, pg.size(), like, "input_tensor_list[0]", False)
        return pg._comm.all_to_all(list(output_tensor_list), list(input_tensor_list))

    return _collective(name, group, async_op, start)


def _splits(name, arg, sizes, tensor, n):
    """The dim-0 sizes of ``tensor``'s ``n`` parts: ``sizes``, or equal parts if ``None``."""
    if tensor.dim() == 0:
        raise RuntimeError(f"{name}: {arg[:-12] or 'tensor'} must have at least one dimension, got a 0-d tensor")
    total = tensor.shape[0]
    if sizes is None or len(sizes) == 0:
        if total % n:
            raise RuntimeError(f"{name}: dim 0 of {list(tensor.shape)} does not split into {n} equal parts")
        return [total // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n:
        raise RuntimeError(
            f"{name}: {arg} has {len(sizes)} entries; the number of splits must equal the group size ({n})"
        )
    if any(s < 0 for s in sizes) or sum(sizes) != total:
        raise RuntimeError(f"{name}: {arg} {sizes} doesn't match the total dim 0 size {total} of {list(tensor.shape)}")
    return sizes


def all_to_all_single(
    output: Tensor,
    input: Tensor,  # noqa: A002 - torch's name
    output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Split ``input`` along dim 0, send part ``j`` to group rank ``j``, concatenate what arrives into ``output``.

    Args:
        output (Tensor): receives the parts, rank 0's first.
        input (Tensor): the parts to send, concatenated along dim 0.
        output_split_sizes (list[int], optional): dim-0 size of the part from each rank.
            Default: equal parts.
        input_split_sizes (list[int], optional): dim-0 size of the part to each rank.
            Default: equal parts.

    Example::

        >>> n = dist.get_world_size()
        >>> out = ember.empty(n)
        >>> dist.all_to_all_single(out, ember.arange(n, dtype=ember.float32) + 10 * dist.get_rank())
        >>> out                                  # rank r: tensor([r, 10 + r, 20 + r, ...])
    """
    name = "all_to_all_single"

    def start(pg):
        _check_same(name, output, "output", input, "input")
        n = pg.size()
        ins = _splits(name, "input_split_sizes", input_split_sizes, input, n)
        outs = _splits(name, "output_split_sizes", output_split_sizes, output, n)
        if output.shape[1:] != input.shape[1:]:
            raise RuntimeError(f"{name}: output {list(output.shape)} and input {list(input.shape)} differ beyond dim 0")
        inner = tuple(input.shape[1:])
        parts = list(input.split(ins, dim=0))
        received = [empty((s, *inner), dtype=output.dtype, device=output.device) for s in outs]
        work = pg._comm.all_to_all(received, parts)
        return _then(work, lambda: _copy_into(output, cat(received, dim=0)))

    return _collective(name, group, async_op, start, output=output, input=input)


def barrier(
    group: ProcessGroup | None = None,
    async_op: bool = False,
    device_ids: list[int] | None = None,
    timeout: datetime.timedelta | None = None,
) -> Work | None:
    """Block until every rank of ``group`` has reached this call."""

    def start(pg):
        pg._comm.barrier()
        return Work()

    return _collective("barrier", group, async_op, start)


_MONITOR_TAG = 32_767  # the tag of monitored_barrier's messages (MPI's smallest allowed upper bound)


def monitored_barrier(
    group: ProcessGroup | None = None, timeout: datetime.timedelta | float | None = None, wait_all_ranks: bool = False
) -> None:
    """A barrier that names the ranks that did not reach it within ``timeout``.

    Group rank 0 waits for a message from every other rank, then answers each; if some do
    not come in time it raises RuntimeError naming them (the first one, or all with
    ``wait_all_ranks=True``), as PyTorch's does.

    Args:
        timeout (datetime.timedelta or float, optional): how long rank 0 waits. Default:
            the group's timeout.
        wait_all_ranks (bool): report every missing rank, not only the first. Default: ``False``.
    """
    pg = _collective_group("monitored_barrier", group)
    if pg is None:
        return None
    comm = pg._comm
    seconds = comm.timeout if timeout is None else _seconds(timeout, "monitored_barrier")
    token = zeros(1, dtype=dtypes.uint8, device=comm.object_device())
    if pg.rank() != 0:
        comm.send(token, 0, _MONITOR_TAG).wait()
        comm.recv(token, 0, _MONITOR_TAG).wait()
        return None
    pending = {
        r: comm.recv(zeros(1, dtype=dtypes.uint8, device=token.device), r, _MONITOR_TAG) for r in range(1, pg.size())
    }
    deadline = time.monotonic() + seconds
    while any(not w.is_completed() for w in pending.values()) and time.monotonic() < deadline:
        time.sleep(1e-3)
    missing = [pg._ranks[r] for r, w in pending.items() if not w.is_completed()]
    if missing:
        shown = missing if wait_all_ranks else missing[:1]
        which = f"Ranks {', '.join(map(str, shown))}" if len(shown) > 1 else f"Rank {shown[0]}"
        raise DistributedError(f"monitored_barrier: {which} failed to pass monitoredBarrier in {seconds * 1000:g} ms")
    for r in range(1, pg.size()):
        comm.send(token, r, _MONITOR_TAG).wait()
    return None


# -- point to point -----------------------------------------------------------------------------
def _p2p_peer(name, tensor, peer, group, group_peer, arg):
    """The group and the peer's group rank of a send or receive; ``(None, None)`` on a non-member."""
    pg = _collective_group(name, group, tensor=tensor)
    if pg is None:
        return None, None
    rank = _peer(name, pg, arg, peer, group_peer)
    if rank == pg.rank():
        what = "destination" if arg == "dst" else "source"
        raise ValueError(
            f"Invalid {what} rank: {what} rank should not be the same as the rank of the current process ({name})."
        )
    return pg, rank


def isend(
    tensor: Tensor,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> Work | None:
    """Start sending ``tensor`` to rank ``dst``; returns a :class:`Work` (``wait()``, ``is_completed()``).

    Do not change ``tensor`` before the work completed. ``None`` on a rank outside ``group``.

    Example::

        >>> if dist.get_rank() == 0:
        ...     dist.isend(ember.ones(3), dst=1).wait()
        ... else:
        ...     t = ember.empty(3)
        ...     dist.irecv(t, src=0).wait()          # t == tensor([1., 1., 1.])
    """
    pg, peer = _p2p_peer("isend", tensor, dst, group, group_dst, "dst")
    if pg is None:
        return None
    return pg._comm.send(tensor, peer, _tag("isend", tag))


def send(
    tensor: Tensor,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> None:
    """Send ``tensor`` to rank ``dst`` (a global rank; ``group_dst``: a rank of ``group``), blocking until sent.

    Args:
        tensor (Tensor): the values to send; the receiver's tensor has its size and dtype.
        dst (int): the receiving rank, not this one.
        tag (int): matches the receive with the same tag. Default: 0.
    """
    if _is_non_member(group):  # as PyTorch's send (isend returns None instead)
        raise ValueError("send: Invalid process group specified (this rank is not a member of the group)")
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_src: int | None = None,
) -> Work | None:
    """Start receiving into ``tensor`` from rank ``src`` (any rank if ``None``); returns a :class:`Work`."""
    name = "irecv"
    if src is None and group_src is None:
        pg = _collective_group(name, group, tensor=tensor)
        return None if pg is None else pg._comm.recv(tensor, None, _tag(name, tag))
    pg, peer = _p2p_peer(name, tensor, src, group, group_src, "src")
    if pg is None:
        return None
    return pg._comm.recv(tensor, peer, _tag(name, tag))


def recv(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_src: int | None = None,
) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank if ``None``), blocking; returns the sender's rank.

    The rank returned is global (``-1`` on a rank outside ``group``).

    Args:
        tensor (Tensor): receives the values; the size and dtype of what was sent.
        src (int, optional): the sending rank, a global rank. Default: any.
        tag (int): matches the send with the same tag. Default: 0.
    """
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    pg = _group("recv", group)
    return pg._ranks[work.source_rank()]  # type: ignore[union-attr]


def _tag(name, tag):
    if not isinstance(tag, int) or isinstance(tag, bool):
        raise TypeError(f"{name}: tag must be an int, got {type(tag).__name__}")
    if not 0 <= tag < _MONITOR_TAG:  # MPI guarantees tags up to 32767; the last is monitored_barrier's
        raise RuntimeError(f"{name}: Tag must be nonnegative and below {_MONITOR_TAG}, got {tag}")
    return tag


class P2POp:
    """One send or receive of :func:`batch_isend_irecv`.

    Args:
        op: :func:`isend` or :func:`irecv`.
        tensor (Tensor): what to send, or where to receive.
        peer (int): the other rank (global). ``group_peer``: it as a rank of ``group``.
        group (ProcessGroup, optional): the group. Default: the default group.
        tag (int): the message tag. Default: 0.
    """

    def __init__(
        self,
        op: Callable[..., Any],
        tensor: Tensor,
        peer: int | None = None,
        group: ProcessGroup | None = None,
        tag: int = 0,
        group_peer: int | None = None,
    ) -> None:
        if op not in (isend, irecv):
            raise ValueError(
                "Invalid ``op``. Expected ``op`` to be of type ``ember.distributed.isend`` or "
                f"``ember.distributed.irecv``, got {op!r}."
            )
        _check_tensor("P2POp", tensor)
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = (
            op,
            tensor,
            peer,
            group,
            tag,
            group_peer,
        )

    def __repr__(self) -> str:
        return f"P2POp({self.op.__name__}, peer={self.peer}, tag={self.tag}, shape={list(self.tensor.shape)})"


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every send and receive of ``p2p_op_list`` at once; returns their :class:`Work` s, in order.

    All ops use one group. Starting all before waiting lets ranks exchange with each other
    (a ring) without deadlock.

    Example::

        >>> r, n = dist.get_rank(), dist.get_world_size()
        >>> got = ember.empty(1)
        >>> ops = [dist.P2POp(dist.isend, ember.tensor([float(r)]), (r + 1) % n),
        ...        dist.P2POp(dist.irecv, got, (r - 1) % n)]
        >>> for work in dist.batch_isend_irecv(ops):
        ...     work.wait()                           # got == tensor([(r - 1) % n])
    """
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to be of type ``ember.distributed.P2POp``.")
    if not p2p_op_list:
        raise ValueError("batch_isend_irecv: p2p_op_list is empty")
    if not all(p.group is p2p_op_list[0].group for p in p2p_op_list):
        raise ValueError("All ops need to use the same group.")
    pg = _collective_group("batch_isend_irecv", p2p_op_list[0].group)
    if pg is None:
        return []
    ops = []
    for p in p2p_op_list:
        send_op = p.op is isend
        _, peer = _p2p_peer("batch_isend_irecv", p.tensor, p.peer, p.group, p.group_peer, "dst" if send_op else "src")
        ops.append(("send" if send_op else "recv", p.tensor, peer, _tag("batch_isend_irecv", p.tag)))
    return pg._comm.batch_p2p(ops)


# -- objects ------------------------------------------------------------------------------------
def _object_to_tensor(obj, device):
    payload = pickle.dumps(obj)
    return _make_tensor(np.frombuffer(payload, dtype=np.uint8), device=device), len(payload)


def _tensor_to_object(t, size):
    return pickle.loads(np.asarray(t.cpu())[:size].tobytes())


def _padded(payload, size, length, device):
    padded = zeros(length, dtype=dtypes.uint8, device=device)
    if size:
        padded[:size] = payload
    return padded


def _sized(payload, size, length, device):
    """``payload``'s first ``size`` bytes in ``length`` bytes, ``size`` itself (int64) in the last 8."""
    part = _padded(payload, size, length, device)
    part[length - 8 :] = _make_tensor(np.frombuffer(np.int64(size).tobytes(), dtype=np.uint8), device=device)
    return part


def _sized_object(t):
    """The object that :func:`_sized` put in ``t``."""
    return _tensor_to_object(t, int(np.asarray(t.cpu())[-8:].view(np.int64)[0]))


def _longest(comm, size, device):
    """The largest ``size`` over the ranks of ``comm`` (one all-reduce)."""
    t = _make_tensor([size], dtype=dtypes.int64, device=device)
    comm.all_reduce(t, ReduceOp.MAX).wait()
    return int(t.item())


def all_gather_object(object_list: list[Any], obj: Any, group: ProcessGroup | None = None) -> None:
    """Gather a picklable object from every rank of ``group`` into ``object_list`` (one entry per rank)."""
    pg = _collective_group("all_gather_object", group)
    if pg is None:
        return None
    n = pg.size()
    if not isinstance(object_list, list) or len(object_list) != n:
        raise ValueError(f"all_gather_object: object_list must be a list of world_size={n} entries")
    comm = pg._comm
    device = comm.object_device()
    payload, size = _object_to_tensor(obj, device)
    sizes = [_make_tensor([0], dtype=dtypes.int64, device=device) for _ in range(n)]
    comm.all_gather(sizes, _make_tensor([size], dtype=dtypes.int64, device=device)).wait()
    longest = max(int(s.item()) for s in sizes)
    gathered = [zeros(longest, dtype=dtypes.uint8, device=device) for _ in range(n)]
    comm.all_gather(gathered, _padded(payload, size, longest, device)).wait()
    for i, (t, s) in enumerate(zip(gathered, sizes)):
        object_list[i] = _tensor_to_object(t, int(s.item()))
    return None


def broadcast_object_list(
    object_list: list[Any],
    src: int | None = None,
    group: ProcessGroup | None = None,
    device: Device = None,
    group_src: int | None = None,
) -> None:
    """Replace ``object_list``'s entries on every rank with rank ``src``'s (picklable objects)."""
    pg = _collective_group("broadcast_object_list", group)
    if pg is None:
        return None
    root = _peer("broadcast_object_list", pg, "src", src, group_src, default=pg._ranks[0])
    comm = pg._comm
    on = comm.object_device()
    payload, size = _object_to_tensor(list(object_list) if pg.rank() == root else None, on)
    length = _make_tensor([size], dtype=dtypes.int64, device=on)
    comm.broadcast(length, root).wait()
    buffer = (
        _padded(payload, size, int(length.item()), on)
        if pg.rank() == root
        else zeros(int(length.item()), dtype=dtypes.uint8, device=on)
    )
    comm.broadcast(buffer, root).wait()
    if pg.rank() != root:
        object_list[:] = _tensor_to_object(buffer, int(length.item()))
    return None


def gather_object(
    obj: Any,
    object_gather_list: list[Any] | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    group_dst: int | None = None,
) -> None:
    """Gather a picklable object from every rank into ``object_gather_list`` on rank ``dst``.

    Args:
        obj: this rank's object.
        object_gather_list (list, optional): on ``dst``, a list of one entry per rank of the
            group, overwritten; ``None`` on the other ranks.
        dst (int): the receiving rank (global). Default: 0.
    """
    name = "gather_object"
    pg = _collective_group(name, group)
    if pg is None:
        return None
    root = _peer(name, pg, "dst", dst, group_dst, default=pg._ranks[0])
    n = pg.size()
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError(f"{name}: argument ``object_gather_list`` must be specified on the destination rank")
        if len(object_gather_list) < n:
            raise ValueError(f"{name}: object_gather_list has {len(object_gather_list)} entries, expected {n}")
    elif object_gather_list:
        raise ValueError(f"{name}: argument ``object_gather_list`` must NOT be specified on non-destination ranks")
    comm = pg._comm
    device = comm.object_device()
    payload, size = _object_to_tensor(obj, device)
    longest = _longest(comm, size, device) + 8
    mine = _sized(payload, size, longest, device)
    parts = [zeros(longest, dtype=dtypes.uint8, device=device) for _ in range(n)] if pg.rank() == root else None
    comm.gather(mine, parts, root).wait()
    if parts is not None:
        for i, t in enumerate(parts):
            object_gather_list[i] = _sized_object(t)  # type: ignore[index]
    return None


def scatter_object_list(
    scatter_object_output_list: list[Any],
    scatter_object_input_list: list[Any] | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    group_src: int | None = None,
) -> None:
    """Put rank ``src``'s ``scatter_object_input_list[i]`` into group rank ``i``'s ``scatter_object_output_list[0]``.

    Args:
        scatter_object_output_list (list): at least one entry; the first is overwritten.
        scatter_object_input_list (list, optional): on ``src``, one picklable object per rank.
        src (int): the sending rank (global). Default: 0.
    """
    name = "scatter_object_list"
    pg = _collective_group(name, group)
    if pg is None:
        return None
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = _peer(name, pg, "src", src, group_src, default=pg._ranks[0])
    n = pg.size()
    comm = pg._comm
    device = comm.object_device()
    if pg.rank() == root:
        if not isinstance(scatter_object_input_list, (list, tuple)) or len(scatter_object_input_list) != n:
            raise ValueError(f"{name}: scatter_object_input_list must hold one object per rank of the group ({n})")
        payloads = [_object_to_tensor(o, device) for o in scatter_object_input_list]
        longest = max(s for _, s in payloads)
    else:
        longest = 0
    longest = _longest(comm, longest, device) + 8
    parts = None
    if pg.rank() == root:
        parts = [_sized(payload, size, longest, device) for payload, size in payloads]
    mine = zeros(longest, dtype=dtypes.uint8, device=device)
    comm.scatter(mine, parts, root).wait()
    scatter_object_output_list[0] = _sized_object(mine)
    return None


def send_object_list(
    object_list: list[Any],
    dst: int | None = None,
    group: ProcessGroup | None = None,
    device: Device = None,
    group_dst: int | None = None,
    use_batch: bool = False,
) -> None:
    """Send the picklable objects of ``object_list`` to rank ``dst``, whose :func:`recv_object_list` takes them.

    The receiver's list has the same length.
    """
    name = "send_object_list"
    if not isinstance(object_list, list):
        raise TypeError(f"{name}: object_list must be a list, got {type(object_list).__name__}")
    token = zeros(1)
    pg, peer = _p2p_peer(name, token, dst, group, group_dst, "dst")
    if pg is None:
        return None
    on = pg._comm.object_device()
    pairs = [_object_to_tensor(o, on) for o in object_list]
    sizes = _make_tensor([s for _, s in pairs], dtype=dtypes.int64, device=on)
    pg._comm.send(sizes, peer, 0).wait()
    if pairs and sum(s for _, s in pairs):
        pg._comm.send(cat([p for p, _ in pairs]), peer, 0).wait()
    return None


def recv_object_list(
    object_list: list[Any],
    src: int | None = None,
    group: ProcessGroup | None = None,
    device: Device = None,
    group_src: int | None = None,
    use_batch: bool = False,
) -> int:
    """Receive into ``object_list`` (of the sender's length) the objects of a :func:`send_object_list`.

    Returns the sender's global rank ``src`` (``group_src``: a rank of ``group``).
    """
    name = "recv_object_list"
    if not isinstance(object_list, list):
        raise TypeError(f"{name}: object_list must be a list, got {type(object_list).__name__}")
    pg = _collective_group(name, group)
    if pg is None:
        return -1
    if src is None and group_src is None:  # as PyTorch's: no receiving from any rank here
        raise ValueError(f"{name}: must specify src or group_src")
    on = pg._comm.object_device()
    sizes = zeros(len(object_list), dtype=dtypes.int64, device=on)
    work = irecv(sizes, src, group, 0, group_src)
    work.wait()  # type: ignore[union-attr]
    sender = work.source_rank()  # type: ignore[union-attr]
    counts = [int(s) for s in np.asarray(sizes.cpu())]
    payload = zeros(sum(counts), dtype=dtypes.uint8, device=on)
    if sum(counts):
        pg._comm.recv(payload, sender, 0).wait()
    raw = np.asarray(payload.cpu()).tobytes()
    offset = 0
    for i, c in enumerate(counts):
        object_list[i] = pickle.loads(raw[offset : offset + c])
        offset += c
    return pg._ranks[sender]


def _get_default_group() -> Any:
    """The default process group.

    Raises:
        ValueError: :func:`init_process_group` has not been called.
    """
    if _state["world"] is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state["world"]


def _rank_not_in_group(group: Any) -> bool:
    """Whether this rank is not a member of ``group`` (``None``: the default group)."""
    if group is None:
        return False
    return _group("_rank_not_in_group", group) is None


def _get_process_group_name(pg: Any) -> str:
    """``pg``'s name (``pg.group_name``)."""
    return pg.group_name


# -- all_gather_coalesced and split_group -------------------------------------------------------
def _check_tensor_list(name: str, arg: str, tensors: object) -> None:
    """``tensors`` is a list of tensors of one dtype (PyTorch's TypeError and ValueError otherwise)."""
    if not isinstance(tensors, list):
        raise TypeError(
            f"{name}: invalid function argument. Expected parameter `{arg}` of type List[Tensor] "
            f"but got {type(tensors).__name__} instead."
        )
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name}: invalid function argument. Expected parameter `{arg}` of type List[Tensor] "
                f"but got a list with elements of type {[type(p).__name__ for p in tensors]}."
            )
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise ValueError(
                f"{name}: invalid usage of tensors with different dtypes: found {tensors[0].dtype} and {t.dtype}"
            )


def all_gather_coalesced(
    output_tensor_lists: list[list[Tensor]],
    input_tensor_list: list[Tensor],
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Gather a list of tensors from every rank in one collective: ``output_tensor_lists[r][i]`` receives
    rank ``r``'s ``input_tensor_list[i]`` (deprecated in PyTorch: a FutureWarning, as there).

    The inputs are flattened into one buffer, gathered with one all-gather and split into the outputs,
    so the tensors may differ in shape from each other but each output must have the shape of the
    input it receives.

    Args:
        output_tensor_lists (list[list[Tensor]]): one list per rank of the group, each with one
            tensor per input, shaped and typed like it.
        input_tensor_list (list[Tensor]): this rank's tensors (one dtype).
        group (ProcessGroup, optional): the group. Default: the default group.
        async_op (bool): return a :class:`Work` to wait on. Default: ``False``.

    Returns:
        A :class:`Work` with ``async_op=True``, else ``None`` (and ``None`` on a rank outside ``group``).

    Example::

        >>> # under mpiexec -n 2; rank r passes [ember.full((2,), r), ember.full((1,), 10 + r)]
        >>> out = [[ember.zeros(2), ember.zeros(1)] for _ in range(2)]
        >>> dist.all_gather_coalesced(out, [ember.full((2,), float(rank)), ember.full((1,), 10.0 + rank)])
        >>> out            # [[tensor([0., 0.]), tensor([10.])], [tensor([1., 1.]), tensor([11.])]]
    """
    name = "all_gather_coalesced"
    warnings.warn(
        "`ember.distributed.all_gather_coalesced` will be deprecated (as `torch.distributed.all_gather_coalesced`).",
        FutureWarning,
        stacklevel=2,
    )

    def start(pg):
        _check_tensor_list(name, "input_tensor_list", input_tensor_list)
        if not isinstance(output_tensor_lists, list):
            raise TypeError(f"{name}: invalid function argument: output_tensor_lists should be a list")
        for outputs in output_tensor_lists:
            _check_tensor_list(name, "output_tensor_lists", outputs)
        n = pg.size()
        if len(output_tensor_lists) != n:
            raise RuntimeError(
                f"{name}: output lists should be equal to world size ({n}), got {len(output_tensor_lists)}"
            )
        for outputs in output_tensor_lists:
            if len(outputs) != len(input_tensor_list):
                raise RuntimeError(
                    f"{name}: invalid output size: (expected length {len(input_tensor_list)}, got {len(outputs)})"
                )
            for i, (out, inp) in enumerate(zip(outputs, input_tensor_list)):
                if out.shape != inp.shape:
                    raise RuntimeError(
                        f"{name}: invalid size of output tensor at index {i} (expected {tuple(inp.shape)}, "
                        f"got {tuple(out.shape)})"
                    )
                if out.dtype != inp.dtype:
                    raise RuntimeError(
                        f"{name}: invalid tensor type at index {i} (expected {inp.dtype}, got {out.dtype})"
                    )
        if not input_tensor_list:
            return Work(), output_tensor_lists
        flat = cat([t.detach().reshape(-1) for t in input_tensor_list])
        gathered = [empty_like(flat) for _ in range(n)]
        work = pg._comm.all_gather(gathered, flat)

        def scatter_back():
            for outputs, buffer in zip(output_tensor_lists, gathered):
                offset = 0
                for out in outputs:
                    count = out.numel()
                    _copy_into(out, buffer[offset : offset + count].reshape(out.shape))
                    offset += count

        return _then(work, scatter_back), output_tensor_lists

    return _collective(name, group, async_op, start)


def split_group(
    parent_pg: ProcessGroup | None = None,
    split_ranks: list | None = None,
    timeout: datetime.timedelta | None = None,
    pg_options: object = None,
    group_desc: str | None = None,
    backend: str | None = None,
) -> ProcessGroup | None:
    """Split ``parent_pg`` into the disjoint groups ``split_ranks`` (lists of ranks *of the parent*); every
    rank of the parent calls it with the same splits and gets the group it is in, or ``None`` where no
    split holds it. Group ranks follow each split's sorted order.

    Args:
        parent_pg (ProcessGroup, optional): the group to split. Default: the default group.
        split_ranks (list[list[int]]): the splits (not empty, no rank twice within one).
        timeout (datetime.timedelta, optional): the new group's collective timeout. Default: the parent's.
        pg_options: accepted for PyTorch's signature.
        group_desc (str, optional): a description of the group.
        backend (str, optional): the new group's backend: the parent's (the only one allowed). Default: ``None``.

    Example::

        >>> # under mpiexec -n 4, on every rank
        >>> pair = dist.split_group(split_ranks=[[0, 1], [2, 3]])
        >>> dist.get_process_group_ranks(pair)     # [0, 1] on ranks 0 and 1, [2, 3] on ranks 2 and 3
    """
    name = "split_group"
    if split_ranks is None or len(split_ranks) == 0:
        raise ValueError("split_ranks cannot be None or empty")
    world = _group(name, None)
    parent = world if parent_pg is None else _group(name, parent_pg)
    if parent is None:
        raise ValueError(f"Global rank {_comm().rank} is not part of the parent group {parent_pg}")
    if backend is not None and Backend(backend) != get_backend(parent):
        raise ValueError(
            f"{name}: backend {backend!r} does not match the parent group's backend {get_backend(parent)!r}"
        )
    size = world.size()  # type: ignore[union-attr]
    splits = []
    for split in split_ranks:
        if len(split) == 0:
            raise ValueError("the split group cannot be empty")
        if len(split) > size:
            raise ValueError(
                "the split group's size should be less or equal to the world_size set by init_process_group"
            )
        if len(split) != len(set(split)):
            raise ValueError("the split group cannot have duplicate ranks")
        for r in split:
            if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < parent.size():
                raise ValueError(f"{name}: rank {r!r} is not a rank of the parent group (size {parent.size()})")
        splits.append(sorted(split))
    here = parent.rank()
    mine = next((split for split in splits if here in split), None)
    if mine is None:
        return None
    seconds = parent._comm.timeout if timeout is None else _seconds(timeout, name)
    sub = parent._comm.split(mine)
    if sub is None:
        return None
    sub.name, sub.timeout = parent._comm.name, seconds
    _state["groups"].append(None)
    pg = ProcessGroup(sub, [parent._ranks[r] for r in mine], str(len(_state["groups"])))
    _state["groups"][-1] = pg
    return pg


__all__ += ["all_gather_coalesced", "split_group"]
