"""``ember.stft``/``ember.istft`` against torch: values, dtypes, strides, gradients and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from complex_support import assert_same, holds_complex, torch

import ember

_rng = np.random.default_rng(0)
SIGNAL = _rng.standard_normal(37)
BATCH = _rng.standard_normal((3, 41))

STFT_CASES = [
    (SIGNAL, {"n_fft": 8, "window": "hann"}),
    (BATCH, {"n_fft": 8, "hop_length": 3, "window": "hann", "normalized": True}),
    (SIGNAL, {"n_fft": 7, "win_length": 5, "window": "hann", "pad_mode": "constant"}),
    (BATCH, {"n_fft": 8, "win_length": 5, "center": False, "onesided": False}),
    (SIGNAL, {"n_fft": 8, "hop_length": 2, "win_length": 4, "window": "hann", "center": False, "align_to_window": True}),
    (SIGNAL, {"n_fft": 6, "window": "hann", "return_complex": False}),
]  # fmt: skip


def _window(kind, length, dtype, device=None, library=ember):
    if kind is None:
        return None
    values = np.hanning(length + 2)[1:-1]
    if library is ember:
        return ember.tensor(values, dtype=getattr(ember, dtype), device=device, requires_grad=True)
    return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)


def _cotangent(like):
    """Random weights of ``like``'s shape and dtype, in ember and torch."""
    values = _rng.standard_normal(tuple(like.shape) + ((2,) if like.is_complex() else ()))
    t = torch.tensor(values, dtype=like.real.dtype)
    t = torch.view_as_complex(t) if like.is_complex() else t
    return ember.tensor(t.numpy(), device=None), t


@pytest.mark.filterwarnings("ignore:A window was not provided", "ignore:stft with return_complex=False")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("data", "kwargs"), STFT_CASES)
def test_stft_values_strides_and_gradients(device, dtype, data, kwargs):
    kwargs = dict(kwargs)
    kind = kwargs.pop("window", None)
    kwargs.setdefault("return_complex", True)
    win_length = kwargs.get("win_length", kwargs["n_fft"])
    x = ember.tensor(data, dtype=getattr(ember, dtype), device=device, requires_grad=True)
    window = _window(kind, win_length, dtype, device)
    if not holds_complex(device):
        with pytest.raises(TypeError, match="does not support dtype"):
            ember.stft(x, window=window, **kwargs)
        return
    tx = torch.tensor(data, dtype=getattr(torch, dtype), requires_grad=True)
    twindow = _window(kind, win_length, dtype, library=torch)
    out, expected = ember.stft(x, window=window, **kwargs), torch.stft(tx, window=twindow, **kwargs)
    assert_same(out, expected, rtol=1e-4, atol=1e-4)
    assert out.stride() == expected.stride()
    grad, tgrad = _cotangent(expected)
    out.backward(grad.to(device))
    expected.backward(tgrad)
    assert_same(x.grad, tx.grad, rtol=1e-4, atol=1e-4)
    if window is not None:
        assert_same(window.grad, twindow.grad, rtol=1e-4, atol=1e-4)


