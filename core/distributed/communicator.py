"""What a communicator plugin implements, and the registry that finds them.

A communicator carries the collectives of :mod:`ember.distributed` between the processes
of one job. It is a plugin: a package announces it through the entry-point group ``ember``
and implements the hook ``ember_register_communicators``::

    import ember.plugin

    @ember.plugin.hookimpl
    def ember_register_communicators(registry):
        registry.register_communicator("mycomm", "mypackage.comm:MyCommunicator")

``MyCommunicator`` subclasses :class:`Communicator`. ember ships two: ``mpi`` (mpi4py, any
device, through host memory) and ``nccl`` (``cupy.cuda.nccl``, CUDA tensors on the GPU).

What a communicator implements: :meth:`~Communicator.all_reduce`,
:meth:`~Communicator.broadcast`, :meth:`~Communicator.all_gather`,
:meth:`~Communicator.reduce` and :meth:`~Communicator.barrier` (the collectives);
:meth:`~Communicator.send` and :meth:`~Communicator.recv` (point to point, which
``isend``/``irecv``, ``batch_isend_irecv``, the object sends and ``monitored_barrier`` use);
:meth:`~Communicator.all_to_all`; :meth:`~Communicator.split` (for ``new_group``). The base
class derives :meth:`~Communicator.gather`, :meth:`~Communicator.scatter` and
:meth:`~Communicator.reduce_scatter` from the collectives (override them where the library
does better), and :mod:`ember.distributed` derives the rest (``all_gather_into_tensor``,
``reduce_scatter_tensor``, ``all_to_all_single``, the object collectives). The methods get
checked arguments: ranks are ranks of this communicator (the caller translates global
ranks), tensor lists have one entry per rank with matching dtypes and shapes.
"""

from __future__ import annotations

import collections
import enum
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import plugin
from ..futures import Future
from .errors import DistBackendError

if TYPE_CHECKING:
    from ..device import device as _device
    from ..tensor import Tensor

__all__ = ["Communicator", "CommunicatorRegistry", "DistributedError", "ReduceOp", "Watchdog", "Work"]


class DistributedError(DistBackendError):
    """A collective failed: it timed out, or the ranks called it with arguments that disagree.

    The message names this rank and the collective. A :class:`~ember.distributed.DistBackendError`
    (so ``except dist.DistBackendError`` catches it, as PyTorch's collectives' failures).
    """


