"""DDP communication hooks and the futures of asynchronous collectives, each compared with
torch.distributed (gloo, CPU) on the same model, weights and data shards.

Run under ``mpiexec -n 2`` with ``EMBER_TEST_TORCH_PORT`` set to a free port (see
``tests/test_ddp_comm_hooks.py``): every rank joins an ember ``mpi`` group and a torch ``gloo``
group, trains one model per library with the same hook, and compares parameters after each step,
the buckets the hook saw, the futures' values and the registration errors. Each check prints
``ok``/``FAIL`` like the other scripts of this folder.
"""

from __future__ import annotations

import numpy as np
from common import run_against_torch
from point_to_point_and_groups import Raised, attempt, same

import ember
import ember.distributed as edist
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks as ember_hooks

try:
    import torch
    import torch.distributed as tdist
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks as torch_hooks
except ImportError:  # the test file skips without torch
    torch = tdist = torch_hooks = None

STEPS = 3


def models():
    """The same MLP in both libraries (torch's initialisation, copied into ember's)."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    model = ember.nn.Sequential(ember.nn.Linear(6, 16), ember.nn.Tanh(), ember.nn.Linear(16, 3))
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return model, reference


def shards():
    values = np.random.RandomState(7).randn(8, 6).astype(np.float32)
    targets = np.random.RandomState(8).randn(8, 3).astype(np.float32)
    rank, world = edist.get_rank(), edist.get_world_size()
    per = len(values) // world
    part = slice(rank * per, (rank + 1) * per)
    return values[part], targets[part]


def train_alike(make_hook, state=lambda lib: None, bucket_cap_mb=None, tol=1e-6):
    """Train both models STEPS steps with the hook each library's ``make_hook(lib)`` gives (float32
    matrix products of the two libraries may round apart in the last bit: ``tol``)."""

    def check():
        model, reference = models()
        kwargs = {} if bucket_cap_mb is None else {"bucket_cap_mb": bucket_cap_mb}
        ours = ember.nn.parallel.DistributedDataParallel(model, **kwargs)
        theirs = torch.nn.parallel.DistributedDataParallel(reference, **kwargs)
        ours.register_comm_hook(state(ember), make_hook(ember))
        theirs.register_comm_hook(state(torch), make_hook(torch))
        x, y = shards()
        for T, ddp in ((ember, ours), (torch, theirs)):
            optimizer = T.optim.SGD(ddp.parameters(), lr=0.1)
            for _ in range(STEPS):
                optimizer.zero_grad()
                T.nn.functional.mse_loss(ddp(T.tensor(x)), T.tensor(y)).backward()
                optimizer.step()
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            same(p.detach(), q.detach(), f"parameter {name}", tol)

    return check


def allreduce(lib):
    return (ember_hooks if lib is ember else torch_hooks).allreduce_hook


def fp16(lib):
    return (ember_hooks if lib is ember else torch_hooks).fp16_compress_hook


def bf16(lib):
    if lib is ember:
        return ember_hooks.bf16_compress_hook

    # PyTorch registers its bfloat16 hooks for NCCL only (a check of the hook's name); gloo reduces
    # bfloat16 all the same, so its hook runs under another name
    def bfloat16_hook(state, bucket):
        return torch_hooks._compress_hook(torch.bfloat16, state, bucket)

    return bfloat16_hook


def fp16_wrapped_allreduce(lib):
    hooks = ember_hooks if lib is ember else torch_hooks
    return hooks.fp16_compress_wrapper(hooks.allreduce_hook)


def world_group(lib):
    return (edist if lib is ember else tdist).group.WORLD


def custom_sum_then_divide(lib):
    """A user's hook: sum over the ranks, then divide in the chained callback."""
    D = edist if lib is ember else tdist

    def hook(state, bucket):
        future = D.all_reduce(bucket.buffer(), async_op=True).get_future()
        return future.then(lambda fut: fut.value()[0] / D.get_world_size())

    return hook


