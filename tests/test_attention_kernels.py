"""The NumPy backend's attention kernels (``backends/numpy/kernels/attention.py``) against the portable
ones they override: the same values, bit for bit in float64 (the same arithmetic, in place), within
float32's rounding where oneDNN runs the products; with masks that empty a row, dropout multipliers, a
bias that broadcasts, the gradient of the weights, and heads that are views of one projection."""

from __future__ import annotations

import numpy as np
import pytest

from ember.kernels import Kernels


def _inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    length, batch, heads, features = 64, 4, 4, 32
    # (L, B, 3, H, E), as a multi-head attention's in-projection: q, k, v are interleaved views
    qkv = rng.standard_normal((length, batch, 3, heads, features)).astype(dtype)
    q, k, v = (qkv[:, :, i].reshape(length, batch * heads, features).transpose(1, 0, 2) for i in range(3))
    bias = np.triu(np.full((length, length), -np.inf, dtype), 1)
    bias[5] = -np.inf  # a row with every key masked: probabilities of zero
    keep = (rng.random((batch * heads, length, length)) > 0.1).astype(dtype) / dtype(0.9)
    return q, k, v, bias, keep, rng


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("weights_grad", [False, True])
def test_matches_the_portable_kernels(dtype, dropout, weights_grad, numpy_and_portable_kernels):
    backend, portable = numpy_and_portable_kernels(None, 2, None)
    mine = backend.kernels
    assert type(mine).attention_forward is not Kernels.attention_forward
    q, k, v, bias, keep, rng = _inputs(dtype)
    keep = keep if dropout else None
    scale = 1 / q.shape[-1] ** 0.5  # a Python float, as F.scaled_dot_product_attention passes
    out, probs = mine.attention_forward(q, k, v, bias, scale, keep)
    ref_out, ref_probs = portable.attention_forward(q, k, v, bias, scale, keep)
    assert out.dtype == ref_out.dtype == dtype and probs.dtype == dtype
    assert not probs[:, 5].any() and not np.isnan(out).any()
    grad = rng.standard_normal(out.shape).astype(dtype)
    grad_weights = rng.standard_normal(probs.shape).astype(dtype) if weights_grad else None
    grads = mine.attention_backward(grad, grad_weights, q, k, v, probs, scale, keep)
    ref_grads = portable.attention_backward(grad, grad_weights, q, k, v, ref_probs, scale, keep)
    for got, ref in zip((out, probs, *grads), (ref_out, ref_probs, *ref_grads)):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        if dtype == np.float64:
            np.testing.assert_array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_other_dtypes_take_the_portable_kernels(numpy_and_portable_kernels):
    backend, portable = numpy_and_portable_kernels(None, 1, None)
    q, k, v, bias, _, _ = _inputs(np.float16)
    out, probs = backend.kernels.attention_forward(q, k, v, bias, 0.25, None)
    ref_out, ref_probs = portable.attention_forward(q, k, v, bias, 0.25, None)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(probs, ref_probs)
