"""``F.grouped_mm`` (``torch._grouped_mm``), the Mixture-of-Experts grouped product, against PyTorch:
values, gradients, the result past the last offset, and the errors."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# (mat_a shape, mat_b shape, offs): rows, columns, contraction in groups, and the batched case
CASES = [
    ((6, 8), (3, 8, 8), [2, 4, 6]),
    ((6, 8), (3, 8, 8), [0, 0, 6]),
    ((3, 4, 8), (8, 16), [4, 8, 16]),
    ((4, 16), (16, 8), [4, 8, 16]),
    ((4, 16), (16, 8), [0, 0, 16]),
    ((3, 4, 8), (3, 8, 8), None),
]
DTYPES = ["float32", "bfloat16", "float16"]


def _ember(t, device="cpu"):
    return ember.tensor(t.detach().float().numpy(), device=device).to(getattr(ember, str(t.dtype)[6:]))


def _numpy(t):
    return t.detach().float().cpu().numpy()  # a torch or an ember tensor


def _operands(sa, sb, offs, dtype):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(sa, generator=gen).to(getattr(torch, dtype)).requires_grad_()
    b = torch.randn(sb, generator=gen).to(getattr(torch, dtype)).requires_grad_()
    return a, b, None if offs is None else torch.tensor(offs, dtype=torch.int32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb, offs", CASES)
def test_values_and_gradients_match_torch(device, sa, sb, offs, dtype):
    if dtype != "float32" and not device.startswith("cpu"):
        pytest.skip("16-bit products are compared bit for bit on the cpu backend")
    a, b, o = _operands(sa, sb, offs, dtype)
    expected = torch.nn.functional.grouped_mm(a, b, offs=o)
    grad = torch.randn(expected.shape, generator=torch.Generator().manual_seed(1)).to(expected.dtype)
    expected.backward(grad)
    ea, eb = _ember(a, device).requires_grad_(), _ember(b, device).requires_grad_()
    got = ember.nn.functional.grouped_mm(ea, eb, offs=None if o is None else ember.tensor(offs, dtype=ember.int32))
    got.backward(_ember(grad, device))
    assert got.dtype is getattr(ember, dtype) and tuple(got.shape) == tuple(expected.shape)
    assert got.grad_fn.name() == expected.grad_fn.name() == "GroupedMmBackward0"
    # float32 sums in another order (a few ulps); the 16-bit results round one float32 sum each
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == "float32" else {"rtol": 0, "atol": 0}
    for ours, theirs in ((got, expected), (ea.grad, a.grad), (eb.grad, b.grad)):
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), **tol)


def test_rows_and_columns_past_the_last_offset_are_zero(device):
    a, b = ember.ones(6, 8, device=device), ember.ones(3, 8, 8, device=device)
    out = ember.nn.functional.grouped_mm(a, b, offs=ember.tensor([2, 4, 5], dtype=ember.int32))
    assert out[:5].eq(8).all() and out[5].eq(0).all()
    a, b = ember.ones(3, 4, 8, device=device), ember.ones(8, 16, device=device)
    out = ember._grouped_mm(a, b, offs=ember.tensor([4, 8, 12], dtype=ember.int32))
    assert out[:, :12].eq(8).all() and out[:, 12:].eq(0).all()


def test_second_order_gradients_flow_through_the_grouped_products():
    a = ember.randn(6, 8, dtype=ember.float32, requires_grad=True)
    b = ember.randn(3, 8, 8, requires_grad=True)
    offs = ember.tensor([2, 4, 6], dtype=ember.int32)
    (ga,) = ember.autograd.grad(ember.nn.functional.grouped_mm(a, b, offs=offs).square().sum(), a, create_graph=True)
    ga.sum().backward()
    assert b.grad is not None and b.grad.shape == b.shape


def _f(T):
    return T.nn.functional.grouped_mm


def _i32(T, values):
    return T.tensor(values, dtype=T.int32)


# (id, call taking `torch` or `ember`, a regex both messages match)
# fmt: off
REFUSED = [
    ("1d_a", lambda T: _f(T)(T.ones(8), T.ones(3, 8, 8), offs=_i32(T, [2, 4, 6])), "mat_a has to be 2 or 3d"),
    ("4d_b", lambda T: _f(T)(T.ones(1, 6, 8), T.ones(1, 3, 8, 8)), "mat_b has to be 2 or 3d"),
    ("float64", lambda T: _f(T)(T.ones(6, 8, dtype=T.float64), T.ones(3, 8, 8, dtype=T.float64), offs=_i32(T, [2, 4, 6])),
     "Float32, BFloat16 or Float16"),
    ("int", lambda T: _f(T)(T.ones(6, 8, dtype=T.int32), T.ones(3, 8, 8, dtype=T.int32), offs=_i32(T, [2, 4, 6])),
     "Float32, BFloat16 or Float16"),
    ("dtypes_differ", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8, dtype=T.bfloat16), offs=_i32(T, [2, 4, 6])), "same dtype"),
    ("no_offs_2d", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8)), "(?i)have to provide offsets"),
    ("offs_3d_3d", lambda T: _f(T)(T.ones(3, 4, 8), T.ones(3, 8, 8), offs=_i32(T, [2, 4, 6])), "(?i)have to provide offsets"),
    ("int64_offs", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8), offs=T.tensor([2, 4, 6])), "(?i)offsets have to be int32"),
    ("2d_offs", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8), offs=_i32(T, [[2, 4, 6]])), "offs has to be 1D"),
    ("offs_count", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8), offs=_i32(T, [2, 6])), "batch sizes have to match"),
    ("contraction", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 4, 8), offs=_i32(T, [2, 4, 6])), "contraction dimension"),
    ("batch", lambda T: _f(T)(T.ones(2, 4, 8), T.ones(3, 8, 8)), "batched dimension has to match"),
    ("bias", lambda T: _f(T)(T.ones(3, 4, 8), T.ones(3, 8, 8), bias=T.ones(8)), "(?i)bias not supported"),
    ("out_dtype", lambda T: _f(T)(T.ones(6, 8), T.ones(3, 8, 8), offs=_i32(T, [2, 4, 6]), out_dtype=T.float64),
     "(?i)output dtype must match"),
    ("row_stride", lambda T: _f(T)(T.ones(6, 6)[:, :5].contiguous(), T.ones(3, 5, 8), offs=_i32(T, [2, 4, 6])),
     "strides should be multiple of 16 bytes"),
    ("no_contiguous_dim", lambda T: _f(T)(T.ones(6, 16)[:, ::2], T.ones(3, 8, 8), offs=_i32(T, [2, 4, 6])),
     "(?i)invalid strides/sizes"),
]
# fmt: on


@pytest.mark.parametrize("call, pattern", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_as_torch_refuses(call, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        call(torch)
    with pytest.raises(RuntimeError, match=pattern):
        call(ember)


@pytest.mark.parametrize("offs", [[4, 2, 6], [2, 4, 9], [-1, 4, 6]])
def test_offsets_out_of_order_or_range_raise(offs):
    # PyTorch's kernels read out of bounds there (its result is undefined): ember refuses
    with pytest.raises(RuntimeError, match="non-decreasing"):
        ember.nn.functional.grouped_mm(
            ember.ones(6, 8), ember.ones(3, 8, 8), offs=ember.tensor(offs, dtype=ember.int32)
        )
