"""Process groups of :mod:`ember.distributed`: the world, subgroups, and the names that find them.

The state of the job (the default group and the subgroups made by
:func:`ember.distributed.new_group`) lives here, once, for every communicator: a
:class:`ProcessGroup` pairs a :class:`~ember.distributed.communicator.Communicator` with
the global ranks of its members, and the collectives translate global ranks into the
group's own before they call the communicator.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

__all__ = [
    "Backend",
    "GroupMember",
    "ProcessGroup",
    "group",
    "is_gloo_available",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."

#: the job's state: the world communicator and group, and the subgroups made since
_state: dict[str, Any] = {"comm": None, "excepthook": None, "world": None, "groups": []}


class Backend(str):
    """The names of the communicators, as ``torch.distributed.Backend`` spells them.

    ``Backend("GLOO")`` gives ``"gloo"``: a known name in lower case, any other string
    lower-cased (a plugin's communicator).

    Example::

        >>> dist.Backend.MPI, dist.Backend("NCCL")
        ('mpi', 'nccl')
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name: str) -> str:  # type: ignore[misc]  # returns the plain string, as torch does
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        return name.lower() if value == Backend.UNDEFINED else value


class ProcessGroup:
    """A set of ranks that run collectives together: the default group or one made by ``new_group``.

    Pass it as ``group=`` to any collective. A rank's *group rank* is its place among the
    members (:func:`~ember.distributed.get_group_rank`); ``src``/``dst`` arguments stay
    global ranks, ``group_src``/``group_dst`` are group ranks.
    """

    def __init__(self, comm: Any, ranks: list[int], name: str) -> None:
        self._comm = comm
        self._ranks = list(ranks)
        self._name = name

    def rank(self) -> int:
        """This process's rank within the group."""
        return int(self._comm.rank)

    def size(self) -> int:
        """The number of ranks in the group."""
        return len(self._ranks)

    def name(self) -> str:
        """The group's communicator name (``"mpi"``, ``"nccl"``, ...)."""
        return str(self._comm.name)

    @property
    def group_name(self) -> str:
        """A name for the group: ``"0"`` for the default group, then ``"1"``, ``"2"``... by creation."""
        return self._name

    def __repr__(self) -> str:
        backend = "destroyed" if self._comm is None else self._comm.name
        return f"ProcessGroup(name={self._name!r}, backend={backend!r}, ranks={self._ranks})"


class _WorldMeta(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802 - torch's name
        """The default group (``None`` before :func:`~ember.distributed.init_process_group`)."""
        return _state["world"]


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD``: the default group; ``NON_GROUP_MEMBER``: what ``new_group`` gives a non-member.

    Collectives called with ``group=GroupMember.NON_GROUP_MEMBER`` do nothing and return
    ``None``, as in PyTorch.
    """

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):  # noqa: N801 - torch's name
    """``group.WORLD``: the default group (the same object as ``GroupMember.WORLD``)."""


def is_mpi_available() -> bool:
    """Whether the ``mpi`` communicator's library, mpi4py, can be imported."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """Whether the ``nccl`` communicator's library, ``cupy.cuda.nccl``, can be imported."""
    try:
        importlib.import_module("cupy.cuda.nccl")
    except Exception:  # noqa: BLE001 - no CuPy, no CUDA, or CuPy built without NCCL
        return False
    return True


def is_gloo_available() -> bool:
    """False: ember has no gloo library (``init_process_group("gloo")`` runs the ``mpi`` communicator)."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether this process was started by ``torchrun`` (``TORCHELASTIC_RUN_ID`` is set)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None
