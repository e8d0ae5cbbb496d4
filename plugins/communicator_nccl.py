"""The ``nccl`` communicator: :mod:`ember.distributed` collectives on CUDA tensors with NCCL.

Uses ``cupy.cuda.nccl``; tensors stay on the GPU and the collectives are queued on the
current CUDA stream, in order with ember's own kernels. Each rank drives one GPU:
``cuda:(local rank % GPUs per machine)``, where the local rank is the rank among the
processes of the same machine. Rank 0 creates the NCCL unique id and sends it to the
others over MPI, so a job of several processes is started by an MPI launcher
(``mpiexec -n 4 python train.py``) and needs mpi4py; a single process (world size 1)
needs neither.
"""

from __future__ import annotations

import os
import time

from ember.distributed.communicator import Communicator, DistributedError, ReduceOp, Watchdog, Work
from ember.plugin import hookimpl

__all__ = ["NCCLCommunicator", "ember_register_communicators"]

# environment variables by which MPI launchers tell a process that it is part of a job
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_RANK")


@hookimpl
def ember_register_communicators(registry):
    registry.register_communicator("nccl", "ember.plugins.communicator_nccl:NCCLCommunicator")


def _launched_by_mpi():
    return any(name in os.environ for name in _LAUNCHER_SIZE_VARS)


