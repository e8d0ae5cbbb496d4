"""DistributedDataParallel on 2 ranks against single-process training: ``mpiexec -n 2 python ddp.py``."""

from __future__ import annotations

import copy
import sys

import numpy as np
from common import assert_close, expect_raises, run_checks

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

STEPS = 5


def make_model(seed, dtype=ember.float64, device="cpu", hidden=8):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 3)).to(device=device, dtype=dtype)


def data(dtype=ember.float64, n=8):
    ember.manual_seed(1234)  # the same full batch on every rank
    return ember.randn(n, 4, dtype=dtype), ember.randn(n, 3, dtype=dtype)


def shard(t):
    rank, world = dist.get_rank(), dist.get_world_size()
    per = t.shape[0] // world
    return t[rank * per : (rank + 1) * per]


def max_diff(a, b):
    return max(float(np.abs(x.detach().cpu().numpy() - y.detach().cpu().numpy()).max()) for x, y in zip(a, b))


def train_matches_single_process(dtype, tol, device="cpu", **ddp_kwargs):
    def check():
        model = make_model(seed=dist.get_rank(), dtype=dtype, device=device)  # differs per rank before DDP
        ddp = DDP(model, **ddp_kwargs)
        reference = copy.deepcopy(model)  # rank 0's initial parameters, broadcast by DDP
        x, y = data(dtype)
        x, y = x.to(device), y.to(device)
        opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
        for _ in range(STEPS):
            opt.zero_grad()
            nn.functional.mse_loss(ddp(shard(x)), shard(y)).backward()
            opt.step()
            ref_opt.zero_grad()
            nn.functional.mse_loss(reference(x), y).backward()
            ref_opt.step()
        diff = max_diff(model.parameters(), reference.parameters())
        assert diff <= tol, f"parameters differ from single-process training by {diff}"
        mine = [p.detach().cpu().numpy() for p in model.parameters()]
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, mine)
        for theirs in everyone:
            for a, b in zip(theirs, mine):
                assert np.array_equal(a, b), "ranks ended with different parameters"

    return check


def check_buckets():
    ddp = DDP(make_model(0, hidden=300), bucket_cap_mb=0.005)
    # reverse registration order, split by size: bias of layer 2 and its weight first; within a
    # bucket, parameter order (PyTorch's layout of a bucket)
    indices = [b.indices for b in ddp._buckets]
    assert sorted(i for b in indices for i in b) == [0, 1, 2, 3] and 3 in indices[0], indices
    assert all(b == sorted(b) for b in indices), indices
    assert len(indices) > 1, indices
    assert len(DDP(make_model(0)).__dict__["_buckets"]) == 1


def check_no_sync():
    model = make_model(seed=dist.get_rank())
    ddp = DDP(model)
    reference = copy.deepcopy(model)
    x, y = data()
    xs, ys = shard(x), shard(y)
    with ddp.no_sync():
        nn.functional.mse_loss(ddp(xs[:2]), ys[:2]).backward()
    local = [p.grad.numpy().copy() for p in model.parameters()]
    nn.functional.mse_loss(ddp(xs[2:]), ys[2:]).backward()
    # reference: the average over ranks of both micro-batch gradients
    for part in (slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 8)):
        nn.functional.mse_loss(reference(x[part]), y[part]).backward()
    for p, r in zip(model.parameters(), reference.parameters()):
        assert_close(p.grad.numpy(), r.grad.numpy() / dist.get_world_size(), 1e-12)
    assert any(not np.array_equal(a, p.grad.numpy()) for a, p in zip(local, model.parameters()))


def check_buffers():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).double()
    ddp = DDP(model)
    model.eval()
    rank = dist.get_rank()
    with ember.no_grad():
        model[1].running_mean.fill_(float(rank + 1))
    ddp(ember.randn(2, 4, dtype=ember.float64))
    assert_close(model[1].running_mean.numpy(), np.full(3, 1.0))  # rank 0's, broadcast at forward
    quiet = DDP(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).double(), broadcast_buffers=False)
    quiet.eval()
    with ember.no_grad():
        quiet.module[1].running_mean.fill_(float(rank + 1))
    quiet(ember.randn(2, 4, dtype=ember.float64))
    assert_close(quiet.module[1].running_mean.numpy(), np.full(3, float(rank + 1)))
    # construction broadcasts buffers too
    ember.manual_seed(0)
    other = nn.BatchNorm1d(3).double()
    with ember.no_grad():
        other.running_var.fill_(float(rank + 5))
    DDP(nn.Sequential(nn.Linear(3, 3).double(), other))
    assert_close(other.running_var.numpy(), np.full(3, 5.0))


def check_state_dict():
    ddp = DDP(make_model(0))
    assert list(ddp.state_dict()) == ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]


def check_model_mismatch():
    hidden = 8 if dist.get_rank() == 0 else 9
    expect_raises(RuntimeError, "same model on every rank", lambda: DDP(make_model(0, hidden=hidden)))


def check_init_sync_false():
    DDP(make_model(0), init_sync=False)  # identical everywhere: fine
    expect_raises(RuntimeError, "differ", lambda: DDP(make_model(dist.get_rank()), init_sync=False))


