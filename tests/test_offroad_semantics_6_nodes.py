"""Off the main road, differential against PyTorch: the autograd nodes of circular padding (CopySlices),
cdist's matrix-product path (a view of EuclideanDistBackward0), antialiased interpolation
(UpsampleBilinear2DAaBackward0), ``unique`` (a node whose backward PyTorch has not implemented) and of a
view rewritten by an in-place op (PyTorch regenerates it with ``as_strided``: AsStridedBackward0)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _pad(L, x, pad):
    return L.nn.functional.pad(x, pad, mode="circular")


def _inplace_on_view(L, x, write, read=None):
    y = x * 1
    view = write(y)
    return view if read is None else read(y, view)


# name -> f(lib, x): x is a (1, 2, 4, 4) float64 tensor that requires grad
NODE_CASES = {
    "circular pad 2-d": lambda L, x: _pad(L, x, (1, 1, 1, 1)),
    "circular pad 1-d": lambda L, x: _pad(L, x[0], (1, 2)),
    "circular pad nothing": lambda L, x: _pad(L, x, (0, 0, 0, 0)),
    "circular pad negative": lambda L, x: _pad(L, x, (-1, 0, 1, 0)),
    "cdist by mm": lambda L, x: L.cdist(x.reshape(4, 8).repeat(7, 1), x.reshape(4, 8)),
    "cdist use_mm": lambda L, x: L.cdist(x[0, 0], x[0, 1], compute_mode="use_mm_for_euclid_dist"),
    "cdist batched by mm": lambda L, x: L.cdist(x[0], x[0, :1], compute_mode="use_mm_for_euclid_dist"),
    "interpolate antialias bilinear": lambda L, x: L.nn.functional.interpolate(
        x, size=(2, 3), mode="bilinear", antialias=True
    ),
    "interpolate antialias bicubic": lambda L, x: L.nn.functional.interpolate(
        x, scale_factor=2, mode="bicubic", antialias=True
    ),
    "view after mul_": lambda L, x: _inplace_on_view(L, x, lambda y: y[0].mul_(2)),
    "unsqueeze view after mul_": lambda L, x: _inplace_on_view(L, x, lambda y: y.unsqueeze(0).mul_(2)),
    "transposed view after add_": lambda L, x: _inplace_on_view(L, x, lambda y: y.transpose(2, 3).add_(1)),
    "flat view after add_": lambda L, x: _inplace_on_view(L, x, lambda y: y.view(-1).add_(1)),
    "view after copy_": lambda L, x: _inplace_on_view(L, x, lambda y: y[0, 1].copy_(x[0, 0])),
    "view after setitem": lambda L, x: _inplace_on_view(
        L, x, lambda y: y[0], lambda y, v: (v.__setitem__(1, 5.0), v)[1]
    ),
    "older view after base mul_": lambda L, x: _inplace_on_view(L, x, lambda y: y[0], lambda y, v: (y.mul_(2), v)[1]),
    "sibling view after view mul_": lambda L, x: _inplace_on_view(
        L, x, lambda y: y[:, :1], lambda y, v: (v[0].mul_(2), v)[1]
    ),
}


def _names(y):
    node = y.grad_fn
    nexts = [None if n is None else type(n).__name__ for n, _ in node.next_functions]
    return type(node).__name__, node.name(), nexts


@pytest.mark.parametrize("case", list(NODE_CASES))
def test_node_names(device, case):
    # ember gave TakeAxisBackward0 (circular pad), EuclideanByMMBackward0, AddBackward0 (antialias) and
    # the replayed view's own node (IndexBackward0, ViewBackward0, PermuteBackward0) after an in-place write
    fn = NODE_CASES[case]
    data = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    x = ember.tensor(data, requires_grad=True, device=device)
    t = torch.tensor(data, requires_grad=True)
    y, expected = fn(ember, x), fn(torch, t)
    got_type, got_name, got_next = _names(y)
    want_type, want_name, want_next = _names(expected)
    assert (got_type, got_name) == (want_type, want_name)
    if not case.startswith(("circular", "interpolate")):  # composed there: other nodes below
        assert got_next == want_next
    # the gradients stay PyTorch's
    grad = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    y.backward(ember.tensor(grad, device=device))
    expected.backward(torch.tensor(grad))
    np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-9)  # cdist's product: not exact


def test_view_as_real_keeps_its_node_after_an_inplace_write():
    for L, d in ((torch, "cpu"), (ember, "cpu")):  # (complex: not on every backend)
        x = L.ones(2, 3, dtype=L.complex64, device=d, requires_grad=True)
        y = x * 1
        real = y.real
        real.mul_(2)
        as_real = L.view_as_real(x * 1)
        as_real.mul_(2)
        assert (type(real.grad_fn).__name__, type(as_real.grad_fn).__name__) == (
            "AsStridedBackward0",
            "ViewAsRealBackward0",
        )


# name -> (f(lib, x), node, the name PyTorch's error gives)
UNIQUE_CASES = {
    "unique": (lambda L, x: L.unique(x), "Unique2Backward0", "_unique2"),
    "unique unsorted": (lambda L, x: x.unique(sorted=False), "Unique2Backward0", "_unique2"),
    "unique counts": (lambda L, x: L.unique(x, return_counts=True)[0], "Unique2Backward0", "_unique2"),
    "unique dim": (lambda L, x: L.unique(x, dim=0), "UniqueDimBackward0", "unique_dim"),
    "unique dim inverse": (lambda L, x: x.unique(dim=1, return_inverse=True)[0], "UniqueDimBackward0", "unique_dim"),
    "unique_consecutive": (lambda L, x: L.unique_consecutive(x), "UniqueConsecutiveBackward0", "unique_consecutive"),
    "unique_consecutive dim": (
        lambda L, x: L.unique_consecutive(x, dim=0, return_counts=True)[0],
        "UniqueConsecutiveBackward0",
        "unique_consecutive",
    ),
}


@pytest.mark.parametrize("case", list(UNIQUE_CASES))
def test_unique_records_a_node_without_derivative(device, case):
    # ember's unique gave a result that required no grad (unique_consecutive one with IndexBackward0's gradient)
    fn, node, name = UNIQUE_CASES[case]
    values = [[1.0, 2.0, 2.0], [1.0, 2.0, 2.0], [0.5, 0.5, 3.0]]
    x = ember.tensor(values, requires_grad=True, device=device)
    t = torch.tensor(values, requires_grad=True)
    y, expected = fn(ember, x), fn(torch, t)
    assert y.tolist() == expected.tolist()
    assert (y.requires_grad, type(y.grad_fn).__name__, y.grad_fn.name()) == (True, node, node)
    assert [type(n).__name__ for n, _ in y.grad_fn.next_functions] == ["AccumulateGrad"]
    with pytest.raises(NotImplementedError):
        expected.sum().backward()
    with pytest.raises(NotImplementedError, match=f"^the derivative for '{name}' is not implemented.$"):
        y.sum().backward()


def test_unique_without_grad_records_nothing(device):
    x = ember.tensor([2.0, 1.0, 2.0], requires_grad=True, device=device)
    with ember.no_grad():
        assert not ember.unique(x).requires_grad
    values, inverse, counts = ember.unique(x, return_inverse=True, return_counts=True)
    assert values.requires_grad and not inverse.requires_grad and not counts.requires_grad
    assert not ember.unique(x.detach()).requires_grad
