"""View or copy, as PyTorch decides, for the shape ops off the main road: where torch returns a view
ember returns one (same storage, offset and strides; writes reach both ways), where torch copies
ember copies (a write does not leak) and lays the copy out as torch does; the errors of shape ops on
0-d tensors and bad size arguments; the ``*_copy`` forms; in-place writes into views of bases laid out
in another order or reshaped in place (t_, unsqueeze_ ...), and the gradients through them; version
counters of in-place shape ops and resize_; retained gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import torch

import ember

# input layouts, each made the same way in both libraries: ``root`` owns the memory, ``x`` is probed
LAYOUTS = {
    "contiguous": lambda t: (lambda root: (root, root))(t.arange(24.0).reshape(2, 3, 4).clone()),
    "permuted": lambda t: (lambda root: (root, root.permute(2, 1, 0)))(t.arange(24.0).reshape(4, 3, 2).clone()),
    "every_other_row": lambda t: (lambda root: (root, root[::2]))(t.arange(48.0).reshape(4, 3, 4).clone()),
    "every_other_column": lambda t: (lambda root: (root, root[:, :, 1::2]))(t.arange(48.0).reshape(2, 3, 8).clone()),
    "expanded": lambda t: (lambda root: (root, root.expand(2, 3, 4)))(t.arange(4.0).clone()),
}


def _make(t, layout, device=None):
    """``(root, x)`` in library ``t``; ember's on ``device``."""
    root, x = LAYOUTS[layout](t)
    if t is ember and device is not None and device != "cpu":
        moved = root.to(device)
        return moved, moved.as_strided(x.shape, x.stride(), x.storage_offset())
    return root, x


def _signature(r, root):
    """What a program can see of ``r``'s relation to ``root``: its layout, whether it is a view, and
    whether a write into ``root`` reaches it."""
    before = r.detach().cpu().clone()
    layout = (tuple(r.shape), tuple(r.stride()), r.storage_offset(), r._is_view(), r.is_contiguous())
    root.add_(1000)
    return layout, not np.array_equal(before.numpy(), r.detach().cpu().numpy())


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("op", ["ravel", "flatten", "reshape"])
def test_flattening_views_and_copies_as_torch(device, layout, op):
    # ravel is contiguous().view(-1): a copy of every non-contiguous input, even one a strided 1-D
    # view could show (every other column), which reshape and flatten return as a view
    call = {"ravel": lambda x: x.ravel(), "flatten": lambda x: x.flatten(), "reshape": lambda x: x.reshape(-1)}[op]
    root, x = _make(ember, layout, device)
    troot, tx = _make(torch, layout)
    assert _signature(call(x), root) == _signature(call(tx), troot)
    assert _signature(ember.ravel(_make(ember, layout, device)[1]), root)[0] == _signature(torch.ravel(tx), troot)[0]


def test_a_ravelled_copy_does_not_write_back(device):
    root = ember.arange(16.0, device=device).reshape(2, 8)
    r = root[:, 1::2].ravel()
    r.fill_(-1.0)
    assert (root >= 0).all().item()


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_storage_of_an_op_result_laid_out_as_a_permuted_input(device, dtype_name):
    # an element-wise result keeps a permuted input's layout (its memory is then dense in another order
    # than row-major): as_strided and untyped_storage read it as PyTorch does
    base = np.arange(24.0).reshape(2, 3, 4)
    x = ember.tensor(base, dtype=getattr(ember, dtype_name), device=device).permute(2, 0, 1) * 2
    tx = torch.tensor(base, dtype=getattr(torch, dtype_name)).permute(2, 0, 1) * 2
    assert x.stride() == tx.stride()
    np.testing.assert_array_equal(x.as_strided((3, 2), (1, 3)).cpu().numpy(), tx.as_strided((3, 2), (1, 3)).numpy())
    assert x.untyped_storage().nbytes() == tx.untyped_storage().nbytes()
    x.as_strided((2,), (1,)).fill_(-1.0)
    tx.as_strided((2,), (1,)).fill_(-1.0)
    np.testing.assert_array_equal(x.cpu().numpy(), tx.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.split(1),
        lambda x: x.split([1]),
        lambda x: x.chunk(1),
        lambda x: x.tensor_split(1),
        lambda x: x.tensor_split([1]),
        lambda x: x.unflatten(0, (1,)),
        lambda x: x.unbind(),
        lambda x: x.select(0, 0),
        lambda x: x.unsafe_split(1),
        lambda x: x.unsafe_chunk(1),
    ],
)
def test_splitting_a_0d_tensor_raises_as_torch(device, call):
    with pytest.raises(Exception) as expected:
        call(torch.tensor(5.0))
    with pytest.raises(type(expected.value), match="dim"):
        call(ember.tensor(5.0, device=device))