def check_parameter_added():
    model = make_model(0)
    ddp = DDP(model)
    model.extra = nn.Linear(2, 2).double()
    expect_raises(RuntimeError, "added: ['extra.weight', 'extra.bias']", lambda: ddp(ember.randn(2, 4).double()))


def check_sparse():
    model = nn.Sequential(nn.Embedding(10, 3, sparse=True), nn.Linear(3, 1))
    expect_raises(RuntimeError, "DistributedDataParallel does not support sparse gradients", lambda: DDP(model))


def check_unused_without_detection():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 2)

        def forward(self, x):
            return self.a(x)

    ddp = DDP(TwoHeads().double())
    ddp(ember.randn(2, 4, dtype=ember.float64)).sum().backward()
    expect_raises(RuntimeError, "Expected to have finished reduction", lambda: ddp(ember.randn(2, 4).double()))


def check_find_unused_parameters():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 2)
            self.c = nn.Linear(4, 2)

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)

    ember.manual_seed(0)
    model = Branchy().double()
    ddp = DDP(model, find_unused_parameters=True)
    reference = copy.deepcopy(model)
    x = ember.randn(2, 4, dtype=ember.float64)
    use_b = dist.get_rank() == 0
    ddp(x, use_b).sum().backward()
    reference(x, True).sum().backward()
    reference_a = reference.a.weight.grad.numpy()
    assert_close(model.a.weight.grad.numpy(), reference_a, 1e-12)
    # b is used on rank 0 only: the average is half of rank 0's gradient, on both ranks
    assert_close(model.b.weight.grad.numpy(), reference.b.weight.grad.numpy() / 2, 1e-12)
    assert model.c.weight.grad is None  # used nowhere: left alone
    ddp(x, use_b).sum().backward()  # the next iteration starts cleanly


def check_sampler_default_group():
    sampler = DistributedSampler(list(range(7)), shuffle=False)
    assert sampler.num_replicas == 2 and sampler.rank == dist.get_rank()
    assert list(sampler) == [[0, 2, 4, 6], [1, 3, 5, 0]][dist.get_rank()]


def check_loader_training():
    x, y = data(n=16)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, sampler=DistributedSampler(TensorDataset(x, y), seed=3))
    ddp = DDP(make_model(0))
    opt = ember.optim.SGD(ddp.parameters(), lr=0.05)
    for epoch in range(2):
        loader.sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(ddp(xb), yb).backward()
            opt.step()
    mine = [p.detach().numpy() for p in ddp.parameters()]
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    assert all(np.array_equal(a, b) for a, b in zip(everyone[0], everyone[1]))


def check_process_group_of_the_world():
    """DDP over a subgroup holding every rank averages as over the default group."""
    train_matches_single_process(ember.float64, 1e-6, process_group=dist.new_group([0, 1]))()


def check_process_group_of_one_rank():
    """DDP over one-rank groups (each rank its own): nothing is averaged across ranks, so each rank trains
    on its own shard exactly as a single process does, starting from its own weights."""
    groups = [dist.new_group([0]), dist.new_group([1])]  # every rank makes every group, as PyTorch requires
    mine = groups[dist.get_rank()]
    model = make_model(seed=10 + dist.get_rank())
    reference = copy.deepcopy(model)
    ddp = DDP(model, process_group=mine)
    x, y = data()
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(STEPS):
        for o, m in ((opt, ddp), (ref_opt, reference)):
            o.zero_grad()
            nn.functional.mse_loss(m(shard(x)), shard(y)).backward()
            o.step()
    diff = max_diff(model.parameters(), reference.parameters())
    assert diff <= 1e-12, f"a one-rank group's DDP differs from single-process training by {diff}"
    expect_raises(ValueError, "not a member", lambda: DDP(make_model(0), process_group=groups[1 - dist.get_rank()]))
    expect_raises(TypeError, "ProcessGroup", lambda: DDP(make_model(0), process_group="world"))


def main():
    dist.init_process_group("mpi")
    checks = {
        "train_float64": train_matches_single_process(ember.float64, 1e-6),
        "train_float64_small_buckets": train_matches_single_process(ember.float64, 1e-6, bucket_cap_mb=0.0002),
        "train_float32": train_matches_single_process(ember.float32, 1e-5),
        "train_restricted": train_matches_single_process(ember.float64, 1e-6, device="restricted"),
        "train_device_ids": train_matches_single_process(ember.float64, 1e-6, device_ids=["cpu"]),
        "buckets": check_buckets,
        "no_sync": check_no_sync,
        "buffers": check_buffers,
        "state_dict": check_state_dict,
        "model_mismatch": check_model_mismatch,
        "init_sync_false": check_init_sync_false,
        "parameter_added": check_parameter_added,
        "sparse": check_sparse,
        "unused_without_detection": check_unused_without_detection,
        "find_unused_parameters": check_find_unused_parameters,
        "sampler_default_group": check_sampler_default_group,
        "loader_training": check_loader_training,
        "process_group_of_the_world": check_process_group_of_the_world,
        "process_group_of_one_rank": check_process_group_of_one_rank,
    }
    failed = run_checks(checks)
    dist.destroy_process_group()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
