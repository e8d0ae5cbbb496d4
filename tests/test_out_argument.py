"""The ``out=`` argument against PyTorch: the result written into ``out`` (cast to its dtype, resized
to the result's shape), ``out`` itself returned, and PyTorch's errors for a dtype that cannot hold
the result and for arguments that require grad."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

#: name -> (fn(T, out), out dtype): an op writing into ``out`` of three elements
OPS = {
    "add_int_into_float64": (lambda T, d, o: T.add(T.tensor([1, 2, 3], device=d), 1, out=o), "float64"),
    "add_alpha": (
        lambda T, d, o: T.add(T.tensor([1, 2, 3], device=d), T.tensor([1, 1, 1], device=d), alpha=2, out=o),
        "int64",
    ),
    "add_alpha_narrow": (
        lambda T, d, o: T.add(
            T.tensor([1, 2, 3], dtype=T.int8, device=d), T.tensor([1, 1, 1], dtype=T.int8, device=d), alpha=2, out=o
        ),
        "int16",
    ),
    "sub_float": (lambda T, d, o: T.sub(T.tensor([1.0, 2.0, 3.0], device=d), 1.5, out=o), "float32"),
    "mul_wraps_into_int8": (lambda T, d, o: T.mul(T.tensor([1, 2, 3], device=d), 100, out=o), "int8"),
    "div": (lambda T, d, o: T.div(T.tensor([1, 2, 3], device=d), 2, out=o), "float32"),
    "div_floor_into_half": (
        lambda T, d, o: T.div(T.tensor([1, 2, 3], device=d), 2, rounding_mode="floor", out=o),
        "float16",
    ),
    "cat": (lambda T, d, o: T.cat([T.tensor([1], device=d), T.tensor([2, 3], device=d)], out=o), "float32"),
    "zeros": (lambda T, d, o: T.zeros(3, out=o), "int64"),
    "ones": (lambda T, d, o: T.ones(3, out=o), "float16"),
    "full_truncated": (lambda T, d, o: T.full((3,), 7.5, out=o), "int64"),
    "arange": (lambda T, d, o: T.arange(3, out=o), "float32"),
    "arange_into_integer": (lambda T, d, o: T.arange(0, 4, 1.5, out=o), "int32"),
}


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", list(OPS))
def test_out_receives_the_result(name, device):
    fn, out_dtype = OPS[name]
    want_out = torch.empty(3, dtype=getattr(torch, out_dtype))
    want = fn(torch, "cpu", want_out)
    out = ember.empty(3, dtype=getattr(ember, out_dtype), device=device)
    got = fn(ember, device, out)
    assert got is out and want is want_out
    assert _dtype_name(out) == _dtype_name(want_out)
    np.testing.assert_array_equal(out.cpu().numpy(), want_out.numpy())


@pytest.mark.parametrize("elements", [0, 2])
def test_out_of_another_shape_is_resized(elements, device):
    out = ember.empty(elements, dtype=ember.int64, device=device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.add(ember.tensor([[1, 2, 3]], device=device), 1, out=out)
    assert out.shape == (1, 3) and out.tolist() == [[2, 3, 4]]
    # PyTorch warns where out had elements
    assert [w.category for w in caught] == ([UserWarning] if elements else [])


def test_factory_resizes_out_quietly(device):
    out = ember.empty(4, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.ones(2, 2, out=out)
    assert out.shape == (2, 2) and out.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_out_keeps_its_strides(device):
    out = ember.empty(2, 2, device=device).t()
    ember.add(ember.ones(2, 2, device=device), ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device), out=out)
    assert out.stride() == (1, 2)
    assert out.tolist() == [[2.0, 3.0], [4.0, 5.0]]


#: name -> fn(T, device): calls that PyTorch refuses
ERRORS = {
    "float_into_integer": lambda T, d: T.add(T.tensor([1.0], device=d), 1, out=T.empty(1, dtype=T.int64, device=d)),
    "integer_into_bool": lambda T, d: T.add(T.tensor([1], device=d), 1, out=T.empty(1, dtype=T.bool, device=d)),
    "true_division_into_integer": lambda T, d: T.div(
        T.tensor([1], device=d), 2, out=T.empty(1, dtype=T.int64, device=d)
    ),
    "input_requires_grad": lambda T, d: T.mul(T.ones(1, device=d, requires_grad=True), 2, out=T.empty(1, device=d)),
    "out_requires_grad": lambda T, d: T.mul(T.ones(1, device=d), 2, out=T.empty(1, device=d, requires_grad=True)),
    "factory_dtype_mismatch": lambda T, d: T.zeros(2, dtype=T.float32, out=T.empty(2, dtype=T.int64, device=d)),
    "cat_float_into_integer": lambda T, d: T.cat(
        [T.tensor([1], device=d), T.tensor([2.0], device=d)], out=T.empty(2, dtype=T.int64, device=d)
    ),
    "out_aliases_its_elements": lambda T, d: T.add(T.ones(2, device=d), 1, out=T.zeros(1, device=d).expand(2)),
    "arange_step_truncated_to_zero": lambda T, d: T.arange(0, 1, 0.25, out=T.empty(0, dtype=T.int64, device=d)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_out_errors_like_torch(name, device):
    fn = ERRORS[name]
    with pytest.raises(Exception) as want:
        fn(torch, "cpu")
    with pytest.raises(want.type):
        fn(ember, device)


def test_out_without_grad_mode_takes_a_tensor_that_requires_grad(device):
    out = ember.empty(1, device=device)
    with ember.no_grad():
        ember.mul(ember.ones(1, device=device, requires_grad=True), 2, out=out)
    assert out.tolist() == [2.0] and not out.requires_grad
