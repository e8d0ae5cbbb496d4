"""The third CPU per-op round against PyTorch: ``F.relu``'s one path (its checks behind one test that the
floating inputs pass), the softmax backward kernels that compute float16/bfloat16 themselves (in float32,
rounded once; log-softmax over a dim that is not the last in the order of PyTorch's CPU kernel), and the
class-index losses' checks and NumPy kernels (``cross_entropy``, ``nll_loss``): values, dtypes, gradients,
graph nodes and errors, compared with PyTorch's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from against_torch import same_error

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

FLOATS = ["float32", "float64"]


def _cpu_kinds_only(device):
    """PyTorch's CPU kernels' order of a 16-bit op is followed on cpu-kind devices only."""
    if ember.device(device).type not in ("cpu", "restricted"):
        pytest.skip("PyTorch's CPU kernels' order of a 16-bit op: cpu-kind devices only")


def _host(t):
    return np.asarray(t.detach().cpu().to(ember.float64).numpy())


def _torch_of(t, dtype):
    return torch.tensor(_host(t)).to(getattr(torch, dtype))


def _same(e, t):
    """Same dtype, shape and values (NaN equal to NaN, the sign of zero compared)."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    got, want = _host(e), t.detach().to(torch.float64).numpy()
    np.testing.assert_array_equal(got, want)
    number = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))


# -- relu ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS + ["float16", "bfloat16", "int64", "uint8"])
def test_relu_in_place_under_grad_matches_torch(device, dtype):
    x = np.array([[-2.0, -0.0, 0.0, 3.0], [1.0, -1.0, np.nan, -np.inf]])
    if not dtype.startswith(("float", "bfloat")):
        x = np.array([[2.0, 0.0, 1.0, 3.0], [1.0, 0.0, 4.0, 5.0]])
    if dtype == "bfloat16" and ember.device(device).type == "opencl":
        pytest.skip("no bfloat16 on opencl")
    e, t = ember.tensor(x, device=device).to(getattr(ember, dtype)), torch.tensor(x).to(getattr(torch, dtype))
    _same(F.relu(e), torch.nn.functional.relu(t))
    if dtype.startswith(("float", "bfloat")):  # in place on a non-leaf: the node and the gradient
        a, b = e.clone().requires_grad_(), t.clone().requires_grad_()
        ye, yt = a * 1, b * 1
        assert F.relu(ye, inplace=True) is ye
        torch.nn.functional.relu(yt, inplace=True)
        assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
        _same(ye, yt)
        ye.sum().backward()
        yt.sum().backward()
        _same(a.grad, b.grad)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.functional.relu(m.tensor([True]), inplace=True),
        lambda m: m.nn.functional.relu(m.tensor([1j]), inplace=True),
        lambda m: m.nn.functional.relu(m.ones(2, dtype=m.uint16)),
        lambda m: m.nn.functional.relu(m.ones(2).to(m.float8_e4m3fn)),
        lambda m: m.nn.functional.relu6(m.tensor([1j])),
        lambda m: m.nn.functional.hardtanh(m.tensor([True])),
    ],
)
def test_relu_family_errors_match_torch(make):
    same_error(make)


@pytest.mark.parametrize("inplace", [False, True])
def test_relu_of_a_non_tensor_is_a_type_error(inplace):
    """PyTorch's TypeError: the op (``relu_`` in place), the argument, its position and the type."""
    with pytest.raises(TypeError) as expected:
        torch.nn.functional.relu([1.0, -1.0], inplace=inplace)
    with pytest.raises(TypeError, match=f"^{re.escape(str(expected.value))}$"):
        F.relu([1.0, -1.0], inplace=inplace)


# -- softmax backward kernels on 16-bit arrays ----------------------------------------------------
#: (shape, dim): over the last dim and over others
SOFTMAX_CASES = [((16, 10), 1), ((8, 50, 33), 1), ((64, 40), 0), ((3, 5, 6, 7), 2), ((6, 9, 40), 2)]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=str)
@pytest.mark.parametrize("log", [True, False], ids=["log_softmax", "softmax"])
def test_softmax_backward_kernel_of_16_bit_arrays_matches_torch(device, case, dtype, log):
    """The backend's kernel, handed the 16-bit arrays themselves, gives PyTorch's backward kernel's bits
    (log-softmax: on cpu-kind devices, the order of PyTorch's CPU kernel over every dim)."""
    _cpu_kinds_only(device)
    shape, dim = case
    rng = np.random.default_rng(SOFTMAX_CASES.index(case))
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32) * 2, device=device).to(getattr(ember, dtype))
    g = ember.tensor(rng.standard_normal(shape).astype(np.float32), device=device).to(x.dtype)
    y = F.log_softmax(x, dim) if log else F.softmax(x, dim)
    kernels = x._backend.kernels
    kernel = kernels.log_softmax_backward if log else kernels.softmax_backward
    got = x._make(kernel(g._data, y._data, dim))
    assert got.dtype is x.dtype
    kind = getattr(torch, dtype)
    reference = torch.ops.aten._log_softmax_backward_data if log else torch.ops.aten._softmax_backward_data
    want = reference(_torch_of(g, dtype), _torch_of(y, dtype), dim, kind)
    if not log and dim == len(shape) - 1:  # PyTorch's vectorized row sums: within one unit of the type
        np.testing.assert_allclose(_host(got), want.to(torch.float64).numpy(), rtol=2**-7, atol=2**-14)
        return
    np.testing.assert_array_equal(_host(got), want.to(torch.float64).numpy())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=str)
