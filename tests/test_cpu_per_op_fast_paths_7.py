"""The seventh CPU per-op round against PyTorch: the NumPy backend's ``erf`` (which ``F.gelu``, ``erf``,
``erfc`` and ``erfinv``'s Newton steps call) runs a compiled loop of the C library's ``erf`` instead of
:func:`math.erf` once per element through ``np.frompyfunc``. Its bits are the old ones (Python's
``math.erf``) with and without the compiled loops; values, dtypes, strides, gradients, nodes and errors of
the ops over it are PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.against_torch import same_error

torch = pytest.importorskip("torch")

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 5e-324, 0.5, -3.9, 6.0, 30.0]


def _values(shape, dtype, seed):
    """Normal values at several scales, with NaN, infinities, zeros of both signs and tiny ones mixed in."""
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * rng.choice([1e-3, 0.3, 1.0, 3.0], size=shape))
    flat = x.reshape(-1)
    if flat.size:
        picks = rng.integers(0, flat.size, size=max(1, flat.size // 5))
        flat[picks] = rng.choice(SPECIAL, size=picks.size)
    return x.astype(dtype)


def _math_erf(array):
    """The NumPy backend's former ``erf``: Python's :func:`math.erf` element by element."""
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(array), dtype=array.dtype)


def _skip_float64(device, dtype):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")


@pytest.mark.parametrize("compiled", [True, False], ids=["loops", "no_loops"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (8, 64), (3, 5, 7), (4096,)])
def test_numpy_erf_keeps_math_erf_bits(compiled, dtype, shape, monkeypatch):
    if not compiled:
        from ember.backends.numpy.loops import runtime

        monkeypatch.setattr(runtime, "enabled", False)
    backend = ember.backends.get_backend("cpu")
    x = _values(shape, dtype, len(shape))
    views = (x, x.T, x[..., ::2], x[::-1], np.moveaxis(x, 0, -1)) if x.ndim else (x,)
    for array in views:  # C-ordered, transposed, strided, reversed and permuted inputs
        got, want = backend.erf(array), _math_erf(array)
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
        assert got.strides == want.strides or not got.size  # (the steps of an empty array mean nothing)
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_numpy_erf_of_other_kinds_unchanged(dtype):
    backend = ember.backends.get_backend("cpu")
    x = np.array([0, 1, 2, -3]).astype(dtype)
    if dtype == "complex64":  # math.erf takes no complex number
        with pytest.raises(TypeError):
            backend.erf(x)
        return
    np.testing.assert_array_equal(backend.erf(x), _math_erf(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_erf_matches_torch(device, dtype, layout):
    _skip_float64(device, dtype)
    x = _values((6, 10), dtype, 3)
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    pick = {"contiguous": lambda t: t, "transposed": lambda t: t.t(), "sliced": lambda t: t[:, ::3]}[layout]
    got, want = ember.erf(pick(ex)), torch.erf(pick(tx))
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.shape == want.shape and got.stride() == want.stride()
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=rtol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ == "ErfBackward0"
    g = np.random.default_rng(4).standard_normal(tuple(want.shape)).astype(dtype)
    got.backward(ember.tensor(g, device=device))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), rtol=rtol * 10, atol=rtol)


def test_erf_of_integers_matches_torch(device):
    x = np.array([[-3, -1, 0], [1, 2, 40]])
    got, want = ember.erf(ember.tensor(x, device=device)), torch.erf(torch.tensor(x))
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 64), (64, 64), (3,), ()])
def test_gelu_matches_torch(device, approximate, dtype, shape):
    _skip_float64(device, dtype)
    x = _values(shape, dtype, 7)
    x[np.isinf(x) | np.isnan(x)] = 0.25  # gradients of non-finite inputs are NaN in both; values checked below
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = ember.nn.functional.gelu(ex, approximate=approximate)
    want = torch.nn.functional.gelu(tx, approximate=approximate)
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.shape == want.shape and got.stride() == want.stride()
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=rtol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ == "GeluBackward0"
    g = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    got.backward(ember.tensor(g, device=device))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), rtol=rtol * 10, atol=rtol * 10)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_special_values_matches_torch(device, approximate):
    # (not +-inf: PyTorch's float32 kernel gives NaN for both where its float64 one gives inf and NaN)
    x = np.array([np.nan, 0.0, -0.0, 1e-30, -1e-30, -40.0, 40.0, 1e30, -1e30], dtype=np.float32)
    got = ember.nn.functional.gelu(ember.tensor(x, device=device), approximate=approximate).cpu().numpy()
    want = torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_gelu_and_erf_errors_match_torch():
    x = np.ones((2, 3), dtype=np.float32)
    same_error(lambda T: T.nn.functional.gelu(T.tensor(x), approximate="erf"))
    same_error(lambda T: T.nn.functional.gelu(x))
    same_error(lambda T: T.erf(T.tensor(x), out=T.empty(2, 3, dtype=T.int64)))
    same_error(lambda T: T.erf("a"))