class ReduceOp(enum.Enum):
    """How :func:`ember.distributed.all_reduce` and :func:`~ember.distributed.reduce` combine values.

    ``SUM``, ``AVG`` (floating-point tensors only), ``PRODUCT``, ``MIN``, ``MAX``.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


class Work:
    """A handle on a collective or a send/receive that may still be running; :meth:`wait` finishes it.

    Args:
        finish: called once by the first :meth:`wait` (``None`` for an operation that has
            already completed); what it returns is kept (a receive's source rank).
        poll: optional test, true once the operation has completed without waiting;
            :meth:`is_completed` then finishes it.
    """

    def __init__(self, finish: Callable[[], object] | None = None, poll: Callable[[], bool] | None = None) -> None:
        self._finish = finish
        self._poll = poll
        self._result: object = None
        self._outputs: list[Tensor] = []  # the tensors the operation writes: get_future()'s value

    def wait(self, timeout: object = None) -> bool:
        """Block until the operation completed and its result is in the tensor(s); returns True."""
        finish, self._finish = self._finish, None
        if finish is not None:
            self._result = finish()
        return True

    def get_future(self) -> Future[list[Tensor]]:
        """A :class:`~ember.futures.Future` of the list of tensors the operation writes (``[tensor]``
        for :func:`~ember.distributed.all_reduce`), completed when the operation is: waiting on the
        future (or on one chained to it with ``then``) waits on this work."""

        def finish(future: Future[list[Tensor]]) -> None:
            self.wait()
            future.set_result(list(self._outputs))

        return Future._completed_by(finish)

    def is_completed(self) -> bool:
        """Whether the operation has completed (a finished :meth:`wait`, or a poll that says so)."""
        if self._finish is not None and self._poll is not None and self._poll():
            self.wait()
        return self._finish is None

    def is_success(self) -> bool:
        """Whether the operation completed without an error (an error is raised by :meth:`wait`)."""
        return self.is_completed()

    def exception(self) -> None:
        """None: a failed operation raises from :meth:`wait` instead."""
        return None

    def synchronize(self) -> None:
        """Finish the operation (:meth:`wait`)."""
        self.wait()

    def source_rank(self) -> int:
        """The rank (within the group) that a completed receive's message came from.

        Raises:
            RuntimeError: this work is not a receive.
        """
        self.wait()
        if not isinstance(self._result, int) or isinstance(self._result, bool):
            raise RuntimeError("source_rank: this Work is not a receive (irecv)")
        return self._result

    _source_rank = source_rank


class Communicator:
    """Base class of communicator plugins.

    The constructor joins the job (``init_method``, ``world_size`` and ``rank`` as given to
    :func:`ember.distributed.init_process_group`; a launcher such as ``mpiexec`` may supply
    them instead) and sets :attr:`rank` and :attr:`world_size`. The collectives receive
    validated arguments, work in place on ``tensor`` and return a :class:`Work`.

    Attributes:
        name: the name the communicator is registered under.
        rank: this process's rank, ``0 <= rank < world_size``.
        world_size: the number of processes.
        timeout: seconds a collective may wait for the other ranks before it raises
            :class:`DistributedError` (set by ``init_process_group(timeout=...)``).
    """

    name: str | None = None
    timeout: float = 1800.0

    def abort(self, code: int = 1) -> None:
        """End every rank of the job at once with exit status ``code`` (``os._exit`` of this one by default)."""
        os._exit(code)

    def __init__(self, init_method: str | None = None, world_size: int = -1, rank: int = -1) -> None:
        self.rank = 0
        self.world_size = 1

    def object_device(self) -> _device | str:
        """The device that the object collectives stage their bytes on (``cpu`` by default)."""
        return "cpu"

    def all_reduce(self, tensor: Tensor, op: ReduceOp) -> Work:
        """Combine ``tensor`` over all ranks with ``op``; every rank gets the result."""
        raise NotImplementedError

    def broadcast(self, tensor: Tensor, src: int) -> Work:
        """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor``."""
        raise NotImplementedError

    def all_gather(self, tensor_list: list[Tensor], tensor: Tensor) -> Work:
        """Copy rank ``i``'s ``tensor`` into ``tensor_list[i]`` on every rank."""
        raise NotImplementedError

    def reduce(self, tensor: Tensor, dst: int, op: ReduceOp) -> Work:
        """Like :meth:`all_reduce`, but only rank ``dst`` receives the result."""
        raise NotImplementedError

    def barrier(self) -> Work:
        """Return once every rank called it."""
        raise NotImplementedError

    # -- point to point --------------------------------------------------------------------
    def send(self, tensor: Tensor, dst: int, tag: int) -> Work:
        """Start sending ``tensor``'s values to rank ``dst`` (never this rank) with message tag ``tag``.

        The returned :class:`Work` completes once ``tensor`` may be changed again; ``tensor``
        must not be written before. Messages between two ranks with the same tag arrive in
        the order they were sent. A communicator without tags (NCCL) ignores ``tag``.
        """
        raise NotImplementedError(f"the {self.name!r} communicator has no point-to-point send")

    def recv(self, tensor: Tensor, src: int | None, tag: int) -> Work:
        """Start receiving into ``tensor`` a message of ``tensor``'s size and dtype from rank ``src``.

        ``src=None`` accepts the first matching message from any rank (a communicator that
        cannot, raises RuntimeError). The :class:`Work`'s ``wait()`` leaves the values in
        ``tensor`` and its finish function returns the sender's rank.
        """
        raise NotImplementedError(f"the {self.name!r} communicator has no point-to-point recv")

    def batch_p2p(self, ops: list[tuple[str, Tensor, int, int]]) -> list[Work]:
        """Start several sends and receives (``("send" | "recv", tensor, peer, tag)``) at once.

        All of them are started before any is waited for, so pairs that send to each other
        cannot deadlock. The default calls :meth:`send` and :meth:`recv` in order; NCCL
        groups them between ``groupStart`` and ``groupEnd``.
        """
        return [self.send(t, peer, tag) if kind == "send" else self.recv(t, peer, tag) for kind, t, peer, tag in ops]

    # -- collectives with a root or with one part per rank ----------------------------------
    def gather(self, tensor: Tensor, gather_list: list[Tensor] | None, dst: int) -> Work:
        """Copy rank ``i``'s ``tensor`` into ``gather_list[i]`` on rank ``dst`` (``None`` elsewhere).

        Every rank's ``tensor`` has the same shape and dtype; ``gather_list`` holds
        ``world_size`` tensors like it. The default gathers everywhere with
        :meth:`all_gather` and keeps the result on ``dst``.
        """
        from ..ops.creation import empty_like

        parts = gather_list if gather_list is not None else [empty_like(tensor) for _ in range(self.world_size)]
        return self.all_gather(parts, tensor)

    def scatter(self, tensor: Tensor, scatter_list: list[Tensor] | None, src: int) -> Work:
        """Copy rank ``src``'s ``scatter_list[i]`` into rank ``i``'s ``tensor``.

        ``scatter_list`` (``world_size`` tensors shaped like ``tensor``) is given on ``src``
        only. The default broadcasts each part from ``src`` and keeps this rank's.
        """
        from ..ops.creation import empty_like

        for i in range(self.world_size):
            if i == self.rank:
                part = tensor
                if self.rank == src:
                    _copy_into(tensor, scatter_list[i])  # type: ignore[index]
            else:
                part = scatter_list[i] if self.rank == src else empty_like(tensor)  # type: ignore[index]
            self.broadcast(part, src).wait()
        return Work()

    def reduce_scatter(self, output: Tensor, input_list: list[Tensor], op: ReduceOp) -> Work:
        """Reduce ``input_list[i]`` over all ranks with ``op`` into rank ``i``'s ``output``.

        ``input_list`` holds ``world_size`` tensors shaped and typed like ``output``; the
        inputs are not changed. The default all-reduces a copy of each part.
        """
        from ..ops.creation import empty_like

        for i, part in enumerate(input_list):
            mine = output if i == self.rank else empty_like(part)
            _copy_into(mine, part)
            self.all_reduce(mine, op).wait()
        return Work()

    def all_to_all(self, output_list: list[Tensor], input_list: list[Tensor]) -> Work:
        """Send ``input_list[j]`` to rank ``j``; receive rank ``j``'s part for this rank into ``output_list[j]``.

        All tensors have one dtype; their sizes may differ (uneven splits), but the part
        rank ``i`` sends to rank ``j`` has the size of ``output_list[i]`` on rank ``j``.
        """
        raise NotImplementedError(f"the {self.name!r} communicator has no all_to_all")

    def split(self, ranks: list[int]) -> Communicator | None:
        """A communicator over ``ranks`` (ranks of this communicator, in their new order).

        Called by the members of ``ranks`` (and possibly by the other ranks too, which get
        ``None`` back). In the result, ``ranks[i]`` has rank ``i``; its :attr:`name` and
        :attr:`timeout` are set by the caller.
        """
        raise NotImplementedError(f"the {self.name!r} communicator cannot make subgroups")

    def destroy(self) -> None:
        """Leave the job and release the communicator's resources."""


def _copy_into(dst: Tensor, src: Tensor) -> None:
    """``dst[...] = src`` without recording it for autograd (the collectives' buffers)."""
    from ..autograd import no_grad

    with no_grad():
        dst.copy_(src)


class Watchdog:
    """Ends the job when a collective queued on a device is not done by its deadline.

    For communicators whose collectives run asynchronously on a device (``nccl``), where no
    host call waits on them: each one is :meth:`watch` ed with a ``done()`` test (a CUDA
    event's query); a daemon thread checks the oldest every ``poll`` seconds and, once it is
    :attr:`Communicator.timeout` late, prints which rank and collective and calls
    :meth:`Communicator.abort` (PyTorch's NCCL watchdog does the same).

    Args:
        comm (Communicator): the communicator to abort.
        poll (float): seconds between checks. Default: 0.1.
    """

    def __init__(self, comm, poll=0.1):
        self._comm, self._poll = comm, poll
        self._pending = collections.deque()
        self._thread = None
        self._calls = 0

    def watch(self, what, done):
        """Watch collective ``what`` until ``done()`` is true."""
        self._calls += 1
        self._pending.append((time.monotonic() + self._comm.timeout, f"{what} (collective #{self._calls})", done))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ember-distributed-watchdog", daemon=True)
            self._thread.start()

    def _run(self):
        pending = self._pending
        while True:
            while pending and pending[0][2]():
                pending.popleft()
            if pending and time.monotonic() > pending[0][0]:
                sys.stderr.write(
                    f"ember.distributed: rank {self._comm.rank}: {pending[0][1]} did not complete within "
                    f"{self._comm.timeout:g} s (the other ranks did not join it); aborting the job on every rank\n"
                )
                sys.stderr.flush()
                self._comm.abort(1)
                return
            time.sleep(self._poll)


# a Communicator subclass, a "module:attribute" string naming one, or a callable returning one
_CommunicatorLoader: TypeAlias = "type[Communicator] | str | Callable[[], type[Communicator]]"


class CommunicatorRegistry:
    """Communicators by name; each loads on first use."""

    def __init__(self) -> None:
        self._loaders: dict[str, _CommunicatorLoader] = {}
        self._loaded: dict[str, type[Communicator]] = {}
        self._lock = threading.Lock()

    def register_communicator(self, name: str, loader: _CommunicatorLoader) -> None:
        """Add a communicator (see :func:`ember.plugin.hookspec.ember_register_communicators`).

        Args:
            name: what ``init_process_group(backend=name)`` asks for.
            loader: a :class:`Communicator` subclass, a ``"module:attribute"`` string naming
                one, or a callable returning one.
        """
        if name in self._loaders:
            raise ValueError(f"communicator {name!r} is registered twice")
        self._loaders[name] = loader

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._loaders)

    def load(self, name: str) -> type[Communicator]:
        """The communicator class registered as ``name``.

        Raises:
            ValueError: nothing is registered under ``name``.
            RuntimeError: the loader failed (a missing library); the message names why.
        """
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._import(name)
            return self._loaded[name]

    def _import(self, name: str) -> type[Communicator]:
        if name not in self._loaders:
            known = ", ".join(self.names()) or "none"
            raise ValueError(f"Invalid backend: {name!r} (registered communicators: {known})")
        target: Any = self._loaders[name]
        try:
            if isinstance(target, str):
                module, _, attr = target.partition(":")
                target = getattr(importlib.import_module(module), attr)
            elif not isinstance(target, type):
                target = target()
        except Exception as exc:
            raise RuntimeError(
                f"the {name!r} communicator is unavailable ({type(exc).__name__}: {exc}); "
                "install it with `pip install ember[distributed]`"
            ) from exc
        if not (isinstance(target, type) and issubclass(target, Communicator)):
            raise TypeError(f"communicator {name!r}: the loader gave {target!r}, not a Communicator subclass")
        return target


plugin.declare_registry("ember_register_communicators", CommunicatorRegistry)
