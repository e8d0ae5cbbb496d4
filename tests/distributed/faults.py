"""One fault per run, on 2 ranks: ``mpiexec -n 2 python faults.py SCENARIO``.

Every scenario must end the job with a non-zero status and a message naming the rank and
what went wrong, within a few seconds (the group's timeout is :data:`TIMEOUT`);
``tests/test_distributed.py`` checks the status, the time and the message.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import time

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP

TIMEOUT = 5.0


def _model(unused=False):
    ember.manual_seed(0)

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 1)

        def forward(self, x):
            return self.b(x) if unused else self.b(self.a(x))

    return Two()


def exception(rank):
    if rank == 1:
        raise ValueError("a bug on rank 1")
    dist.all_reduce(ember.ones(3))


def timeout(rank):
    if rank == 1:
        time.sleep(60)  # alive, but never joins
    dist.all_reduce(ember.ones(3))


def killed(rank):
    if rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    dist.all_reduce(ember.ones(3))


def killed_late(rank):
    dist.all_reduce(ember.ones(3))
    if rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)  # after its last collective: rank 0 finishes normally


def exited(rank):
    if rank == 1:
        sys.exit(0)  # a rank that leaves early with success
    dist.all_reduce(ember.ones(3))


def shapes(rank):
    dist.all_reduce(ember.ones(2, 3) if rank == 0 else ember.ones(3))


def dtypes(rank):
    dist.all_reduce(ember.ones(3, dtype=ember.float32 if rank == 0 else ember.float64))


def broadcast_shapes(rank):
    dist.broadcast(ember.ones(4) if rank == 0 else ember.ones(5), src=0)


def skipped(rank):
    if rank == 0:
        dist.broadcast(ember.ones(3), src=0)  # rank 1 skips it
    dist.all_reduce(ember.ones(3))


def uneven(rank):
    model = DDP(_model())
    for _ in range(3 if rank == 0 else 2):
        model(ember.ones(2, 4)).sum().backward()


def unused(rank):
    model = DDP(_model(unused=rank == 1))  # rank 1 leaves parameter a unused
    for _ in range(2):
        model(ember.ones(2, 4)).sum().backward()


def _joined(rank, divide_by_initial_world_size):
    """Uneven inputs inside ``join()`` train as one process would; prints ``ok joined``."""
    assert dist.get_backend() == sys.argv[2]
    model = DDP(_model())
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    with model.join(divide_by_initial_world_size=divide_by_initial_world_size):
        for _ in range(5 if rank == 0 else 2):
            opt.zero_grad()
            model(ember.ones(2, 4) * (rank + 1)).sum().backward()
            opt.step()
    # the same training in one process: the rank that ran out contributes zero gradients, and the
    # sum is divided by the world size or by the number of ranks still training
    reference = _model()
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1)
    for step in range(5):
        ref_opt.zero_grad()
        loss = reference(ember.ones(2, 4)).sum() + (reference(ember.ones(2, 4) * 2).sum() if step < 2 else 0)
        (loss / (2 if step < 2 or divide_by_initial_world_size else 1)).backward()
        ref_opt.step()
    for (name, p), q in zip(model.module.named_parameters(), reference.parameters()):
        assert ember.allclose(p, q, atol=1e-6), f"{name}: {p} != {q}"
    print(f"[{rank}] ok joined", flush=True)


def joined(rank):
    _joined(rank, True)


def joined_by_active_ranks(rank):
    _joined(rank, False)


def joined_throw(rank):
    model = DDP(_model())
    with model.join(throw_on_early_termination=True):
        for _ in range(3 if rank == 0 else 1):
            model(ember.ones(2, 4)).sum().backward()


if __name__ == "__main__":
    scenario = sys.argv[1]
    backend = sys.argv[2] if len(sys.argv) > 2 else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=TIMEOUT))
    globals()[scenario](dist.get_rank())
    dist.destroy_process_group()
