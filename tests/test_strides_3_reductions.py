"""Strides of reduction results and of gradients, against PyTorch: a reduction's result is row-major, a
size-1 (keepdim) dimension's stride too, whatever the input's layout; ``mean``'s gradient is a fresh
row-major tensor (PyTorch divides the expanded gradient), not a broadcast view; ``vector_norm``'s
gradient follows the input's layout (its ``masked_fill_`` works in place); ``mse_loss``'s gradients are
row-major; ``binary_cross_entropy``'s loss and input gradient are laid out as the input. Values are
compared too."""

import pytest
import torch

import ember


def _strided(lib, shape, strides, device=None):
    """A float64 tensor of ``shape`` seen with ``strides`` over a fresh storage holding -0.3, -0.2, ..."""
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    kw = {} if device is None else {"device": device}
    return lib.as_strided(lib.arange(float(extent), dtype=lib.float64, **kw) * 0.1 - 0.3, shape, strides)


#: (shape, strides): a transposed matrix, channels-last, a permuted 3-d tensor, a sliced one, row-major
_LAYOUTS = [
    ((3, 4), (1, 3)),
    ((2, 3, 4, 5), (60, 1, 15, 3)),
    ((4, 2, 3), (1, 12, 4)),
    ((4, 3), (6, 2)),
    ((3, 4), (4, 1)),
]

_REDUCTIONS = {
    "sum_keep1": lambda x: x.sum(1, keepdim=True),
    "sum_keep0": lambda x: x.sum(0, keepdim=True),
    "sum_keep_last": lambda x: x.sum(-1, keepdim=True),
    "sum_keep_01": lambda x: x.sum((0, 1), keepdim=True),
    "mean_keep1": lambda x: x.mean(1, keepdim=True),
    "mean_keep_last": lambda x: x.mean(-1, keepdim=True),
    "amax_keep1": lambda x: x.amax(1, keepdim=True),
    "amin_keep0": lambda x: x.amin(0, keepdim=True),
    "prod_keep1": lambda x: x.prod(1, keepdim=True),
    "any_keep1": lambda x: (x > 0).any(1, keepdim=True),
    "all_keep0": lambda x: (x > 0).all(0, keepdim=True),
    "sum0": lambda x: x.sum(0),
    "mean_last": lambda x: x.mean(-1),
}


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("op", sorted(_REDUCTIONS))
def test_reduction_result_is_row_major(device, shape, strides, op):
    t = _REDUCTIONS[op](_strided(torch, shape, strides))
    e = _REDUCTIONS[op](_strided(ember, shape, strides, device))
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride()
    torch.testing.assert_close(torch.tensor(e.tolist(), dtype=t.dtype), t, rtol=1e-12, atol=1e-15)


def test_keepdim_sum_of_channels_last_expanded(device):
    # the (N, 1, H, W) sum is row-major; its expansion steps 0 over the channels
    t = _strided(torch, (2, 3, 4, 5), (60, 1, 15, 3))
    e = _strided(ember, (2, 3, 4, 5), (60, 1, 15, 3), device)
    te, ee = t.sum(1, keepdim=True).expand(2, 3, 4, 5), e.sum(1, keepdim=True).expand(2, 3, 4, 5)
    assert ee.stride() == te.stride() == (20, 0, 5, 1)
    torch.testing.assert_close(torch.tensor(ee.tolist(), dtype=torch.float64), te, rtol=1e-12, atol=1e-15)


_MEANS = {
    "all": lambda x: x.mean(),
    "dim0": lambda x: x.mean(0),
    "dim_last_keep": lambda x: x.mean(-1, keepdim=True),
    "dims01": lambda x: x.mean((0, 1)),
}


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("op", sorted(_MEANS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_mean_gradient_is_row_major(device, shape, strides, op, create_graph):
    grads = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _strided(lib, shape, strides, **kw).detach().requires_grad_()
        y = _MEANS[op](x)
        (g,) = lib.autograd.grad(y, x, lib.full_like(y, 0.7), create_graph=create_graph)
        grads.append(g)
    t, e = grads
    assert e.stride() == t.stride()
    assert e.is_contiguous()
    assert e.tolist() == t.tolist()
    e.add_(1)  # a fresh tensor, not a broadcast view


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("p", [2, 1, 0.5, 1.5, 3])
@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm_gradient_strides(device, shape, strides, p, dim, keepdim):
    grads, second = [], []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _strided(lib, shape, strides, **kw).detach().requires_grad_()
        y = lib.linalg.vector_norm(x, p, dim=dim, keepdim=keepdim)
        (g,) = lib.autograd.grad(y, x, lib.full_like(y, 0.7), retain_graph=True)
        (gg,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        grads.append(g)
        second.append(gg)
    for t, e in (grads, second):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("which", ["input", "target", "both"])
def test_mse_loss_gradients_are_row_major(device, reduction, which):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _strided(lib, (3, 4), (1, 3) if which != "target" else (4, 1), **kw).detach().requires_grad_()
        y = (_strided(lib, (3, 4), (1, 3) if which != "input" else (4, 1), **kw) * 0.5).detach().requires_grad_()
        loss = lib.nn.functional.mse_loss(x, y, reduction=reduction)
        gx, gy = lib.autograd.grad(loss, (x, y), lib.full_like(loss, 0.7))
        results.append((loss, gx, gy))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("which", ["input", "target"])
def test_binary_cross_entropy_follows_the_input(device, reduction, which):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _strided(lib, (3, 4), (1, 3) if which == "input" else (4, 1), **kw)
        x = ((x + 0.5) * 0.5).detach().requires_grad_()
        y = (_strided(lib, (3, 4), (1, 3) if which == "target" else (4, 1), **kw) + 0.4).clamp(0, 1)
        loss = lib.nn.functional.binary_cross_entropy(x, y, reduction=reduction)
        (gx,) = lib.autograd.grad(loss, x, lib.full_like(loss, 0.7))
        results.append((loss, gx))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-15)
