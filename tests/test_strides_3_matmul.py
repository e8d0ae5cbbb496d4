"""Strides of matrix-product gradients, against PyTorch: ``mm``'s backward makes the gradient of a
column-major operand (strides ``(1, rows)``, a transposed matrix; a size-1 dimension counts as PyTorch
counts it) column-major too; ``linear``'s weight gradient is row-major only for a row-major weight; a
matrix times a batch is folded as PyTorch folds it (``b.mT @ a.mT``), so the batch's gradient is a
transposed row-major one. Values are compared too, with and without ``create_graph``."""

import pytest
import torch

import ember


def _matrix(lib, shape, transposed, device=None):
    """A float64 tensor of ``shape`` holding -0.7, -0.6, ...: row-major, or the transpose of a row-major
    tensor of the reversed shape."""
    kw = {} if device is None else {"device": device}
    n = 1
    for s in shape:
        n *= s
    x = lib.arange(float(n), dtype=lib.float64, **kw) * 0.1 - 0.7
    return x.reshape(shape[::-1]).t() if transposed else x.reshape(shape)


_PRODUCTS = {
    "matmul": (lambda lib, a, b: a @ b, (4, 3), (3, 5)),
    "mm": (lambda lib, a, b: lib.mm(a, b), (4, 3), (3, 5)),
    "addmm": (lambda lib, a, b: lib.addmm(lib.ones(5, dtype=a.dtype, device=a.device), a, b), (4, 3), (3, 5)),
    "linear": (lambda lib, a, b: lib.nn.functional.linear(a, b), (4, 3), (5, 3)),
    "linear_bias": (
        lambda lib, a, b: lib.nn.functional.linear(a, b, lib.ones(5, dtype=a.dtype, device=a.device)),
        (4, 3),
        (5, 3),
    ),
    "one_row": (lambda lib, a, b: a @ b, (1, 3), (3, 5)),
    "one_column": (lambda lib, a, b: a @ b, (4, 1), (1, 5)),
    "one_by_one": (lambda lib, a, b: a @ b, (1, 1), (1, 5)),
    "linear_one_feature": (lambda lib, a, b: lib.nn.functional.linear(a, b), (4, 1), (5, 1)),
}


@pytest.mark.parametrize("op", sorted(_PRODUCTS))
@pytest.mark.parametrize("a_transposed", [False, True])
@pytest.mark.parametrize("b_transposed", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_product_gradient_strides(device, op, a_transposed, b_transposed, create_graph):
    f, a_shape, b_shape = _PRODUCTS[op]
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        a = _matrix(lib, a_shape, a_transposed, **kw).detach().requires_grad_()
        b = _matrix(lib, b_shape, b_transposed, **kw).detach().requires_grad_()
        y = f(lib, a, b)
        ga, gb = lib.autograd.grad(y, (a, b), lib.ones_like(y) * 0.3, create_graph=create_graph)
        results.append((y, ga, gb))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("a_transposed", [False, True])
@pytest.mark.parametrize("b_transposed", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("needs", ["both", "a", "b"])
def test_matrix_times_batch_gradient_strides(device, a_transposed, b_transposed, create_graph, needs):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        a = _matrix(lib, (4, 3), a_transposed, **kw).detach().requires_grad_(needs != "b")
        b = lib.arange(30.0, dtype=lib.float64, **kw) * 0.1 - 1
        b = b.reshape(2, 5, 3).mT if b_transposed else b.reshape(2, 3, 5)  # b.mT's batch folds, or not
        b = b.detach().requires_grad_(needs != "a")
        y = a @ b
        wrt = [t for t in (a, b) if t.requires_grad]
        grads = lib.autograd.grad(y, wrt, lib.ones_like(y) * 0.3, create_graph=create_graph)
        results.append((y, *grads))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-14)


def test_linear_module_with_transposed_input(device):
    # Linear's own (row-major) weight keeps a row-major gradient; a transposed input's is column-major
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        layer = lib.nn.Linear(3, 2).to(dtype=lib.float64, **kw)
        with lib.no_grad():
            layer.weight.copy_(lib.linspace(-1.0, 1.0, 6, dtype=lib.float64).reshape(2, 3))
            layer.bias.fill_(0.25)
        x = _matrix(lib, (4, 3), True, **kw).detach().requires_grad_()
        y = layer(x)
        (y * y).sum().backward()
        results.append((y, x.grad, layer.weight.grad, layer.bias.grad))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-14)
