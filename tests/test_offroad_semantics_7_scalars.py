"""Off the main road, differential against PyTorch: Python ints from 2**63 up to 2**64 - 1 turned into
tensors inside ops (PyTorch reads them as uint64 scalars: ``where``, ``xlogy``, ``isin``,
``searchsorted``), ints beyond uint64 (its argument parser's OverflowError, before any range check of the
result type), ``isin``'s and ``searchsorted``'s number operands cast, wrapping, to the type they promote to
(``isin(uint8 tensor, 300)`` looks for 44), and ``__setitem__``'s ValueError for an int beyond int64."""

from __future__ import annotations

import pytest
from against_torch import same, same_error, torch

import ember


def _c(L, d):
    return L.tensor([True, False], device=d)


# name -> f(lib, device): a wide Python int as an operand of an op that makes it a tensor
WIDE_OPERANDS = {
    "where float32, 2**63": lambda L, d: L.where(_c(L, d), L.tensor([1.0, 2.0], device=d), 2**63),
    "where 2**63, 2.0": lambda L, d: L.where(_c(L, d), 2**63, 2.0),
    "where float16, 2**63": lambda L, d: L.where(_c(L, d), L.tensor([1.0, 2.0], dtype=L.float16, device=d), 2**63),
    "where float64, 2**64 - 1": lambda L, d: L.where(
        _c(L, d), L.tensor([1.0, 2.0], dtype=L.float64, device=d), 2**64 - 1
    ),
    "xlogy float32, 2**63": lambda L, d: L.xlogy(L.tensor([1.0, 2.0], device=d), 2**63),
    "xlogy 2**63, float32": lambda L, d: L.xlogy(2**63, L.tensor([1.0, 2.0], device=d)),
    "xlogy int64, 2**63": lambda L, d: L.xlogy(L.tensor([1, 2], device=d), 2**63),
    "xlogy uint8, 2**63": lambda L, d: L.xlogy(L.tensor([1, 2], dtype=L.uint8, device=d), 2**63),
    "xlogy float64, 2**63 + 1": lambda L, d: L.xlogy(L.tensor([1.0, 2.0], dtype=L.float64, device=d), 2**63 + 1),
    "xlog1py float32, 2**63": lambda L, d: L.special.xlog1py(L.tensor([1.0, 2.0], device=d), 2**63),
    "zeta float32, 2**63": lambda L, d: L.special.zeta(L.tensor([2.0, 3.0], device=d), 2**63),
    "isin int64, 2**63 (wraps)": lambda L, d: L.isin(L.tensor([44, -(2**63)], device=d), 2**63),
    "isin 2**63, int64": lambda L, d: L.isin(2**63, L.tensor([44, -(2**63)], device=d)),
    "searchsorted int64, 2**63 (wraps)": lambda L, d: L.searchsorted(L.tensor([1, 2], device=d), 2**63),
    "searchsorted float32, 2**63": lambda L, d: L.searchsorted(L.tensor([1.0, 2.0], device=d), 2**63),
    "bucketize 2**63, int64": lambda L, d: L.bucketize(2**63, L.tensor([1, 2], device=d)),
}


#: the cases whose number is PyTorch's uint64 scalar (not cast to a floating tensor's type at once)
_AS_UINT64 = {
    "where 2**63, 2.0",
    "xlogy int64, 2**63",
    "xlogy uint8, 2**63",
    "isin int64, 2**63 (wraps)",
    "isin 2**63, int64",
    "searchsorted int64, 2**63 (wraps)",
    "bucketize 2**63, int64",
}


def _holds_uint64(device):
    try:
        ember.zeros(1, dtype=ember.uint64, device=device)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("case", list(WIDE_OPERANDS))
def test_ints_from_2_63_are_uint64_operands(device, case):
    # ember raised ValueError("Overflow when unpacking long long") (or the int64_t overflow RuntimeError)
    if case in _AS_UINT64 and not _holds_uint64(device):  # (OpenCL's): its TypeError, never a wrapped value
        with pytest.raises(TypeError, match="does not support dtype ember.uint64"):
            WIDE_OPERANDS[case](ember, device)
        return
    same(WIDE_OPERANDS[case](ember, device), WIDE_OPERANDS[case](torch, "cpu"))


def test_where_keeps_uint64(device):
    # ember raised ValueError("Overflow when unpacking long long")
    if not _holds_uint64(device):
        with pytest.raises(TypeError, match="does not support dtype ember.uint64"):
            ember.zeros(1, dtype=ember.uint64, device=device)
        return
    got = ember.where(_c(ember, device), ember.tensor([1, 2], dtype=ember.uint64, device=device), 2**63)
    assert got.dtype is ember.uint64 and got.tolist() == [1, 2**63]


