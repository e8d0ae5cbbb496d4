"""The per-op fast paths of the second CPU round against PyTorch: ``median(dim)`` from the backend's
``median_positions`` kernel, the values of ``max``/``min``/``median(dim)`` taken from the arrays where no graph
records the op, the NumPy namespace's stable ``argsort`` of long rows by sorted keys, and ``F.relu``'s early
return for floating inputs. Values, indices, dtypes, strides, gradients, graph nodes, forward-mode tangents
and errors, with equal elements, NaN, ``-0.`` and infinities, in the dtypes each path takes and those next to
it that it leaves to the general path."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from against_torch import laid_out, same_error

import ember
import ember.nn.functional as F
from ember.backends.numpy import namespace as numpy_namespace
from ember.kernels.selection import SelectionKernels

torch = pytest.importorskip("torch")
import torch.autograd.forward_ad as tfwad  # noqa: E402

import ember.autograd.forward_ad as efwad  # noqa: E402

SELECTION_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8"]
SORT_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8"]


def _values(shape, dtype, seed, specials=True):
    """Small integers (many equal elements); floats also get NaN, -0. and infinities where ``specials``."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, shape).astype(np.float64)
    if dtype == "uint8":
        x = np.abs(x)
    if specials and dtype in ("float32", "float64", "float16", "bfloat16"):
        r = rng.random(shape)
        x[r < 0.05] = np.nan
        x[(r >= 0.05) & (r < 0.15)] = -0.0
        x[(r >= 0.15) & (r < 0.18)] = np.inf
        x[(r >= 0.18) & (r < 0.21)] = -np.inf
    return x


def _both(x, dtype, device, requires_grad=False):
    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, dtype))
    except TypeError as exc:  # (bfloat16 on opencl)
        pytest.skip(str(exc))
    e = ember.tensor(x, device=device).to(getattr(ember, dtype))
    t = torch.tensor(x).to(getattr(torch, dtype))
    if requires_grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def _same(e, t):
    """Same dtype, shape, strides and values (NaN equal to NaN, the sign of zero compared)."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    assert tuple(e.stride()) == tuple(t.stride())
    got = e.detach().cpu().to(ember.float64).numpy()
    want = t.detach().to(torch.float64).numpy()
    np.testing.assert_array_equal(got, want)
    number = ~np.isnan(want)  # (a NaN's sign bit is not part of the result)
    np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))


_CASES = [  # shape, dim, layout
    ((64, 64), 1, None),
    ((64, 64), 0, None),
    ((3, 4, 5), -2, None),
    ((7,), 0, None),
    ((5, 1), 1, None),
    ((6, 9), 1, "t"),
    ((6, 18), 1, "step"),
]


@pytest.mark.parametrize("op", ["median", "max", "min"])
@pytest.mark.parametrize("dtype", SELECTION_DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_selection_along_a_dim_matches_torch(device, op, dtype, keepdim):
    for seed, (shape, dim, how) in enumerate(_CASES):
        e, t = _both(_values(shape, dtype, seed), dtype, device)
        e, t = laid_out(e, how), laid_out(t, how)
        got, want = getattr(e, op)(dim, keepdim), getattr(t, op)(dim, keepdim)
        _same(got.values, want.values)
        _same(got.indices, want.indices)
        assert got.values.grad_fn is None and not got.values.requires_grad


@pytest.mark.parametrize("dtype", SELECTION_DTYPES)
def test_median_of_distinct_values_matches_torch(device, dtype):
    rng = np.random.default_rng(8)
    for shape, dim in [((64, 64), 1), ((64, 64), 0), ((5, 33, 2), 1)]:
        x = rng.permuted(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) % 200 - 100
        if dtype == "uint8":
            x = np.abs(x)
        elif dtype in ("float32", "float64", "float16", "bfloat16"):
            x = x / 7
            x[rng.random(shape) < 0.01] = np.nan
        e, t = _both(x, dtype, device)
        got, want = e.median(dim), t.median(dim)
        _same(got.values, want.values)
        _same(got.indices, want.indices)


@pytest.mark.parametrize("op", ["median", "max", "min"])
def test_selection_functions_and_0d_match_torch(device, op):
    e, t = _both(_values((5, 6), "float32", 7), "float32", device)
    _same(getattr(ember, op)(e, 1).values, getattr(torch, op)(t, 1).values)
    _same(getattr(ember, op)(e, dim=0, keepdim=True).indices, getattr(torch, op)(t, dim=0, keepdim=True).indices)
    e0, t0 = _both(np.array(2.5), "float32", device)
    got, want = getattr(e0, op)(0), getattr(t0, op)(0)
    _same(got.values, want.values)
    _same(got.indices, want.indices)


@pytest.mark.parametrize("op", ["median", "max", "min"])
def test_selection_gradients_and_node_match_torch(device, dtype, op):
    name = str(dtype).split(".")[-1]
    for seed, (shape, dim, how) in enumerate(_CASES):
        x = _values(shape, name, seed, specials=False)
        e, t = _both(x, name, device, requires_grad=True)
        got = getattr(laid_out(e, how), op)(dim)
        want = getattr(laid_out(t, how), op)(dim)
        assert type(got.values.grad_fn).__name__ == type(want.values.grad_fn).__name__
        assert not got.indices.requires_grad
        _same(got.values, want.values)
        _same(got.indices, want.indices)
        g = np.random.default_rng(seed).standard_normal(tuple(want.values.shape))
        got.values.backward(ember.tensor(g, device=device).to(dtype))
        want.values.backward(torch.tensor(g).to(want.values.dtype))
        _same(e.grad, t.grad)


@pytest.mark.parametrize("op", ["median", "max", "min"])
def test_selection_under_no_grad_records_nothing(device, op):
    e, t = _both(_values((8, 9), "float32", 3), "float32", device, requires_grad=True)
    with ember.no_grad():
        got = getattr(e, op)(1)
    with torch.no_grad():
        want = getattr(t, op)(1)
    assert got.values.grad_fn is None and not got.values.requires_grad
    _same(got.values, want.values)
    _same(got.indices, want.indices)


@pytest.mark.parametrize("op", ["median", "max", "min"])
def test_selection_forward_mode_tangent_matches_torch(device, op):
    x = _values((6, 7), "float64", 5, specials=False)
    v = np.random.default_rng(1).standard_normal((6, 7))
    with efwad.dual_level():
        got = getattr(efwad.make_dual(ember.tensor(x, device=device), ember.tensor(v, device=device)), op)(1)
        e_primal, e_tangent = efwad.unpack_dual(got.values)
    with tfwad.dual_level():
        want = getattr(tfwad.make_dual(torch.tensor(x), torch.tensor(v)), op)(1)
        t_primal, t_tangent = tfwad.unpack_dual(want.values)
    _same(e_primal, t_primal)
    _same(e_tangent, t_tangent)
    _same(got.indices, want.indices)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.zeros(3, 0).median(1),
        lambda m: m.zeros(3, 0).max(1),
        lambda m: m.zeros(3, 0).min(1),
        lambda m: m.tensor([1j, 2j]).median(0),
        lambda m: m.tensor([True, False]).median(0),
        lambda m: m.zeros(3).median(2),
        lambda m: m.ones(2, dtype=m.uint32).median(0),
        lambda m: m.ones(2, dtype=m.uint32).median(),
        lambda m: m.median(m.ones(2, dtype=m.float8_e4m3fn), dim=0, keepdim=True),
        lambda m: m.ones(2, dtype=m.float8_e4m3fn).median(),
    ],
    ids=[
        "median-empty",
        "max-empty",
        "min-empty",
        "median-complex",
        "median-bool",
        "median-dim",
        "median-dim-uint32",
        "median-uint32",
        "median-dim-float8",
        "median-float8",
    ],  # fmt: skip
)
def test_selection_errors_match_torch(make):
    same_error(make)


def _native(values, dtype):
    return values.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype))


@pytest.mark.parametrize("dtype", SELECTION_DTYPES)
def test_numpy_median_positions_are_the_portable_kernels(dtype):
    kernels = ember.tensor([1.0], device="cpu")._backend.kernels
    rng = np.random.default_rng(11)
    for seed in range(30):
        shape = [int(s) for s in rng.integers(1, 6, size=rng.integers(1, 4))]
        axis = int(rng.integers(0, len(shape)))
        shape[axis] = int(rng.integers(1, 80))
        values = _values(shape, dtype, seed)
        if seed % 2:  # few equal elements (the first equal one is the median's), NaN in some rows
            values = rng.integers(0 if dtype == "uint8" else -100, 100, shape) + np.where(np.isnan(values), np.nan, 0)
        x = _native(np.nan_to_num(values) if dtype in ("int64", "int32", "uint8") else values, dtype)
        got = kernels.median_positions(x, axis)
        want = SelectionKernels.median_positions(kernels, x, axis)  # the stable argsort
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want, err_msg=f"{shape} axis {axis}")


@pytest.mark.parametrize("dtype", SORT_DTYPES + ["uint16", "uint32", "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyed_argsort_is_numpys_stable_argsort(dtype, descending):
    xp = numpy_namespace.namespace
    rng = np.random.default_rng(int(descending))
    for seed in range(20):
        shape = [int(s) for s in rng.integers(1, 5, size=rng.integers(1, 4))]
        axis = int(rng.integers(0, len(shape)))
        shape[axis] = int(rng.integers(1, 700))
        values = _values(shape, "float32", seed)
        if dtype in ("uint16", "uint32", "bool", "uint8") or dtype.startswith("int"):
            values = np.abs(np.nan_to_num(values, posinf=7, neginf=-7)) % (2 if dtype == "bool" else 9)
            values = values if dtype.startswith("u") or dtype == "bool" else values - 4
        x = _native(values, dtype)
        got = xp.argsort(x, axis=axis, descending=descending, stable=True)
        want = numpy_namespace._argsort(x, axis=axis, descending=descending, stable=True)
        np.testing.assert_array_equal(got, want, err_msg=f"{shape} axis {axis}")


@pytest.mark.parametrize("dtype", SORT_DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_of_long_rows_matches_torch(device, dtype, descending):
    for seed, (shape, dim) in enumerate([((64, 64), 1), ((64, 64), 0), ((3000,), 0), ((4, 40, 9), 1)]):
        e, t = _both(_values(shape, dtype, seed), dtype, device)
        got = ember.sort(e, stable=True, dim=dim, descending=descending)
        want = torch.sort(t, stable=True, dim=dim, descending=descending)
        _same(got.values, want.values)
        _same(got.indices, want.indices)
        _same(
            ember.argsort(e, stable=True, dim=dim, descending=descending),
            torch.argsort(t, stable=True, dim=dim, descending=descending),
        )


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_default_sort_of_long_rows_with_ties_matches_torch(device, dtype):
    if not ember.backends.get_backend(device).on_host:  # an accelerator's order of ties is its own, as PyTorch's
        pytest.skip("PyTorch's CPU order of equal elements is followed on host backends")
    e, t = _both(_values((64, 64), dtype, 4), dtype, device)
    for dim in (0, 1):
        got, want = e.sort(dim), t.sort(dim)
        _same(got.values, want.values)
        _same(got.indices, want.indices)


def test_sort_gradient_and_node_match_torch(device, dtype):
    name = str(dtype).split(".")[-1]
    x = np.random.default_rng(2).standard_normal((64, 64))
    e, t = _both(x, name, device, requires_grad=True)
    got, want = e.sort(1, descending=True), t.sort(1, descending=True)
    assert type(got.values.grad_fn).__name__ == type(want.values.grad_fn).__name__
    g = np.random.default_rng(3).standard_normal((64, 64))
    got.values.backward(ember.tensor(g, device=device).to(dtype))
    want.values.backward(torch.tensor(g).to(want.values.dtype))
    _same(e.grad, t.grad)


_RELU_VALUES = np.array([-2.0, -0.0, 0.0, 1.5, np.nan, np.inf, -np.inf, 3.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("size", [8, 20000], ids=["small", "above-compiled-threshold"])
def test_relu_matches_torch(device, dtype, size):
    x = np.resize(_RELU_VALUES, size)
    for spelling in (lambda m, v: m.nn.functional.relu(v), lambda m, v: v.relu(), lambda m, v: m.relu(v)):
        e, t = _both(x, dtype, device, requires_grad=True)
        got, want = spelling(ember, e), spelling(torch, t)
        assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
        _same(got, want)
        g = np.resize(np.array([1.0, -2.0, 0.5, np.nan, 4.0]), size)
        got.backward(ember.tensor(g, device=device).to(getattr(ember, dtype)))
        want.backward(torch.tensor(g).to(want.dtype))
        _same(e.grad, t.grad)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_relu_of_integers_and_in_place_matches_torch(device, dtype):
    e, t = _both(np.array([-3.0, 0.0, 2.0]) if dtype != "uint8" else np.array([0.0, 2.0]), dtype, device)
    _same(F.relu(e), torch.nn.functional.relu(t))
    e, t = _both(_RELU_VALUES, "float32", device)
    assert F.relu(e, inplace=True) is e
    torch.nn.functional.relu(t, inplace=True)
    _same(e, t)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.functional.relu(m.tensor([True, False])),
        lambda m: m.nn.functional.relu(m.tensor([1j])),
        lambda m: m.nn.functional.relu(m.ones(2, dtype=m.uint32)),
    ],
    ids=["bool", "complex", "uint32"],
)
def test_relu_errors_match_torch(make):
    same_error(make)


def _softmax_by_reduce(x, axis):
    """The NumPy softmax kernel's formula with the maxima of ``maximum.reduce`` (its shift before the argmax one)."""
    out = np.subtract(x, np.maximum.reduce(x, axis=axis, keepdims=True))
    np.exp(out, out=out)
    np.divide(out, np.add.reduce(out, axis=axis, keepdims=True), out=out)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_softmax_shifted_at_the_argmax_is_the_reduce_ones(dtype):
    kernels = ember.tensor([1.0], device="cpu")._backend.kernels
    rng = np.random.default_rng(5)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 80.0, -200.0])
    for seed in range(40):
        shape = [int(s) for s in rng.integers(1, 70, size=rng.integers(1, 4))]
        x = rng.standard_normal(shape) * 10
        if seed % 2:
            x = np.where(rng.random(shape) < 0.2, rng.choice(specials, shape), np.round(x))
        x = x.astype(dtype)
        for axis in range(x.ndim):
            with np.errstate(all="ignore"):
                got, want = kernels.softmax(x, axis), _softmax_by_reduce(x, axis)
            np.testing.assert_array_equal(got, want, err_msg=f"{shape} axis {axis}")
            number = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))


@pytest.mark.parametrize("shape", [(64, 64), (40, 3, 20), (16, 10), (8, 1000)])
def test_softmax_matches_torch(device, dtype, shape):
    name = str(dtype).split(".")[-1]
    x = np.random.default_rng(6).standard_normal(shape) * 4
    x[0, 0] = np.nan
    e, t = _both(x, name, device, requires_grad=True)
    got, want = F.softmax(e, -1), torch.softmax(t, -1)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    tol = 1e-6 if name == "float32" else 1e-14
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(7).standard_normal(shape)
    got.backward(ember.tensor(g, device=device).to(dtype))
    want.backward(torch.tensor(g).to(want.dtype))
    np.testing.assert_allclose(e.grad.cpu().numpy(), t.grad.numpy(), rtol=tol, atol=tol)


def test_numpy_take_along_rows_is_numpys_take_along_axis():
    xp = numpy_namespace.namespace
    rng = np.random.default_rng(9)
    base = rng.standard_normal((7, 6))
    for x in (base, base.T, base[::2], base.astype(np.float32)):
        for axis in (0, 1, -1, -2):
            n = x.shape[axis % 2]
            other = x.shape[1 - axis % 2]
            for k, across in ((3, other), (4, 1), (n, other), (0, other)):  # across: the other dimension, or 1
                shape = (across, k) if axis % 2 else (k, across)
                index = rng.integers(-n, n, shape)
                got, want = xp.take_along_axis(x, index, axis=axis), np.take_along_axis(x, index, axis=axis)
                assert got.dtype == want.dtype and got.strides == want.strides
                np.testing.assert_array_equal(got, want)
    with pytest.raises(IndexError):
        xp.take_along_axis(base, np.array([[7]]), axis=0)
