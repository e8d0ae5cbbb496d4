"""NumPy scalars as operands, against PyTorch: its argument parser reads them as Python numbers (a
``numpy.bool_`` as a float), so they promote as Python numbers do, and its indexed write refuses
the ones that are neither Python floats nor integers."""

from __future__ import annotations

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
