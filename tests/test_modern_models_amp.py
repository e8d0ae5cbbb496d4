"""Autocast off the main road, against PyTorch's CPU build: the deprecated ``cpu.amp`` spellings and the
weight-cast cache under ``no_grad``."""

from __future__ import annotations

import warnings

from reference import torch

import ember


def test_cpu_amp_spellings_warn_as_deprecated_as_torch():
    for name in ("autocast", "GradScaler"):
        messages = []
        for lib in (torch, ember):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                getattr(lib.cpu.amp, name)()
            messages.append(
                [str(w.message).replace(lib.__name__, "LIB") for w in caught if w.category is FutureWarning]
            )
        assert messages[1] == messages[0] and len(messages[0]) == 1


def _weight_cast_under_no_grad(lib, device_kw, device_type):
    """Outputs of a linear layer in one region: under no_grad, after an in-place change of its weight
    under no_grad, then with grad, and the weight's gradient from that last output."""
    lib.manual_seed(0)
    layer = lib.nn.Linear(4, 3, **device_kw)
    with lib.no_grad():
        layer.weight.copy_(lib.arange(12.0, **device_kw).reshape(3, 4) / 8)
    x = lib.ones(2, 4, **device_kw)
    with lib.autocast(device_type, dtype=lib.bfloat16):
        with lib.no_grad():
            first = layer(x)
            layer.weight.add_(1.0)
            second = layer(x)  # PyTorch's cache made the weight's cast under no_grad too: still the old one
        third = layer(x)
    third.float().sum().backward()
    return [t.detach().float().cpu().numpy() for t in (first, second, third, layer.weight.grad)], third.requires_grad


def test_weight_cast_cache_under_no_grad_as_torch(amp_device):
    device, device_type = amp_device
    want, want_rg = _weight_cast_under_no_grad(torch, {}, "cpu")
    got, got_rg = _weight_cast_under_no_grad(ember, {"device": device}, device_type)
    assert got_rg is want_rg is True
    for g, w in zip(got, want):
        assert (g == w).all()


def test_rms_norm_warns_once_on_a_weight_of_another_dtype_as_torch(monkeypatch):
    # PyTorch's TORCH_WARN_ONCE: the first call in a process warns, later ones do not
    import ember.nn.functional.normalization as normalization

    monkeypatch.setattr(normalization, "_rms_norm_warned", [])
    x, w = ember.randn(2, 4, dtype=ember.float16), ember.rand(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = ember.nn.functional.rms_norm(x, (4,), w)
        ember.nn.functional.rms_norm(x, (4,), w)
    assert out.dtype == ember.float16
    assert [str(c.message) for c in caught] == [
        "Mismatch dtype between input and weight: input dtype = c10::Half, weight dtype = float, "
        "Cannot dispatch to fused implementation."
    ]
    tx, tw = torch.randn(2, 4, dtype=torch.float16), torch.rand(4)
    with warnings.catch_warnings(record=True) as caught:  # torch warned already in this process, or now
        warnings.simplefilter("always")
        torch.nn.functional.rms_norm(tx, (4,), tw)
    assert all("Mismatch dtype between input and weight: input dtype = c10::Half" in str(c.message) for c in caught)
