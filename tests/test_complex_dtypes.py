"""Complex dtypes: their attributes, type promotion, creation, casts and printing, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from complex_support import assert_same, holds_complex, torch

import ember

REAL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
COMPLEX = ["complex64", "complex128"]


def test_dtype_attributes_and_aliases():
    for name in COMPLEX:
        e, t = getattr(ember, name), getattr(torch, name)
        assert (e.is_complex, e.is_floating_point, e.is_signed, e.itemsize) == (
            t.is_complex,
            t.is_floating_point,
            t.is_signed,
            t.itemsize,
        )
    assert ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128
    assert not ember.float32.is_complex


@pytest.mark.parametrize("name", ["float32", "float64", "bfloat16", "complex64", "complex128", "int64", "bool"])
def test_to_real_and_to_complex(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert e.to_real().name == str(t.to_real()).split(".")[-1]
    try:
        expected = str(t.to_complex()).split(".")[-1]
    except RuntimeError as exc:
        with pytest.raises(RuntimeError, match=str(exc)):
            e.to_complex()
    else:
        assert e.to_complex().name == expected


def test_complex32_is_refused_clearly():
    with pytest.raises(TypeError, match="complex32"):
        ember.float16.to_complex()
    with pytest.raises(TypeError, match="complex32"):
        ember.dtypes.as_dtype("complex32")


@pytest.mark.parametrize("a", REAL + COMPLEX)
@pytest.mark.parametrize("b", COMPLEX)
def test_promote_types(a, b):
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert ember.promote_types(getattr(ember, a), getattr(ember, b)).name == str(expected).split(".")[-1]
    assert ember.promote_types(getattr(ember, b), getattr(ember, a)).name == str(expected).split(".")[-1]


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "complex64", "complex128", "bool"])
@pytest.mark.parametrize("other", [1j, 2.5, 3, "0-d complex128", "0-d complex64", "1-d complex64"])
def test_result_types_with_complex_operands(dtype, other):
    def operand(mod):
        if not isinstance(other, str):
            return other
        ndim, name = other.split(" ")
        shape = () if ndim == "0-d" else (2,)
        return mod.ones(shape, dtype=getattr(mod, name)) * 1j

    e = ember.ones(2, dtype=getattr(ember, dtype)) + operand(ember)
    t = torch.ones(2, dtype=getattr(torch, dtype)) + operand(torch)
    assert_same(e, t)


def test_default_dtype_float64_makes_complex128():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1j]).dtype is ember.complex128
        assert (ember.arange(2) * 1j).dtype is ember.complex128
        assert repr(ember.tensor([1 + 1j])) == "tensor([1.+1.j])"
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize(
    "data", [[1 + 2j], [1, 2j], 1j, [[1.5 + 2j, -3j], [0, 1e-5j]], [True, 1j], np.array([1j], np.complex64)]
)
def test_tensor_infers_complex(data):
    assert_same(ember.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_creation_with_complex_dtype(dtype):
    e, t = getattr(ember, dtype), getattr(torch, dtype)
    assert_same(ember.zeros(2, 3, dtype=e), torch.zeros(2, 3, dtype=t))
    assert_same(ember.ones(2, dtype=e), torch.ones(2, dtype=t))
    assert_same(ember.full((2,), 1 - 2j, dtype=e), torch.full((2,), 1 - 2j, dtype=t))
    assert_same(ember.full((2,), 1 - 2j), torch.full((2,), 1 - 2j))
    assert_same(ember.eye(2, dtype=e), torch.eye(2, dtype=t))
    assert_same(ember.tensor([1.0, 2.0]).to(e), torch.tensor([1.0, 2.0]).to(t))
    assert ember.empty(3, dtype=e).dtype is e


@pytest.mark.parametrize("dtype", COMPLEX)
def test_random_complex_samples(dtype):
    ember.manual_seed(0)
    z = ember.randn(20000, dtype=getattr(ember, dtype))
    assert z.dtype is getattr(ember, dtype)
    # as torch: each part N(0, 1/2), so E|z|^2 = 1
    assert abs(z.real.var().item() - 0.5) < 0.03 and abs(z.imag.var().item() - 0.5) < 0.03
    u = ember.rand(20000, dtype=getattr(ember, dtype))
    assert 0 <= u.real.min().item() and u.imag.max().item() < 1 and abs(u.imag.mean().item() - 0.5) < 0.02
    assert ember.randn_like(z).dtype is z.dtype


def test_cast_to_real_warns_and_keeps_the_real_part():
    z = ember.tensor([1 + 2j, -3 - 4j])
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        r = z.to(ember.float32)
    assert r.tolist() == [1.0, -3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert z.to(ember.bool).tolist() == [True, True]


@pytest.mark.parametrize(
    "data",
    [
        [1 + 2j],
        [1.5 + 2j, -3j],
        [[1 + 2j, 3.5 - 1j], [0, 1e-5j]],
        [float("nan") + 1j, float("inf") - 2.5j],
        1 + 2j,
        [0j, -0.0 - 0.0j],
        [1e10 + 1j, 2],
    ],
)
@pytest.mark.parametrize("dtype", [None, "complex128"])
def test_printing_as_torch(data, dtype):
    e = ember.tensor(data, dtype=None if dtype is None else getattr(ember, dtype))
    t = torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_printing_empty_complex_shows_dtype():
    assert repr(ember.zeros(0, dtype=ember.cfloat)) == "tensor([], dtype=ember.complex64)"


def test_item_tolist_numpy():
    z = ember.tensor([1 + 2j, 3j])
    assert z[0].item() == 1 + 2j and z.tolist() == [1 + 2j, 3j]
    assert z.numpy().dtype == np.complex64
    assert ember.is_complex(z) and z.is_complex() and not z.is_floating_point()


def test_requires_grad_on_complex():
    z = ember.tensor([1j], requires_grad=True)
    assert z.requires_grad and (z * 2).grad_fn is not None


def test_backend_without_complex_refuses_with_a_type_error(device):
    if holds_complex(device):
        assert ember.ones(2, device=device).to(ember.complex64).dtype is ember.complex64
        return
    backend = device.split(":")[0]
    message = f"{backend} backend does not support dtype"
    with pytest.raises(TypeError, match=message):
        ember.zeros(2, dtype=ember.complex64, device=device)
    with pytest.raises(TypeError, match=message):
        ember.tensor([1j], device=device)
    with pytest.raises(TypeError, match=message):
        ember.ones(2, device=device) * 1j
    with pytest.raises(TypeError, match=message):
        ember.tensor([1j]).to(device)