# name -> f(lib, device): the errors PyTorch raises for them
WIDE_ERRORS = {
    "where uint8, 2**63": lambda L, d: L.where(_c(L, d), L.tensor([1, 2], dtype=L.uint8), 2**63),
    "where int64, 2**63": lambda L, d: L.where(_c(L, d), L.tensor([1, 2]), 2**63),
    "where int32, 2**63": lambda L, d: L.where(_c(L, d), L.tensor([1, 2], dtype=L.int32), 2**63),
    "where 2**63, 1": lambda L, d: L.where(_c(L, d), 2**63, 1),
    "where float32, 2**64": lambda L, d: L.where(_c(L, d), L.tensor([1.0, 2.0]), 2**64),
    "where float32, -2**63 - 1": lambda L, d: L.where(_c(L, d), L.tensor([1.0, 2.0]), -(2**63) - 1),
    "xlogy float32, 2**64": lambda L, d: L.xlogy(L.tensor([1.0, 2.0]), 2**64),
    "isin int64, 2**64": lambda L, d: L.isin(L.tensor([1]), 2**64),
    "searchsorted float32, 2**64": lambda L, d: L.searchsorted(L.tensor([1.0, 2.0]), 2**64),
    "full uint64 2**64": lambda L, d: L.full((2,), 2**64, dtype=L.uint64),
    "clamp float32 min=2**64": lambda L, d: L.clamp(L.tensor([1.0, 2.0]), min=2**64),  # ember clamped
    "masked_fill float32 2**64": lambda L, d: L.tensor([1.0, 2.0]).masked_fill(_c(L, d), 2**64),  # ember filled
    "int8 ** 2**64": lambda L, d: L.tensor([1], dtype=L.int8) ** 2**64,
}


@pytest.mark.parametrize("case", list(WIDE_ERRORS))
def test_wide_int_errors(case):
    same_error(WIDE_ERRORS[case], "cpu")


# name -> f(lib, device): a number operand of isin/searchsorted cast to the type it promotes to
NUMBER_OPERANDS = {
    "isin uint8, 300": lambda L, d: L.isin(L.tensor([44, 45], dtype=L.uint8, device=d), 300),
    "isin 300, uint8": lambda L, d: L.isin(300, L.tensor([44], dtype=L.uint8, device=d)),
    "isin uint8, -1": lambda L, d: L.isin(L.tensor([255, 1], dtype=L.uint8, device=d), -1),
    "isin int8, 200": lambda L, d: L.isin(L.tensor([-56, 1], dtype=L.int8, device=d), 200),
    "isin int64, 1.5": lambda L, d: L.isin(L.tensor([1, 2], device=d), 1.5),
    "isin int64, 2.0": lambda L, d: L.isin(L.tensor([1, 2], device=d), 2.0),
    "isin 1.5, int64": lambda L, d: L.isin(1.5, L.tensor([1, 2], device=d)),
    "isin float16, 0.1": lambda L, d: L.isin(L.tensor([0.1, 1.0], dtype=L.float16, device=d), 0.1),
    "searchsorted int64, 2.5": lambda L, d: L.searchsorted(L.tensor([1, 2, 3], device=d), 2.5),
    "searchsorted uint8, -1": lambda L, d: L.searchsorted(L.tensor([1, 2, 3], dtype=L.uint8, device=d), -1),
    "searchsorted uint8, 300": lambda L, d: L.searchsorted(L.tensor([1, 2, 3], dtype=L.uint8, device=d), 300),
    "searchsorted right": lambda L, d: L.searchsorted(L.tensor([1, 2, 3], device=d), 2, right=True),
    "bucketize 2, right": lambda L, d: L.bucketize(2, L.tensor([1, 2, 3], device=d), right=True),
}


@pytest.mark.parametrize("case", list(NUMBER_OPERANDS))
def test_number_operands_promote_weakly(device, case):
    # ember: isin(uint8 [44], 300) gave False, searchsorted(uint8, 300) raised the uint8_t overflow error
    same(NUMBER_OPERANDS[case](ember, device), NUMBER_OPERANDS[case](torch, "cpu"))


UNORDERED = {
    "isin float32, 1j": lambda L, d: L.isin(L.tensor([1.0]), 1j),  # ember named ComplexFloat
    "isin 1j, float32": lambda L, d: L.isin(1j, L.tensor([1.0])),
    "isin complex64, bool": lambda L, d: L.isin(L.tensor([1j]), L.tensor([True])),  # ember named Bool
    "isin float32, True": lambda L, d: L.isin(L.tensor([1.0]), True),
    "searchsorted float32, 1j": lambda L, d: L.searchsorted(L.tensor([1.0, 2.0]), 1j),  # ember: "ge_cpu"
    "searchsorted complex64, 1.0": lambda L, d: L.searchsorted(L.tensor([1j, 2]), 1.0),
    "searchsorted float32, complex64": lambda L, d: L.searchsorted(L.tensor([1.0, 2.0]), L.tensor([1j])),
}


@pytest.mark.parametrize("case", list(UNORDERED))
def test_unordered_types_refused(case):
    same_error(UNORDERED[case], "cpu")


def _set(L, dtype, value, index):
    t = L.tensor([1, 2], dtype=getattr(L, dtype))
    t[index(L)] = value
    return t


INDICES = {"int": lambda L: 0, "mask": lambda L: L.tensor([True, False]), "slice": lambda L: slice(None)}


@pytest.mark.parametrize("dtype", ["int64", "float32", "uint8", "uint64", "bool", "complex64"])
@pytest.mark.parametrize("value", [2**63, 2**64, -(2**63) - 1])
@pytest.mark.parametrize("index", list(INDICES))
def test_setitem_int_beyond_int64(dtype, value, index):
    # ember raised the dtype's overflow RuntimeError, OverflowError, or stored 9.2e18 in float32
    same_error(lambda L, d: _set(L, dtype, value, INDICES[index]), "cpu")


@pytest.mark.parametrize("dtype", ["int64", "float32", "uint8"])
@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), -1, 200])
def test_setitem_ints_within_int64(dtype, value):
    try:
        expected = _set(torch, dtype, value, INDICES["int"])
    except RuntimeError:
        same_error(lambda L, d: _set(L, dtype, value, INDICES["int"]), "cpu")
        return
    same(_set(ember, dtype, value, INDICES["int"]), expected)
