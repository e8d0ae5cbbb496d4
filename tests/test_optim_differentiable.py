"""``differentiable=True`` optimizers (SGD, Adam, AdamW here; the others in test_optim_db.py): the step recorded by autograd, so that the
updated parameters are functions of the parameters before it, the gradients and a learning rate
given as a tensor; compared with PyTorch's values and gradients through three steps."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"maximize": True, "betas": (0.8, 0.9)}),
    ("AdamW", {}),
]


def _unrolled(lib, name, options, learnable_lr, dtype, device=None):
    """Three steps on ``p = w0 * 1`` from gradients taken with create_graph=True, then the gradient of
    ``(p ** 2).sum()`` in ``w0`` (and the learning rate)."""
    place = {} if lib is torch else {"device": device}
    dt = getattr(lib, dtype)
    w0 = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=dt, requires_grad=True, **place)
    lr = lib.tensor(0.05, dtype=dt, requires_grad=True, **place) if learnable_lr else 0.05
    p = w0 * 1.0
    optimizer = getattr(lib.optim, name)([p], lr=lr, differentiable=True, **options)
    x = lib.tensor(np.linspace(0, 1, 6).reshape(3, 2), dtype=dt, **place)
    for _ in range(3):
        (p.grad,) = lib.autograd.grad(((p @ x) ** 2).sum(), p, create_graph=True)
        optimizer.step()
    grads = lib.autograd.grad((p**2).sum(), [w0, lr] if learnable_lr else [w0])
    return [p.detach().cpu().numpy()] + [g.cpu().numpy() for g in grads]


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{'-'.join(o) or 'plain'}" for n, o in CASES])
@pytest.mark.parametrize("learnable_lr", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unrolled_steps_match_torch(name, options, learnable_lr, dtype, device):
    got = _unrolled(ember, name, options, learnable_lr, dtype, device)
    expected = _unrolled(torch, name, options, learnable_lr, dtype)
    rtol, atol = (1e-12, 1e-13) if dtype == "float64" else (2e-6, 2e-6)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def test_step_is_recorded_only_when_asked():
    p = ember.ones(2, requires_grad=True) * 2
    optimizer = ember.optim.SGD([p], lr=0.1, differentiable=True)
    p.grad = ember.ones(2)
    optimizer.step()
    assert p.grad_fn is not None and p.requires_grad
    leaf = ember.ones(2, requires_grad=True)
    plain = ember.optim.SGD([leaf], lr=0.1)
    leaf.grad = ember.ones(2)
    plain.step()
    assert leaf.grad_fn is None


def test_non_leaf_parameters_accepted_with_differentiable():
    for lib in (ember, torch):
        lib.optim.Adam([lib.ones(2, requires_grad=True) * 2], lr=0.1, differentiable=True)


def test_optimizers_without_a_differentiable_step_refuse_it():
    """An optimizer whose step ember cannot record is refused when made, not run as a step autograd does
    not record (a silently wrong meta-gradient): a subclass that sets no ``_differentiable_update``."""

    class Plain(ember.optim.Optimizer):
        def __init__(self, params, differentiable=False):
            super().__init__(params, {"lr": 0.1, "differentiable": differentiable})

    Plain([ember.ones(2, requires_grad=True)])
    with pytest.raises(NotImplementedError, match="Plain: differentiable=True"):
        Plain([ember.ones(2, requires_grad=True)], differentiable=True)
