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
