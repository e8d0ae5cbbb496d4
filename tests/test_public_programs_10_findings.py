"""Differences from PyTorch found by the round-10 public programs (tests/test_public_programs_10.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _gamma_draws(lib, device="cpu"):
    lib.manual_seed(0)
    concentration = lib.full((64,), 0.02, device=device, requires_grad=True)
    rate = lib.tensor(2.0, device=device, requires_grad=True)
    value = lib.distributions.Gamma(concentration, rate).rsample()
    value.sum().backward()
    return value, concentration.grad, rate.grad


def test_gamma_rsample_keeps_the_gradient_of_draws_lifted_to_tiny_as_torch(device):
    # Gamma.rsample clamps its draws to finfo.tiny in place through a detached alias: a draw that
    # underflowed keeps its gradient (ember clamped out of place: ClampBackward1, and a 0 gradient there)
    value, concentration_grad, rate_grad = _gamma_draws(ember, device)
    assert value.grad_fn.name() == "DivBackward0"
    tiny = np.finfo(np.float32).tiny
    lifted = value.detach().cpu().numpy() == tiny
    assert lifted.any()
    assert (concentration_grad.cpu().numpy()[lifted] != 0).all()
    if device == "cpu":
        theirs = _gamma_draws(torch)
        assert theirs[0].grad_fn.name() == "DivBackward0"
        # (PyTorch's _standard_gamma_grad approximates dx/dconcentration piecewise, to about 1e-4;
        # ember sums the series of the exact implicit gradient)
        for ours, reference, rtol in zip((value, concentration_grad, rate_grad), theirs, (1e-6, 1e-3, 1e-6)):
            np.testing.assert_allclose(ours.detach().numpy(), reference.detach().numpy(), rtol=rtol, atol=0)
