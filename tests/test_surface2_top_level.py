"""The functional ops PyTorch also has at the top level with integer reduction codes (losses,
alpha dropouts, constant_pad_nd) and the count samplers poisson/binomial, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_top_level_losses(device, dtype, reduction):
    a, b = randn(4, 5), randn(4, 5)
    sign = np.array([1, -1, 1, -1], dtype=np.float64)
    for name, arrays, extra in (
        ("cosine_embedding_loss", [a, b, sign], (0.1,)),
        ("margin_ranking_loss", [a[:, 0], b[:, 0], sign], (0.2,)),
        ("hinge_embedding_loss", [a[:, 0], sign], (0.5,)),
        ("triplet_margin_loss", [a, b, randn(4, 5)], (1.0, 2.0, 1e-6, True)),
        ("poisson_nll_loss", [a, np.abs(b)], (True, False, 1e-8)),
    ):
        check(
            lambda *t, n=name, x=extra: getattr(ember, n)(*t[:-1], t[-1].detach(), *x, reduction),
            lambda *t, n=name, x=extra: getattr(torch, n)(*t[:-1], t[-1].detach(), *x, reduction),
            arrays,
            device=device,
            dtype=dtype,
        )
    if reduction == 0:  # PyTorch's default at the top level: one loss per element
        for name, arrays in (
            ("cosine_embedding_loss", [a, b, sign]),
            ("margin_ranking_loss", [a[:, 0], b[:, 0], sign]),
            ("hinge_embedding_loss", [a[:, 0], sign]),
            ("triplet_margin_loss", [a, b, randn(4, 5)]),
        ):
            check(lambda *t, n=name: getattr(ember, n)(*t), lambda *t, n=name: getattr(torch, n)(*t), arrays,
                  device=device, dtype=dtype)  # fmt: skip
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="reduction"):
            lib.margin_ranking_loss(lib.ones(2), lib.ones(2), lib.ones(2), 0.0, "mean")


def test_alpha_dropouts_and_constant_pad_nd(device, dtype):
    x = randn(2, 3, 4)
    for name in ("alpha_dropout", "feature_alpha_dropout"):
        check(lambda t, n=name: getattr(ember, n)(t, 0.5, False), lambda t, n=name: getattr(torch, n)(t, 0.5, False),
              [x], device=device, dtype=dtype)  # fmt: skip
        out = getattr(ember, name)(ember.tensor(x, dtype=dtype, device=device), 0.5, True)
        assert out.shape == (2, 3, 4) and not np.allclose(out.detach().cpu().numpy(), x)
    for pad, value in (((1, 0), 0.0), ((1, 2, 0, 1), 5.0), ((-1, 1), 2.0)):
        check(lambda t, pad=pad, value=value: ember.constant_pad_nd(t, pad, value),
              lambda t, pad=pad, value=value: torch.constant_pad_nd(t, pad, value), [x],
              device=device, dtype=dtype)  # fmt: skip


def test_poisson_and_binomial(device):
    ember.manual_seed(1)
    rates = ember.tensor([0.5, 4.0, 30.0], device=device).repeat(4000).reshape(4000, 3)
    draws = ember.poisson(rates).cpu().numpy()
    assert np.all(draws == np.floor(draws)) and draws.min() >= 0
    np.testing.assert_allclose(draws.mean(0), [0.5, 4.0, 30.0], rtol=0.05)
    np.testing.assert_allclose(draws.var(0), [0.5, 4.0, 30.0], rtol=0.12)
    count = ember.tensor([10.0, 3.0], device=device).repeat(4000).reshape(4000, 2)
    prob = ember.tensor([0.3, 0.9], device=device).repeat(4000).reshape(4000, 2)
    draws = ember.binomial(count, prob).cpu().numpy()
    assert draws.min() >= 0 and np.all(draws <= np.array([10.0, 3.0]))
    np.testing.assert_allclose(draws.mean(0), [3.0, 2.7], rtol=0.05)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
            lib.poisson(lib.tensor([-1.0]))
        with pytest.raises(NotImplementedError, match="\"poisson_cpu\" not implemented for 'Long'"):
            lib.poisson(lib.tensor([1, 2]))
    generated = [
        ember.poisson(ember.full((8,), 3.0, device=device), ember.Generator(device).manual_seed(2)) for _ in "ab"
    ]
    assert ember.equal(*generated)  # a generator's draws, reproducible from its seed
