"""Differences found by the third run of PyTorch's whole OpInfo database (all samples and reference
inputs, float64/float32 and the integer dtypes, input gradients and error inputs) against ember: each
case is the smallest call that showed it, run on ember and torch and compared on every test device.
"""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error
from opinfo_support import assert_same_as_torch, ember_copy

import ember

torch = pytest.importorskip("torch")


def _tol(dtype):
    return (1e-7, 1e-9) if dtype is ember.float64 else (2e-5, 1e-6)


@pytest.mark.parametrize("fn", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradient_of_huge_and_infinite_operands(device, dtype, fn):
    # ember's gradient exp(a - z) was 1 (not 0.5) where a + log 2 rounds to a (a = b = 1e20), and NaN
    # beside an infinite operand; PyTorch's is 1 / (1 + exp(b - a))
    tdt = getattr(torch, dtype.name)
    a = torch.tensor([1e20, -1e20, float("inf"), 1.0, 3.0], dtype=tdt, requires_grad=True)
    b = torch.tensor([1e20, -1e20, 1.0, float("-inf"), -2.0], dtype=tdt, requires_grad=True)
    expected = getattr(torch, fn)(a, b)
    ae, be = ember_copy(a, device, requires_grad=True), ember_copy(b, device, requires_grad=True)
    actual = getattr(ember, fn)(ae, be)
    assert_same_as_torch(actual, expected, *_tol(dtype))
    for ge, gt in zip(ember.autograd.grad(actual.sum(), (ae, be)), torch.autograd.grad(expected.sum(), (a, b))):
        assert_same_as_torch(ge, gt, *_tol(dtype))


def test_remainder_divisor_gradient_is_minus_the_floor_quotient(device, dtype):
    # ember's divisor gradient was -floor(a / b): -30 for 3 % 0.1 (3 / 0.1 rounds up to 30); PyTorch's is
    # -div(a, b, rounding_mode="floor"), the floor quotient 29
    tdt = getattr(torch, dtype.name)
    a = torch.tensor([1000.0, -1000.0, 3.0, 5.0], dtype=tdt, requires_grad=True)
    b = torch.tensor([4.000000000000001, 4.000000000000001, 0.1, -2.0], dtype=tdt, requires_grad=True)
    expected = torch.remainder(a, b)
    ae, be = ember_copy(a, device, requires_grad=True), ember_copy(b, device, requires_grad=True)
    actual = ember.remainder(ae, be)
    assert_same_as_torch(actual, expected, *_tol(dtype))
    for ge, gt in zip(ember.autograd.grad(actual.sum(), (ae, be)), torch.autograd.grad(expected.sum(), (a, b))):
        assert_same_as_torch(ge, gt)


@pytest.mark.parametrize(
    ("shape", "kwargs"), [((), {}), ((1,), {}), ((1, 2), {"dim": 0}), ((2, 1, 3), {"dim": 1}), ((0, 1), {"dim": 1})]
)
def test_repeat_interleave_of_a_size_one_dim_is_new_memory(device, dtype, shape, kwargs):
    # ember returned a stride-0 view of the input where the repeated dim has size 1: an in-place op on the
    # result raised, and one on the input changed the result; PyTorch's result is new, contiguous memory
    x = torch.arange(float(np.prod(shape)), dtype=getattr(torch, dtype.name)).reshape(shape)
    xe = ember_copy(x, device)
    expected, actual = x.repeat_interleave(3, **kwargs), xe.repeat_interleave(3, **kwargs)
    assert actual.stride() == expected.stride()
    expected.add_(1)
    actual.add_(1)
    x.mul_(5)
    xe.mul_(5)
    assert_same_as_torch(actual, expected)
    assert_same_as_torch(xe, x)


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        ("pow", (2, 3)),
        ("max", (2, 3)),
        ("min", (2, "t")),
        ("max", (2,)),
        ("min", (2, 0)),
        ("clamp_min", (2, "t")),
        ("clamp_max", (2.5, "t")),
    ],
)
def test_overloaded_op_of_a_number_input_raises_torchs_type_error(device, fn, args):
    # ember raised AttributeError ("'int' object has no attribute 'dtype'"); PyTorch's argument parser
    # raises TypeError listing the overloads (one overload: "argument 'input' ... must be Tensor")
    def call(lib):
        t = lib.tensor([1, 2], device=device if lib is ember else "cpu")
        return getattr(lib, fn)(*(t if a == "t" else a for a in args))

    same_error(call)


def test_normal_of_numbers_takes_the_factory_keywords(device, dtype):
    # ember raised TypeError (no keyword 'layout'/'requires_grad'); PyTorch's overload of two numbers
    # and a size is a factory's: random values, so their shape, dtype and flags are compared
    tdt = getattr(torch, dtype.name)
    kwargs = {"layout": torch.strided, "pin_memory": False, "requires_grad": True}
    expected = torch.normal(1.6, 0.3, (2, 3), dtype=tdt, **kwargs)
    actual = ember.normal(1.6, 0.3, (2, 3), dtype=dtype, device=device, **{**kwargs, "layout": ember.strided})
    assert tuple(actual.shape) == tuple(expected.shape) and actual.dtype is dtype
    assert actual.requires_grad and actual.is_leaf and expected.is_leaf
    with pytest.raises(TypeError, match=r"^normal\(\) received an invalid combination of arguments - got \(Tensor, "):
        ember.normal(ember.ones(2, device=device), 0.3, requires_grad=True)
    with pytest.raises(TypeError, match=r"^normal\(\) received an invalid combination of arguments - got \(Tensor, "):
        torch.normal(torch.ones(2), 0.3, requires_grad=True)
