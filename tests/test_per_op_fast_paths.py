"""The per-op fast paths give what the general paths give: same values (bit for bit), dtypes,
shapes, strides and aliasing."""

import itertools

import numpy as np
import pytest

import ember
from ember.backends.numpy.namespace import namespace

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 3, 4), (100, 33), (17, 1, 9)])
def test_numpy_mean_is_numpys_mean(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10 ** rng.uniform(-30, 30, shape)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape).astype(dtype)
    every = [tuple(c) for r in range(1, len(shape) + 1) for c in itertools.combinations(range(len(shape)), r)]
    for axis, keepdims in itertools.product([None, *every], [False, True]):
        got, expected = namespace.mean(x, axis=axis, keepdims=keepdims), np.mean(x, axis=axis, keepdims=keepdims)
        assert type(got) is np.ndarray and got.dtype == expected.dtype and got.shape == np.shape(expected)
        np.testing.assert_array_equal(got, expected)


def test_numpy_mean_of_strided_and_special_values():
    x = np.arange(64, dtype=np.float32).reshape(8, 8)[::2, 1::3]
    np.testing.assert_array_equal(namespace.mean(x, axis=(0,)), np.mean(x, axis=0))
    special = np.array([np.inf, 1.0, np.nan], np.float32)
    np.testing.assert_array_equal(namespace.mean(special), np.mean(special))
    big = np.full(2, 3e38, np.float32)  # the float32 sum overflows (quietly), as in np.mean
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(namespace.mean(big), np.mean(big))
    halves = np.arange(6, dtype=np.float16)  # float16 takes NumPy's own path (float32 accumulation)
    np.testing.assert_array_equal(namespace.mean(halves), np.mean(halves))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_and_its_gradient_match_torch(dtype):
    values = np.random.default_rng(1).standard_normal((6, 5))
    for dim in (None, 0, (0, 1), -1):
        x = ember.tensor(values, dtype=getattr(ember, dtype), requires_grad=True)
        t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        y, ty = (x.mean(), t.mean()) if dim is None else (x.mean(dim), t.mean(dim))
        assert y.dtype is x.dtype and tuple(y.shape) == tuple(ty.shape)
        # the order of the sum is each library's own
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6 if dtype == "float32" else 1e-14)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # the type and message are compared
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize(
    "shapes, dim",
    [
        ([(2, 3), (4, 3)], 0),
        ([(2, 3), (2, 5)], -1),
        ([(2, 3), (0,), (1, 3)], 0),  # a legacy empty tensor is skipped
        ([(0,), (0,)], 0),
        ([(2, 3), (2, 4)], 0),  # sizes differ outside dim
        ([(2, 3, 4), (2, 5, 4)], 2),
        ([(2, 3), (3,)], 0),  # numbers of dimensions differ
        ([(2, 3), ()], 0),  # a 0-d tensor
        ([(2, 3), (2, 3)], 2),  # dim out of range
    ],
)
def test_cat_matches_torch(shapes, dim, device):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    got = _raised(lambda: ember.cat([ember.tensor(v, device=device) for v in values], dim))
    expected = _raised(lambda: torch.cat([torch.tensor(v) for v in values], dim))
    if expected is not None:
        assert got is not None and got[0] is expected[0], (got, expected)
        if expected[0] is RuntimeError:
            assert got[1] == expected[1]
        return
    out = ember.cat([ember.tensor(v, device=device) for v in values], dim)
    np.testing.assert_array_equal(out.cpu().numpy(), torch.cat([torch.tensor(v) for v in values], dim).numpy())


def test_cat_promotes_and_differentiates():
    a = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    b = ember.tensor([3.0], dtype=ember.float64, requires_grad=True)
    c = ember.tensor([4], dtype=ember.int32)
    out = ember.cat([a, b, c])
    assert out.dtype is ember.float64 and out.grad_fn.name() == "CatBackward0"
    (out * ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0])
    assert a.grad.dtype is ember.float32