def check_buckets_seen_alike():
    seen = {}
    for T, lib_hooks in ((ember, ember_hooks), (torch, torch_hooks)):
        record = seen[T.__name__] = []

        def hook(state, bucket, record=record, lib_hooks=lib_hooks):
            grads = bucket.gradients()
            record.append(
                (
                    bucket.index(),
                    bucket.is_last(),
                    tuple(bucket.buffer().shape),
                    [tuple(g.shape) for g in grads],
                    [tuple(p.shape) for p in bucket.parameters()],
                    all(g.data_ptr() >= bucket.buffer().data_ptr() for g in grads),  # views of the buffer
                )
            )
            return lib_hooks.allreduce_hook(state, bucket)

        model, reference = models()
        ddp = T.nn.parallel.DistributedDataParallel(model if T is ember else reference, bucket_cap_mb=0.0005)
        ddp.register_comm_hook(None, hook)
        x, y = shards()
        T.nn.functional.mse_loss(ddp(T.tensor(x)), T.tensor(y)).backward()
    assert seen["ember"] == seen["torch"], f"ember {seen['ember']} != torch {seen['torch']}"


def check_registration_errors():
    def attempts(T):
        model, reference = models()
        ddp = T.nn.parallel.DistributedDataParallel(model if T is ember else reference)
        hooks = ember_hooks if T is ember else torch_hooks
        D = edist if T is ember else tdist
        results = [attempt(lambda: ddp.register_comm_hook(None, "not a hook"))]

        def bad_bucket(state, bucket: int):
            return None

        def bad_return(state, bucket: D.GradBucket) -> int:
            return 0

        results.append(attempt(lambda: ddp.register_comm_hook(None, bad_bucket)))
        results.append(attempt(lambda: ddp.register_comm_hook(None, bad_return)))
        results.append(attempt(lambda: ddp.register_comm_hook(None, hooks.allreduce_hook)))
        results.append(attempt(lambda: ddp.register_comm_hook(None, hooks.allreduce_hook)))
        return results

    ours, theirs = attempts(ember), attempts(torch)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(b, Raised):
            assert isinstance(a, Raised) and a.type == b.type, f"attempt {i}: ember {a!r}, torch {b!r}"
            continue
        assert not isinstance(a, Raised), f"attempt {i}: ember {a!r}, torch returned"


def check_work_futures():
    rank = edist.get_rank()
    for T, D in ((ember, edist), (torch, tdist)):
        t = T.tensor([1.0, 2.0]) * (rank + 1)
        future = D.all_reduce(t, async_op=True).get_future()
        chained = future.then(lambda fut: fut.value()[0] * 10)
        value = future.wait()
        assert isinstance(value, list) and len(value) == 1 and value[0] is t, f"{T.__name__}: {value!r}"
        b = T.arange(3.0) if rank == 0 else T.zeros(3)
        broadcast = D.broadcast(b, 0, async_op=True).get_future().wait()
        assert broadcast[0] is b
        if T is ember:
            ours = (chained.wait(), b)
        else:
            same(ours[0], chained.wait(), "then() of all_reduce's future")
            same(ours[1], b, "broadcast through its future")


def checks(world_size=2):
    return {
        "allreduce_hook": train_alike(allreduce),
        "allreduce_hook_world_state": train_alike(allreduce, state=world_group),
        "allreduce_hook_small_buckets": train_alike(allreduce, bucket_cap_mb=0.0005),
        "fp16_compress_hook": train_alike(fp16, tol=1e-3),
        "bf16_compress_hook": train_alike(bf16, tol=1e-2),
        "fp16_compress_wrapper": train_alike(fp16_wrapped_allreduce, tol=1e-3),
        "custom_sum_then_divide": train_alike(custom_sum_then_divide),
        "buckets_seen_alike": check_buckets_seen_alike,
        "registration_errors": check_registration_errors,
        "work_futures": check_work_futures,
    }


if __name__ == "__main__":
    run_against_torch(checks)