@pytest.mark.parametrize(
    "name, args",
    [
        ("view_copy", ((-1,),)),
        ("view_copy", ((2, 6),)),
        ("alias_copy", ()),
        ("unfold_copy", (1, 2, 1)),
        ("permute_copy", ((1, 0),)),
        ("transpose_copy", (0, 1)),
        ("narrow_copy", (1, 1, 2)),
    ],
)
def test_copy_forms_take_any_layout_and_return_fresh_contiguous_tensors(device, name, args):
    base = np.arange(12.0).reshape(4, 3)
    x, tx = ember.tensor(base, device=device).t(), torch.tensor(base).t()
    r, tr = getattr(ember, name)(x, *args), getattr(torch, name)(tx, *args)
    np.testing.assert_array_equal(r.cpu().numpy(), tr.numpy())
    assert (r.stride(), r._version, r._is_view()) == (tr.stride(), tr._version, tr._is_view())
    r.fill_(-1.0)
    np.testing.assert_array_equal(x.cpu().numpy(), base.T)


def test_complex_view_copies():
    z = np.array([1 + 2j, 3 - 4j], dtype=np.complex64)
    r, tr = ember.view_as_real_copy(ember.tensor(z)), torch.view_as_real_copy(torch.tensor(z))
    np.testing.assert_array_equal(r.numpy(), tr.numpy())
    assert not r._is_view()
    c = ember.view_as_complex_copy(r)
    np.testing.assert_array_equal(c.numpy(), z)
    assert c._version == 0 and not c._is_view()


def test_view_copy_to_a_dtype(device):
    x = ember.arange(4.0, device=device)
    assert ember.view_copy(x, ember.int32).dtype == ember.int32
    np.testing.assert_array_equal(
        ember.view_copy(x, ember.int32).cpu().numpy(), torch.view_copy(torch.arange(4.0), torch.int32).numpy()
    )


def test_alias_copy_carries_the_gradient():
    x = ember.ones(3, requires_grad=True)
    ember.alias_copy(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


@pytest.mark.parametrize("name", ["mT", "mH", "H", "adjoint"])
@pytest.mark.parametrize("value", [5.0, 1 + 2j])
def test_matrix_transposes_of_a_0d_tensor_as_torch(name, value):
    # deprecated in PyTorch, not refused: the tensor itself (mT, or a real tensor), or its conjugate
    def call(x):
        return x.adjoint() if name == "adjoint" else getattr(x, name)

    x, tx = ember.tensor(value), torch.tensor(value)
    with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
        r = call(x)
    with warnings.catch_warnings():  # PyTorch warns once a process
        warnings.simplefilter("ignore")
        tr = call(tx)
    assert r.item() == tr.item()
    assert (r is x) == (tr is tx)


@pytest.mark.parametrize(
    "shape, call",
    [
        ((0, 3), lambda x: x.split(0)),
        ((0, 3), lambda x: x.split(2)),
        ((4, 3), lambda x: x.split(x.new_tensor(3).long())),
        ((4, 3), lambda x: x.view(x.new_tensor(12).long())),
        ((4, 3), lambda x: x.reshape(x.new_tensor(6).long(), -1)),
        ((4, 3), lambda x: x.tensor_split(x.new_tensor(3).long().cpu(), 1)),
        ((4, 3), lambda x: x.tensor_split(x.new_tensor([1, 3]).long().cpu())),
    ],
)
def test_sizes_given_as_tensors_and_empty_splits_as_torch(device, shape, call):
    base = np.arange(float(np.prod(shape))).reshape(shape)
    r, tr = call(ember.tensor(base, device=device)), call(torch.tensor(base))
    pieces, tpieces = (r, tr) if isinstance(r, tuple) else ((r,), (tr,))
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in tpieces]


@pytest.mark.parametrize(
    "call",
    [
        lambda t, x: x.split(-1),
        lambda t, x: x.tensor_split(t.tensor([[1]])),
        lambda t, x: x.tensor_split(t.tensor([1.0])),
        lambda t, x: x.tensor_split(t.tensor([1], dtype=t.int32)),
        lambda t, x: x.tensor_split(t.tensor(True)),
    ],
)
def test_bad_split_arguments_raise_as_torch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch, torch.ones(4, 3))
    with pytest.raises(RuntimeError, match=expected.value.args[0].split(",")[0]):
        call(ember, ember.ones(4, 3))


def test_broadcast_tensors_returns_a_tensor_of_the_broadcast_shape_itself(device):
    a, b = ember.ones(3, device=device), ember.ones(2, 3, device=device)
    ra, rb = ember.broadcast_tensors(a, b)
    ta, tb = torch.ones(3), torch.ones(2, 3)
    tra, trb = torch.broadcast_tensors(ta, tb)
    assert (rb is b, ra._is_view(), ra.stride()) == (trb is tb, tra._is_view(), tra.stride())
    assert ember.broadcast_tensors(a)[0] is a


# an in-place write into a view of a non-leaf, then a backward: the views that read storage positions
# (as_strided, unfold, diagonal of a tensor laid out in another order) on a base that is not row-major,
# and on a gradient that is not (the expanded gradient of a sum)
WRITES_INTO_VIEWS = {
    "as_strided_of_transposed": lambda z: z.as_strided((2,), (1,), 1),
    "as_strided_of_transposed_2d": lambda z: z.as_strided((2, 2), (2, 1), 2),
    "unfold_of_transposed": lambda z: z.unfold(0, 1, 2),
    "unfold_windows_of_transposed": lambda z: z.unfold(1, 2, 2),
    "diagonal_of_transposed": lambda z: z.diagonal(),
    "diagonal_offset_of_transposed": lambda z: z.diagonal(-1),
    "slice_of_transposed": lambda z: z[1:],
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("view", sorted(WRITES_INTO_VIEWS))
def test_gradient_through_a_write_into_a_view_of_a_permuted_base(device, view, weighted, dtype_name):
    def run(t, dev=None):
        dtype = getattr(t, dtype_name)
        x = t.arange(1.0, 7.0, dtype=dtype)
        x = (x if dev is None else x.to(dev)).requires_grad_()
        z = x.view(2, 3).t() * 1  # a base of its own, laid out column-major
        WRITES_INTO_VIEWS[view](z).mul_(3)
        weights = t.arange(6.0, dtype=dtype).view(3, 2)
        loss = (z * (weights.to(z.device) if weighted else 1)).sum()
        loss.backward()
        return z.detach(), x.grad

    z, grad = run(ember, device)
    tz, tgrad = run(torch)
    np.testing.assert_array_equal(z.cpu().numpy(), tz.numpy())
    np.testing.assert_allclose(grad.cpu().numpy(), tgrad.numpy())


@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_through_a_write_into_a_complex_view_of_a_real_base(weighted):
    def run(t):
        x = t.arange(4.0, requires_grad=True)
        z = x * 1
        t.view_as_complex(z.view(2, 2)).mul_(2j)
        (z * (t.arange(4.0) if weighted else 1)).sum().backward()
        return x.grad

    np.testing.assert_allclose(run(ember).numpy(), run(torch).numpy())


# in-place shape ops (t_, unsqueeze_, squeeze_, transpose_) on a base or a view, then an in-place write
# into a view and a backward: the writes land where PyTorch's do, and the gradients agree
RESHAPED_IN_PLACE = {
    "base_t_then_write_a_column": lambda y: (y.t_(), y[:, 0].mul_(2)),
    "view_made_before_base_t_": lambda y: (lambda v: (y.t_(), v.mul_(2)))(y[0]),
    "view_made_before_base_unsqueeze_": lambda y: (lambda v: (y.unsqueeze_(0), v.mul_(2)))(y[0]),
    "view_made_before_base_transpose_": lambda y: (lambda v: (y.transpose_(0, 1), v.mul_(2)))(y[1, :2]),
    "view_unsqueeze_then_write": lambda y: (lambda v: (v.unsqueeze_(0), v.mul_(2)))(y[0]),
    "column_unsqueeze_then_write": lambda y: (lambda v: (v.unsqueeze_(1), v.mul_(2)))(y[:, 1]),
    "view_t_then_write": lambda y: (lambda v: (v.t_(), v.mul_(2)))(y.t()),
    "view_squeeze_then_write": lambda y: (lambda v: (v.squeeze_(0), v.mul_(2)))(y[:1]),
    "view_transpose_then_write_a_row": lambda y: (lambda v: (v.transpose_(0, 1), v[1].mul_(2)))(y[:, 1:]),
}


@pytest.mark.parametrize("case", sorted(RESHAPED_IN_PLACE))
def test_writes_after_in_place_shape_ops_as_torch(device, case):
    def run(t, dev=None):
        x = t.arange(1.0, 7.0, dtype=t.float64)
        x = (x if dev is None else x.to(dev)).requires_grad_()
        y = x.view(2, 3) * 1
        RESHAPED_IN_PLACE[case](y)
        (y * t.arange(6.0, dtype=t.float64).view(y.shape).to(y.device)).sum().backward()
        return y.detach(), x.grad, y._version

    y, grad, version = run(ember, device)
    ty, tgrad, tversion = run(torch)
    np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())
    np.testing.assert_allclose(grad.cpu().numpy(), tgrad.numpy())
    assert version == tversion


@pytest.mark.parametrize("op", [lambda v: v.unsqueeze_(0), lambda v: v.t_(), lambda v: v.squeeze_()])
def test_in_place_shape_ops_on_refused_views_raise_as_torch(op):
    for t in (torch, ember):
        x = t.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            op(x[0:1])
        with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and is being modified inplace"):
            op((x * 1).unbind()[0])


def test_in_place_shape_ops_count_as_writes():
    # the version counter moves (as PyTorch's), so a tensor saved for backward is refused
    for t in (torch, ember):
        x = t.arange(6.0).view(2, 3)
        v = x[:1]
        v.unsqueeze_(0)
        x.t_()
        assert (x._version, v._version) == (2, 2)
        a = t.ones(2, 3, requires_grad=True)
        y = a * 1
        z = y.sin()
        y.t_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        with t.no_grad():  # a leaf may be reshaped in place outside recording
            a.t_()
        assert a.shape == (3, 2) and a.is_leaf


def test_gradient_through_a_flattened_view_made_before_its_base_was_transposed_in_place(device):
    # the view's own replay (a reshape of the transposed base) would copy other elements: it is read
    # through its storage positions instead
    def run(t, dev=None):
        x = t.arange(6.0, dtype=t.float64)
        x = (x if dev is None else x.to(dev)).requires_grad_()
        y = x.view(2, 3) * 1
        w = y.view(6)
        y.t_()
        y[0].mul_(2)
        (w * t.arange(6.0, dtype=t.float64).to(w.device)).sum().backward()
        return w.detach(), x.grad

    (w, grad), (tw, tgrad) = run(ember, device), run(torch)
    np.testing.assert_array_equal(w.cpu().numpy(), tw.numpy())
    np.testing.assert_array_equal(grad.cpu().numpy(), tgrad.numpy())


@pytest.mark.parametrize("shifts, dims", [(1, 0), (0, 1), (1, 1), (3, 0), ((1, 1), (2, 3)), (1, None)])
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_roll_lays_out_its_result_as_torch(device, shifts, dims, layout):
    # a roll that moves nothing (a shift that is a multiple of the size) returns a row-major copy, which
    # view(-1) takes
    def make(t):
        x = t.arange(1.0, 25.0).reshape(1, 2, 3, 4)
        return x.contiguous(memory_format=t.channels_last) if layout == "channels_last" else x.transpose(2, 3)

    x, tx = make(ember).to(device), make(torch)
    r, tr = x.roll(shifts, dims), tx.roll(shifts, dims)
    np.testing.assert_array_equal(r.cpu().numpy(), tr.numpy())
    assert r.stride() == tr.stride()
    assert r.is_contiguous() == tr.is_contiguous()


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.arange(1.0, 25.0).reshape(1, 2, 3, 4).contiguous(memory_format=t.channels_last),
        lambda t: t.arange(6.0).reshape(2, 3).t(),
        lambda t: t.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1),
        lambda t: t.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)[1:],
        lambda t: t.arange(12.0).reshape(3, 4)[:, ::2],
        lambda t: t.arange(3.0).expand(2, 3),
    ],
)
def test_moving_between_devices_keeps_the_layout_as_torch_does(device, make):
    # PyTorch's to(device) copies with preserve_format: a dense layout keeps its strides; the strides
    # torch gives a copy of the same tensor to another dtype (the same _to_copy) are the reference
    x, tx = make(ember), make(torch)
    moved = x.to(device)
    back = moved.to("cpu")
    expected = tx.to(torch.float64).stride()
    if moved is not x:
        assert moved.stride() == expected
    assert back.stride() == (tx.stride() if back is x else expected)
    np.testing.assert_array_equal(back.numpy(), tx.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.unfold(-1, 2, 1),
        lambda x: x.diagonal(5),
        lambda x: x.transpose(0, 2),
        lambda x: x[:, :, ::2],
        lambda x: x.expand(3, 2, 0, 4),
    ],
)
def test_views_without_elements_are_contiguous(device, call):
    x, tx = ember.zeros(2, 0, 4, device=device), torch.zeros(2, 0, 4)
    assert call(x).is_contiguous() == call(tx).is_contiguous()


