"""NCCL on one GPU: an all_reduce with world size 1 and a DDP step on cuda:0; prints PASS or FAIL.

Run on a CUDA machine with CuPy: ``python tests/distributed/nccl_check.py`` (no launcher
needed for a world of one).
"""

from __future__ import annotations

import copy
import datetime
import sys
import time
import traceback

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel


def main():
    dist.init_process_group("nccl", timeout=datetime.timedelta(seconds=60))
    assert dist._comm().timeout == 60.0
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "nccl")
    for dtype in (ember.float32, ember.float64, ember.int64):
        t = ember.arange(6, dtype=dtype, device="cuda:0")
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
            dist.all_reduce(t, op=op)
        assert np.array_equal(t.cpu().numpy(), np.arange(6)), t
    avg = ember.ones(3, device="cuda:0") * 4
    dist.all_reduce(avg, op=dist.ReduceOp.AVG, async_op=True).wait()
    assert np.array_equal(avg.cpu().numpy(), np.full(3, 4.0, np.float32))
    view = ember.arange(8.0, device="cuda:0").reshape(2, 4)[:, ::2]
    dist.broadcast(view, 0)
    gathered = [ember.zeros(3, device="cuda:0")]
    dist.all_gather(gathered, ember.ones(3, device="cuda:0"))
    assert gathered[0].cpu().numpy().tolist() == [1.0, 1.0, 1.0]
    objs = [None]
    dist.all_gather_object(objs, {"rank": 0})
    assert objs == [{"rank": 0}]
    # the rooted and all-to-all collectives and a subgroup, in a world of one (the local copies
    # and an empty NCCL group; sends between ranks need a second GPU)
    x = ember.arange(6.0, device="cuda:0").reshape(2, 3)
    out = [ember.zeros(2, 3, device="cuda:0")]
    dist.gather(x, out)
    assert out[0].cpu().numpy().tolist() == x.cpu().numpy().tolist()
    got = ember.zeros(2, 3, device="cuda:0")
    dist.scatter(got, [x.t().contiguous().t()])
    assert got.cpu().numpy().tolist() == x.cpu().numpy().tolist()
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
        red = ember.zeros(2, 3, device="cuda:0")
        dist.reduce_scatter(red, [x], op=op)
        assert red.cpu().numpy().tolist() == x.cpu().numpy().tolist(), (op, red)
    flat = ember.zeros(6, device="cuda:0")
    dist.all_gather_into_tensor(flat, x)
    dist.reduce_scatter_tensor(got, flat)
    assert got.cpu().numpy().tolist() == x.cpu().numpy().tolist()
    a2a = [ember.zeros(2, 3, dtype=ember.bfloat16, device="cuda:0")]
    dist.all_to_all(a2a, [x.to(ember.bfloat16)])
    assert a2a[0].float().cpu().numpy().tolist() == x.cpu().numpy().tolist()
    single = ember.zeros(2, 3, device="cuda:0")
    dist.all_to_all_single(single, x, [2], [2])
    assert single.cpu().numpy().tolist() == x.cpu().numpy().tolist()
    sub = dist.new_group([0])
    t = ember.ones(3, device="cuda:0")
    dist.all_reduce(t, group=sub)
    assert dist.get_process_group_ranks(sub) == [0] and t.cpu().numpy().tolist() == [1.0, 1.0, 1.0]
    dist.destroy_process_group(sub)
    dist.barrier()
    time.sleep(0.5)  # the watchdog (polling every 0.1 s) has let go of every finished collective
    assert not dist._comm()._watchdog._pending, "the NCCL watchdog still holds finished collectives"

    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2)).to("cuda:0")
    reference = copy.deepcopy(model)
    ddp = DistributedDataParallel(model, device_ids=[0])
    x, y = ember.randn(6, 4), ember.randn(6, 2, device="cuda:0")
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        nn.functional.mse_loss(ddp(x), y).backward()  # x is moved to cuda:0 by DDP
        opt.step()
        ref_opt.zero_grad()
        nn.functional.mse_loss(reference(x.to("cuda:0")), y).backward()
        ref_opt.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert np.allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), atol=1e-6)
    dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - the script's answer is PASS or FAIL
        traceback.print_exc()
        print("FAIL")
        sys.exit(1)
    print("PASS")