class NCCLCommunicator(Communicator):
    """Collectives over an ``NcclCommunicator`` (see the module docstring)."""

    def __init__(self, init_method=None, world_size=-1, rank=-1):
        import cupy
        from cupy.cuda import nccl

        mpi_comm = None
        if _launched_by_mpi() or world_size > 1:
            from mpi4py import MPI

            mpi_comm = MPI.COMM_WORLD
            local = mpi_comm.Split_type(MPI.COMM_TYPE_SHARED)
            local_rank = local.Get_rank()
            local.Free()
        else:
            local_rank = 0
        size = 1 if mpi_comm is None else mpi_comm.Get_size()
        me = 0 if mpi_comm is None else mpi_comm.Get_rank()
        for arg, given, actual in (("world_size", world_size, size), ("rank", rank, me)):
            if given != -1 and given != actual:
                raise ValueError(
                    f"init_process_group: {arg}={given} contradicts the MPI launcher, which gave {actual} "
                    "(start the job with `mpiexec -n WORLD_SIZE python ...`)"
                )
        self._setup(cupy, nccl, mpi_comm, local_rank % cupy.cuda.runtime.getDeviceCount())

    def _setup(self, cupy, nccl, mpi_comm, device_index):
        """Join an NCCL communicator over the ranks of ``mpi_comm`` (``None``: a world of one) on one GPU."""
        self._cupy, self._nccl, self._mpi_comm = cupy, nccl, mpi_comm
        if mpi_comm is None:
            self.rank, self.world_size, uid = 0, 1, nccl.get_unique_id()
        else:
            self.rank, self.world_size = mpi_comm.Get_rank(), mpi_comm.Get_size()
            uid = mpi_comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        self.device_index = device_index
        with cupy.cuda.Device(self.device_index):
            self._comm = nccl.NcclCommunicator(self.world_size, uid, self.rank)
        self._types = {
            "int8": nccl.NCCL_INT8,
            "uint8": nccl.NCCL_UINT8,
            "bool": nccl.NCCL_UINT8,
            "int32": nccl.NCCL_INT32,
            "int64": nccl.NCCL_INT64,
            "float16": nccl.NCCL_FLOAT16,
            "float32": nccl.NCCL_FLOAT32,
            "float64": nccl.NCCL_FLOAT64,
        }
        self._watchdog = Watchdog(self)
        self._avg = getattr(nccl, "NCCL_AVG", None)  # NCCL >= 2.10
        self._ops = {
            ReduceOp.SUM: nccl.NCCL_SUM,
            ReduceOp.AVG: nccl.NCCL_SUM if self._avg is None else self._avg,
            ReduceOp.PRODUCT: nccl.NCCL_PROD,
            ReduceOp.MIN: nccl.NCCL_MIN,
            ReduceOp.MAX: nccl.NCCL_MAX,
        }

    def object_device(self):
        return f"cuda:{self.device_index}"

    def _buffer(self, name, tensor):
        """``tensor``'s CuPy array made contiguous, whether it is the storage, and its NCCL type."""
        if tensor.device.type != "cuda" or tensor.device.index != self.device_index:
            raise RuntimeError(
                f"{name}: the nccl communicator of rank {self.rank} works on cuda:{self.device_index} tensors, "
                f"got one on {tensor.device}"
            )
        dtype = self._types.get(tensor.dtype.name)
        if dtype is None:
            raise TypeError(f"{name}: the nccl communicator does not support dtype {tensor.dtype}")
        data = self._cupy.ascontiguousarray(tensor._data)
        return data, data is tensor._data, dtype

    @staticmethod
    def _store(tensor, data, aliased):
        if not aliased:
            tensor._data[...] = data
        tensor._version_counter.value += 1

    def _stream(self):
        return self._cupy.cuda.get_current_stream().ptr

    def _watch(self, what):
        """An event after the collective just queued, handed to the watchdog; returns it."""
        event = self._cupy.cuda.Event(disable_timing=True)
        event.record()
        self._watchdog.watch(what, lambda: event.done)
        return event

    def all_reduce(self, tensor, op):
        if tensor.dtype.name == "bool":
            raise TypeError("all_reduce: the nccl communicator does not reduce bool tensors")
        data, aliased, dtype = self._buffer("all_reduce", tensor)
        with self._cupy.cuda.Device(self.device_index):
            self._comm.allReduce(data.data.ptr, data.data.ptr, data.size, dtype, self._ops[op], self._stream())
            self._watch("all_reduce")

        def finish():
            if op is ReduceOp.AVG and self._avg is None:
                data[...] = data / self.world_size
            self._store(tensor, data, aliased)

        return Work(finish)

    def reduce(self, tensor, dst, op):
        if tensor.dtype.name == "bool":
            raise TypeError("reduce: the nccl communicator does not reduce bool tensors")
        data, aliased, dtype = self._buffer("reduce", tensor)
        with self._cupy.cuda.Device(self.device_index):
            self._comm.reduce(data.data.ptr, data.data.ptr, data.size, dtype, self._ops[op], dst, self._stream())
            self._watch("reduce")
        if self.rank == dst:
            if op is ReduceOp.AVG and self._avg is None:
                data[...] = data / self.world_size
            self._store(tensor, data, aliased)
        return Work()

    def broadcast(self, tensor, src):
        data, aliased, dtype = self._buffer("broadcast", tensor)
        with self._cupy.cuda.Device(self.device_index):
            self._comm.bcast(data.data.ptr, data.size, dtype, src, self._stream())
            self._watch("broadcast")
        if self.rank != src:
            self._store(tensor, data, aliased)
        return Work()

    def all_gather(self, tensor_list, tensor):
        data, _, dtype = self._buffer("all_gather", tensor)
        with self._cupy.cuda.Device(self.device_index):
            gathered = self._cupy.empty((self.world_size, *data.shape), dtype=data.dtype)
            self._comm.allGather(data.data.ptr, gathered.data.ptr, data.size, dtype, self._stream())
            self._watch("all_gather")
        for out, values in zip(tensor_list, gathered):
            self._buffer("all_gather", out)
            out._data[...] = values
            out._version_counter.value += 1
        return Work()

    def barrier(self):
        # an all-reduce of one element, waited for (polled against the timeout), lines every rank up
        with self._cupy.cuda.Device(self.device_index):
            flag = self._cupy.zeros(1, dtype=self._cupy.float32)
            self._comm.allReduce(
                flag.data.ptr, flag.data.ptr, 1, self._types["float32"], self._ops[ReduceOp.SUM], self._stream()
            )
            event = self._watch("barrier")
        deadline = time.monotonic() + self.timeout
        while not event.done:
            if time.monotonic() > deadline:
                raise DistributedError(
                    f"ember.distributed: rank {self.rank}: barrier timed out after {self.timeout:g} s waiting for the "
                    "other ranks"
                )
            time.sleep(1e-4)

    # -- point to point: bytes, so every dtype travels ------------------------------------------
    def _bytes(self, name, tensor):
        """``tensor``'s contiguous CuPy array, whether it is the storage, and a uint8 view of it."""
        if tensor.device.type != "cuda" or tensor.device.index != self.device_index:
            raise RuntimeError(
                f"{name}: the nccl communicator of rank {self.rank} works on cuda:{self.device_index} tensors, "
                f"got one on {tensor.device}"
            )
        data = self._cupy.ascontiguousarray(tensor._data)
        return data, data is tensor._data, data.reshape(-1).view(self._cupy.uint8)

    def _queue(self, kind, tensor, peer):
        """Queue one ``ncclSend``/``ncclRecv`` of ``tensor``'s bytes; returns what to run once it is launched.

        Inside ``groupStart``/``groupEnd`` NCCL launches the transfers only at ``groupEnd``, so the
        copy of a received non-contiguous tensor back into its storage must be queued after that.
        """
        data, aliased, raw = self._bytes(kind, tensor)
        with self._cupy.cuda.Device(self.device_index):
            if kind == "send":
                self._comm.send(raw.data.ptr, raw.size, self._nccl.NCCL_UINT8, peer, self._stream())
            else:
                self._comm.recv(raw.data.ptr, raw.size, self._nccl.NCCL_UINT8, peer, self._stream())

        def after():
            with self._cupy.cuda.Device(self.device_index):
                self._watch(f"{kind} {'to' if kind == 'send' else 'from'} rank {peer}")
            if kind == "recv":
                self._store(tensor, data, aliased)

        return after

    def send(self, tensor, dst, tag):
        self._queue("send", tensor, dst)()
        return Work()

    def recv(self, tensor, src, tag):
        if src is None:
            raise RuntimeError("recv: the nccl communicator cannot receive from any source; name src")
        self._queue("recv", tensor, src)()
        return Work(lambda: src)

    def batch_p2p(self, ops):
        for kind, _, peer, _ in ops:
            if kind == "recv" and peer is None:
                raise RuntimeError("batch_isend_irecv: the nccl communicator cannot receive from any source")
        afters = []
        self._nccl.groupStart()
        try:
            for kind, tensor, peer, _ in ops:
                afters.append(self._queue(kind, tensor, peer))
        finally:
            self._nccl.groupEnd()
        works = []
        for (kind, _, peer, _), after in zip(ops, afters):
            after()
            works.append(Work(lambda peer=peer: peer) if kind == "recv" else Work())
        return works

    def _exchange(self, sends, recvs):
        """Queue ``sends`` and ``recvs`` (``(tensor, peer)`` pairs) as one NCCL group, then the copies back."""
        afters = []
        self._nccl.groupStart()
        try:
            for tensor, peer in sends:
                afters.append(self._queue("send", tensor, peer))
            for tensor, peer in recvs:
                afters.append(self._queue("recv", tensor, peer))
        finally:
            self._nccl.groupEnd()
        for after in afters:
            after()

    @staticmethod
    def _copy(dst, src):
        """This rank's own part: a copy on the GPU (``src`` has ``dst``'s number of elements)."""
        dst._data[...] = src._data.reshape(dst._data.shape)
        dst._version_counter.value += 1

    # -- collectives with a root or one part per rank ---------------------------------------------
    def gather(self, tensor, gather_list, dst):
        if self.rank == dst:
            recvs = [(out, i) for i, out in enumerate(gather_list) if i != self.rank]
            self._exchange([], recvs)
            self._copy(gather_list[self.rank], tensor)
        else:
            self._exchange([(tensor, dst)], [])
        return Work()

    def scatter(self, tensor, scatter_list, src):
        if self.rank == src:
            sends = [(part, i) for i, part in enumerate(scatter_list) if i != self.rank]
            self._exchange(sends, [])
            self._copy(tensor, scatter_list[self.rank])
        else:
            self._exchange([], [(tensor, src)])
        return Work()

    def all_to_all(self, output_list, input_list):
        others = [j for j in range(self.world_size) if j != self.rank]
        self._exchange([(input_list[j], j) for j in others], [(output_list[j], j) for j in others])
        self._copy(output_list[self.rank], input_list[self.rank])
        return Work()

    def reduce_scatter(self, output, input_list, op):
        if output.dtype.name == "bool":
            raise TypeError("reduce_scatter: the nccl communicator does not reduce bool tensors")
        data, aliased, dtype = self._buffer("reduce_scatter", output)
        with self._cupy.cuda.Device(self.device_index):
            parts = self._cupy.concatenate([self._buffer("reduce_scatter", t)[0].reshape(-1) for t in input_list])
            self._comm.reduceScatter(parts.data.ptr, data.data.ptr, data.size, dtype, self._ops[op], self._stream())
            self._watch("reduce_scatter")
            if op is ReduceOp.AVG and self._avg is None:
                data[...] = data / self.world_size
        self._store(output, data, aliased)
        return Work()

    def split(self, ranks):
        """A new NCCL communicator over ``ranks``; its unique id travels over an MPI subcommunicator."""
        if self._mpi_comm is None:
            if list(ranks) != [0]:
                raise ValueError(f"new_group: ranks {ranks} in a world of one")
            sub = object.__new__(type(self))
            sub._setup(self._cupy, self._nccl, None, self.device_index)
            return sub
        if self.rank not in ranks:
            return None
        group = self._mpi_comm.Get_group().Incl(list(ranks))
        mpi_sub = self._mpi_comm.Create_group(group)
        group.Free()
        sub = object.__new__(type(self))
        sub._setup(self._cupy, self._nccl, mpi_sub, self.device_index)
        return sub

    def abort(self, code=1):
        """``ncclCommAbort``, then end this process; the MPI launcher ends the other ranks."""
        try:
            self._comm.abort()
        finally:
            os._exit(code)

    def destroy(self):
        self._comm.destroy()
        if self._mpi_comm is not None and self._mpi_comm is not _world_comm():
            self._mpi_comm.Free()


def _world_comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD
