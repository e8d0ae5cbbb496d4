"""Views and dimensions against PyTorch: an in-place op on a view writes through to its base (and
the base's other views), views of non-contiguous tensors compute as copies would, and a dim
outside the tensor's dimensions raises IndexError naming the range."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

#: name -> fn(T, base): modifies a view of ``base`` in place
WRITES = {
    "getitem_row_add_": lambda T, b: b[1].add_(10),
    "slice_step_mul_": lambda T, b: b[:, ::2].mul_(-1),
    "transpose_row_fill_": lambda T, b: b.t()[0].fill_(7),
    "view_flat_zero_": lambda T, b: b.view(-1)[1::3].zero_(),
    "reshape_view_sub_": lambda T, b: b.reshape(3, 4)[2].sub_(1),
    "narrow_copy_": lambda T, b: b.narrow(1, 1, 2).copy_(T.ones(4, 2, dtype=b.dtype)),
    "select_clamp_": lambda T, b: b.select(1, 2).clamp_(max=0),
    "diagonal_fill_": lambda T, b: b.diagonal().fill_(-5),
    "unsqueeze_mul_": lambda T, b: b.unsqueeze(0).mul_(2),
    "expand_as_source": lambda T, b: b[0].copy_(b[1]),
    "permute_relu_": lambda T, b: b.permute(1, 0)[1:].relu_(),
    "setitem_on_view": lambda T, b: b.t()[1].__setitem__(slice(0, 2), 9),
    "masked_fill_on_view": lambda T, b: b[1:3].masked_fill_(b[1:3] > 0, 0),
    "index_fill_on_view": lambda T, b: b[:, 1:].index_fill_(1, T.tensor([1], device=b.device), -1),
    "unbind_add_": lambda T, b: b.unbind(0)[3].add_(100),
    "chunk_neg_": lambda T, b: b.chunk(2, 1)[1].neg_(),
    "split_abs_": lambda T, b: b.split([1, 3], 0)[1].abs_(),
    "movedim_add_": lambda T, b: b.movedim(0, 1)[0].add_(1),
    "squeeze_view_mul_": lambda T, b: b[None, :1].squeeze(0).mul_(3),
    "as_strided_like_view_fill_": lambda T, b: b.view(2, 2, 3)[:, 1].fill_(4),
    "real_view_add_of_nested": lambda T, b: b[1:][:, 1:][0].add_(5),
    "diagonal_of_transpose_fill_": lambda T, b: b.t().diagonal(-1).fill_(9),
    "diagonal_dims_swapped_mul_": lambda T, b: b.diagonal(1, 1, 0).mul_(-2),
    "diagonal_non_adjacent_dims_add_": lambda T, b: b.view(2, 2, 3).diagonal(0, 0, 2).add_(100),
    "diagonal_non_adjacent_offset_sub_": lambda T, b: b.view(2, 2, 3).diagonal(-1, 2, 0).sub_(7),
    # a 0-d integer tensor (or NumPy integer) index selects as an int: a view, not a copy
    "getitem_0d_tensor_add_": lambda T, b: b[T.tensor(2, device=b.device)].add_(10),
    "getitem_0d_int32_pair_fill_": lambda T, b: b[T.tensor(1, dtype=T.int32, device=b.device), T.tensor(-1)].fill_(8),
    "getitem_numpy_integer_mul_": lambda T, b: b[:, np.int64(1)].mul_(-3),
    "getitem_0d_array_neg_": lambda T, b: b[np.array(3)].neg_(),
}


def _base(T, device):
    data = np.arange(12.0).reshape(4, 3) - 5
    return torch.tensor(data) if T is torch else ember.tensor(data, dtype=ember.float64, device=device)


@pytest.mark.parametrize("name", list(WRITES))
def test_in_place_on_a_view_writes_through(name, device):
    expected, actual = _base(torch, device), _base(ember, device)
    keep_t, keep_e = expected.t(), actual.t()  # another view of the base sees the write too
    WRITES[name](torch, expected)
    WRITES[name](ember, actual)
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    np.testing.assert_array_equal(keep_e.cpu().numpy(), keep_t.numpy())


#: name -> fn(T, x) on a non-contiguous (transposed, strided) input
NONCONTIGUOUS = {
    "sum": lambda T, x: x.sum(0),
    "cumsum": lambda T, x: x.cumsum(1),
    "softmax": lambda T, x: T.softmax(x, 1),
    "matmul": lambda T, x: x @ x.t(),
    "view_after_contiguous": lambda T, x: x.contiguous().view(-1),
    "reshape": lambda T, x: x.reshape(-1),
    "flatten": lambda T, x: x.flatten(),
    "sort": lambda T, x: T.sort(x, 1).values,
    "gather": lambda T, x: x.gather(1, T.zeros(x.shape[0], 1, dtype=T.int64, device=x.device)),
    "cat": lambda T, x: T.cat([x, x], 1),
    "clone_strides": lambda T, x: x.clone() + 0,
    "where": lambda T, x: T.where(x > 0, x, -x),
    "unfold": lambda T, x: x.unfold(1, 2, 1),
}


@pytest.mark.parametrize("name", list(NONCONTIGUOUS))
def test_ops_on_non_contiguous_inputs_match_pytorch(name, device):
    expected = NONCONTIGUOUS[name](torch, _base(torch, device).t()[:, ::2])
    actual = NONCONTIGUOUS[name](ember, _base(ember, device).t()[:, ::2])
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-12)


#: name -> fn(T, x): an op that PyTorch computes into new memory, though the input's values could be viewed
COPIES = {
    "flip": lambda T, x: x.flip(0),
    "flip_both": lambda T, x: T.flip(x, (0, 1)),
    "fliplr": lambda T, x: T.fliplr(x),
    "repeat_ones": lambda T, x: x.repeat(1, 1),
    "repeat_size_one_dim": lambda T, x: x[:1].repeat(3, 1),
    "tile_ones": lambda T, x: T.tile(x, (1,)),
    "diag_of_matrix": lambda T, x: T.diag(x, 1),
}


@pytest.mark.parametrize("name", list(COPIES))
def test_ops_that_copy_do_not_write_back(name, device):
    expected_base, actual_base = _base(torch, device), _base(ember, device)
    expected, actual = COPIES[name](torch, expected_base), COPIES[name](ember, actual_base)
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    expected[0] = 50.0
    actual[0] = 50.0
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    np.testing.assert_array_equal(actual_base.cpu().numpy(), expected_base.numpy())
    if device == "cpu":
        assert actual.is_contiguous() and tuple(actual.stride()) == tuple(expected.stride())


def test_view_of_a_non_contiguous_tensor_is_refused_as_in_pytorch(device):
    with pytest.raises(RuntimeError):
        _base(torch, device).t().view(-1)
    with pytest.raises(RuntimeError, match="view"):
        _base(ember, device).t().view(-1)


#: name -> fn(T, x) with a dim outside x's 3 dimensions
BAD_DIMS = {
    "sum": lambda T, x: x.sum(3),
    "mean": lambda T, x: x.mean(-4),
    "amax": lambda T, x: x.amax((0, 5)),
    "softmax": lambda T, x: T.softmax(x, 3),
    "log_softmax": lambda T, x: T.log_softmax(x, -4),
    "cumsum": lambda T, x: x.cumsum(3),
    "cumprod": lambda T, x: x.cumprod(-4),
    "argmax": lambda T, x: x.argmax(3),
    "max_dim": lambda T, x: x.max(3),
    "std": lambda T, x: x.std(3),
    "var": lambda T, x: x.var(-5),
    "logsumexp": lambda T, x: x.logsumexp(3),
    "all": lambda T, x: (x > 0).all(3),
    "any": lambda T, x: (x > 0).any(-4),
    "norm": lambda T, x: x.norm(dim=3),
    "flip": lambda T, x: x.flip(3),
    "roll": lambda T, x: x.roll(1, 3),
    "squeeze": lambda T, x: x.squeeze(3),
    "unsqueeze": lambda T, x: x.unsqueeze(4),
    "transpose": lambda T, x: x.transpose(0, 3),
    "movedim": lambda T, x: x.movedim(3, 0),
    "permute": lambda T, x: x.permute(0, 1, 3),
    "flatten": lambda T, x: x.flatten(0, 3),
    "narrow": lambda T, x: x.narrow(3, 0, 1),
    "select": lambda T, x: x.select(3, 0),
    "index_select": lambda T, x: x.index_select(3, T.tensor([0], device=x.device)),
    "gather": lambda T, x: x.gather(3, T.zeros(2, 3, 4, dtype=T.int64, device=x.device)),
    "cat": lambda T, x: T.cat([x, x], 3),
    "stack": lambda T, x: T.stack([x, x], 4),
    "split": lambda T, x: x.split(1, 3),
    "chunk": lambda T, x: x.chunk(2, 3),
    "unbind": lambda T, x: x.unbind(3),
    "sort": lambda T, x: x.sort(3),
    "argsort": lambda T, x: x.argsort(-4),
    "topk": lambda T, x: x.topk(1, 3),
    "kthvalue": lambda T, x: x.kthvalue(1, 3),
    "median": lambda T, x: x.median(3),
    "cummax": lambda T, x: x.cummax(3),
    "diagonal": lambda T, x: x.diagonal(0, 0, 3),
    "diff": lambda T, x: x.diff(dim=3),
    "repeat_interleave": lambda T, x: x.repeat_interleave(2, 3),
    "unflatten": lambda T, x: x.unflatten(3, (2, 2)),
    "tensor_split": lambda T, x: x.tensor_split(2, 3),
    "size": lambda T, x: x.size(3),
    "nn_softmax_zero_d": lambda T, x: T.softmax(x.sum(), 1),
    "sum_zero_d": lambda T, x: x.sum().sum(1),
    "unsqueeze_zero_d": lambda T, x: x.sum().unsqueeze(2),
}


@pytest.mark.parametrize("name", list(BAD_DIMS))
def test_out_of_range_dims_raise_index_error(name, device):
    fn = BAD_DIMS[name]
    with pytest.raises(IndexError) as expected:
        fn(torch, torch.ones(2, 3, 4))
    with pytest.raises(IndexError, match="out of range|Dimension") as actual:
        fn(ember, ember.ones(2, 3, 4, device=device))
    assert str(actual.value).split(",")[0] == str(expected.value).split(",")[0] or "range" in str(actual.value)


#: name -> fn(T, x, keepdim): a reduction given an empty list of dims, which PyTorch reads as every dim
EMPTY_DIM_LISTS = {
    "sum": lambda T, x, k: x.sum((), keepdim=k),
    "sum_list": lambda T, x, k: T.sum(x, [], keepdim=k),
    "mean": lambda T, x, k: x.mean((), keepdim=k),
    "nansum": lambda T, x, k: T.nansum(x, (), keepdim=k),
    "nanmean": lambda T, x, k: T.nanmean(x, (), keepdim=k),
    "var": lambda T, x, k: x.var((), keepdim=k),
    "std": lambda T, x, k: x.std((), keepdim=k, correction=0),
    "var_mean": lambda T, x, k: T.var_mean(x, (), keepdim=k),
    "std_mean": lambda T, x, k: T.std_mean(x, (), keepdim=k),
    "count_nonzero": lambda T, x, k: T.count_nonzero(x, ()),
    "amax": lambda T, x, k: x.amax((), keepdim=k),
    "logsumexp_keepdim": lambda T, x, k: T.logsumexp(x, (), keepdim=True),
    "sum_integer": lambda T, x, k: (x * 10).to(T.int32).sum((), keepdim=k),
}


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", list(EMPTY_DIM_LISTS))
def test_an_empty_dim_list_reduces_every_dim(name, keepdim, device, dtype):
    fn = EMPTY_DIM_LISTS[name]
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    expected = fn(torch, torch.tensor(values, dtype=getattr(torch, dtype.name)), keepdim)
    actual = fn(ember, ember.tensor(values, dtype=dtype, device=device), keepdim)
    for a, e in zip(actual, expected) if isinstance(expected, tuple) else ((actual, expected),):
        assert a.shape == e.shape
        assert str(a.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        np.testing.assert_allclose(a.cpu().numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


def test_uint8_mask_index_as_pytorch(device):
    """A uint8 index is the deprecated mask (a warning); writing one value through it is torch's masked_fill_
    error, writing a tensor of values is not."""
    for lib, dev in ((torch, "cpu"), (ember, device)):
        x = lib.arange(6.0, device=dev).reshape(2, 3)
        mask = lib.tensor([1, 0], dtype=lib.uint8, device=dev)
        with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
            assert x[mask].tolist() == [[0.0, 1.0, 2.0]]
        for value in (2.0, lib.tensor([2.0], device=dev)):
            with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
                x[mask] = value
        x[mask] = lib.tensor([7.0, 8.0, 9.0], device=dev)
        assert x.tolist() == [[7.0, 8.0, 9.0], [3.0, 4.0, 5.0]]
        assert x[np.uint8(1)]._is_view()  # a NumPy integer, uint8 too, is an int index