@pytest.mark.parametrize(
    "size",
    [(2, 3), ((2, 3),), ([2, 3],), (np.int64(2), 3), (True, 2), (2.0, 3), (-1, 2), (0,), ((),)],
)
def test_size_arguments_match_torch(size):
    got = _raised(lambda: ember.zeros(*size))
    expected = _raised(lambda: torch.zeros(*size))
    assert (got and got[0]) is (expected and expected[0]), (got, expected)
    if expected is None:
        assert tuple(ember.zeros(*size).shape) == tuple(torch.zeros(*size).shape)


@pytest.mark.parametrize("shape", [(2, 3), (np.int64(3), -1), (6,), (True, 6), (2.0, 3), (4, -1)])
def test_reshape_sizes_match_torch(shape):
    got = _raised(lambda: ember.arange(6).reshape(*shape))
    expected = _raised(lambda: torch.arange(6).reshape(*shape))
    assert (got and got[0]) is (expected and expected[0]), (got, expected)
    if expected is None:
        assert tuple(ember.arange(6).reshape(*shape).shape) == tuple(torch.arange(6).reshape(*shape).shape)


@pytest.mark.parametrize(
    "data",
    [1.0, [1.0, 2.0], [1.0, 2**70], [[1.5, -(2**64)]], [float("nan"), 1.0], [1, 2], [2.0**63], -(2**63), 2**63]
    + [np.float64(1.5), np.int16(3), np.bool_(True), np.arange(3, dtype=np.int32), [np.float64(0.5), 1]],
)
def test_tensor_of_python_and_numpy_numbers_matches_torch(data):
    got, expected = _raised(lambda: ember.tensor(data)), _raised(lambda: torch.tensor(data))
    assert (got and got[0]) is (expected and expected[0]), (got, expected)
    if expected is None:
        t, e = ember.tensor(data), torch.tensor(data)
        assert str(t.dtype).split(".")[1] == str(e.dtype).split(".")[1]
        np.testing.assert_array_equal(t.numpy(), e.numpy())


def test_matmul_operator_with_tensors_and_arrays():
    rng = np.random.default_rng(2)
    m, w = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 2))
    out = ember.tensor(m) @ ember.tensor(w, dtype=ember.float32)
    expected = torch.tensor(m) @ torch.tensor(w, dtype=torch.float32)
    assert out.dtype is ember.float32
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    mixed = ember.tensor(m) @ w  # a NumPy operand: NumPy's promotion (float64)
    assert mixed.dtype is ember.float64
    np.testing.assert_allclose(mixed.numpy(), m.astype(np.float64) @ w, rtol=1e-12)
    got, expected = _raised(lambda: ember.tensor(m) @ 2.0), _raised(lambda: torch.tensor(m) @ 2.0)
    assert (got and got[0]) is (expected and expected[0]), (got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4)])
def test_numpy_sum_is_numpys_sum(dtype, shape):
    rng = np.random.default_rng(0)
    floating = np.dtype(dtype).kind in "fc"
    x = (rng.standard_normal(shape) * 100 if floating else rng.integers(0, 100, shape)).astype(dtype)
    every = [tuple(c) for r in range(1, len(shape) + 1) for c in itertools.combinations(range(len(shape)), r)]
    for axis, keepdims in itertools.product([None, *every], [False, True]):
        got, expected = namespace.sum(x, axis=axis, keepdims=keepdims), np.sum(x, axis=axis, keepdims=keepdims)
        assert type(got) is np.ndarray and got.dtype == expected.dtype and got.shape == np.shape(expected)
        np.testing.assert_array_equal(got, expected)
    halves = np.full(2048, 0.1, dtype=np.float16)  # accumulated in float32, rounded once (not NumPy's float16 sum)
    assert namespace.sum(halves) == np.float16(np.sum(halves, dtype=np.float32))
