"""The window functions against PyTorch: periodic and symmetric, float32 and float64, every
length class (0, 1, 2, odd, even), devices, errors."""

from __future__ import annotations

import pytest
from reference import assert_close

import ember

torch = pytest.importorskip("torch")

_WINDOWS = [
    ("hann_window", {}),
    ("hamming_window", {}),
    ("hamming_window", {"alpha": 0.5, "beta": 0.3}),
    ("blackman_window", {}),
    ("bartlett_window", {}),
    ("kaiser_window", {}),
    ("kaiser_window", {"beta": 3.5}),
]


@pytest.mark.parametrize("name,kwargs", _WINDOWS, ids=[f"{n}-{len(k)}" for n, k in _WINDOWS])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(device, dtype, name, kwargs, periodic):
    for n in (0, 1, 2, 5, 8, 33, 64):
        e = getattr(ember, name)(n, periodic, dtype=dtype, device=device, **kwargs)
        t = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype.name), **kwargs)
        assert e.dtype is dtype and e.device.type == device.split(":")[0]
        # within an ulp of PyTorch's (its cos and exp round differently in the last bit)
        assert_close(e, t, rtol=0, atol=2.5e-7 if dtype is ember.float32 else 2e-15)


def test_window_defaults_and_errors(device):
    e, t = ember.hann_window(6, device=device), torch.hann_window(6)
    assert e.dtype is ember.float32
    assert_close(e, t, rtol=0, atol=2.5e-7)
    assert ember.kaiser_window(4, requires_grad=True, device=device).requires_grad
    for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length=-1"):
                getattr(lib, name)(-1)
            with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
                getattr(lib, name)(4, dtype=lib.int64)
