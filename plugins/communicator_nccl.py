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

        self._cupy, self._nccl = cupy, nccl
        if _launched_by_mpi() or world_size > 1:
            from mpi4py import MPI

            world = MPI.COMM_WORLD
            self.rank, self.world_size = world.Get_rank(), world.Get_size()
            local = world.Split_type(MPI.COMM_TYPE_SHARED)
            local_rank = local.Get_rank()
            local.Free()
            uid = nccl.get_unique_id() if self.rank == 0 else None
            uid = world.bcast(uid, root=0)
        else:
            self.rank, self.world_size, local_rank, uid = 0, 1, 0, nccl.get_unique_id()
        for arg, given, actual in (("world_size", world_size, self.world_size), ("rank", rank, self.rank)):
            if given != -1 and given != actual:
                raise ValueError(
                    f"init_process_group: {arg}={given} contradicts the MPI launcher, which gave {actual} "
                    "(start the job with `mpiexec -n WORLD_SIZE python ...`)"
                )
        self.device_index = local_rank % cupy.cuda.runtime.getDeviceCount()
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

    def abort(self, code=1):
        """``ncclCommAbort``, then end this process; the MPI launcher ends the other ranks."""
        try:
            self._comm.abort()
        finally:
            os._exit(code)

    def destroy(self):
        self._comm.destroy()
