"""PyTorch's semantics off the main road, checked against PyTorch on every test device:
exact integer division, true views, device checks, input validation, NaN propagation."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

INT_DTYPES = ["int64", "int32", "uint8"]


def _pair(values, dtype, device):
    return ember.tensor(values, dtype=getattr(ember, dtype), device=device), torch.tensor(
        values, dtype=getattr(torch, dtype)
    )


def _same(actual, expected):
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


INTEGER_DIVISIONS = [
    ("floordiv", lambda T, a, b: a // b),
    ("mod", lambda T, a, b: a % b),
    ("remainder", lambda T, a, b: T.remainder(a, b)),
    ("fmod", lambda T, a, b: T.fmod(a, b)),
    ("div_floor", lambda T, a, b: T.div(a, b, rounding_mode="floor")),
    ("div_trunc", lambda T, a, b: T.div(a, b, rounding_mode="trunc")),
]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_integer_division_is_exact(device, dtype, name, fn):
    big = [123456789, -7, 7, 0, -9, 9, 2**31 - 3, 1] if dtype != "uint8" else [250, 7, 7, 0, 9, 9, 255, 1]
    div = [10, -10, 3, 5, -2, 2, 7, -3] if dtype != "uint8" else [10, 10, 3, 5, 2, 2, 7, 3]
    if dtype == "int32":
        big[0] = 2**31 - 1
    a, ta = _pair(big, dtype, device)
    b, tb = _pair(div, dtype, device)
    _same(fn(ember, a, b), fn(torch, ta, tb))
    _same(fn(ember, a, 3), fn(torch, ta, 3))


@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_integer_division_by_zero_raises(device, name, fn):
    a, ta = _pair([5, -3], "int64", device)
    b, tb = _pair([1, 0], "int64", device)
    for other, tother in ((b, tb), (0, 0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(torch, ta, tother)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(ember, a, other)


@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_float_division_modes_match_torch(device, name, fn):
    if device.startswith("opencl") and name in ("floordiv", "div_floor"):
        pytest.xfail("the opencl floor_divide primitive computes floor(a / b), not Python's floor division (1 // 0.1)")
    values, divisors = [1.0, -7.5, 7.25, 0.0, 3.0], [0.1, 2.0, -3.0, 0.0, 0.0]
    a, ta = _pair(values, "float64", device) if device.split(":")[0] != "opencl" else _pair(values, "float32", device)
    b, tb = (ember.tensor(divisors, dtype=a.dtype, device=device), torch.tensor(divisors, dtype=ta.dtype))
    np.testing.assert_allclose(fn(ember, a, b).cpu().numpy(), fn(torch, ta, tb).numpy(), rtol=1e-6)
