"""The ``mpi`` communicator: :mod:`ember.distributed` collectives through mpi4py.

Tensors of any device take part: their values go through host memory (CPU tensors of the
NumPy backend are reduced in place, without a copy). Ranks and the world size are
``MPI.COMM_WORLD``'s, so the job is whatever the MPI launcher started::

    mpiexec -n 2 python train.py                    # two ranks on this machine
    mpiexec -f hostfile -n 8 python train.py        # ranks spread over a hostfile's machines

Needs ``mpi4py`` and an MPI library (``pip install ember[distributed]`` installs both,
the library as the ``mpich`` wheel, whose ``mpiexec`` is put next to ``python``).
"""

from __future__ import annotations

import numpy as np

from ember.distributed.communicator import Communicator, ReduceOp, Work
from ember.plugin import hookimpl

__all__ = ["MPICommunicator", "ember_register_communicators"]


@hookimpl
def ember_register_communicators(registry):
    registry.register_communicator("mpi", "ember.plugins.communicator_mpi:MPICommunicator")


def _host(tensor):
    """A C-contiguous host array holding ``tensor``'s values, and whether it *is* the storage."""
    host = tensor._backend.to_host(tensor._data)
    aliased = host is tensor._data
    if not host.flags.c_contiguous or not host.flags.writeable:
        host, aliased = np.ascontiguousarray(host).copy(), False
    if host.dtype == np.float16:  # MPI has no half type: reduce in float32
        host, aliased = host.astype(np.float32), False
    return host, aliased


def _store(tensor, host):
    """Write ``host`` into ``tensor``'s storage (views of it see the change)."""
    backend = tensor._backend
    native = backend.native_dtype(tensor.dtype)
    tensor._data[...] = backend.from_host(np.asarray(host, dtype=native), tensor._device.index)
    tensor._version.value += 1


class MPICommunicator(Communicator):
    """Collectives over ``MPI.COMM_WORLD`` (see the module docstring)."""

    def __init__(self, init_method=None, world_size=-1, rank=-1):
        from mpi4py import MPI

        self._mpi = MPI
        self._world = MPI.COMM_WORLD.Dup()
        self.rank = self._world.Get_rank()
        self.world_size = self._world.Get_size()
        self._ops = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
        }
        for arg, given, actual in (("world_size", world_size, self.world_size), ("rank", rank, self.rank)):
            if given != -1 and given != actual:
                self._world.Free()
                raise ValueError(
                    f"init_process_group: {arg}={given} contradicts the MPI launcher, which gave {actual} "
                    "(start the job with `mpiexec -n WORLD_SIZE python ...`)"
                )

    def _finish(self, tensor, host, aliased, op):
        if op is ReduceOp.AVG:
            np.divide(host, self.world_size, out=host)
        if not aliased:
            _store(tensor, host)

    def all_reduce(self, tensor, op):
        host, aliased = _host(tensor)
        request = self._world.Iallreduce(self._mpi.IN_PLACE, host, op=self._ops[op])

        def finish():
            request.Wait()
            self._finish(tensor, host, aliased, op)

        return Work(finish)

    def reduce(self, tensor, dst, op):
        host, aliased = _host(tensor)
        if self.rank == dst:
            self._world.Reduce(self._mpi.IN_PLACE, host, op=self._ops[op], root=dst)
            self._finish(tensor, host, aliased, op)
        else:
            self._world.Reduce(host, None, op=self._ops[op], root=dst)
        return Work()

    def broadcast(self, tensor, src):
        host, aliased = _host(tensor)
        self._world.Bcast(host, root=src)
        if self.rank != src and not aliased:
            _store(tensor, host)
        return Work()

    def all_gather(self, tensor_list, tensor):
        host, _ = _host(tensor)
        gathered = np.empty((self.world_size, *host.shape), dtype=host.dtype)
        self._world.Allgather(host, gathered)
        for out, values in zip(tensor_list, gathered):
            _store(out, values)
        return Work()

    def barrier(self):
        self._world.Barrier()

    def destroy(self):
        self._world.Free()
