"""``ember.cuda.amp`` and ``autocast("cuda")``/``GradScaler("cuda")`` against PyTorch's CPU-only build:
the deprecated spellings warn with a FutureWarning, and without CUDA autocast and the scaler warn and
turn themselves off. Where CUDA is available (a GPU run) the regions are on instead."""

from __future__ import annotations

import warnings

import pytest
from reference import torch

import ember
import ember.cuda.amp
import ember.nn.functional as F

pytest.importorskip("ml_dtypes")
CUDA = ember.cuda.is_available()


def _caught(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = make()
    return made, [(w.category, str(w.message)) for w in caught]


def _adapted(messages):
    return [(c, m.replace("torch", "ember").replace(" or ember_xla is imported", "")) for c, m in messages]


def test_cuda_amp_autocast_is_the_deprecated_cuda_autocast():
    region, got = _caught(ember.cuda.amp.autocast)
    _, expected = _caught(torch.cuda.amp.autocast) if not torch.cuda.is_available() else (None, None)
    assert isinstance(region, ember.autocast) and region.device == "cuda" and region.fast_dtype is ember.float16
    assert got[0][0] is FutureWarning
    assert (
        got[0][1]
        == "`ember.cuda.amp.autocast(args...)` is deprecated. Please use `ember.amp.autocast('cuda', args...)` instead."
    )
    if not CUDA:
        assert got == _adapted(expected)
    with region:
        assert ember.is_autocast_enabled("cuda") is CUDA
    assert not ember.is_autocast_enabled("cuda")
    region, _ = _caught(lambda: ember.cuda.amp.autocast(enabled=False, dtype=ember.bfloat16))
    assert region.fast_dtype is ember.bfloat16
    with region:
        assert not ember.is_autocast_enabled("cuda")


@pytest.mark.skipif(CUDA, reason="the behaviour without CUDA")
def test_cuda_autocast_without_cuda_warns_and_disables_as_torch():
    x, w = ember.randn(2, 4), ember.randn(3, 4)
    for dtype in ("float16", "bfloat16", "float32", "int32"):
        t_region, expected = _caught(lambda d=dtype: torch.autocast("cuda", dtype=getattr(torch, d)))
        e_region, got = _caught(lambda d=dtype: ember.autocast("cuda", dtype=getattr(ember, d)))
        assert got == _adapted(expected)
        with t_region, e_region:
            assert ember.is_autocast_enabled("cuda") == torch.is_autocast_enabled("cuda") == False  # noqa: E712
            assert F.linear(x, w).dtype is ember.float32
    _, got = _caught(lambda: ember.autocast("cuda", enabled=False))
    assert got == []


def test_cuda_amp_grad_scaler_is_the_deprecated_cuda_scaler():
    scaler, got = _caught(lambda: ember.cuda.amp.GradScaler(init_scale=8.0, growth_interval=3))
    assert isinstance(scaler, ember.amp.GradScaler)
    assert got[0] == (
        FutureWarning,
        "`ember.cuda.amp.GradScaler(args...)` is deprecated. Please use `ember.amp.GradScaler('cuda', args...)` instead.",
    )
    assert scaler.is_enabled() is CUDA
    if not CUDA:
        t_scaler, expected = _caught(lambda: torch.cuda.amp.GradScaler(init_scale=8.0, growth_interval=3))
        assert got == _adapted(expected)
        assert scaler.get_scale() == t_scaler.get_scale() == 1.0
        assert scaler.state_dict() == t_scaler.state_dict() == {}
        p = ember.nn.Parameter(ember.ones(2))
        p.grad = ember.full((2,), 3.0)
        opt = ember.optim.SGD([p], lr=1.0)
        scaler.step(opt)  # a disabled scaler passes the step through
        assert p.tolist() == [-2.0, -2.0]
    _, got = _caught(lambda: ember.amp.GradScaler("cuda", enabled=False))
    assert got == []


def test_is_bf16_supported_without_cuda_is_torchs_answer():
    if CUDA:
        pytest.skip("a GPU run checks the CuPy backend's bfloat16 below")
    assert ember.cuda.is_bf16_supported() is False
    assert torch.cuda.is_bf16_supported() is False


@pytest.mark.skipif(not CUDA, reason="needs a GPU")
def test_cupy_bfloat16_where_cupy_has_it_else_a_clear_refusal():
    """CuPy 14 computes with ml_dtypes' bfloat16: the CuPy backend then holds ember.bfloat16 (sums in
    float32 as PyTorch's, autocast regions in bfloat16). An older CuPy refuses the dtype with a
    TypeError naming the backend, and ``autocast("cuda", bfloat16)`` raises as PyTorch does on a
    device without bfloat16."""
    if not ember.cuda.is_bf16_supported():
        with pytest.raises(TypeError, match="cupy backend does not support dtype ember.bfloat16"):
            ember.zeros(2, device="cuda", dtype=ember.bfloat16)
        with pytest.raises(RuntimeError, match="Current CUDA Device does not support bfloat16"):
            ember.autocast("cuda", dtype=ember.bfloat16)
        return
    host = ember.randn(64, 300).bfloat16()
    x = host.to("cuda")
    assert x.dtype is ember.bfloat16 and ember.equal(x.cpu(), host)
    assert ember.ones(1000, device="cuda", dtype=ember.bfloat16).sum().item() == 1000.0
    assert abs(x.float().sum().item() - x.sum().float().item()) <= 2.0**-7 * abs(x.float().sum().item()) + 1e-2
    w = ember.randn(8, 300, device="cuda", requires_grad=True)
    with ember.autocast("cuda", dtype=ember.bfloat16):
        y = F.linear(x.float(), w)
        loss = F.mse_loss(y, ember.zeros(64, 8, device="cuda"))
    assert y.dtype is ember.bfloat16 and loss.dtype is ember.float32
    loss.backward()
    assert w.grad.dtype is ember.float32
    expected = F.mse_loss(F.linear(x.float(), w.detach()), ember.zeros(64, 8, device="cuda"))
    assert abs(loss.item() - expected.item()) <= 2e-2 * expected.item()


@pytest.mark.skipif(not CUDA, reason="needs a GPU")
def test_cuda_autocast_region_on_a_gpu():
    x, w = ember.randn(2, 4, device="cuda"), ember.randn(3, 4, device="cuda")
    with ember.autocast("cuda"):
        y = F.linear(x, w)
        loss = F.mse_loss(y, ember.zeros(2, 3, device="cuda", dtype=ember.float16))
    assert y.dtype is ember.float16 and loss.dtype is ember.float32
