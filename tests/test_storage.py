"""Storages and the ops that rebind a tensor's memory against PyTorch: ``untyped_storage()``,
``ember.UntypedStorage``, ``storage()``/``TypedStorage`` and the legacy ``FloatStorage``..., ``resize_``,
``resize_as_``, ``set_``, ``is_set_to``, ``as_strided_``, ``as_strided_scatter``, ``empty_strided`` and
``empty_permuted``, on every test device."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import torch

import ember
from ember.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")


def _same(y, ty):
    assert tuple(y.shape) == tuple(ty.shape)
    assert y.stride() == ty.stride() and y.storage_offset() == ty.storage_offset()
    np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())


def _both(fn, device):
    return fn(ember, device=device), fn(torch)


def test_untyped_storage_is_shared_by_views_and_reads_bytes(device):
    x, t = _both(lambda L, **kw: L.arange(6.0, **kw), device)
    s, ts = x[2:].untyped_storage(), t[2:].untyped_storage()
    assert s.nbytes() == ts.nbytes() == len(s) == s.size() == 24
    assert s.tolist() == ts.tolist() and s[6] == ts[6] == 128
    assert s == x.untyped_storage() and not s == ember.arange(6.0, device=device).untyped_storage()
    s[7], ts[7] = 64, 64  # the high byte of element 1: 1.0 -> 2.0
    _same(x, t)
    assert s.fill_(0) is s
    ts.fill_(0)
    _same(x, t)
    c = ember.arange(6.0, device=device).untyped_storage().clone()
    assert x.untyped_storage().copy_(c) is not None
    t.untyped_storage().copy_(torch.arange(6.0).untyped_storage().clone())
    _same(x, t)
    assert s.device == x.device and not s.is_shared() and ember.is_storage(s)


def test_untyped_storage_addresses_on_cpu():
    x = ember.arange(6.0)
    assert x[2:].untyped_storage().data_ptr() == x.data_ptr()
    assert x.storage().data_ptr() == x.data_ptr()
    assert ember.UntypedStorage(0).data_ptr() == 0


def test_new_untyped_storage_viewed_by_a_tensor(device):
    s, ts = (
        ember.UntypedStorage([0, 0, 128, 63, 0, 0, 0, 64], device=device),
        torch.UntypedStorage([0, 0, 128, 63, 0, 0, 0, 64]),
    )
    y, ty = ember.tensor([], device=device).set_(s), torch.tensor([]).set_(ts)
    _same(y, ty)
    y.mul_(2), ty.mul_(2)
    assert s.tolist() == ts.tolist()
    assert ember.UntypedStorage(5, device=device).nbytes() == torch.UntypedStorage(5).nbytes() == 5
    with pytest.raises(IndexError):
        s[8]


@pytest.mark.parametrize("dt", ["float32", "float64", "int64", "bool"])
def test_typed_storage_reads_the_whole_storage_as_the_dtype(device, dt):
    x = ember.arange(4, device=device).to(getattr(ember, dt))
    t = torch.arange(4).to(getattr(torch, dt))
    s, ts = x[1:].storage(), t[1:].storage()
    assert type(s).__name__ == type(ts).__name__ == "TypedStorage"
    assert (s.size(), len(s), s.nbytes(), s.element_size()) == (ts.size(), len(ts), ts.nbytes(), ts.element_size())
    assert s.tolist() == ts.tolist() and s[2] == ts[2]
    s[0], ts[0] = 1, 1
    _same(x, t)
    assert s.dtype is x.dtype and s.untyped() == x.untyped_storage()
    legacy = {"float32": "FloatStorage", "float64": "DoubleStorage", "int64": "LongStorage", "bool": "BoolStorage"}[dt]
    assert isinstance(s, getattr(ember, legacy)) and isinstance(ts, getattr(torch, legacy))
    assert not isinstance(s, ember.HalfStorage) and not isinstance(ts, torch.HalfStorage)


def test_typed_storage_constructors_and_warning():
    for L in (ember, torch):
        assert L.FloatStorage([1, 2]).tolist() == [1.0, 2.0] and L.FloatStorage(3).size() == 3
        s = L.TypedStorage([1, 2], dtype=L.int64)
        assert s.dtype is L.int64 and s.tolist() == [1, 2]
        assert L.TypedStorage(3, dtype=L.float64).nbytes() == 24
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import ember.ops.typed_storage as typed

        typed._warned = False
        ember.zeros(2).storage()
    assert any("TypedStorage is deprecated" in str(w.message) for w in caught)


RESIZES = {
    "shrink": lambda L, x: x.resize_(2, 2),
    "grow": lambda L, x: x.resize_(3, 3)[:2],
    "same_shape_keeps_strides": lambda L, x: x.reshape(2, 3).t().resize_(3, 2),
    "non_contiguous_to_new_shape": lambda L, x: x.reshape(2, 3).t().resize_(2, 3),
    "view_within_storage": lambda L, x: x[1:3].resize_(4),
    "offset_grows": lambda L, x: x[2:].resize_(5)[:4],
    "tuple": lambda L, x: x.resize_((2, 3)),
    "to_zero_and_back": lambda L, x: x.resize_(0).resize_(3),
    "channels_last": lambda L, x: x.resize_(1, 2, 3, 1, memory_format=L.channels_last),
    "resize_as_": lambda L, x: x.resize_as_(L.ones(3, 2).t()),
    "resize_as_preserve": lambda L, x: x.resize_as_(
        L.ones(1, 2, 3, 1).contiguous(memory_format=L.channels_last), memory_format=L.preserve_format
    ),
}


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("case", RESIZES)
def test_resize_matches_torch(device, dt, case):
    x, t = ember.arange(6, dtype=getattr(ember, dt), device=device), torch.arange(6, dtype=getattr(torch, dt))
    y, ty = RESIZES[case](ember, x), RESIZES[case](torch, t)
    if case in ("grow", "offset_grows", "to_zero_and_back"):  # new memory: only the old elements are known
        assert y.shape == ty.shape and y.stride() == ty.stride()
        n = 3 if case != "offset_grows" else 4
        np.testing.assert_array_equal(y.cpu().numpy().reshape(-1)[:n], ty.numpy().reshape(-1)[:n])
    else:
        _same(y, ty)
    assert y.untyped_storage().nbytes() == ty.untyped_storage().nbytes()


def test_resize_keeps_the_storage_it_fits_in(device):
    x, t = ember.arange(6.0, device=device), torch.arange(6.0)
    v, tv = x[1:4], t[1:4]
    version = v._version
    assert v.resize_(2) is v and tv.resize_(2) is tv
    assert v._version == version + 1
    v[0], tv[0] = 10.0, 10.0
    _same(x, t)


def test_resize_errors():
    for L in (ember, torch):
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            L.zeros(2, requires_grad=True).resize_(3)
        with pytest.raises(RuntimeError):
            L.zeros(2).resize_(-1)
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            L.zeros(2).resize_(2, 3, memory_format=L.channels_last)
        with pytest.raises(RuntimeError, match="Unsupported memory format"):
            L.zeros(2).resize_(2, memory_format=L.preserve_format)
        with pytest.raises(TypeError):
            L.zeros(2).resize_(2.0)


SETS = {
    "empty": lambda L, x, y: y.set_(),
    "tensor": lambda L, x, y: y.set_(x[1:].view(5, 1)),
    "tensor_geometry": lambda L, x, y: y.set_(x, 2, (2, 2)),
    "storage": lambda L, x, y: y.set_(x.untyped_storage()),
    "storage_geometry": lambda L, x, y: y.set_(x.untyped_storage(), 1, (2, 2), (1, 2)),
    "typed_storage": lambda L, x, y: y.set_(x.storage(), 3, (3,)),
}


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("case", SETS)
def test_set_matches_torch_and_aliases(device, dt, case):
    x, t = ember.arange(6, dtype=getattr(ember, dt), device=device), torch.arange(6, dtype=getattr(torch, dt))
    y, ty = ember.zeros(2, dtype=x.dtype, device=device), torch.zeros(2, dtype=t.dtype)
    version = y._version
    assert SETS[case](ember, x, y) is y and SETS[case](torch, t, ty) is ty
    _same(y, ty)
    assert y._version == version + 1 and y._base is None
    assert y.untyped_storage().nbytes() == ty.untyped_storage().nbytes()
    y.add_(1), ty.add_(1)
    _same(x, t)
    assert y.is_set_to(x) == ty.is_set_to(t)


def test_set_reads_an_untyped_storage_as_its_own_dtype(device):
    x, t = ember.arange(6.0, device=device), torch.arange(6.0)
    y = ember.zeros(1, dtype=ember.int32, device=device).set_(x.untyped_storage(), 0, (6,))
    ty = torch.zeros(1, dtype=torch.int32).set_(t.untyped_storage(), 0, (6,))
    _same(y, ty)


def test_set_errors():
    for L in (ember, torch):
        x = L.arange(6.0)
        with pytest.raises(RuntimeError, match="Could not set tensor of type long int to a tensor of type float"):
            L.zeros(2).set_(L.zeros(2, dtype=L.int64))
        with pytest.raises(RuntimeError, match="Expected a Storage of type float or an UntypedStorage"):
            L.zeros(2).set_(L.zeros(2, dtype=L.int64).storage())
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            L.zeros(2, requires_grad=True).set_(x)
        with L.no_grad():
            y = L.zeros(2, requires_grad=True)
            y.set_(x)
            assert y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):  # torch grows the storage
        ember.zeros(2).set_(ember.arange(6.0).untyped_storage(), 0, (4,), (2,))


def test_is_set_to(device):
    for L, kw in ((ember, {"device": device}), (torch, {})):
        x = L.arange(6.0, **kw)
        assert x.is_set_to(x.view(6)) and not x.is_set_to(x.view(2, 3)) and not x[1:].is_set_to(x)
        assert not x.is_set_to(L.arange(6.0, **kw))


def test_as_strided_in_place(device):
    x, t = ember.arange(6.0, device=device), torch.arange(6.0)
    y, ty = x.view(2, 3), t.view(2, 3)
    assert x.as_strided_((2, 2), (1, 2), 1) is x and t.as_strided_((2, 2), (1, 2), 1) is t
    _same(x, t)
    x[0, 0], t[0, 0] = 10.0, 10.0
    _same(y, ty)
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.as_strided_((3, 3), (2, 1))
    assert ember.as_strided_ is not None and torch.as_strided_ is not None


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_as_strided_scatter(device, dt):
    inputs = [np.arange(6.0).reshape(2, 3), np.array([10.0, 20.0])]
    args = ((2,), (4,), None)
    y = ember.as_strided_scatter(*(ember.tensor(a, dtype=getattr(ember, dt), device=device) for a in inputs), *args)
    ty = torch.as_strided_scatter(*(torch.tensor(a, dtype=getattr(torch, dt)) for a in inputs), *args)
    _same(y, ty)
    for L in (ember, torch):
        with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice of self"):
            L.as_strided_scatter(L.zeros(2, 3), L.ones(3), (2,), (4,))


def test_as_strided_scatter_gradients(device):
    # PyTorch 2.13's own backward fails this check (input gradient zero but at the scattered places)
    a = ember.randn(2, 3, dtype=ember.float64, device=device, requires_grad=True)
    b = ember.randn(2, dtype=ember.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a, b: ember.as_strided_scatter(a, b, (2,), (4,), 0), (a, b))


def test_empty_strided_and_empty_permuted_are_tensors_of_their_own(device):
    for L, kw in ((ember, {"device": device}), (torch, {})):
        x = L.empty_strided((2, 3), (1, 2), **kw)
        assert x._base is None and x.stride() == (1, 2) and x.untyped_storage().nbytes() == 24
        y = L.empty_permuted((2, 3, 4), (2, 0, 1), **kw)
        assert y._base is None and y.stride() == (3, 1, 6) and y.untyped_storage().nbytes() == 96
        z = L.empty_permuted((2, 3), (1, 0), requires_grad=True, **kw)
        assert z.is_leaf and z.requires_grad
        with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
            L.empty_permuted((2, 3), (0, 0))
        with pytest.raises(RuntimeError, match="does not match the length of the physical_layout"):
            L.empty_permuted((2, 3), (0,))


def test_strides_of_empty_tensors(device):
    for shape in ((2, 0, 3), (0,), (0, 4)):
        assert ember.empty(shape, device=device).stride() == torch.empty(shape).stride()


def test_legacy_constructors_view_a_storage(device):
    x, t = ember.arange(4.0, device=device), torch.arange(4.0)
    y, ty = ember.Tensor(x.storage()), torch.Tensor(t.storage())
    z, tz = ember.FloatTensor(x.untyped_storage()), torch.FloatTensor(t.untyped_storage())
    y[0], ty[0] = 9.0, 9.0
    _same(x, t)
    _same(z, tz)
    for L in (ember, torch):
        with pytest.raises(RuntimeError, match="Expected a Storage of type"):
            L.LongTensor(L.arange(4.0).storage())


def test_storages_report_shared_memory():
    for L in (ember, torch):
        x = L.zeros(3)
        assert not x.untyped_storage().is_shared() and not x.storage().is_pinned()
        x.share_memory_()
        assert x.untyped_storage().is_shared() and x[1:].storage().is_shared()


def test_storage_of_a_fortran_ordered_numpy_array():
    a = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    x, t = ember.from_numpy(a), torch.from_numpy(a.copy(order="F"))
    assert x.untyped_storage().tolist() == t.untyped_storage().tolist()
    assert x.storage().tolist() == t.storage().tolist()
    _same(x.as_strided((3,), (2,), 1), t.as_strided((3,), (2,), 1))


def test_set_records_a_node_whose_backward_raises():
    for L in (ember, torch):
        x = L.arange(3.0, requires_grad=True)
        y = L.zeros(3).set_(x)
        assert y.requires_grad and not y.is_leaf and type(y.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for set_ is not implemented"):
            y.sum().backward()
        a = L.ones(2, requires_grad=True)
        z = (a * 2).set_(L.ones(3))
        assert z.requires_grad and not z.is_leaf
        assert not L.zeros(3).set_(x, 0, (2,)).requires_grad  # a part of a storage carries no history
        with L.no_grad():
            assert not L.zeros(3).set_(x).requires_grad


def test_as_strided_in_place_keeps_the_history(device):
    grads = []
    for L, kw in ((ember, {"device": device}), (torch, {})):
        a = L.arange(4.0, requires_grad=True, **kw)
        y = a * 2
        assert y.as_strided_((2,), (2,), 1) is y
        (y * L.tensor([1.0, 10.0], **kw)).sum().backward()
        grads.append(a.grad.cpu().numpy())
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            a.as_strided_((2,), (1,))
    np.testing.assert_array_equal(*grads)
