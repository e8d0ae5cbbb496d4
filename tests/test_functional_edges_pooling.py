"""Pooling off the main road, against PyTorch: non-finite inputs (an inf or NaN stays in the bins
that hold it) and NaN ties in the max-type pools."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def _pair(array, dtype, device):
    """The same leaf in ember (on ``device``) and in PyTorch."""
    name = str(dtype).split(".")[-1]
    x = ember.tensor(array.astype(name), device=device, requires_grad=True)
    return x, torch.tensor(array.astype(name), requires_grad=True)


def _check(call, array, dtype, device, tol=1e-6):
    """``call(F, x)`` gives PyTorch's values and input gradient (non-finite ones included)."""
    x, tx = _pair(array, dtype, device)
    out, tout = call(ember.nn.functional, x), call(torch.nn.functional, tx)
    np.testing.assert_allclose(out.detach().cpu().numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    weights = np.random.default_rng(1).uniform(-1, 1, tuple(tout.shape)).astype(array.dtype)
    (out * ember.tensor(weights, dtype=out.dtype, device=device)).sum().backward()
    (tout * torch.tensor(weights, dtype=tout.dtype)).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def _with_non_finite(shape, seed=0):
    array = np.random.default_rng(seed).uniform(-1, 1, shape)
    flat = array.reshape(-1)
    flat[1], flat[flat.size // 2], flat[-2] = NAN, INF, -INF
    return array


@pytest.mark.parametrize(
    "nd, shape, output_size",
    [
        (1, (2, 3, 9), 4),
        (1, (2, 3, 7), 3),
        (1, (2, 3, 8), 4),
        (2, (2, 3, 7, 5), (3, 2)),
        (2, (2, 3, 6, 6), (4, None)),
        (2, (3, 8, 9), 3),
        (3, (1, 2, 5, 4, 7), (2, 3, 3)),
    ],
)
def test_adaptive_avg_pool_keeps_non_finite_values_in_their_bins(device, dtype, nd, shape, output_size):
    # an inf or NaN input reached every bin of its row (0 * inf in an averaging matmul): PyTorch's
    # bins are sums over their own elements only
    pool = f"adaptive_avg_pool{nd}d"
    _check(lambda F, x: getattr(F, pool)(x, output_size), _with_non_finite(shape), dtype, device)


@pytest.mark.parametrize("size", [(3, 2), (2, 5), (4, 4)])
def test_interpolate_area_keeps_non_finite_values_in_their_bins(device, dtype, size):
    _check(lambda F, x: F.interpolate(x, size=size, mode="area"), _with_non_finite((2, 3, 7, 5)), dtype, device)


def _indices_and_gradient(pool, array, dtype, device):
    """``pool(F, x)`` -> (values, indices): both libraries' indices, and input gradients of ``values``."""
    x, tx = _pair(array, dtype, device)
    (out, idx), (tout, tidx) = pool(ember.nn.functional, x), pool(torch.nn.functional, tx)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(idx.cpu().numpy(), tidx.numpy())
    np.testing.assert_array_equal(x.grad.cpu().numpy(), tx.grad.numpy())


NAN_ROW = np.array([NAN, 1, NAN, 2, 0, NAN, NAN, 3, -INF])


@pytest.mark.parametrize(
    "pool",
    [
        lambda F, x: F.adaptive_max_pool1d(x.reshape(1, 1, 9), 2, return_indices=True),
        lambda F, x: F.adaptive_max_pool1d(x.reshape(1, 1, 9), 4, return_indices=True),
        lambda F, x: F.adaptive_max_pool2d(x.reshape(1, 3, 3), (2, 2), return_indices=True),
        lambda F, x: F.adaptive_max_pool3d(x.reshape(1, 1, 1, 3, 3), (1, 2, 1), return_indices=True),
        lambda F, x: F.fractional_max_pool2d(
            x.reshape(1, 1, 3, 3), 2, output_size=2, return_indices=True, _random_samples=x.new_zeros(1, 1, 2)
        ),
    ],
)
def test_adaptive_and_fractional_max_pool_take_the_last_nan(device, dtype, pool):
    # PyTorch's scan takes an element when it is greater or NaN: of several NaNs the last one is the
    # index (and takes the gradient), as max_pool already did; these took the first
    _indices_and_gradient(pool, NAN_ROW, dtype, device)
