"""Off the main road, differential against PyTorch, bit for bit: ``xlogy``/``xlog1py`` of 16-bit floats (PyTorch
takes the log in the 16-bit type, then the product: two roundings), and ``hypot`` of float32 and 16-bit floats
(C's ``hypotf``, rounded once)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same(got, expected):
    got, expected = np.asarray(got.double().cpu().tolist()), np.asarray(expected.double().tolist())
    mismatch = ~((got == expected) | (np.isnan(got) & np.isnan(expected)))
    assert not mismatch.any(), f"{mismatch.sum()} of {mismatch.size}: {got[mismatch][:5]} vs {expected[mismatch][:5]}"


def _backend_has(device, dtype):
    try:
        ember.zeros(1, device=device).to(getattr(ember, dtype))
    except TypeError:
        pytest.skip(f"{device} has no {dtype}")


def _operands():
    rng = np.random.default_rng(0)
    a = rng.uniform(-5, 5, 600).astype(np.float32)
    b = rng.uniform(-0.5, 20, 600).astype(np.float32)
    a[::7], b[::11], b[::13], b[::17] = 0, np.nan, 0, -1
    return a, b


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@pytest.mark.parametrize("form", ["tensors", "number other", "number self"])
def test_xlogy_of_16_bit_floats_is_pytorchs_bit_for_bit(device, dtype, name, form):
    _backend_has(device, dtype)
    a, b = _operands()

    def call(lib, **kwargs):
        x, y = (lib.tensor(v, **kwargs).to(getattr(lib, dtype)) for v in (a, b))
        f = getattr(lib.special, name)
        return f(x, y) if form == "tensors" else f(x, 2.5) if form == "number other" else f(1.7, y)

    _same(call(ember, device=device), call(torch))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_hypot_is_pytorchs_bit_for_bit(device, dtype):
    _backend_has(device, dtype)
    rng = np.random.default_rng(1)
    a = rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)
    b = rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)
    a[:7] = [np.inf, -np.inf, np.nan, 0, 3e38, 1e-45, 1.0]
    b[:7] = [np.nan, 1, np.inf, 0, 3e38, 1e-45, 300.0]

    def call(lib, **kwargs):
        return lib.hypot(*(lib.tensor(v, **kwargs).to(getattr(lib, dtype)) for v in (a, b)))

    _same(call(ember, device=device), call(torch))


# name -> f(lib, x): a complex bound of a real tensor
COMPLEX_BOUNDS = {
    "clamp(min=number)": lambda L, x: x.clamp(min=1 + 2j),
    "clamp(number, number)": lambda L, x: x.clamp(1j, 2),
    "clamp_min(number)": lambda L, x: L.clamp_min(x, 1j),
    "clamp_max(number)": lambda L, x: L.clamp_max(x, 1j),
    "clamp(min=0-d tensor)": lambda L, x: x.clamp(min=L.tensor(1j, device=x.device)),
    "clamp(max=tensor)": lambda L, x: x.clamp(max=L.tensor([1j, 2, 3], device=x.device)),
}


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32", "float64"])
@pytest.mark.parametrize("call", sorted(COMPLEX_BOUNDS))
def test_a_complex_clamp_bound_of_a_real_tensor_is_pytorchs_error(device, dtype, call):
    """PyTorch refuses it (ember gave a complex64 result)."""
    _backend_has(device, dtype)
    if dtype == "float64" or "tensor" in call:
        _backend_has(device, "complex64")
    with pytest.raises((RuntimeError, NotImplementedError)) as expected:
        COMPLEX_BOUNDS[call](torch, torch.tensor([1, 0, 3]).to(getattr(torch, dtype)))
    x = ember.tensor([1, 0, 3], device=device).to(getattr(ember, dtype))
    with pytest.raises(expected.type) as got:
        COMPLEX_BOUNDS[call](ember, x)
    assert str(got.value).split(" for ")[0] == str(expected.value).split(" for ")[0]
