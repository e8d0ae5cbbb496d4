"""Memory formats against PyTorch: the strides of ``*_like`` factories and of copies (``clone``, ``to``,
``contiguous``, the cast methods) with ``preserve_format``, ``contiguous_format``, ``channels_last`` and
``channels_last_3d``, on every test device."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

# layouts as (name, make): make(lib, dtype, device) builds the same tensor in ember and torch
LAYOUTS = {
    "transposed": lambda L, dt, **kw: L.arange(6, dtype=dt, **kw).reshape(2, 3).t(),
    "permuted": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(2, 3, 4).permute(2, 0, 1),
    "channels_last": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(2, 3, 2, 4).permute(0, 2, 3, 1),
    "sliced": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(2, 3, 8).permute(2, 0, 1)[::2],
    "broadcast": lambda L, dt, **kw: L.arange(3, dtype=dt, **kw)[:, None].expand(3, 2),
    "contiguous": lambda L, dt, **kw: L.arange(6, dtype=dt, **kw).reshape(2, 3),
}

LIKE = {
    "empty_like": lambda L, x, **kw: L.empty_like(x, **kw),
    "zeros_like": lambda L, x, **kw: L.zeros_like(x, **kw),
    "ones_like": lambda L, x, **kw: L.ones_like(x, **kw),
    "full_like": lambda L, x, **kw: L.full_like(x, 2, **kw),
    "rand_like": lambda L, x, **kw: L.rand_like(x, **kw),
    "randn_like": lambda L, x, **kw: L.randn_like(x, **kw),
    "randint_like": lambda L, x, **kw: L.randint_like(x, 5, **kw),
}


def _both(make, dt):
    return make(ember, getattr(ember, dt)), make(torch, getattr(torch, dt))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("like", LIKE)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_like_factories_preserve_a_dense_layout(device, dt, like, layout):
    x = LAYOUTS[layout](ember, getattr(ember, dt), device=device)
    t = LAYOUTS[layout](torch, getattr(torch, dt))
    y, ty = LIKE[like](ember, x), LIKE[like](torch, t)
    assert y.stride() == ty.stride() and y.shape == ty.shape and y.dtype == x.dtype
    assert y._base is None and not y.requires_grad
    if like in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())
    y.fill_(1)  # memory of its own
    np.testing.assert_array_equal(x.cpu().numpy(), t.numpy())


@pytest.mark.parametrize("fmt", ["contiguous_format", "preserve_format", "channels_last"])
@pytest.mark.parametrize("like", LIKE)
def test_like_factories_take_the_memory_format_asked_for(device, like, fmt):
    x = LAYOUTS["channels_last"](ember, ember.float32, device=device)
    t = LAYOUTS["channels_last"](torch, torch.float32)
    y = LIKE[like](ember, x.contiguous(), memory_format=getattr(ember, fmt), requires_grad=True)
    ty = LIKE[like](torch, t.contiguous(), memory_format=getattr(torch, fmt), requires_grad=True)
    assert y.stride() == ty.stride() and y.is_leaf and y.requires_grad
    assert (
        LIKE[like](ember, x, memory_format=getattr(ember, fmt)).stride()
        == LIKE[like](torch, t, memory_format=getattr(torch, fmt)).stride()
    )


def test_like_factories_refuse_channels_last_of_another_rank():
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        ember.empty_like(ember.ones(2, 3), memory_format=ember.channels_last)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        torch.empty_like(torch.ones(2, 3), memory_format=torch.channels_last)


COPIES = {
    "clone": lambda L, x, fmt: x.clone(memory_format=fmt),
    "contiguous": lambda L, x, fmt: x.contiguous(memory_format=fmt),
    "to": lambda L, x, fmt: x.to(memory_format=fmt),
    "to_dtype": lambda L, x, fmt: x.to(L.float64, memory_format=fmt),
    "double": lambda L, x, fmt: x.double(memory_format=fmt),
}


@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last", "preserve_format"])
@pytest.mark.parametrize("copy", COPIES)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced4"])
def test_copies_take_the_memory_format_asked_for(device, copy, layout, fmt):
    if copy == "contiguous" and fmt == "preserve_format":
        pytest.skip("contiguous refuses preserve_format (tested below)")

    def make(L, **kw):
        x = L.arange(96, dtype=L.float32, **kw).reshape(2, 4, 3, 4)
        if layout == "channels_last":
            return x.contiguous(memory_format=L.channels_last)
        return x[:, ::2] if layout == "sliced4" else x

    x, t = make(ember, device=device), make(torch)
    y, ty = COPIES[copy](ember, x, getattr(ember, fmt)), COPIES[copy](torch, t, getattr(torch, fmt))
    assert y.stride() == ty.stride()
    assert (y is x) == (ty is t)
    for f in ("contiguous_format", "channels_last"):
        assert y.is_contiguous(memory_format=getattr(ember, f)) == ty.is_contiguous(memory_format=getattr(torch, f))
    np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())
    if y is not x:
        y.fill_(0)
        np.testing.assert_array_equal(x.cpu().numpy(), t.numpy())


def test_channels_last_3d_and_gradients(device):
    x = ember.arange(48.0, device=device).reshape(1, 2, 3, 4, 2).requires_grad_()
    t = torch.arange(48.0).reshape(1, 2, 3, 4, 2).requires_grad_()
    y, ty = x.contiguous(memory_format=ember.channels_last_3d), t.contiguous(memory_format=torch.channels_last_3d)
    assert y.stride() == ty.stride() == (48, 1, 16, 4, 2)
    w = np.arange(48.0).reshape(1, 2, 3, 4, 2)
    (y * ember.tensor(w, dtype=ember.float32, device=device)).sum().backward()
    (ty * torch.tensor(w, dtype=torch.float32)).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), t.grad.numpy())
    for v in (y, ty):  # a channels-last copy is no row-major block
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            v.view(-1)


def test_contiguous_refuses_preserve_format_unless_already_contiguous():
    for L in (ember, torch):
        x = L.ones(2, 3)
        assert x.contiguous(memory_format=L.preserve_format) is x
        with pytest.raises(RuntimeError, match="preserve memory format is unsupported by the contiguous operator"):
            x.t().contiguous(memory_format=L.preserve_format)


REDUCTIONS = {
    "sum": lambda x: x.sum(1),
    "sum_keepdim": lambda x: x.sum(1, keepdim=True),
    "mean": lambda x: x.mean((1, 2)),
    "prod": lambda x: x.prod(1),
    "amax": lambda x: x.amax(1, keepdim=True),
    "max": lambda x: x.max(0).values,
    "var": lambda x: x.var(1),
    "norm": lambda x: x.norm(dim=1),
    "logsumexp": lambda x: x.logsumexp(1),
    "all": lambda x: (x > 3).all(1),
    "any": lambda x: (x > 3).any(0),
    "cumsum": lambda x: x.cumsum(0),
    "softmax": lambda x: x.softmax(0),
    "log_softmax": lambda x: x.log_softmax(-1),
    "cat": lambda x: ember.cat([x, x], 1) if isinstance(x, ember.Tensor) else torch.cat([x, x], 1),
    "stack": lambda x: ember.stack([x, x]) if isinstance(x, ember.Tensor) else torch.stack([x, x]),
    "roll": lambda x: x.roll(1, 0),
    "masked_fill": lambda x: x.masked_fill(x > 3, 0),
    "repeat": lambda x: x.repeat(*(1,) * x.ndim),
    "gather": lambda x: x.gather(1, (x * 0).long()),
    "tril": lambda x: x.tril(),
}


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["permuted", "channels_last"])
def test_reductions_and_joins_of_strided_inputs_are_row_major(device, dt, reduction, layout):
    x = LAYOUTS[layout](ember, getattr(ember, dt), device=device)
    t = LAYOUTS[layout](torch, getattr(torch, dt))
    y, ty = REDUCTIONS[reduction](x), REDUCTIONS[reduction](t)
    assert y.is_contiguous() and ty.is_contiguous()
    assert y.shape == ty.shape and y.view(-1).shape == ty.view(-1).shape
    np.testing.assert_allclose(y.cpu().numpy(), ty.numpy(), rtol=1e-6)


def test_joins_of_channels_last_tensors_stay_channels_last(device):
    def make(L, **kw):
        return L.arange(120.0, **kw).reshape(2, 3, 4, 5).contiguous(memory_format=L.channels_last)

    x, t = make(ember, device=device), make(torch)
    for join in (lambda L, a: L.cat([a, a]), lambda L, a: L.stack([a, a]), lambda L, a: L.cat([a, a.contiguous()])):
        y, ty = join(ember, x), join(torch, t)
        if device == "cpu":  # NumPy keeps the inputs' common order; other backends join row-major
            assert y.stride() == ty.stride()
        np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())


@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last"])
def test_empty_takes_a_memory_format(device, fmt):
    y = ember.empty(2, 3, 4, 5, memory_format=getattr(ember, fmt), device=device, requires_grad=True)
    ty = torch.empty(2, 3, 4, 5, memory_format=getattr(torch, fmt), requires_grad=True)
    assert y.stride() == ty.stride() and y.is_leaf and y._base is None
    assert ember.empty((1, 2, 3, 4, 5), memory_format=ember.channels_last_3d).stride() == (120, 1, 40, 10, 2)
    for L in (ember, torch):
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            L.empty(2, 3, memory_format=L.channels_last)
        with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
            L.empty(2, 3, memory_format=L.preserve_format)


def test_like_factories_of_a_sparse_tensor():
    s = ember.sparse_coo_tensor(ember.tensor([[0, 1], [1, 0]]), ember.tensor([1.0, 2.0]), (2, 2))
    for like in LIKE:
        assert tuple(LIKE[like](ember, s).shape) == (2, 2)
    assert ember.zeros_like(s).to_dense().tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_module_to_lays_out_4d_parameters(device):
    def model(L, **kw):
        L.manual_seed(0)
        return L.nn.Sequential(L.nn.Conv2d(2, 3, 3), L.nn.BatchNorm2d(3)).to(memory_format=L.channels_last, **kw)

    m, tm = model(ember, device=device), model(torch)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert p.stride() == tp.stride() and p.is_leaf and isinstance(p, ember.nn.Parameter)
    x = ember.ones(1, 2, 5, 5, device=device).contiguous(memory_format=ember.channels_last)
    m(x).sum().backward()
    assert m[0].weight.grad.stride() == (18, 1, 6, 2)
    for L, module in ((ember, ember.nn.Conv2d(2, 3, 3)), (torch, torch.nn.Conv2d(2, 3, 3))):
        with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d format"):
            module.to(memory_format=L.channels_last_3d)
