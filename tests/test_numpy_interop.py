"""NumPy with ember tensors, against PyTorch: NumPy scalars as operands (PyTorch's argument parser reads
them as Python numbers, a ``numpy.bool_`` as a float, so they promote as Python numbers do; its indexed
write refuses the ones that are neither Python floats nor integers), and NumPy functions of tensors
(their results come back as CPU tensors)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SCALARS = {
    "float64": np.float64(2.5),
    "float32": np.float32(2.5),
    "int64": np.int64(2),
    "int32": np.int32(2),
    "uint8": np.uint8(3),
    "bool": np.bool_(True),
}

CALLS = {
    "scalar ** t": lambda T, t, s: s**t,
    "t ** scalar": lambda T, t, s: t**s,
    "pow(scalar, t)": lambda T, t, s: T.pow(s, t),
    "scalar ** int t": lambda T, t, s: s ** t.long(),
    "int t ** scalar": lambda T, t, s: t.long() ** s,
    "t + scalar": lambda T, t, s: t + s,
    "scalar - t": lambda T, t, s: s - t,
    "scalar / t": lambda T, t, s: s / t,
    "scalar * int t": lambda T, t, s: s * t.long(),
    "bool t + scalar": lambda T, t, s: (t > 1) + s,
    "t < scalar": lambda T, t, s: t < s,
    "t == scalar": lambda T, t, s: t == s,
    "clamp": lambda T, t, s: T.clamp(t, min=s),
    "where": lambda T, t, s: T.where(t > 1, s, t),
    "masked_fill": lambda T, t, s: t.masked_fill(t > 1, s),
    "full": lambda T, t, s: T.full((2,), s, device=t.device),
    "mul_": lambda T, t, s: t.clone().mul_(s),
    "hardtanh": lambda T, t, s: T.nn.functional.hardtanh(t, -1.0, s),
    "xlogy": lambda T, t, s: T.xlogy(s, t),
}


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("call", CALLS)
def test_numpy_scalar_operand_as_on_torch(device, scalar, call):
    value = SCALARS[scalar]
    expected = CALLS[call](torch, torch.tensor([1.0, 2.0]), value)
    actual = CALLS[call](ember, ember.tensor([1.0, 2.0], device=device), value)
    assert isinstance(actual, ember.Tensor)
    assert str(actual.dtype) == str(expected.dtype).replace("torch", "ember")
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_indexed_write_of_numpy_scalar_as_on_torch(device, scalar, dtype):
    value = SCALARS[scalar]
    expected = torch.zeros(2, dtype=getattr(torch, dtype))
    actual = ember.zeros(2, dtype=getattr(ember, dtype), device=device)
    try:
        expected[0] = value
    except TypeError as error:
        message = str(error).replace("torch.", "ember.")  # "can't assign a numpy.float32 to a torch.FloatTensor"
        with pytest.raises(TypeError, match=message):
            actual[0] = value
        return
    actual[0] = value
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


UFUNCS = {
    "exp": lambda t: np.exp(t),
    "add": lambda t: np.add(t, t),
    "greater": lambda t: np.greater(t, 1),  # bool: uint8, as PyTorch's __array_wrap__ gives
    "negative of int": lambda t: np.negative(t.long()),
    "sqrt of 0-d": lambda t: np.sqrt(t[0]),
}


@pytest.mark.parametrize("call", UFUNCS)
def test_numpy_function_of_tensor_is_a_tensor_as_on_torch(call):
    with warnings.catch_warnings():  # PyTorch's __array_wrap__ has NumPy 1's signature, which NumPy 2 warns about
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = UFUNCS[call](torch.tensor([1.0, 4.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ember's takes NumPy 2's arguments
        actual = UFUNCS[call](ember.tensor([1.0, 4.0]))
    assert type(actual) is ember.Tensor and str(actual.dtype) == str(expected.dtype).replace("torch", "ember")
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_numpy_function_of_tensor_requiring_grad_raises_as_on_torch():
    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            np.exp(T.ones(2, requires_grad=True))
