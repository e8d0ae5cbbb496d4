"""The ``mpi`` communicator (also registered as ``gloo``): :mod:`ember.distributed` collectives through mpi4py.

Tensors of any device take part: their values go through host memory (CPU tensors of the
NumPy backend are reduced in place, without a copy). Ranks and the world size are
``MPI.COMM_WORLD``'s, so the job is whatever the MPI launcher started::

    mpiexec -n 2 python train.py                    # two ranks on this machine
    mpiexec -f hostfile -n 8 python train.py        # ranks spread over a hostfile's machines

Needs ``mpi4py`` and an MPI library (``pip install ember[distributed]`` installs both,
the library as the ``mpich`` wheel, whose ``mpiexec`` is put next to ``python``).
"""

from __future__ import annotations

import os
import time

import numpy as np

from ember.distributed.communicator import Communicator, DistributedError, ReduceOp, Work
from ember.plugin import hookimpl

__all__ = ["MPICommunicator", "ember_register_communicators"]


@hookimpl
def ember_register_communicators(registry):
    registry.register_communicator("mpi", "ember.plugins.communicator_mpi:MPICommunicator")
    # PyTorch's CPU backend name: CPU training scripts say init_process_group("gloo")
    registry.register_communicator("gloo", "ember.plugins.communicator_mpi:MPICommunicator")


def _host(tensor):
    """A C-contiguous host array holding ``tensor``'s values, and whether it *is* the storage."""
    host = tensor._backend.to_host(tensor._data)
    aliased = host is tensor._data
    if not host.flags.c_contiguous or not host.flags.writeable:
        host, aliased = np.array(host, order="C", copy=True), False
    if host.dtype == np.float16 or host.dtype.name == "bfloat16":  # MPI has neither: reduce in float32
        host, aliased = host.astype(np.float32), False
    return host, aliased


def _raw(tensor):
    """A C-contiguous host array of ``tensor``'s own dtype, whether it *is* the storage, and its bytes.

    Sends, receives, gathers and scatters move bytes, so every dtype travels (bfloat16,
    complex, bool, half) without a conversion.
    """
    host = tensor._backend.to_host(tensor._data)
    aliased = host is tensor._data
    if not host.flags.c_contiguous or not host.flags.writeable:
        host, aliased = np.array(host, order="C", copy=True), False
    return host, aliased, host.reshape(-1).view(np.uint8)


def _store(tensor, host):
    """Write ``host`` into ``tensor``'s storage (views of it see the change)."""
    backend = tensor._backend
    native = backend.native_dtype(tensor.dtype)
    value = backend.from_host(np.asarray(host, dtype=native), tensor._device.index)
    if isinstance(tensor._data, np.generic):
        # a 0-d result that NumPy gives as a scalar (``norm ** 2``): immutable, so no view shares it
        tensor._data = value.reshape(())
    else:
        tensor._data[...] = value
    tensor._version_counter.value += 1


#: collective -> code in the argument signature that ranks compare before each collective
_COLLECTIVES = (
    "all_reduce",
    "reduce",
    "broadcast",
    "all_gather",
    "barrier",
    "gather",
    "scatter",
    "reduce_scatter",
    "all_to_all",
)
_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bfloat16")
_OPS = tuple(ReduceOp)
_DIMS = 8  # shapes up to this rank are compared (and reported) dimension by dimension
_SPINS = 200  # Test() calls before polling starts to sleep