@pytest.mark.parametrize(
    "call",
    [
        lambda t, x: x.contiguous(memory_format=t.channels_last),
        lambda t, x: x.to(memory_format=t.channels_last),
        lambda t, x: x.clone(memory_format=t.channels_last),
        lambda t, x: x.contiguous(memory_format=t.channels_last).clone(),
        lambda t, x: x.contiguous(memory_format=t.channels_last).to(t.float64),
    ],
)
def test_channels_last_copies_of_an_empty_batch_as_torch(device, call):
    # an empty batch (a detector's frame without boxes) keeps the channels-last layout it asked for
    x, tx = ember.ones(0, 3, 4, 5, device=device), torch.ones(0, 3, 4, 5)
    r, tr = call(ember, x), call(torch, tx)
    assert r.stride() == tr.stride()
    assert r.is_contiguous(memory_format=ember.channels_last) == tr.is_contiguous(memory_format=torch.channels_last)
    assert r.is_contiguous() == tr.is_contiguous()


@pytest.mark.parametrize("make", [lambda x: x * 1, lambda x: (x * 1).view(2, 3), lambda x: (x * 1).view(2, 3).t()])
def test_a_retained_gradient_is_a_dense_tensor_of_its_own(device, make):
    # the gradient of a sum is a broadcast: kept as is, a write into one element reached them all
    def run(t, dev=None):
        x = t.arange(1.0, 7.0)
        x = (x if dev is None else x.to(dev)).requires_grad_()
        y = make(x)
        y.retain_grad()
        y.sum().backward()
        grad = y.grad
        stride = grad.stride()
        grad.view(-1)[0] += 1
        return grad, stride

    (grad, stride), (tgrad, tstride) = run(ember, device), run(torch)
    np.testing.assert_array_equal(grad.cpu().numpy(), tgrad.numpy())
    assert stride == tstride


def test_resize_to_the_same_shape_counts_no_write():
    # PyTorch moves the version counter only where the shape changes (not for new strides alone)
    for t in (torch, ember):
        x = t.arange(6.0)
        versions = []
        for shape, memory_format in [
            ((6,), None),
            ((2, 3), None),
            ((2, 3), None),
            ((1, 2, 3, 1), t.channels_last),
            ((2,), None),
        ]:
            x.resize_(*shape, **({} if memory_format is None else {"memory_format": memory_format}))
            versions.append(x._version)
        assert versions == [0, 1, 1, 2, 3], t.__name__


@pytest.mark.parametrize("start", [1.0, [1], True])
def test_narrow_refuses_a_start_tensor_that_is_no_integral_scalar(start):
    for t in (torch, ember):
        with pytest.raises(RuntimeError, match="start must be an 0-dim integral Tensor"):
            t.ones(4, 3).narrow(0, t.tensor(start), 1)
    assert ember.ones(4, 3).narrow(0, ember.tensor(-1, dtype=ember.int32), 1).storage_offset() == 9


@pytest.mark.parametrize("shape", [(-1, 0), (0, -1), (-1, 0, 2)])
@pytest.mark.parametrize("op", ["reshape", "view"])
def test_an_ambiguous_inferred_size_is_refused_with_torchs_message(op, shape):
    # 0 elements into a shape with a 0 and a -1: any size fits the -1
    with pytest.raises(RuntimeError) as expected:
        getattr(torch.ones(0, 3), op)(*shape)
    with pytest.raises(RuntimeError, match="can be any value and is ambiguous") as found:
        getattr(ember.ones(0, 3), op)(*shape)
    assert str(found.value) == str(expected.value)
