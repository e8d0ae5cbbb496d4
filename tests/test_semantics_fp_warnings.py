"""Floating-point edge cases compute silently, as in PyTorch: no NumPy ``RuntimeWarning`` even
under ``warnings.simplefilter("error")``, and NumPy's own error state is left as the user set it."""

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

INF, NAN = math.inf, math.nan

EDGE_CASES = {
    "log_zero": (lambda T, x: T.log(x * 0), [0.0, 1.0]),
    "log_negative": (lambda T, x: T.log(-x), [1.0, 2.0]),
    "log1p_below_minus_one": (lambda T, x: T.log1p(-x - 1), [1.0, 2.0]),
    "sqrt_negative": (lambda T, x: T.sqrt(-x), [1.0, 0.5]),
    "divide_by_zero": (lambda T, x: x / 0, [1.0, -1.0]),
    "zero_by_zero": (lambda T, x: (x * 0) / (x * 0), [1.0, 2.0]),
    "tensor_divide_by_zero": (lambda T, x: x / T.zeros_like(x), [1.0, 0.0]),
    "reciprocal_zero": (lambda T, x: T.reciprocal(x * 0), [1.0, 2.0]),
    "exp_overflow": (lambda T, x: T.exp(x * 1000), [1.0, -1.0]),
    "expm1_overflow": (lambda T, x: T.expm1(x * 1000), [1.0, 2.0]),
    "multiply_overflow": (lambda T, x: x * 1e300 * 1e300, [1.0, -1.0]),
    "inf_minus_inf": (lambda T, x: (x * INF) - (x * INF), [1.0, 2.0]),
    "pow_zero_negative": (lambda T, x: (x * 0) ** -1, [1.0, 2.0]),
    "acos_outside": (lambda T, x: T.acos(x * 2), [1.0, 3.0]),
    "asin_outside": (lambda T, x: T.asin(x * 2), [1.0, 3.0]),
    "cosh_overflow": (lambda T, x: T.cosh(x * 1000), [1.0, 2.0]),
    "sum_overflow": (lambda T, x: (x * 1e308).sum(), [1.0, 2.0]),
    "mean_of_inf": (lambda T, x: (x * INF - x * INF).mean(), [1.0, 2.0]),
    "remainder_by_zero": (lambda T, x: T.remainder(x, 0), [1.0, 2.0]),
    "fmod_by_zero": (lambda T, x: T.fmod(x, 0), [1.0, 2.0]),
    "isclose_inf": (lambda T, x: T.isclose(x * INF, x * INF), [1.0, -1.0]),
    "rsqrt_zero": (lambda T, x: T.rsqrt(x * 0), [1.0, 2.0]),
    "atanh_one": (lambda T, x: T.atanh(x), [1.0, -1.0]),
    "mean_of_empty": (lambda T, x: x[:0].mean(), [1.0, 2.0]),
    "mean_of_empty_dim": (lambda T, x: x.reshape(2, 1)[:, :0].mean(1), [1.0, 2.0]),
    "to_float32_overflow": (lambda T, x: (x * 1e300).to(T.float32), [1.0, 2.0]),
    "softmax_all_minus_inf": (lambda T, x: T.softmax(x * -INF, 0), [1.0, 2.0]),
    "log_softmax_inf": (lambda T, x: (TF if T is torch else F).log_softmax(x * INF, 0), [1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_are_silent_and_match_pytorch(name, device):
    fn, values = EDGE_CASES[name]
    dtype = "float64" if ember.backends.get_backend(device).supports_float64 else "float32"
    expected = fn(torch, torch.tensor(values, dtype=getattr(torch, dtype)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        actual = fn(ember, ember.tensor(values, dtype=getattr(ember, dtype), device=device))
        host = actual.cpu().numpy()
    np.testing.assert_allclose(host, expected.numpy(), rtol=1e-6, equal_nan=True)


def test_gradient_through_log_of_zero_is_silent(device):
    x = ember.tensor([0.0, 1.0], device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.log(x).sum().backward()
    t = torch.tensor([0.0, 1.0], requires_grad=True)
    torch.log(t).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), t.grad.numpy())


def test_numpy_error_state_of_the_user_is_untouched(device):
    before = np.geterr()
    with np.errstate(divide="raise"):
        ember.log(ember.tensor([0.0], device=device))  # silent inside ember ...
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))  # ... while the user's own NumPy code keeps the state it set
    assert np.geterr() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning):
            np.log(np.zeros(1))
