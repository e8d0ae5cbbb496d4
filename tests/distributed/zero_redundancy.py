"""ZeroRedundancyOptimizer against torch.distributed.optim.ZeroRedundancyOptimizer (gloo, CPU): the same
model, weights, data shards and wrapped optimizer in both libraries, under ``mpiexec -n 2`` with
``EMBER_TEST_TORCH_PORT`` set (see ``tests/test_zero_redundancy_optimizer.py``). Each check prints
``ok``/``FAIL`` like the other scripts of this folder."""

from __future__ import annotations

import numpy as np
from common import run_against_torch
from point_to_point_and_groups import Raised, attempt, same

import ember
import ember.distributed as edist
from ember.distributed.optim import ZeroRedundancyOptimizer as EmberZeRO

try:
    import torch
    import torch.distributed as tdist
    from torch.distributed.optim import ZeroRedundancyOptimizer as TorchZeRO
except ImportError:  # the test file skips without torch
    torch = tdist = TorchZeRO = None

STEPS = 3


def models():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    model = ember.nn.Sequential(ember.nn.Linear(6, 16), ember.nn.Tanh(), ember.nn.Linear(16, 3))
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return model, reference


def batch(step):
    rank = edist.get_rank()
    values = np.random.RandomState(100 * step + rank).randn(4, 6).astype(np.float32)
    return values, np.random.RandomState(7 + step).randn(4, 3).astype(np.float32)


def pair(optimizer, groups=False, **options):
    """Both libraries' ZeRO over the same model; the models and the optimizers."""
    model, reference = models()
    built = []
    for T, Z, m in ((ember, EmberZeRO, model), (torch, TorchZeRO, reference)):
        params = m.parameters()
        if groups:
            params = [{"params": list(m[0].parameters())}, {"params": list(m[2].parameters()), "lr": 0.05}]
        built.append(Z(params, optimizer_class=getattr(T.optim, optimizer), **options))
    return (model, reference), built


def train(models_, optimizers, steps=STEPS, scheduler=False):
    for (T, m), optimizer in zip(((ember, models_[0]), (torch, models_[1])), optimizers):
        sched = T.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5) if scheduler else None
        for step in range(steps):
            x, y = batch(step)
            optimizer.zero_grad()
            loss = T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y))
            loss.backward()
            for p in m.parameters():  # average the gradients, as DDP would
                (edist if T is ember else tdist).all_reduce(p.grad)
                p.grad /= 2
            optimizer.step()
            if sched:
                sched.step()


def same_parameters(models_, tol=1e-6):
    for (name, p), q in zip(models_[0].named_parameters(), models_[1].parameters()):
        same(p.detach(), q.detach(), f"parameter {name}", tol)


def steps_alike(optimizer, groups=False, scheduler=False, **options):
    def check():
        models_, optimizers = pair(optimizer, groups, **options)
        train(models_, optimizers, scheduler=scheduler)
        same_parameters(models_)
        ours, theirs = (o.optim for o in optimizers)  # the same share of the parameters on this rank
        assert [[tuple(p.shape) for p in g["params"]] for g in ours.param_groups] == [
            [tuple(p.shape) for p in g["params"]] for g in theirs.param_groups
        ]
        assert [g["lr"] for g in optimizers[0].param_groups] == [g["lr"] for g in optimizers[1].param_groups]

    return check


def check_state_dict_round_trip():
    models_, optimizers = pair("Adam", groups=True, lr=0.01)
    train(models_, optimizers)
    for optimizer in optimizers:
        optimizer.consolidate_state_dict(to=0)
    if edist.get_rank() == 0:
        ours, theirs = (o.state_dict() for o in optimizers)
        same(ours["state"], theirs["state"], "consolidated state", 1e-6)
        assert [sorted(g) for g in ours["param_groups"]] == [sorted(g) for g in theirs["param_groups"]]
        assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    else:
        outcomes = [attempt(o.state_dict) for o in optimizers]
        assert all(isinstance(r, Raised) and r.type == "RuntimeError" for r in outcomes), outcomes
    # every rank loads rank 0's full state (sent as it would be read from a file) and trains on alike
    full = [optimizers[0].state_dict() if edist.get_rank() == 0 else None]
    edist.broadcast_object_list(full, 0)
    fresh_models, fresh = pair("Adam", groups=True, lr=0.01)
    for p, q in zip(fresh_models[0].parameters(), models_[0].parameters()):
        p.data.copy_(q.data)
    for p, q in zip(fresh_models[1].parameters(), models_[1].parameters()):
        p.data.copy_(q.data)
    fresh[0].load_state_dict(full[0])
    torch_full = {
        "state": {k: {n: torch.tensor(v.numpy()) for n, v in s.items()} for k, s in full[0]["state"].items()},
        "param_groups": full[0]["param_groups"],
    }
    fresh[1].load_state_dict(torch_full)
    train(fresh_models, fresh)
    same_parameters(fresh_models)


def check_add_param_group():
    model, reference = models()
    ours = EmberZeRO(model[0].parameters(), optimizer_class=ember.optim.SGD, lr=0.1)
    theirs = TorchZeRO(reference[0].parameters(), optimizer_class=torch.optim.SGD, lr=0.1)
    ours.add_param_group({"params": list(model[2].parameters()), "lr": 0.2})
    theirs.add_param_group({"params": list(reference[2].parameters()), "lr": 0.2})
    train((model, reference), (ours, theirs))
    same_parameters((model, reference))
    assert [[tuple(p.shape) for p in g["params"]] for g in ours.optim.param_groups] == [
        [tuple(p.shape) for p in g["params"]] for g in theirs.optim.param_groups
    ]


def check_errors():
    for T, Z in ((ember, EmberZeRO), (torch, TorchZeRO)):
        outcomes = [
            attempt(lambda T=T, Z=Z: Z(T.ones(2), optimizer_class=T.optim.SGD, lr=0.1)),
            attempt(lambda T=T, Z=Z: Z([], optimizer_class=T.optim.SGD, lr=0.1)),
            attempt(
                lambda T=T, Z=Z: Z(
                    [T.nn.Parameter(T.ones(2)), T.nn.Parameter(T.ones(2, dtype=T.float64))],
                    optimizer_class=T.optim.SGD,
                    lr=0.1,
                )
            ),
        ]
        if T is ember:
            ours = outcomes
        else:
            for i, (a, b) in enumerate(zip(ours, outcomes)):
                assert isinstance(a, Raised) and isinstance(b, Raised) and a.type == b.type, (i, a, b)


def checks(world_size=2):
    return {
        "sgd_momentum": steps_alike("SGD", lr=0.1, momentum=0.9),
        "adam": steps_alike("Adam", lr=0.01),
        "adamw_groups": steps_alike("AdamW", groups=True, lr=0.01, weight_decay=0.1),
        "adam_with_scheduler": steps_alike("Adam", scheduler=True, lr=0.01),
        "state_dict_round_trip": check_state_dict_round_trip,
        "add_param_group": check_add_param_group,
        "errors": check_errors,
    }


if __name__ == "__main__":
    run_against_torch(checks)
