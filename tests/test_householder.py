"""``geqrf``, ``orgqr`` and ``ormqr`` (QR in LAPACK's compact Householder form), against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (1, 1), (5, 1), (0, 3), (2, 0, 2)])
def test_geqrf_gives_lapacks_factors(device, dtype, shape):
    # ember had neither ember.geqrf nor Tensor.geqrf (AttributeError)
    A = randn(*shape)
    got = ember.tensor(A, dtype=dtype, device=device).geqrf()
    expected = torch.geqrf(torch.tensor(A, dtype=getattr(torch, str(dtype).split(".")[-1])))
    assert type(got).__name__ == "geqrf" and got._fields == ("a", "tau")
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape)
        assert_close(g, e, dtype, 1e-5 if dtype == ember.float32 else 1e-10, 1e-5 if dtype == ember.float32 else 1e-12)


def test_geqrf_of_reduced_columns_and_complex():
    reduced = np.zeros((3, 3))
    reduced[:, 0] = [2.0, 0.0, 0.0]  # already reduced: tau 0, the column kept
    reduced[1:, 2] = [1.0, -2.0]
    complex_input = randn(4, 3) + 1j * randn(4, 3)
    for A in (reduced, complex_input):
        got, expected = ember.geqrf(ember.tensor(A)), torch.geqrf(torch.tensor(A))
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_and_orgqr(device, dtype, left, transpose):
    # ember had neither (AttributeError); both are differentiable, as PyTorch's
    a, tau = torch.geqrf(torch.tensor(randn(2, 5, 3)))
    other = randn(2, 5, 4) if left else randn(2, 4, 5)

    def ormqr(lib):
        return lambda a, tau, c: lib.ormqr(a, tau, c, left, transpose)

    check(ormqr(ember), ormqr(torch), [a.numpy(), tau.numpy(), other], device=device, dtype=dtype)
    check(lambda a, tau: a.orgqr(tau), lambda a, tau: a.orgqr(tau), [a.numpy(), tau.numpy()], device=device,
          dtype=dtype)  # fmt: skip


def test_ormqr_errors():
    cases = [
        ((3, 2), (2,), (4, 2), True),
        ((3, 2), (1,), (3, 2), True),
        ((3, 2), (3,), (2, 3), False),
        ((3, 2), (2,), (3,), True),
        ((3, 2), (2, 2), (3, 2), True),
    ]
    for input, tau, other, left in cases:
        messages = []
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as refused:
                lib.ormqr(lib.ones(input), lib.ones(tau), lib.ones(other), left)
            messages.append(str(refused.value))
        assert messages[0] == messages[1]
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="^torch.geqrf: input must have at least 2 dimensions.$"):
            lib.geqrf(lib.ones(3))
        with pytest.raises(NotImplementedError, match="\"geqrf_cpu\" not implemented for 'Long'"):
            lib.geqrf(lib.ones(3, 3, dtype=lib.int64))
