"""Differences from PyTorch found by the round-16 public programs (tests/test_public_programs_16.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_POSITIVE = np.linspace(1e-4, 30, 4001)
_NEGATIVE = np.linspace(-5.5, -0.01, 1001)
_EDGES = [0.0, -0.0, -3.0, 0.5, -0.5, 9.0, 10.0, 1e17, -1e20, 1e20, np.inf, -np.inf, np.nan]
_INPUTS = np.concatenate([_POSITIVE, _NEGATIVE, np.geomspace(1e-30, 1e30, 601), _EDGES])


def _values(lib, dev, op, name):
    x = lib.tensor(_INPUTS, dtype=lib.float64, device=dev).to(getattr(lib, name))
    y = lib.digamma(x) if op == "digamma" else lib.polygamma(1, x)
    return y.double().cpu().numpy()


@pytest.mark.parametrize("op", ["digamma", "trigamma"])
@pytest.mark.parametrize("name", ["float32", "float64"])
def test_digamma_and_trigamma_follow_torchs_algorithm(device, op, name):
    """The evidential-learning program's ``edl_digamma_loss`` trained apart from torch's in float64 (a
    weight 2e-9 off after four steps): ember's ``digamma`` (a reflection below 1/2, a longer asymptotic
    series) was up to 3e-12 off PyTorch's relative to the value in float64 (774 of 21001 inputs) and off in
    44% of float32 inputs; its gradient, ``polygamma(1, x)`` (the Hurwitz zeta), differed in 97% of float64
    inputs (to 5e-10) and 46% of float32 ones, and at the negative integers gave 2.6e31 where PyTorch's
    ``sin`` rounding gives 2.2e13 (bfloat16 at -5). Both now follow PyTorch's ``calc_digamma`` and
    ``calc_trigamma``; what is left is the last unit of a ``log``/``sin`` (NumPy's and the C library's round
    a few inputs apart, float32 sines of large arguments one in a hundred): at most 1 input in 100 one
    unit off."""
    want = _values(torch, "cpu", op, name)
    got = _values(ember, device, op, name)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    # (OpenCL's float64 divisions and logarithms are a unit off more often than NumPy's)
    limit = len(_INPUTS) // (20 if name == "float64" and ember.device(device).type == "opencl" else 100)
    assert (got[finite] != want[finite]).sum() <= limit
    eps = np.finfo(name).eps
    np.testing.assert_allclose(got[finite], want[finite], rtol=4 * eps, atol=4 * eps)  # (near the root)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_trigamma_of_16_bit_inputs_as_torch(device, name):
    """16-bit inputs are computed in float32, as PyTorch's kernel computes them: bfloat16's trigamma at
    the negative integers was 2.6e31 (PyTorch: 2.2e13), float16's 28 of 221017 inputs a unit off."""
    if name == "bfloat16" and ember.device(device).type == "opencl":
        pytest.skip("opencl has no bfloat16")
    want = _values(torch, "cpu", "trigamma", name)
    got = _values(ember, device, "trigamma", name)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    assert (got[finite] != want[finite]).sum() <= 2
    np.testing.assert_allclose(got[finite], want[finite], rtol=2 * np.finfo(np.float16).eps, atol=0)


def _evidential_digamma_step(lib, dtype):
    """One step of the evidential ``edl_digamma_loss`` (digamma of the Dirichlet strength and of alpha, the
    KL to the uniform Dirichlet by lgamma/digamma): the loss and the gradient of the evidence."""
    rng = np.random.default_rng(0)
    evidence = lib.tensor(rng.random((6, 3)) * 4, dtype=dtype, requires_grad=True)
    y = lib.eye(3, dtype=dtype)[lib.tensor([0, 1, 2, 0, 1, 2])]
    alpha = evidence + 1
    S = alpha.sum(1, keepdim=True)
    A = (y * (lib.digamma(S) - lib.digamma(alpha))).sum(1, keepdim=True)
    kl_alpha = (alpha - 1) * (1 - y) + 1
    ones = lib.ones(1, 3, dtype=dtype)
    sum_kl = kl_alpha.sum(1, keepdim=True)
    kl = (lib.lgamma(sum_kl) - lib.lgamma(kl_alpha).sum(1, keepdim=True)) + (
        (kl_alpha - ones) * (lib.digamma(kl_alpha) - lib.digamma(sum_kl))
    ).sum(1, keepdim=True)
    loss = (A + 0.3 * kl).mean()
    loss.backward()
    return loss.item(), evidence.grad.numpy()


def test_evidential_digamma_loss_gradient_as_torch():
    """The program's loss and its gradient (through ``polygamma(1, x)``) in float64, to 1e-14 of PyTorch's
    (the gradient was 1.1e-10 apart)."""
    want = _evidential_digamma_step(torch, torch.float64)
    got = _evidential_digamma_step(ember, ember.float64)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14, atol=1e-15)
