"""``ember.fft`` against ``torch.fft``: values, dtypes, shapes, gradients and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from complex_support import assert_same, complex_data, holds_complex, torch

import ember

_rng = np.random.default_rng(0)
REAL = _rng.standard_normal((3, 4, 5))
COMPLEX = complex_data(3, 4, 5)

CASES = [
    ("fft", COMPLEX, {}), ("fft", REAL, {"n": 7}), ("fft", COMPLEX, {"n": 3, "dim": 1, "norm": "ortho"}),
    ("ifft", COMPLEX, {"norm": "forward"}), ("ifft", REAL, {"n": 8, "dim": 0}),
    ("rfft", REAL, {}), ("rfft", REAL, {"n": 8, "norm": "forward"}), ("rfft", REAL, {"n": 3, "dim": 0, "norm": "ortho"}),
    ("irfft", COMPLEX, {}), ("irfft", COMPLEX, {"n": 7}), ("irfft", COMPLEX, {"n": 4, "dim": 1, "norm": "ortho"}),
    ("irfft", COMPLEX, {"n": 12, "norm": "forward"}), ("irfft", REAL, {}),
    ("hfft", COMPLEX, {}), ("hfft", COMPLEX, {"n": 5, "norm": "ortho"}),
    ("ihfft", REAL, {}), ("ihfft", REAL, {"n": 6, "norm": "forward"}),
    ("fft2", COMPLEX, {}), ("fft2", REAL, {"s": (5, 6), "norm": "ortho"}), ("ifft2", COMPLEX, {"dim": (0, 2)}),
    ("rfft2", REAL, {}), ("rfft2", REAL, {"s": (3, 7)}), ("irfft2", COMPLEX, {}),
    ("irfft2", COMPLEX, {"s": (4, 9), "norm": "forward"}),
    ("fftn", COMPLEX, {}), ("fftn", REAL, {"s": (2, 3)}), ("ifftn", COMPLEX, {"dim": (0, 1), "norm": "ortho"}),
    ("rfftn", REAL, {}), ("rfftn", REAL, {"dim": (2, 0)}), ("irfftn", COMPLEX, {}), ("irfftn", COMPLEX, {"s": (3, 4, 7)}),
    ("irfftn", COMPLEX, {"dim": (1, 0)}), ("hfft2", COMPLEX, {}), ("ihfft2", REAL, {}), ("hfftn", COMPLEX, {}),
    ("ihfftn", REAL, {"norm": "ortho"}),
]  # fmt: skip


def _typed(data, real_dtype):
    if np.iscomplexobj(data):
        return data.astype(np.complex64 if real_dtype == "float32" else np.complex128)
    return data.astype(real_dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,data,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_transform_values_and_gradients(device, dtype, name, data, kwargs):
    array = _typed(data, dtype)
    if not holds_complex(device):  # complex input, or the real input's transform, is refused
        with pytest.raises(TypeError, match=f"{device.split(':')[0]} backend does not support dtype"):
            getattr(ember.fft, name)(ember.tensor(array, device=device), **kwargs)
        return
    x = ember.tensor(array, device=device, requires_grad=True)
    tx = torch.tensor(array, requires_grad=True)
    out, tout = getattr(ember.fft, name)(x, **kwargs), getattr(torch.fft, name)(tx, **kwargs)
    assert_same(out, tout, rtol=1e-4, atol=1e-4)
    weights = np.asarray(complex_data(*tout.shape, seed=3) if tout.is_complex() else _rng.standard_normal(tout.shape))
    w, tw = ember.tensor(weights, dtype=out.dtype, device=device), torch.tensor(weights, dtype=tout.dtype)
    ((out * w).real.sum() if out.dtype.is_complex else (out * w).sum()).backward()
    ((tout * tw).real.sum() if tout.is_complex() else (tout * tw).sum()).backward()
    assert_same(x.grad, tx.grad, rtol=1e-4, atol=1e-3)


def test_integer_input_takes_the_default_type():
    for name in ("fft", "rfft", "ihfft"):
        assert_same(getattr(ember.fft, name)(ember.arange(6)), getattr(torch.fft, name)(torch.arange(6)))
    assert_same(ember.fft.irfft(ember.arange(4)), torch.fft.irfft(torch.arange(4)))


def test_round_trips():
    x = ember.tensor(REAL, dtype=ember.float64)
    assert ember.allclose(ember.fft.irfftn(ember.fft.rfftn(x), s=x.shape), x)
    assert ember.allclose(ember.fft.ifft(ember.fft.fft(x)).real, x)
    assert ember.allclose(ember.fft.hfft(ember.fft.ihfft(x), n=5), x)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.fft.rfft(m.ones(4, dtype=m.complex64)),
        lambda m: m.fft.ihfft(m.ones(4, dtype=m.complex64)),
        lambda m: m.fft.fft(m.ones(4), n=0),
        lambda m: m.fft.irfft(m.ones(1, dtype=m.complex64)),
        lambda m: m.fft.fft(m.ones(4), norm="foo"),
        lambda m: m.fft.fft(m.ones(4), dim=2),
        lambda m: m.fft.fftn(m.ones(4), s=(2, 2), dim=(0,)),
        lambda m: m.fft.fftn(m.ones(2, 2), dim=(0, 0)),
        lambda m: m.fft.fft(m.ones(4, dtype=m.float16)),
        lambda m: m.fft.fft(m.tensor(1.0)),
        lambda m: m.fft.fft(m.zeros(0)),
        lambda m: m.fft.fftfreq(4, dtype=m.int64),
        lambda m: m.fft.rfftfreq(4, dtype=m.complex64),
    ],
)
def test_errors_as_torch(call):
    with pytest.raises((RuntimeError, IndexError, NotImplementedError)) as expected:
        call(torch)
    with pytest.raises(expected.type, match=re.escape(str(expected.value))):
        call(ember)


@pytest.mark.parametrize("dtype", [None, "float64"])
@pytest.mark.parametrize("n,d", [(5, 1.0), (6, 0.1), (1, 2.0)])
def test_frequencies(dtype, n, d):
    kw_e = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    kw_t = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    assert_same(ember.fft.fftfreq(n, d, **kw_e), torch.fft.fftfreq(n, d, **kw_t), rtol=0, atol=0)
    assert_same(ember.fft.rfftfreq(n, d, **kw_e), torch.fft.rfftfreq(n, d, **kw_t), rtol=0, atol=0)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), (-1,)])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 5, 3)])
def test_shifts(shape, dim):
    if dim is not None and max(d if d >= 0 else -d - 1 for d in ((dim,) if isinstance(dim, int) else dim)) >= len(
        shape
    ):
        pytest.skip("dim beyond the shape")
    e, t = ember.arange(int(np.prod(shape))).reshape(shape), torch.arange(int(np.prod(shape))).reshape(shape)
    assert_same(ember.fft.fftshift(e, dim), torch.fft.fftshift(t, dim))
    assert_same(ember.fft.ifftshift(e, dim), torch.fft.ifftshift(t, dim))


def test_spectral_convolution_layer_trains():
    """An FNO-style spectral layer: rfft, a complex weight on the low modes, irfft."""
    ember.manual_seed(0)
    weight = ember.complex(ember.randn(4), ember.randn(4)).requires_grad_()
    x = ember.randn(8, 16)
    target = ember.randn(8, 16)
    opt = ember.optim.SGD([weight], lr=0.01)
    losses = []
    for _ in range(20):
        spectrum = ember.fft.rfft(x)
        low = spectrum[:, :4] * weight
        out = ember.fft.irfft(ember.cat([low, spectrum[:, 4:] * 0], dim=1), n=16)
        loss = ((out - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert weight.grad.dtype is ember.complex64
    assert losses[-1] < losses[0]


def test_fno_spectral_layer_gradients_as_torch():
    """A 2-D Fourier layer (rfft2, a complex einsum on the low modes, irfft2), gradients against torch."""
    x_data = _rng.standard_normal((2, 3, 8, 8))
    w_data = complex_data(3, 4, 4, 3, seed=5) * 0.1
    grads = []
    for m in (ember, torch):
        x = m.tensor(x_data, dtype=m.float32, requires_grad=True)
        w = m.tensor(w_data, dtype=m.complex64, requires_grad=True)
        spectrum = m.fft.rfft2(x, norm="ortho")
        low = m.einsum("bixy,ioxy->boxy", spectrum[:, :, :4, :3], w)
        padded = m.zeros(2, 4, 8, 5, dtype=m.complex64)
        padded[:, :, :4, :3] = low
        out = m.fft.irfft2(padded, s=(8, 8), norm="ortho")
        (out**2).mean().backward()
        grads.append((x.grad, w.grad))
    assert_same(grads[0][0], grads[1][0], rtol=1e-4, atol=1e-6)
    assert_same(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-6)
