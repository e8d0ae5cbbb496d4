"""Off the main road, differential against PyTorch: Python ints beyond int64 as operands (PyTorch reads
one from 2**63 up as a uint64 and casts it, wrapping, to an integer result type; one beyond uint64 is
its OverflowError), scalar factors outside their result type's range (``alpha``, ``value``, ``beta``),
``sort``/``argsort``'s keyword-only ``stable``, the TypeError of a ``dim`` that is no int naming the
op, and PyTorch's ScalarType names (``Long``, ``float``) in the dtype errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from against_torch import same, same_error, torch

import ember

# name -> f(lib, device): a Python int at or beyond 2**63 with an integer or floating tensor
WIDE_SCALARS = {
    "int64 + 2**63": lambda L, d: L.tensor([1, 2], device=d) + 2**63,
    "int64 - 2**63": lambda L, d: L.tensor([1, 2], device=d) - 2**63,
    "int64 * 2**63": lambda L, d: L.tensor([1, 2], device=d) * 2**63,
    "2**63 * int64": lambda L, d: 2**63 * L.tensor([1, 2], device=d),
    "2**63 - int64": lambda L, d: 2**63 - L.tensor([1, 2], device=d),
    "int64 * (2**64 - 1)": lambda L, d: L.tensor([1, 2], device=d) * (2**64 - 1),
    "int64 add_ 2**63": lambda L, d: L.tensor([1, 2], device=d).add_(2**63),
    "int64 mul_ 2**63": lambda L, d: L.tensor([3, 2], device=d).mul_(2**63),
    "int64 == 2**63": lambda L, d: L.tensor([-(2**63), 2], device=d) == 2**63,
    "int64 < 2**63": lambda L, d: L.tensor([1, 2], device=d) < 2**63,
    "int64 // 2**63": lambda L, d: L.tensor([4, -4], device=d) // 2**63,
    "int64 % 2**63": lambda L, d: L.tensor([4, -4], device=d) % 2**63,
    "int64 | 2**63": lambda L, d: L.tensor([4, 1], device=d) | 2**63,
    "int64 / 2**63": lambda L, d: L.tensor([4, 1], device=d) / 2**63,
    "int32 + 2**63 + 5": lambda L, d: L.tensor([1, 2], dtype=L.int32, device=d) + (2**63 + 5),
    "uint8 + 2**63": lambda L, d: L.tensor([1, 2], dtype=L.uint8, device=d) + 2**63,
    "float32 + 2**63": lambda L, d: L.tensor([1.0, 2.0], device=d) + 2**63,
    "float32 + (2**64 - 1)": lambda L, d: L.tensor([1.0, 2.0], device=d) + (2**64 - 1),
}


@pytest.mark.parametrize("case", list(WIDE_SCALARS))
def test_ints_from_2_63_are_uint64_scalars(device, case):
    # ember raised OverflowError("value 9223372036854775808 cannot be converted to type int64 ...") for int64
    same(WIDE_SCALARS[case](ember, device), WIDE_SCALARS[case](torch, "cpu"))


# name -> f(lib): the errors of an int beyond uint64 (OverflowError), or below int64, and of 2**63 with bool
OVERFLOWING_SCALARS = {
    "int64 + 2**64": lambda L: L.tensor([1, 2]) + 2**64,
    "int64 + (-2**63 - 1)": lambda L: L.tensor([1, 2]) + (-(2**63) - 1),
    "int8 + 2**70": lambda L: L.tensor([1, 2], dtype=L.int8) + 2**70,
    "uint8 - 2**64": lambda L: L.tensor([1, 2], dtype=L.uint8) - 2**64,
    "float32 + 2**64": lambda L: L.tensor([1.0]) + 2**64,  # ember gave 1.8447e+19
    "float64 == 2**64": lambda L: L.tensor([1.0], dtype=L.float64) == 2**64,  # ember gave False
    "float32 * -2**70": lambda L: L.tensor([1.0]) * -(2**70),
    "complex64 + 2**64": lambda L: L.tensor([1j]) + 2**64,
    "bool + 2**63": lambda L: L.tensor([True]) + 2**63,
    "bool & 2**63": lambda L: L.tensor([True]) & 2**63,
    "int64 add_ 2**64": lambda L: L.tensor([1, 2]).add_(2**64),
}


@pytest.mark.parametrize("case", list(OVERFLOWING_SCALARS))
def test_ints_beyond_uint64_raise(case):
    same_error(OVERFLOWING_SCALARS[case])


# name -> f(lib): a scalar factor outside the range of its result's type is PyTorch's overflow RuntimeError
FACTORS = {
    "int64 add alpha 2**63": lambda L: L.tensor([1, 2]).add(1, alpha=2**63),
    "int32 add alpha 2**40": lambda L: L.tensor([1], dtype=L.int32).add(1, alpha=2**40),
    "uint8 add alpha 300": lambda L: L.tensor([1], dtype=L.uint8).add(L.tensor([1], dtype=L.uint8), alpha=300),
    "int8 sub alpha 200": lambda L: L.tensor([1], dtype=L.int8).sub(1, alpha=200),
    "float16 add alpha 1e6": lambda L: L.tensor([1.0], dtype=L.float16).add(1, alpha=1e6),
    "float32 add alpha 1e39": lambda L: L.tensor([1.0]).add(L.tensor([1.0]), alpha=1e39),
    "int8 addcmul value 300": lambda L: L.addcmul(*[L.tensor([1], dtype=L.int8)] * 3, value=300),
    "int64 addr beta 2**63": lambda L: L.addr(L.tensor([[1]]), L.tensor([1]), L.tensor([1]), beta=2**63),
    "int64 addmm alpha 2**63": lambda L: L.addmm(*[L.tensor([[1]])] * 3, alpha=2**63),
    "int32 addmm alpha 2**40": lambda L: L.addmm(*[L.tensor([[1]], dtype=L.int32)] * 3, alpha=2**40),
}


@pytest.mark.parametrize("case", list(FACTORS))
def test_factors_out_of_range_raise(case):
    # ember wrapped them: uint8 alpha=300 added 45 times the other, float16 alpha=1e6 gave inf
    same_error(FACTORS[case])


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor([1], dtype=L.uint8).add(1, alpha=-1),  # an unsigned type takes -1 (wrapped)
        lambda L: L.tensor([1.0]).add(1, alpha=2**63),
        lambda L: L.tensor([1.0], dtype=L.float64).add(1, alpha=1e39),
        lambda L: L.tensor([1.0]).add(1, alpha=float("inf")),
    ],
)
def test_factors_in_range_still_work(fn):
    same(fn(ember), fn(torch))


# name -> f(lib, x): sort/argsort with a positional dim or descending beside the keyword stable
STABLE_POSITIONAL = {
    "sort(x, 0, stable=True)": lambda L, x: L.sort(x, 0, stable=True),
    "sort(x, 0, descending=True, stable=True)": lambda L, x: L.sort(x, 0, descending=True, stable=True),
    "sort(x, 0, stable=None)": lambda L, x: L.sort(x, 0, stable=None),
    "sort(x, 0, True, True)": lambda L, x: L.sort(x, 0, True, True),
    "x.sort(0, stable=False)": lambda L, x: x.sort(0, stable=False),
    "argsort(x, 0, stable=False)": lambda L, x: L.argsort(x, 0, stable=False),
    "x.argsort(-1, True, stable=True)": lambda L, x: x.argsort(-1, True, stable=True),
    "argsort(x, 0, True, True)": lambda L, x: L.argsort(x, 0, True, True),
}


@pytest.mark.parametrize("case", list(STABLE_POSITIONAL))
def test_stable_makes_dim_and_descending_keyword_only(case):
    # ember sorted; PyTorch's signature with stable takes dim and descending as keywords only
    fn = STABLE_POSITIONAL[case]
    with pytest.raises(TypeError):
        fn(torch, torch.tensor([3.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"^(arg)?sort\(\)"):
        fn(ember, ember.tensor([3.0, 1.0, 2.0]))


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, x: L.sort(x, stable=True, dim=0, descending=True),
        lambda L, x: x.sort(stable=False, descending=True),
        lambda L, x: L.sort(x, 0, True),
        lambda L, x: L.argsort(x, stable=True, descending=True),
        lambda L, x: x.argsort(0, True),
    ],
)
def test_stable_by_keyword_still_sorts(device, fn):
    values = [3.0, 1.0, 3.0, 2.0]
    got = fn(ember, ember.tensor(values, device=device))
    expected = fn(torch, torch.tensor(values))
    for g, e in zip(
        got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple) else (expected,)
    ):
        same(g, e)


# name -> (f(lib, x), op): a dim that is no int; torch's TypeError names the op ("cumsum(): argument 'dim' ...")
BAD_DIMS = {
    "cumsum": (lambda L, x: L.cumsum(x, dim=1.5), "cumsum"),
    "x.cumprod(dim=1.5)": (lambda L, x: x.cumprod(dim=1.5), "cumprod"),
    "x.softmax(1.5)": (lambda L, x: x.softmax(1.5), "softmax"),
    "F.softmax": (lambda L, x: L.nn.functional.softmax(x, 1.5), "softmax"),
    "x.unsqueeze(1.5)": (lambda L, x: x.unsqueeze(1.5), "unsqueeze"),
    "x.gather(1.5, i)": (lambda L, x: x.gather(1.5, L.zeros(2, 3, dtype=L.int64)), "gather"),
    "x.size(1.5)": (lambda L, x: x.size(1.5), "size"),
    "cat": (lambda L, x: L.cat([x], 1.5), "cat"),
    "x.sum(1.5)": (lambda L, x: x.sum(1.5), "sum"),
    "x.sum(True)": (lambda L, x: x.sum(True), "sum"),
    "x.mean('a')": (lambda L, x: x.mean("a"), "mean"),
    "x.topk(1, 1.5)": (lambda L, x: x.topk(1, 1.5), "topk"),
    "x.sort(1.5)": (lambda L, x: x.sort(1.5), "sort"),
    "x.diff(dim=1.5)": (lambda L, x: x.diff(dim=1.5), "diff"),
}


@pytest.mark.parametrize("case", list(BAD_DIMS))
def test_dim_of_wrong_type_names_the_op(case):
    # ember said "dim must be an int, got float" (or "'float' object is not iterable") for every op
    fn, op = BAD_DIMS[case]
    with pytest.raises(TypeError, match=rf"^{op}\("):
        fn(torch, torch.ones(2, 3))
    with pytest.raises(
        TypeError, match=rf"^{op}\(\): argument 'dim'( \(position \d\))? must be (int|tuple of ints), not "
    ):
        fn(ember, ember.ones(2, 3))


# name -> f(lib): errors where PyTorch names the dtype as its ScalarType (Long) or C type (float)
DTYPE_NAMES = {
    "where int64 condition": lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)),
    "where float condition": lambda L: L.where(L.tensor([1.0, 0.0]), L.ones(2), L.zeros(2)),
    "mm float32 float64": lambda L: L.ones(2, 2).mm(L.ones(2, 2, dtype=L.float64)),
    "matmul float32 float64": lambda L: L.ones(2, 2) @ L.ones(2, 2, dtype=L.float64),
    # an out= of another dtype where the op takes none: ember said "dtype ember.float32, but got ember.float64"
    "max out float64": lambda L: L.max(L.ones(2), 0, out=(L.empty((), dtype=L.float64), L.empty((), dtype=L.int64))),
    "argmax out int32": lambda L: L.argmax(L.ones(2), 0, out=L.empty((), dtype=L.int32)),
    "matmul out float64": lambda L: L.matmul(L.ones(2, 2), L.ones(2, 2), out=L.empty(2, 2, dtype=L.float64)),
}


@pytest.mark.parametrize("case", list(DTYPE_NAMES))
def test_dtype_errors_name_scalar_types(case):
    # ember said "... with dtype ember.int64" and "ember.float32 != ember.float64"
    fn = DTYPE_NAMES[case]
    with pytest.raises(RuntimeError) as expected:
        fn(torch)
    with pytest.raises(RuntimeError, match=f"{re.escape(str(expected.value))}$"):
        fn(ember)


@pytest.mark.parametrize(
    "fn, names",
    [
        (lambda L: L.tensor([1, 2]).std(), "got Long"),
        (lambda L: L.ones(3).masked_select(L.tensor([1, 0, 1])), "got Long"),
        (lambda L: L.zeros(3).scatter(0, L.tensor([0]), L.ones(1, dtype=L.float64)), "(Float vs Double)"),
        (lambda L: L.zeros(3).scatter_add(0, L.tensor([0]), L.ones(1, dtype=L.float64)), "(Float vs Double)"),
    ],
)
def test_dtypes_ember_adds_to_messages_are_scalar_types(fn, names):
    with pytest.raises(RuntimeError) as expected:
        fn(torch)
    with pytest.raises(RuntimeError, match=re.escape(f"{expected.value}") + r",? " + re.escape(names)):
        fn(ember)


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor([1, 5]).clamp_(min=2.5),
        lambda L: L.tensor([1, 5]).clamp_max_(2.5),
        lambda L: L.tensor([1, 5]).clamp_min_(2.5),
        lambda L: L.tensor([1, 5], dtype=L.int8).clip_(0.5, 2.5),
        lambda L: L.tensor([True]).clamp_(0.5),
        lambda L: L.tensor([1, 5]).clamp_(min=L.tensor([2.5])),  # a tensor bound: the ScalarType ("Long")
        lambda L: L.tensor([1, 5]).add_(1.5),
    ],
)
def test_inplace_clamp_refusal_names_the_c_type(fn):
    # ember said "... desired output type Long" where PyTorch's scalar clamp_ says "long int"
    with pytest.raises(RuntimeError) as expected:
        fn(torch)
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(expected.value))}$"):
        fn(ember)


# name -> f(lib, x): topk/kthvalue's k that is no int, argsort's out without stable, a 0-d argsort's dim
SORTING_ARGUMENT_ERRORS = {
    "topk k float": lambda L, x: L.topk(x, 2.0),
    "topk k bool": lambda L, x: L.topk(x, True),
    "topk k float tensor": lambda L, x: L.topk(x, L.tensor(2.0)),
    "kthvalue k float": lambda L, x: L.kthvalue(x, 2.0),
    "argsort out without stable": lambda L, x: L.argsort(x, out=L.empty(3, dtype=L.int64)),
    "0-d argsort dim 3": lambda L, x: L.argsort(x[0], 3),
}


@pytest.mark.parametrize("case", list(SORTING_ARGUMENT_ERRORS))
def test_sorting_argument_errors(case):
    # ember: "slice indices must be integers" for a float k, an unexpected keyword 'out', a 0-d argsort's dim unchecked
    fn = SORTING_ARGUMENT_ERRORS[case]
    with pytest.raises(Exception) as expected:
        fn(torch, torch.tensor([3.0, 1.0, 2.0]))
    with pytest.raises(type(expected.value)) as got:
        fn(ember, ember.tensor([3.0, 1.0, 2.0]))
    first_line = str(expected.value).splitlines()[0]
    assert str(got.value).splitlines()[0] == first_line


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, x: L.topk(x, np.int64(2)).values,
        lambda L, x: L.topk(x, L.tensor(2)).values,
        lambda L, x: L.kthvalue(x, L.tensor(2)).values,
        lambda L, x: L.argsort(x, stable=True, out=L.empty(3, dtype=L.int64, device=x.device)),
        lambda L, x: L.argsort(x, stable=True, descending=True, out=L.empty(3, dtype=L.int64, device=x.device)),
        lambda L, x: L.argsort(x[0], -1),
    ],
)
def test_sorting_arguments_still_taken(device, fn):
    got = fn(ember, ember.tensor([3.0, 1.0, 2.0], device=device))
    same(got, fn(torch, torch.tensor([3.0, 1.0, 2.0])))


# name -> f(lib, x): a whole shape or dims argument that is no sequence (ember: "'float' object is not iterable")
NOT_SEQUENCES = {
    "x.flip(1.5)": lambda L, x: x.flip(1.5),
    "x.reshape(6.0)": lambda L, x: x.reshape(6.0),
    "x.repeat(2.0)": lambda L, x: x.repeat(2.0),
    "x.tile(2.0)": lambda L, x: x.tile(2.0),
    "x.permute(1.5)": lambda L, x: x.permute(1.5),
    "x.expand(None)": lambda L, x: x.expand(None),
    "tensordot dims=1.5": lambda L, x: L.tensordot(x, x.T, dims=1.5),  # ember: TypeError, PyTorch RuntimeError
    "tensordot dims=None": lambda L, x: L.tensordot(x, x.T, dims=None),
}


@pytest.mark.parametrize("case", list(NOT_SEQUENCES))
def test_arguments_that_are_no_sequence(case):
    fn = NOT_SEQUENCES[case]
    with pytest.raises(Exception) as expected:
        fn(torch, torch.ones(2, 3))
    with pytest.raises(type(expected.value), match=f"^{re.escape(str(expected.value))}$"):
        fn(ember, ember.ones(2, 3))
