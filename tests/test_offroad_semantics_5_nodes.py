"""Off the main road, differential against PyTorch: the class names of the autograd nodes of the indexing,
scattering and selecting ops that ember composes from others (``index_add`` from a ``scatter_add``,
``sort`` from a ``gather``, ``take`` from an index): ``type(y.grad_fn).__name__`` and ``y.grad_fn.name()``
are PyTorch's, and the gradients stay PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _index(L, x, values):
    return L.tensor(values, device=x.device)


# name -> f(lib, x, y): x and y are (2, 3) float64 tensors that require grad
NODE_CASES = {
    "index_add": lambda L, x, y: x.index_add(0, _index(L, x, [1, 0]), y),
    "index_add alpha": lambda L, x, y: L.index_add(x, 0, _index(L, x, [1, 1]), y, alpha=2),
    "index_add_": lambda L, x, y: (x * 1).index_add_(1, _index(L, x, [1, 0, 1]), y),
    "index_add 0-d": lambda L, x, y: x[0, 0].index_add(0, _index(L, x, [0]), y[1, 1]),
    "index_put accumulate": lambda L, x, y: x.index_put((_index(L, x, [0, 1]),), y, accumulate=True),
    "index_put_ accumulate": lambda L, x, y: (x * 1).index_put_((_index(L, x, [1, 1]),), y[0], accumulate=True),
    "index_fill": lambda L, x, y: x.index_fill(1, _index(L, x, [0, 2]), 3.0),
    "index_fill_": lambda L, x, y: (x * 1).index_fill_(1, _index(L, x, [0, 2]), 3.0),
    "index_fill tensor value": lambda L, x, y: x.index_fill(1, _index(L, x, [0, 2]), y[0, 0]),
    "index_copy": lambda L, x, y: x.index_copy(1, _index(L, x, [2, 0]), y[:, :2]),
    "index_reduce": lambda L, x, y: x.index_reduce(1, _index(L, x, [0, 2]), y[:, :2], "prod"),
    "scatter_reduce": lambda L, x, y: x.scatter_reduce(1, _index(L, x, [[0, 0], [1, 2]]), y[:, :2], "sum"),
    "masked_scatter": lambda L, x, y: x.masked_scatter(x > 0, y),
    "masked_scatter_": lambda L, x, y: (x * 1).masked_scatter_(x > 0, y),
    "take": lambda L, x, y: x.take(_index(L, x, [0, 5, 3])),
    "take 2-d": lambda L, x, y: L.take(x, _index(L, x, [[0, 5], [3, 3]])),
    "put": lambda L, x, y: x.put(_index(L, x, [0, 4]), y[0, :2]),
    "put accumulate": lambda L, x, y: x.put(_index(L, x, [0, 0]), y[0, :2], accumulate=True),
    "put_": lambda L, x, y: (x * 1).put_(_index(L, x, [0, 4]), y[0, :2]),
    "select_scatter": lambda L, x, y: x.select_scatter(y[0], 0, 1),
    "slice_scatter": lambda L, x, y: x.slice_scatter(y[:1], 0, 1),
    "diagonal_scatter": lambda L, x, y: x.diagonal_scatter(y[0, :2]),
    "sort": lambda L, x, y: x.sort(1)[0],
    "sort descending": lambda L, x, y: L.sort(x, 0, descending=True).values,
    "sort 0-d": lambda L, x, y: x[0, 0].sort()[0],
    "msort": lambda L, x, y: L.msort(x),
    "topk": lambda L, x, y: x.topk(2)[0],
    "topk smallest": lambda L, x, y: L.topk(x, 1, 0, largest=False).values,
    "topk 0-d": lambda L, x, y: x[0, 0].topk(1)[0],
    "kthvalue": lambda L, x, y: x.kthvalue(2)[0],
    "kthvalue keepdim": lambda L, x, y: L.kthvalue(x, 1, 0, keepdim=True).values,
    "kthvalue 0-d": lambda L, x, y: x[0, 0].kthvalue(1)[0],
}


def _inputs(lib, device=None):
    kwargs = {"device": device} if device else {}
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], dtype=lib.float64, requires_grad=True, **kwargs)
    y = lib.tensor([[0.2, 0.4, 1.0], [-1.0, 0.6, 0.1]], dtype=lib.float64, requires_grad=True, **kwargs)
    return x, y


def _names(node):
    return type(node).__name__, node.name()


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_node_names_and_gradients_are_pytorchs(device, case):
    tx, ty = _inputs(torch)
    ex, ey = _inputs(ember, device)
    expected = NODE_CASES[case](torch, tx, ty)
    got = NODE_CASES[case](ember, ex, ey)
    assert _names(got.grad_fn) == _names(expected.grad_fn)
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-12)
    expected.backward(torch.arange(expected.numel(), dtype=torch.float64).reshape(expected.shape))
    got.backward(ember.arange(got.numel(), dtype=ember.float64, device=ex.device).reshape(got.shape))
    for e, g in ((tx, ex), (ty, ey)):
        assert (e.grad is None) == (g.grad is None)
        if e.grad is not None:
            np.testing.assert_allclose(g.grad.cpu().numpy(), e.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_put_without_a_recorded_write_keeps_the_node_it_had():
    """``put_`` under ``no_grad`` records nothing: the tensor's node is still the one that made it."""
    x = ember.ones(2, 3, requires_grad=True)
    z = x * 1
    with ember.no_grad():
        z.put_(ember.tensor([0]), ember.tensor([2.0]))
    assert z.grad_fn.name() == "MulBackward0"
