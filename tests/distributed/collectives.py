"""Collectives of ember.distributed against NumPy, on 2 ranks: ``mpiexec -n 2 python collectives.py``."""

from __future__ import annotations

import sys

import numpy as np
from common import assert_close, expect_raises, run_checks

import ember
import ember.distributed as dist
from ember.distributed import ReduceOp

NP_REDUCE = {
    ReduceOp.SUM: lambda a: np.sum(a, axis=0),
    ReduceOp.AVG: lambda a: np.sum(a, axis=0) / a.shape[0],
    ReduceOp.PRODUCT: lambda a: np.prod(a, axis=0),
    ReduceOp.MIN: lambda a: np.min(a, axis=0),
    ReduceOp.MAX: lambda a: np.max(a, axis=0),
}


def rank_data(rank, dtype, shape=(3, 4)):
    """What rank ``rank`` contributes (every rank can compute every other rank's share)."""
    rng = np.random.default_rng(rank + 1)
    if dtype == "int64":
        return rng.integers(-5, 6, size=shape).astype(np.int64)
    return rng.standard_normal(shape).astype(dtype)


def all_data(dtype, shape=(3, 4)):
    return np.stack([rank_data(r, dtype, shape) for r in range(dist.get_world_size())])


def tol(dtype):
    return {"float32": 1e-6, "float64": 1e-12, "int64": 0.0}[dtype]


def check_all_reduce(device, dtype, op):
    def check():
        t = ember.tensor(rank_data(dist.get_rank(), dtype), device=device)
        dist.all_reduce(t, op=op)
        assert_close(t.cpu().numpy(), NP_REDUCE[op](all_data(dtype)).astype(dtype), tol(dtype))

    return check


def check_reduce(op):
    def check():
        rank = dist.get_rank()
        mine = rank_data(rank, "float64")
        t = ember.tensor(mine)
        dist.reduce(t, dst=1, op=op)
        assert_close(t.numpy(), NP_REDUCE[op](all_data("float64")) if rank == 1 else mine, 1e-12)

    return check


def check_broadcast(device, dtype):
    def check():
        t = ember.tensor(rank_data(dist.get_rank(), dtype), device=device)
        dist.broadcast(t, src=1)
        assert_close(t.cpu().numpy(), rank_data(1, dtype))

    return check


def check_all_gather(device, dtype):
    def check():
        out = [ember.zeros(3, 4, dtype=getattr(ember, dtype), device=device) for _ in range(dist.get_world_size())]
        dist.all_gather(out, ember.tensor(rank_data(dist.get_rank(), dtype), device=device))
        for r, t in enumerate(out):
            assert_close(t.cpu().numpy(), rank_data(r, dtype))

    return check


def check_views():
    # a strided view goes through a contiguous copy and is written back into its base
    base = ember.tensor(rank_data(dist.get_rank(), "float64"))
    view = base[:, ::2]
    dist.all_reduce(view)
    expected = rank_data(dist.get_rank(), "float64")
    expected[:, ::2] = all_data("float64")[:, :, ::2].sum(0)
    assert_close(base.numpy(), expected, 1e-12)
    scalar = ember.tensor(float(dist.get_rank() + 1), dtype=ember.float64)
    dist.all_reduce(scalar, op=ReduceOp.PRODUCT)
    assert scalar.shape == () and scalar.item() == 2.0


def check_async():
    t = ember.tensor(rank_data(dist.get_rank(), "float32"))
    work = dist.all_reduce(t, op=ReduceOp.AVG, async_op=True)
    assert work.wait() is True and work.is_completed()
    assert_close(t.numpy(), all_data("float32").mean(0), 1e-6)
    assert dist.broadcast(t, 0, async_op=True).wait()


def check_objects():
    got = [None] * dist.get_world_size()
    dist.all_gather_object(got, {"rank": dist.get_rank(), "text": "x" * (10 * dist.get_rank())})
    assert got == [{"rank": r, "text": "x" * (10 * r)} for r in range(dist.get_world_size())], got
    objs = [dist.get_rank(), "from", dist.get_rank()] if dist.get_rank() == 1 else [None, None, None]
    dist.broadcast_object_list(objs, src=1)
    assert objs == [1, "from", 1], objs


def check_group_info():
    assert dist.is_initialized() and dist.get_world_size() == 2 and dist.get_rank() in (0, 1)
    assert dist.get_backend() == "mpi"
    dist.barrier()


def check_errors():
    t = ember.zeros(2, dtype=ember.int64)
    expect_raises(TypeError, "ReduceOp.AVG needs a floating-point tensor", lambda: dist.all_reduce(t, ReduceOp.AVG))
    expect_raises(TypeError, "op must be", lambda: dist.all_reduce(t, "sum"))
    expect_raises(TypeError, "must be a Tensor", lambda: dist.all_reduce([1, 2]))
    expect_raises(ValueError, "src=2", lambda: dist.broadcast(t, src=2))
    expect_raises(ValueError, "dst=-1", lambda: dist.reduce(t, dst=-1))
    # as in torch: a wrong count or shape is a RuntimeError, a dtype that differs a ValueError
    expect_raises(RuntimeError, "expected one per rank", lambda: dist.all_gather([t], t))
    expect_raises(RuntimeError, "tensor_list[1]", lambda: dist.all_gather([t, ember.zeros(3, dtype=ember.int64)], t))
    expect_raises(ValueError, "different dtypes", lambda: dist.all_gather([t, ember.zeros(2)], t))
    expect_raises(ValueError, "twice", lambda: dist.init_process_group("mpi"))


def check_reinit():
    dist.destroy_process_group()
    assert not dist.is_initialized()
    expect_raises(ValueError, "contradicts the MPI launcher", lambda: dist.init_process_group("mpi", world_size=3))
    expect_raises(ValueError, "Invalid backend", lambda: dist.init_process_group("nosuch"))
    dist.init_process_group("mpi", world_size=2, rank=dist_rank_from_mpi())
    assert dist.get_world_size() == 2


def dist_rank_from_mpi():
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


def main():
    dist.init_process_group("mpi")
    checks = {"group_info": check_group_info}
    for dtype in ("float32", "float64", "int64"):
        for op in ReduceOp:
            if op is ReduceOp.AVG and dtype == "int64":
                continue
            checks[f"all_reduce_{op.name}_{dtype}"] = check_all_reduce("cpu", dtype, op)
        checks[f"broadcast_{dtype}"] = check_broadcast("cpu", dtype)
        checks[f"all_gather_{dtype}"] = check_all_gather("cpu", dtype)
    for op in ReduceOp:
        checks[f"reduce_{op.name}"] = check_reduce(op)
        checks[f"all_reduce_{op.name}_restricted"] = check_all_reduce("restricted", "float64", op)
    checks["broadcast_restricted"] = check_broadcast("restricted", "float32")
    checks["all_gather_restricted"] = check_all_gather("restricted", "int64")
    checks.update(views=check_views, async_op=check_async, objects=check_objects, errors=check_errors)
    checks["reinit"] = check_reinit
    failed = run_checks(checks)
    dist.destroy_process_group()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