ISTFT_CASES = [
    (SIGNAL, {"n_fft": 8, "window": "hann"}, {}),
    (BATCH, {"n_fft": 8, "hop_length": 2, "window": "hann", "normalized": True}, {"length": 35}),
    (SIGNAL, {"n_fft": 7, "win_length": 6, "window": "hann"}, {"length": 38}),
    (BATCH, {"n_fft": 8, "hop_length": 2, "window": "hann", "center": False}, {}),
    (SIGNAL, {"n_fft": 8, "window": "hann", "onesided": False}, {"return_complex": True}),
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("data", "kwargs", "inverse_only"), ISTFT_CASES)
def test_istft_values_and_gradients(dtype, data, kwargs, inverse_only):
    kwargs = dict(kwargs)
    kind = kwargs.pop("window")
    win_length = kwargs.get("win_length", kwargs["n_fft"])
    tx = torch.tensor(data, dtype=getattr(torch, dtype))
    spectrum = torch.stft(tx, window=_window(kind, win_length, dtype, library=torch), return_complex=True, **kwargs)
    kwargs.pop("onesided", None)
    tspectrum = spectrum.detach().requires_grad_()
    espectrum = ember.tensor(spectrum.detach().numpy(), requires_grad=True)
    window, twindow = _window(kind, win_length, dtype), _window(kind, win_length, dtype, library=torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # length beyond the signal: padded, with a warning
        out = ember.istft(espectrum, window=window, **kwargs, **inverse_only)
        expected = torch.istft(tspectrum, window=twindow, **kwargs, **inverse_only)
    assert_same(out, expected, rtol=1e-4, atol=1e-4)
    grad, tgrad = _cotangent(expected)
    out.backward(grad)
    expected.backward(tgrad)
    assert_same(espectrum.grad, tspectrum.grad, rtol=1e-4, atol=1e-4)
    assert_same(window.grad, twindow.grad, rtol=1e-4, atol=1e-4)


def test_round_trip_and_tensor_methods():
    x = ember.randn(2, 50, dtype=ember.float64)
    window = ember.hann_window(16, dtype=ember.float64)
    spectrum = x.stft(16, hop_length=4, window=window, return_complex=True)
    np.testing.assert_allclose(spectrum.istft(16, hop_length=4, window=window, length=50).numpy(), x.numpy())


def test_rectangular_window_warns():
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(ember.ones(16), 8, return_complex=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lib, x: lib.stft(x, 8), "return_complex parameter be given"),
        (lambda lib, x: lib.stft(x, 0, return_complex=True), r"expected 0 < n_fft < 20, but got n_fft=0"),
        (lambda lib, x: lib.stft(x, 8, 0, return_complex=True), "expected hop_length > 0"),
        (lambda lib, x: lib.stft(x, 8, win_length=9, return_complex=True), "0 < win_length <= n_fft"),
        (lambda lib, x: lib.stft(x, 8, window=lib.ones(5), return_complex=True), "1D window tensor"),
        (lambda lib, x: lib.stft(x.view(2, 2, 5), 4, return_complex=True), "1D or 2D tensor"),
        (lambda lib, x: lib.stft(x.int(), 8, return_complex=True), "floating point or complex"),
        (lambda lib, x: lib.stft(x, 8, onesided=True, window=lib.ones(8, dtype=lib.complex64)),
         "Cannot have onesided output"),
        (lambda lib, x: lib.stft(x, 8, align_to_window=True, return_complex=True), "align_to_window"),
        (lambda lib, x: lib.istft(x, 8), "complex-valued input"),
        (lambda lib, x: lib.istft(lib.ones(4, 9, dtype=lib.complex64), 8), "n_fft / 2 \\+ 1"),
        (lambda lib, x: lib.istft(lib.ones(5, 9, dtype=lib.complex64), 8, hop_length=9),
         "0 < hop_length <= win_length"),
        (lambda lib, x: lib.istft(lib.ones(5, 9, dtype=lib.complex64), 8, window=lib.zeros(8)),
         "window overlap add min"),
        (lambda lib, x: lib.istft(lib.ones(5, 9, dtype=lib.complex64), 8, window=lib.ones(8), return_complex=True),
         "Cannot have onesided output"),
    ],
)  # fmt: skip
def test_errors_match_torch(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match=message):
                call(lib, lib.arange(20.0))


def test_autocast_runs_stft_in_float32():
    results = []
    for lib in (ember, torch):
        x, window = lib.ones(32, dtype=lib.bfloat16), lib.hann_window(8, dtype=lib.bfloat16)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            results.append(lib.stft(x, 8, window=window, return_complex=True))
        with pytest.raises(RuntimeError, match="BFloat16"):
            lib.stft(x, 8, window=window, return_complex=True)
    assert_same(*results)
