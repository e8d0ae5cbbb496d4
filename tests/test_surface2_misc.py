"""geometric_, the deprecated linear-algebra spellings (chain_matmul, frobenius_norm, nuclear_norm,
lu, lu_unpack, lu_solve, cholesky, triangular_solve, qr, NLLLoss2d) and Tensor.output_nr, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _quiet_deprecations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_geometric_distribution(device, p):
    gen = ember.Generator(device=device).manual_seed(3)
    for dtype in (ember.float32, ember.int64):
        x = ember.empty(20000, dtype=dtype, device=device).geometric_(p, generator=gen)
        assert x.dtype is dtype
        values = x.cpu().numpy().astype(np.float64)
        assert values.min() >= 1 and np.all(values == np.floor(values))
        assert abs(values.mean() - 1 / p) < 0.05 / p  # mean 1/p, variance (1-p)/p^2
        assert abs(values.var() - (1 - p) / p**2) < 0.15 * (1 - p) / p**2
        assert abs(np.mean(values == 1) - p) < 0.02
    for bad in (0.0, 1.0, 1.5):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match=f"geometric_ expects p to be in \\(0, 1\\), but got p={bad:g}"):
                lib.zeros(2).geometric_(bad)


def test_geometric_same_stream_same_samples(device):
    a = ember.empty(8, device=device).geometric_(0.4, generator=ember.Generator(device=device).manual_seed(5))
    b = ember.empty(8, device=device).geometric_(0.4, generator=ember.Generator(device=device).manual_seed(5))
    assert_close(a, b.cpu().numpy())


def test_chain_matmul(device, dtype):
    a, b, c = randn(2, 3), randn(3, 4), randn(4, 2)
    check(ember.chain_matmul, torch.chain_matmul, [a, b, c], device=device, dtype=dtype)
    check(ember.chain_matmul, torch.chain_matmul, [a], device=device, dtype=dtype)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        ember.chain_matmul(ember.ones(2, 2, device=device), ember.ones(2, 2, device=device))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Expected one or more matrices"):
            lib.chain_matmul()
        with pytest.raises(RuntimeError, match="Tensor dimension is 1, expected 2 instead."):
            lib.chain_matmul(lib.ones(3), lib.ones(3, 4))


def test_frobenius_and_nuclear_norm(device, dtype):
    x = randn(3, 4, 5)
    check(
        lambda t: ember.frobenius_norm(t, (1, 2)),
        lambda t: torch.frobenius_norm(t, (1, 2)),
        [x],
        device=device,
        dtype=dtype,
    )
    check(
        lambda t: ember.frobenius_norm(t, (0,), True),
        lambda t: torch.frobenius_norm(t, (0,), True),
        [x],
        device=device,
        dtype=dtype,
    )
    rtol = 1e-4 if dtype is ember.float32 else 1e-9
    check(
        lambda t: ember.nuclear_norm(t),
        lambda t: torch.nuclear_norm(t),
        [x[0]],
        device=device,
        dtype=dtype,
        rtol=rtol,
        atol=1e-5,
    )
    check(
        lambda t: ember.nuclear_norm(t, True),
        lambda t: torch.nuclear_norm(t, True),
        [x[0]],
        device=device,
        dtype=dtype,
        rtol=rtol,
        atol=1e-5,
    )
    check(
        lambda t: ember.nuclear_norm(t, (0, 2)),
        lambda t: torch.nuclear_norm(t, (0, 2)),
        [x],
        device=device,
        dtype=dtype,
        rtol=rtol,
        atol=1e-5,
    )
    with pytest.warns(UserWarning, match="nuclear_norm is deprecated"):
        ember.nuclear_norm(ember.ones(2, 2, device=device))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (3, 5), (5, 3)])
def test_lu_and_lu_unpack(device, dtype, shape):
    rtol = 1e-4 if dtype is ember.float32 else 1e-10
    a = randn(*shape)
    check(lambda t: ember.lu(t)[0], lambda t: torch.lu(t)[0], [a], device=device, dtype=dtype, rtol=rtol, atol=1e-5)
    e_lu, e_piv = ember.lu(ember.tensor(a, dtype=dtype, device=device))
    t_lu, t_piv = torch.lu(torch.tensor(a, dtype=getattr(torch, dtype.name)))
    assert_close(e_piv, t_piv)
    _, _, info = ember.lu(ember.zeros(2, 2, device=device), get_infos=True)
    assert int(info) == int(torch.lu(torch.zeros(2, 2), get_infos=True)[2])
    check(lambda t: ember.lu_unpack(*ember.linalg.lu_factor(t)), lambda t: torch.lu_unpack(*torch.linalg.lu_factor(t)),
          [a], device=device, dtype=dtype, rtol=rtol, atol=1e-5)  # fmt: skip
    out = ember.lu_unpack(e_lu, e_piv, unpack_data=False)
    assert (
        type(out).__name__ == "lu_unpack"
        and out.L.shape == (0,)
        and out.U.shape == (0,)
        and out.P.shape[-1] == shape[-2]
    )
    out = ember.lu_unpack(e_lu, e_piv, unpack_pivots=False)
    assert out.P.shape == (0,)
    assert_close(out.L, torch.lu_unpack(t_lu, t_piv).L, rtol=rtol, atol=1e-5)


def test_classic_linalg_spellings_warn_as_deprecated(device):
    """PyTorch warns (UserWarning) on the classic spellings that GP and older code still call."""
    A = ember.tensor([[4.0, 2.0], [2.0, 5.0]], device=device)
    b = ember.ones(2, 1, device=device)
    with pytest.warns(UserWarning, match=r"torch.cholesky is deprecated in favor of torch.linalg.cholesky"):
        ember.cholesky(A)
    with pytest.warns(UserWarning, match=r"torch.triangular_solve is deprecated in favor of torch.linalg.solve_tri"):
        ember.triangular_solve(b, A)
    with pytest.warns(UserWarning, match=r"torch.qr is deprecated in favor of torch.linalg.qr"):
        ember.qr(A)
    with pytest.warns(UserWarning, match=r"torch.lu_solve is deprecated in favor of torch.linalg.lu_solve"):
        ember.lu_solve(b, *ember.linalg.lu_factor(A))


def test_nll_loss_2d_warns_as_deprecated():
    for lib in (ember, torch):
        with pytest.warns(FutureWarning, match=r"`NLLLoss2d` has been deprecated. Please use `NLLLoss`"):
            loss = lib.nn.NLLLoss2d(ignore_index=1, reduction="sum")
        assert (loss.ignore_index, loss.reduction) == (1, "sum")


def test_output_nr():
    class Two(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    x = ember.ones(3, requires_grad=True)
    first, second = Two.apply(x)
    assert (first.output_nr, second.output_nr) == (0, 1)
    assert x.output_nr == 0 and (x * 2).output_nr == 0 and ember.ones(2).output_nr == 0
