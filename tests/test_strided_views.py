"""Strided views against PyTorch: ``as_strided``, ``unfold`` as a view, and in-place writes into tensors
whose elements alias each other (broadcast views), on every test device."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn, torch

import ember
from ember.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize(
    "size, stride, offset",
    [((2, 2), (1, 2), None), ((3, 2), (2, 1), 1), ((4, 3), (1, 1), 0), ((2, 3), (0, 1), 2), ((0, 3), (1, 1), 0)],
)
def test_as_strided_values_and_gradients(device, dtype, size, stride, offset):
    # a fresh (contiguous, offset 0) input: overlapping windows accumulate their gradients
    check(lambda x: (x * 1).as_strided(size, stride, offset), lambda x: (x * 1).as_strided(size, stride, offset), [randn(12)], device=device, dtype=dtype)  # fmt: skip


def test_as_strided_of_a_view_uses_its_storage_offset(device):
    base = np.arange(12.0)
    x, tx = ember.tensor(base, device=device), torch.tensor(base)
    v, tv = x[3:].as_strided((2, 2), (3, 1)), tx[3:].as_strided((2, 2), (3, 1))
    np.testing.assert_array_equal(v.cpu().numpy(), tv.numpy())
    assert v.storage_offset() == tv.storage_offset() == 3
    v[0, 1] = 100.0
    tv[0, 1] = 100.0
    np.testing.assert_array_equal(x.cpu().numpy(), tx.numpy())


def test_as_strided_errors(device):
    x = ember.arange(6.0, device=device)
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        x.as_strided((3, 3), (2, 1))
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        x.as_strided((2, 2), (1,))
    with pytest.raises(RuntimeError, match="Negative strides"):
        x.as_strided((2,), (-1,), 3)
    with pytest.raises(RuntimeError, match="out of bounds"):
        torch.arange(6.0).as_strided((3, 3), (2, 1))


def test_as_strided_gradcheck(device):
    x = ember.tensor(randn(8), dtype=ember.float64, device=device, requires_grad=True)

    def fn(t):
        return (t * 2).as_strided((3, 3), (2, 1), 1)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("dim, size, step", [(0, 2, 1), (1, 3, 2), (-1, 1, 1), (1, 5, 5)])
def test_unfold_matches_torch_and_is_a_view(device, dtype, dim, size, step):
    check(lambda x: (x * 1).unfold(dim, size, step), lambda x: (x * 1).unfold(dim, size, step), [randn(3, 5)], device=device, dtype=dtype)  # fmt: skip
    x = ember.arange(15.0, device=device).reshape(3, 5)
    tx = torch.arange(15.0).reshape(3, 5)
    w, tw = x.unfold(dim, size, step), tx.unfold(dim, size, step)
    assert w.stride() == tw.stride()
    w[0, 0].fill_(-1.0)
    tw[0, 0].fill_(-1.0)
    np.testing.assert_array_equal(x.cpu().numpy(), tx.numpy())


def test_unfold_gradcheck(device):
    x = ember.tensor(randn(4, 6), dtype=ember.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: t.unfold(1, 3, 2), (x,))
    assert gradgradcheck(lambda t: (t * t).unfold(1, 3, 1), (x,))


IN_PLACE = {
    "fill_": lambda m, e: e.fill_(5.0),
    "zero_": lambda m, e: e.zero_(),
    "add_": lambda m, e: e.add_(1.0),
    "mul_": lambda m, e: e.mul_(2.0),
    "copy_": lambda m, e: e.copy_(m.ones(2, 3)),
    "exp_": lambda m, e: e.exp_(),
    "clamp_": lambda m, e: e.clamp_(0.5),
    "uniform_": lambda m, e: e.uniform_(),
    "setitem-row": lambda m, e: e.__setitem__(1, m.tensor([5.0, 6.0, 7.0])),
    "setitem-column": lambda m, e: e.__setitem__((slice(None), 1), 4.0),
    "setitem-column-tensor": lambda m, e: e.__setitem__((slice(None), 0), m.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_writes_into_a_broadcast_view_as_torch(device, name):
    op = IN_PLACE[name]
    tx = torch.arange(3.0).reshape(1, 3)
    try:
        op(torch, tx.expand(2, 3))
        expected = tx.numpy()
    except RuntimeError as error:
        expected = error
    x = ember.arange(3.0, device=device).reshape(1, 3)
    if isinstance(expected, RuntimeError):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            op(_OnDevice(device), x.expand(2, 3))
        np.testing.assert_array_equal(x.cpu().numpy(), [[0.0, 1.0, 2.0]])  # nothing was written
    else:
        op(_OnDevice(device), x.expand(2, 3))
        if name != "uniform_":
            np.testing.assert_array_equal(x.cpu().numpy(), expected)


class _OnDevice:
    """``ember`` with ``tensor``/``ones`` made on one device (the other operands of the writes above)."""

    def __init__(self, device):
        self.device = device

    def tensor(self, values):
        return ember.tensor(values, device=self.device)

    def ones(self, *shape):
        return ember.ones(*shape, device=self.device)


def test_writes_into_views_without_aliasing_still_work(device):
    x = ember.zeros(2, 3, device=device)
    x.t().add_(1.0)
    x[:, 1:].mul_(3.0)
    x.unsqueeze(0).expand(1, 2, 3).add_(1.0)  # a size-1 broadcast dimension aliases nothing
    np.testing.assert_array_equal(x.cpu().numpy(), [[2.0, 4.0, 4.0], [2.0, 4.0, 4.0]])


def test_view_of_a_strided_tensor_as_torch(device):
    """``view`` raises where the strides do not allow one, else writes through (every backend)."""
    x, tx = ember.arange(12.0, device=device).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    assert x.t().is_contiguous() is tx.t().is_contiguous() is False
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(-1)
    for make in (lambda m: m.t().view(2, 2, 3), lambda m: m[:, ::2].view(6), lambda m: m.t().unsqueeze(0).view(4, 3)):
        try:
            expected = make(tx)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="view size is not compatible"):
                make(x)
            continue
        v = make(x)
        np.testing.assert_array_equal(v.cpu().numpy(), expected.numpy())
        v.fill_(-1.0)
        expected.fill_(-1.0)
        np.testing.assert_array_equal(x.cpu().numpy(), tx.numpy())


def test_contiguous_of_a_strided_vector(device):
    s = ember.arange(6.0, device=device)[::2]
    assert not s.is_contiguous()
    c = s.contiguous()
    assert c.is_contiguous() and c.stride() == (1,)
    np.testing.assert_array_equal(c.cpu().numpy(), [0.0, 2.0, 4.0])


def test_reshape_that_copies_is_not_a_view(device):
    """A reshape the strides cannot express copies, and the copy is no view: writing to it leaves the
    input and its gradient alone (ember used to record it as a view and rewrote the input's history)."""
    results = []
    for m, kwargs in ((torch, {}), (ember, {"device": device})):
        x = m.ones(2, 3, requires_grad=True, **kwargs)
        a = x * 1
        b = a.t().reshape(-1)
        b.mul_(2)
        a.sum().backward()
        results.append((x.grad.cpu().numpy() if m is ember else x.grad.numpy(), b._base is None))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    assert results[1][1] and results[0][1]


#: name -> fn(T, x) on a contiguous (2, 3, 4) tensor: a copy of a layout with gaps or a broadcast
PRESERVE_FORMAT_COPIES = {
    "clone_broadcast_row": lambda T, x: x[:1, :1].expand(2, 3, 4).clone(),
    "clone_broadcast_column": lambda T, x: x[:, :, :1].expand(2, 3, 4).clone(),
    "clone_broadcast_of_permuted": lambda T, x: x.permute(2, 0, 1)[:, :, :1].expand(4, 2, 5).clone(),
    "clone_strided_transpose": lambda T, x: x.transpose(0, 2)[:, ::2].clone(),
    "clone_strided": lambda T, x: x[::2, ::2, ::2].clone(),
    "clone_transpose": lambda T, x: x.transpose(0, 2).clone(),
    "double_broadcast": lambda T, x: x[:1].expand(3, 3, 4).double(),
    "int_strided_transpose": lambda T, x: x.mT[:, ::2].int(),
    "repeat_size_one_dims": lambda T, x: x[:1].repeat(3, 1, 1),
}


@pytest.mark.parametrize("name", list(PRESERVE_FORMAT_COPIES))
def test_copies_keep_pytorchs_preserve_format_layout(device, name):
    """A copy keeps a dense layout's strides and lays out any other in the order of its strides, as
    PyTorch's ``preserve_format`` (a broadcast row's copy is row-major, so ``view`` works on it)."""
    fn = PRESERVE_FORMAT_COPIES[name]
    expected = fn(torch, torch.arange(24.0).reshape(2, 3, 4))
    actual = fn(ember, ember.arange(24.0, device=device).reshape(2, 3, 4))
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    if device == "cpu":  # other backends lay out copies their own way
        assert actual.stride() == expected.stride()
        assert actual.is_contiguous() is expected.is_contiguous()
    if expected.is_contiguous():
        np.testing.assert_array_equal(actual.view(-1).cpu().numpy(), expected.view(-1).numpy())


def test_layout_of_a_computed_0d_tensor(device, dtype):
    """A 0-d result (which NumPy hands back as a scalar) has torch's layout: no strides, offset 0."""
    for make in (lambda lib: lib.tensor(3.0, dtype=getattr(lib, dtype.name)) * 2, lambda lib: lib.ones(3).sum()):
        x, tx = make(ember), make(torch)
        if device != "cpu":
            x = x.to(device)
        assert (x.stride(), x.storage_offset()) == (tx.stride(), tx.storage_offset())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_through_a_view_of_overlapping_windows(dtype):
    # unfold of unfold: the inner view's elements overlap in memory; each window element's
    # gradient must be counted once (it was counted once per overlapping element)
    data = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
        y = x.unfold(2, 3, 1).unfold(3, 2, 1)
        weights = lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)), dtype=getattr(lib, dtype))
        (y * weights).sum().backward()
        grads.append(np.asarray(x.grad.numpy(), dtype=np.float64))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5)