class MPICommunicator(Communicator):
    """Collectives over ``MPI.COMM_WORLD`` (see the module docstring).

    Every collective is non-blocking underneath and polled against :attr:`timeout`; before
    each one the ranks compare a small signature (the collective, dtype, shape, op, root)
    in one extra 208-byte all-reduce, so ranks that disagree get an error naming each rank's
    arguments instead of a hang or garbage. ``EMBER_DISTRIBUTED_DEBUG=OFF`` skips that check.
    """

    def __init__(self, init_method=None, world_size=-1, rank=-1):
        from mpi4py import MPI

        self._adopt(MPI, MPI.COMM_WORLD.Dup())
        for arg, given, actual in (("world_size", world_size, self.world_size), ("rank", rank, self.rank)):
            if given != -1 and given != actual:
                self._world.Free()
                raise ValueError(
                    f"init_process_group: {arg}={given} contradicts the MPI launcher, which gave {actual} "
                    "(start the job with `mpiexec -n WORLD_SIZE python ...`)"
                )

    def _adopt(self, MPI, comm):  # noqa: N803 - the module's own name
        """Run the collectives over the MPI communicator ``comm`` (which this object then owns)."""
        self._mpi = MPI
        self._world = comm
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()
        self._ops = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
        }
        self._check = os.environ.get("EMBER_DISTRIBUTED_DEBUG", "").upper() != "OFF"
        self._calls = 0
        self._broken = None

    # -- waiting with a deadline ---------------------------------------------------------
    def _wait(self, request, what, status=None):
        """Complete ``request``, polling; DistributedError once :attr:`timeout` has passed."""
        for _ in range(_SPINS):
            if request.Test(status):
                return
        deadline = time.monotonic() + self.timeout
        delay = 1e-5
        while not request.Test(status):
            if time.monotonic() > deadline:
                self._broken = (
                    f"rank {self.rank}: {what} timed out after {self.timeout:g} s waiting for the other ranks "
                    f"(collective #{self._calls} of this process group): a rank failed, exited, skipped this collective "
                    "or ran out of inputs (uneven inputs: see DistributedDataParallel.join)"
                )
                raise DistributedError(f"ember.distributed: {self._broken}")
            time.sleep(delay)
            delay = min(2 * delay, 1e-3)

    def _start(self, what, tensor=None, host=None, op=None, root=-1):
        """Count the call, refuse a broken group, and compare the arguments across ranks."""
        if self._broken is not None:
            raise DistributedError(f"ember.distributed: {what} on a broken process group ({self._broken})")
        self._calls += 1
        if self._check and self.world_size > 1:
            self._agree(what, tensor, host, op, root)

    def _signature(self, what, tensor, host, op, root):
        sig = np.full(5 + _DIMS, -1, dtype=np.int64)
        sig[0] = _COLLECTIVES.index(what)
        sig[1] = -1 if op is None else _OPS.index(op)
        sig[2] = root
        if tensor is not None:
            sig[3] = _DTYPES.index(tensor.dtype.name) if tensor.dtype.name in _DTYPES else 99
        if host is not None:
            sig[4] = host.ndim
            dims = host.shape[:_DIMS] if host.ndim <= _DIMS else (*host.shape[: _DIMS - 1], hash(host.shape))
            sig[5 : 5 + len(dims)] = dims
        return sig

    def _agree(self, what, tensor, host, op, root):
        sig = self._signature(what, tensor, host, op, root)
        both = np.concatenate([sig, -sig])
        self._wait(self._world.Iallreduce(self._mpi.IN_PLACE, both, op=self._mpi.MAX), f"{what} (argument check)")
        if np.array_equal(both[: sig.size], sig) and np.array_equal(both[sig.size :], -sig):
            return
        everyone = np.empty((self.world_size, sig.size), dtype=np.int64)
        self._wait(self._world.Iallgather(sig, everyone), f"{what} (argument check)")
        described = "; ".join(f"rank {r}: {_describe(row)}" for r, row in enumerate(everyone))
        self._broken = f"rank {self.rank}: the ranks called collectives that do not match ({described})"
        raise DistributedError(f"ember.distributed: {self._broken}")

    def _op(self, op, host):
        """The MPI operation for ``op`` on ``host``: on bool, SUM and MAX are OR, PRODUCT and MIN are AND (as torch's)."""
        if host.dtype == np.bool_:
            return self._mpi.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else self._mpi.LAND
        return self._ops[op]

    # -- collectives -----------------------------------------------------------------------
    def _finish(self, tensor, host, aliased, op):
        if op is ReduceOp.AVG:
            np.divide(host, self.world_size, out=host)
        if not aliased:
            _store(tensor, host)

    def all_reduce(self, tensor, op):
        host, aliased = _host(tensor)
        self._start("all_reduce", tensor, host, op)
        request = self._world.Iallreduce(self._mpi.IN_PLACE, host, op=self._op(op, host))

        def finish():
            self._wait(request, "all_reduce")
            self._finish(tensor, host, aliased, op)

        return Work(finish)

    def reduce(self, tensor, dst, op):
        host, aliased = _host(tensor)
        self._start("reduce", tensor, host, op, dst)
        if self.rank == dst:
            self._wait(self._world.Ireduce(self._mpi.IN_PLACE, host, op=self._op(op, host), root=dst), "reduce")
            self._finish(tensor, host, aliased, op)
        else:
            self._wait(self._world.Ireduce(host, None, op=self._op(op, host), root=dst), "reduce")
        return Work()

    def broadcast(self, tensor, src):
        host, aliased, raw = _raw(tensor)
        self._start("broadcast", tensor, host, None, src)
        self._wait(self._world.Ibcast(raw, root=src), "broadcast")
        if self.rank != src and not aliased:
            _store(tensor, host)
        return Work()

    def all_gather(self, tensor_list, tensor):
        host, _, raw = _raw(tensor)
        self._start("all_gather", tensor, host)
        gathered = np.empty((self.world_size, raw.size), dtype=np.uint8)
        self._wait(self._world.Iallgather(raw, gathered), "all_gather")
        for out, values in zip(tensor_list, gathered):
            _store(out, values.view(host.dtype).reshape(host.shape))
        return Work()

    def barrier(self):
        self._start("barrier")
        self._wait(self._world.Ibarrier(), "barrier")

    # -- point to point ----------------------------------------------------------------------
    def send(self, tensor, dst, tag):
        if self._broken is not None:
            raise DistributedError(f"ember.distributed: send on a broken process group ({self._broken})")
        _, _, raw = _raw(tensor)
        request = self._world.Isend(raw, dest=dst, tag=tag)
        return Work(lambda: self._wait(request, f"send to rank {dst}"), request.Test)

    def recv(self, tensor, src, tag):
        if self._broken is not None:
            raise DistributedError(f"ember.distributed: recv on a broken process group ({self._broken})")
        host, aliased, raw = _raw(tensor)
        status = self._mpi.Status()
        source = self._mpi.ANY_SOURCE if src is None else src
        request = self._world.Irecv(raw, source=source, tag=tag)
        done = []  # Test() on a completed request empties the status: complete it once

        def poll():
            if not done and request.Test(status):
                done.append(True)
            return bool(done)

        def finish():
            if not done:
                self._wait(request, "recv" if src is None else f"recv from rank {src}", status)
            if status.Get_count(self._mpi.BYTE) != raw.size:
                raise RuntimeError(
                    f"recv: rank {status.Get_source()} sent {status.Get_count(self._mpi.BYTE)} bytes, but the tensor "
                    f"({tensor.dtype} {list(tensor.shape)}) holds {raw.size}"
                )
            if not aliased:
                _store(tensor, host)
            return status.Get_source()

        return Work(finish, poll)

    # -- collectives with a root or with one part per rank ------------------------------------
    def gather(self, tensor, gather_list, dst):
        host, _, raw = _raw(tensor)
        self._start("gather", tensor, host, None, dst)
        if self.rank == dst:
            everyone = np.empty((self.world_size, raw.size), dtype=np.uint8)
            self._wait(self._world.Igather(raw, everyone, root=dst), "gather")
            for out, values in zip(gather_list, everyone):
                _store(out, values.view(host.dtype).reshape(host.shape))
        else:
            self._wait(self._world.Igather(raw, None, root=dst), "gather")
        return Work()

    def scatter(self, tensor, scatter_list, src):
        host, aliased, raw = _raw(tensor)
        self._start("scatter", tensor, host, None, src)
        parts = None
        if self.rank == src:
            parts = np.empty((self.world_size, raw.size), dtype=np.uint8)
            for row, t in zip(parts, scatter_list):
                row[...] = _raw(t)[2]
        self._wait(self._world.Iscatter(parts, raw, root=src), "scatter")
        if not aliased:
            _store(tensor, host)
        return Work()

    def reduce_scatter(self, output, input_list, op):
        host, aliased = _host(output)
        self._start("reduce_scatter", output, host, op)
        parts = np.stack([_host(t)[0].astype(host.dtype, copy=False) for t in input_list])
        self._wait(self._world.Ireduce_scatter_block(parts, host, op=self._op(op, host)), "reduce_scatter")
        self._finish(output, host, aliased, op)
        return Work()

    def all_to_all(self, output_list, input_list):
        self._start("all_to_all", input_list[0] if input_list else None, None)
        sends = [_raw(t)[2] for t in input_list]
        outs = [_raw(t) for t in output_list]
        send_counts = [s.size for s in sends]
        recv_counts = [o[2].size for o in outs]
        send_buf = np.concatenate(sends) if sends else np.empty(0, np.uint8)
        recv_buf = np.empty(sum(recv_counts), dtype=np.uint8)
        byte = self._mpi.BYTE
        request = self._world.Ialltoallv(
            [send_buf, (send_counts, _offsets(send_counts)), byte],
            [recv_buf, (recv_counts, _offsets(recv_counts)), byte],
        )
        self._wait(request, "all_to_all")
        for (host, _, raw), start, count, out in zip(outs, _offsets(recv_counts), recv_counts, output_list):
            raw[...] = recv_buf[start : start + count]
            _store(out, host)
        return Work()

    def split(self, ranks):
        """``MPI_Comm_create_group``: only the members of ``ranks`` take part."""
        if self.rank not in ranks:
            return None
        group = self._world.Get_group().Incl(list(ranks))
        comm = self._world.Create_group(group)
        group.Free()
        sub = object.__new__(type(self))
        sub._adopt(self._mpi, comm)
        return sub

    def abort(self, code=1):
        """``MPI_Abort``: the launcher ends every rank, and the job's exit status is non-zero."""
        self._world.Abort(code)

    def destroy(self):
        self._world.Free()


def _offsets(counts):
    return [int(x) for x in np.concatenate([[0], np.cumsum(counts)[:-1]])] if counts else []


def _describe(sig):
    """A rank's collective call in words, from its signature."""
    what = _COLLECTIVES[sig[0]] if 0 <= sig[0] < len(_COLLECTIVES) else "?"
    parts = [what]
    if sig[3] >= 0 or sig[4] >= 0:
        parts.append(_DTYPES[sig[3]] if 0 <= sig[3] < len(_DTYPES) else "?")
    if sig[4] >= 0:
        parts.append(str([int(d) for d in sig[5 : 5 + min(int(sig[4]), _DIMS)]]))
    if sig[1] >= 0:
        parts.append(f"op={_OPS[sig[1]].name}")
    if sig[2] >= 0:
        parts.append(f"root={int(sig[2])}")
    return " ".join(parts)
