"""Bitwise shifts against PyTorch: every integer dtype, negative values, shift amounts that are
negative or reach the bit width, type promotion with tensors and Python numbers, the operators and
in-place forms, and the NotImplementedError for floating-point and bool operands."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

VALUES = [-128, -8, -1, 0, 5, 100, 127]
AMOUNTS = [0, 1, 3, 7, 8, 70, -1]
INTS = ["int8", "uint8", "int16", "int32", "int64"]


def _same(got, want):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def _pair(T, name, device, values):
    return T.tensor(values, device=device).to(getattr(T, name))


@pytest.mark.parametrize("name", INTS)
@pytest.mark.parametrize("op", ["bitwise_left_shift", "bitwise_right_shift"])
def test_tensor_by_tensor(device, name, op):
    want = getattr(torch, op)(_pair(torch, name, "cpu", VALUES), _pair(torch, name, "cpu", AMOUNTS))
    got = getattr(ember, op)(_pair(ember, name, device, VALUES), _pair(ember, name, device, AMOUNTS))
    _same(got, want)


CASES = {
    "lshift_scalar": lambda T, x: x << 2,
    "rshift_scalar_wide": lambda T, x: x >> 70,
    "lshift_negative_scalar": lambda T, x: x << -1,
    "promote_to_int64": lambda T, x: x << T.tensor([1, 2, 0, 1, 2, 0, 1], device=x.device),
    "zero_dim_other": lambda T, x: x >> T.tensor(2, device=x.device),
    "rlshift": lambda T, x: 3 << (x & 7),
    "rrshift": lambda T, x: 1000 >> (x & 7),
    "function_number_first": lambda T, x: T.bitwise_left_shift(3, x & 7),
    "method": lambda T, x: x.bitwise_right_shift(1),
}


@pytest.mark.parametrize("name", ["int8", "uint8", "int64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forms(device, name, case):
    _same(CASES[case](ember, _pair(ember, name, device, VALUES)), CASES[case](torch, _pair(torch, name, "cpu", VALUES)))


@pytest.mark.parametrize("form", ["ilshift", "irshift", "left_", "right_"])
def test_inplace_keeps_dtype(device, form):
    results = []
    for T, dev in ((torch, "cpu"), (ember, device)):
        x = _pair(T, "int8", dev, VALUES)
        amounts = T.tensor([1, 2, 3, 4, 5, 6, 7], device=dev)  # int64: the result is cast back to int8
        if form == "ilshift":
            x <<= amounts
        elif form == "irshift":
            x >>= amounts
        else:
            assert getattr(x, f"bitwise_{form[:-1]}_shift_")(amounts) is x
        results.append(x)
    _same(results[1], results[0])


REFUSED = {
    "float_tensor": lambda T, d: T.tensor([1.0, 2.0], device=d) << 1,
    "float_scalar": lambda T, d: T.tensor([1, 2], device=d) << 1.5,
    "float_other": lambda T, d: T.bitwise_right_shift(T.tensor([1, 2], device=d), T.tensor([1.0, 2.0], device=d)),
    "float_number_first": lambda T, d: 1.5 >> T.tensor([1], device=d),
    "bool_bool": lambda T, d: T.tensor([True, False], device=d) << T.tensor([True, True], device=d),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_like_torch(device, case):
    with pytest.raises(NotImplementedError) as want:
        REFUSED[case](torch, "cpu")
    with pytest.raises(NotImplementedError) as got:
        REFUSED[case](ember, device)
    assert str(got.value) == str(want.value)


def test_bool_by_int_scalar_promotes(device):
    _same(ember.tensor([True, False], device=device) >> 1, torch.tensor([True, False]) >> 1)
