"""``ember.signal.windows`` against ``torch.signal.windows``: values, dtypes, leaf-ness and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
import ember.signal.windows as windows

torch = pytest.importorskip("torch")
torch_windows = pytest.importorskip("torch.signal.windows")

CASES = [
    ("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {}), ("exponential", {"tau": 2.5}),
    ("exponential", {"center": 1.5, "sym": False}), ("gaussian", {}), ("gaussian", {"std": 0.7}),
    ("general_cosine", {"a": [0.46, 0.23, 0.31]}), ("general_hamming", {"alpha": 0.6}), ("hamming", {}),
    ("hann", {}), ("kaiser", {}), ("kaiser", {"beta": 3.0}), ("nuttall", {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_values_match_torch(device, dtype, name, kwargs):
    dt = str(dtype).split(".")[-1]
    tolerance = 1e-6 if dt == "float32" else 1e-13
    for M, sym in itertools.product([0, 1, 2, 5, 8], [True, False]):
        kw = {"sym": sym, **kwargs}
        if kw.get("center") is not None and kw["sym"]:
            continue
        out = getattr(windows, name)(M, dtype=dtype, device=device, **kw)
        expected = getattr(torch_windows, name)(M, dtype=getattr(torch, dt), **kw)
        assert out.dtype is dtype and out.device == ember.device(device) and tuple(out.shape) == (M,)
        np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), rtol=tolerance, atol=tolerance)


def test_requires_grad_gives_a_leaf():
    w = windows.hann(5, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    (w * ember.arange(5.0)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.arange(5.0))


def test_default_dtype_and_off_centre_single_value():
    assert windows.cosine(3).dtype is ember.get_default_dtype()
    out = windows.exponential(1, center=2.0, sym=False, dtype=ember.float64)
    np.testing.assert_allclose(out.numpy(), torch_windows.exponential(1, center=2.0, sym=False).numpy())


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w, lib: w.hann(-1), ValueError, "requires non-negative window length, got M=-1"),
        (lambda w, lib: w.hamming(3, dtype=lib.float16), ValueError, "expects float32 or float64 dtypes"),
        (lambda w, lib: w.bartlett(3, dtype=lib.int64), ValueError, "expects float32 or float64 dtypes"),
        (lambda w, lib: w.hann(3, layout=lib.sparse_coo), ValueError, "strided tensors only"),
        (lambda w, lib: w.kaiser(3, beta=-1.0), ValueError, "beta must be non-negative"),
        (lambda w, lib: w.gaussian(3, std=0.0), ValueError, "Standard deviation must be positive"),
        (lambda w, lib: w.exponential(3, tau=0.0), ValueError, "Tau must be positive"),
        (lambda w, lib: w.exponential(3, center=1.0), ValueError, "Center must be None for symmetric windows"),
        (lambda w, lib: w.general_cosine(3, a=[]), ValueError, "Coefficients cannot be empty"),
        (lambda w, lib: w.general_cosine(3, a=3), TypeError, "Coefficients must be a list/tuple"),
    ],
)
def test_errors_match_torch(call, error, message):
    for w, lib in ((windows, ember), (torch_windows, torch)):
        with pytest.raises(error, match=message):
            call(w, lib)