@pytest.mark.parametrize("log", [True, False], ids=["log_softmax", "softmax"])
def test_softmax_gradients_match_torch(device, case, dtype, log):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    shape, dim = case
    x = np.random.default_rng(7).standard_normal(shape)
    e = ember.tensor(x, device=device).to(getattr(ember, dtype)).requires_grad_()
    t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    name = "log_softmax" if log else "softmax"
    ye, yt = getattr(F, name)(e, dim), getattr(torch.nn.functional, name)(t, dim)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(_host(ye), yt.detach().numpy(), rtol=tolerance, atol=tolerance)
    upstream = np.random.default_rng(8).standard_normal(shape)
    ye.backward(ember.tensor(upstream, device=device).to(e.dtype))
    yt.backward(torch.tensor(upstream).to(t.dtype))
    assert e.grad.dtype is e.dtype
    np.testing.assert_allclose(_host(e.grad), t.grad.numpy(), rtol=tolerance * 10, atol=tolerance * 10)


def test_contracted_multiply_add_is_the_kernel_tables(device):
    """``contracted_fma`` reads the backend's kernel table: a fused multiply-add where it sees vector lanes."""
    from ember.ops.reduced_precision import contracted_fma

    x = ember.tensor([1.0 + 2**-23], device=device)
    backend = x._backend
    a = backend.xp.astype(x._data, backend.native_dtype(ember.float32))
    c = backend.xp.asarray([-1.0 - 2**-22], dtype=a.dtype)
    got = float(np.asarray(backend.to_host(contracted_fma(backend, a, a, c)))[0])
    fused = float(np.float64(1.0 + 2**-23) ** 2 - (1.0 + 2**-22))  # 2**-46: exact in float32
    assert got == (fused if backend.kernels.VECTOR_LANES else 0.0)
    assert float(np.asarray(backend.to_host(backend.kernels.contracted_multiply_add(a, a, c)))[0]) == got


# -- class-index losses ---------------------------------------------------------------------------
LOSS_CASES = [  # input shape, target shape
    ((16, 10), (16,)),
    ((10,), ()),
    ((4, 5, 3), (4, 3)),
    ((2, 3, 4, 5), (2, 4, 5)),
    ((3000, 40), (3000,)),  # several blocks of rows in the NumPy kernels
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", LOSS_CASES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_losses_match_torch(device, case, dtype, reduction, name):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    shape, target_shape = case
    classes = shape[1] if len(shape) > 1 else shape[0]
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape) * 3
    target = rng.integers(0, classes, target_shape)
    if target.ndim:
        target.flat[::5] = -100  # ignored
    e = ember.tensor(x, device=device).to(getattr(ember, dtype)).requires_grad_()
    t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    te, tt = ember.tensor(target, device=device), torch.tensor(target)
    ye = getattr(F, name)(e, te, reduction=reduction)
    yt = getattr(torch.nn.functional, name)(t, tt, reduction=reduction)
    if len(shape) <= 2:  # (PyTorch names the nodes of the N-d forms otherwise: NllLoss2dBackward0, ViewBackward0)
        assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
    assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1] and tuple(ye.shape) == tuple(yt.shape)
    tolerance = 2e-6 if dtype == "float32" else 1e-12
    summed = 50 * tolerance if reduction != "none" else tolerance  # (a device's own order of a float32 sum)
    np.testing.assert_allclose(_host(ye), yt.detach().numpy(), rtol=summed, atol=tolerance)
    upstream = rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(upstream, device=device).to(e.dtype))
    yt.backward(torch.tensor(upstream).to(t.dtype))
    np.testing.assert_allclose(_host(e.grad), t.grad.numpy(), rtol=tolerance * 10, atol=tolerance)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, f: f(m.tensor(1.0), m.tensor(0)),
        lambda m, f: f(m.zeros(3), m.tensor([0, 1])),
        lambda m, f: f(m.zeros(4, 3), m.tensor(0)),
        lambda m, f: f(m.zeros(4, 3), m.zeros(3, dtype=m.int64)),
        lambda m, f: f(m.zeros(4, 3), m.tensor([0, 1, 2, 3])),
        lambda m, f: f(m.zeros(4, 3), m.tensor([0, 1, 2, -1])),
        lambda m, f: f(m.zeros(4, 3), m.tensor([0.0, 1.0, 2.0, 0.0])),
    ],
)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_loss_errors_match_torch(make, name):
    same_error(lambda m: make(m, getattr(m.nn.functional, name)))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_integral_ignore_index_of_other_types_matches_torch(name):
    x = np.random.default_rng(3).standard_normal((6, 4))
    target = np.array([0, 1, 2, 3, 1, 2])
    for ignore in (np.int64(1), np.int32(2), 3):
        ye = getattr(F, name)(ember.tensor(x), ember.tensor(target), ignore_index=ignore)
        yt = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(target), ignore_index=ignore)
        np.testing.assert_allclose(_host(ye), yt.numpy(), rtol=1e-12)
