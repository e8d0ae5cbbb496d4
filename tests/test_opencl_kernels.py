"""OpenCL kernel-table overrides (conv im2col/col2im, max and average pooling, the LSTM cell) against the
portable default kernels on the same device: same shapes, dtypes and values, on strided inputs."""

from __future__ import annotations

import numpy as np
import pytest
from opencl_support import opencl_backend

from ember.kernels import Kernels
from ember.kernels.conv import conv_output_shape

BACKEND = opencl_backend()

from ember.backends.opencl.conv import OpenCLConvKernels  # noqa: E402

xp = BACKEND.xp
PORTABLE = Kernels(BACKEND)
FAST = BACKEND.kernels
RNG = np.random.default_rng(0)
FLOATS = ["float32"] + (["float64"] if BACKEND.supports_float64 else [])


def dev(a):
    return BACKEND.from_host(np.asarray(a), 0)


def rand(shape, dtype):
    return dev(RNG.standard_normal(shape).astype(dtype))


def same(got, want, exact=False):
    got, want = BACKEND.to_host(got), BACKEND.to_host(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    tol = 0 if exact else (1e-5 if got.dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def variants(x):
    """``x`` contiguous and as a flipped (negative-stride) view."""
    return [x, xp.flip(x, axis=2)]


CONV_CASES = [
    # input shape, weight shape, (stride, padding pairs, dilation, groups)
    ((2, 4, 7, 6), (6, 2, 3, 2), ((2, 1), ((1, 2), (0, 1)), (1, 2), 2)),
    ((2, 3, 9), (4, 3, 3), ((3,), ((2, 2),), (2,), 1)),
    ((1, 2, 5, 4, 6), (2, 2, 2, 3, 2), ((1, 2, 1), ((1, 0), (1, 1), (0, 1)), (2, 1, 1), 1)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,wshape,args", CONV_CASES)
def test_conv_kernels_match_portable(shape, wshape, args, dtype):
    w = rand(wshape, dtype)
    for x in variants(rand(shape, dtype)):
        out = FAST.conv(x, w, *args)
        same(out, PORTABLE.conv(x, w, *args))
        g = xp.flip(rand(out.shape, dtype), axis=1)
        same(FAST.conv_backward_input(g, w, x.shape, *args), PORTABLE.conv_backward_input(g, w, x.shape, *args))
        same(FAST.conv_backward_weight(x, g, w.shape, *args), PORTABLE.conv_backward_weight(x, g, w.shape, *args))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,wshape,args", CONV_CASES)
def test_im2col_and_col2im_match_portable(shape, wshape, args, dtype):
    stride, padding, dilation, _ = args
    kernel = tuple(wshape[2:])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], padding))
    out_shape = conv_output_shape(padded, kernel, stride, dilation)
    for x in variants(rand(shape, dtype)):
        want = PORTABLE.im2col(x, kernel, stride, padding, dilation, out_shape)
        same(FAST.im2col(x, kernel, stride, padding, dilation, out_shape), want)
    cols = xp.flip(rand(shape[:2] + (int(np.prod(kernel)),) + out_shape, dtype), axis=1)  # a strided view
    want = PORTABLE.col2im(cols, shape, kernel, stride, padding, dilation)
    same(FAST.col2im(cols, shape, kernel, stride, padding, dilation), want)


def test_conv_override_is_the_im2col_seam_only():
    """The portable kernels frame the convolution as GEMMs; OpenCL replaces only im2col and col2im."""
    assert {name for name in vars(OpenCLConvKernels) if not name.startswith("_")} == {"im2col", "col2im"}


POOL_CASES = [
    # input shape, (kernel, stride, padding, dilation, out_shape)
    ((2, 3, 9, 8), ((3, 2), (2, 2), (1, 1), (1, 2), (5, 4))),
    ((2, 3, 10), ((3,), (2,), (1,), (2,), (5,))),
    ((1, 2, 5, 6, 7), ((2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1), (3, 2, 3))),
    ((2, 2, 5, 5), ((2, 2), (2, 2), (0, 0), (1, 1), (3, 3))),  # ceil_mode: the last window overhangs
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,args", POOL_CASES)
def test_max_pool_matches_portable(shape, args, dtype):
    host = RNG.standard_normal(shape).astype(dtype)
    host[0, 0].flat[3] = np.nan  # NaN wins
    host[0, 1] = 1.0  # ties: the first occurrence
    for x in variants(dev(host)):
        values, indices = FAST.max_pool(x, *args)
        want_values, want_indices = PORTABLE.max_pool(x, *args)
        same(values, want_values, exact=True)
        same(indices, want_indices, exact=True)
        g = xp.flip(rand(values.shape, dtype), axis=1)
        same(FAST.pool_scatter_add(g, indices, shape[2:]), PORTABLE.pool_scatter_add(g, indices, shape[2:]))


AVG_CASES = [
    # input shape, (kernel, stride, padding, out_shape)
    ((2, 3, 9, 8), ((3, 2), (2, 2), (1, 1), (5, 4))),
    ((2, 3, 10), ((3,), (2,), (1,), (5,))),
    ((1, 2, 5, 6, 7), ((2, 3, 2), (2, 1, 2), (1, 1, 0), (3, 4, 3))),
    ((2, 2, 5, 5), ((2, 2), (2, 2), (0, 0), (3, 3))),  # ceil_mode
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,args", AVG_CASES)
def test_avg_pool_matches_portable(shape, args, dtype):
    for x in variants(rand(shape, dtype)):
        for count_include_pad, divisor_override in ((True, None), (False, None), (False, 3)):
            extra = (count_include_pad, divisor_override)
            out = FAST.avg_pool(x, *args, *extra)
            same(out, PORTABLE.avg_pool(x, *args, *extra))
            kernel, stride, padding, _ = args
            g = rand((2 * out.shape[0],) + out.shape[1:], dtype)[out.shape[0] :]  # an offset view
            for grad in (g, xp.flip(g, axis=1)):
                want = PORTABLE.avg_pool_backward(grad, x.shape, kernel, stride, padding, *extra)
                same(FAST.avg_pool_backward(grad, x.shape, kernel, stride, padding, *extra), want)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_cell_matches_portable(dtype):
    h_size = 5
    gx = rand((6, 4 * h_size), dtype)[1:4]  # a row slice with an offset
    h = rand((3, h_size), dtype)
    c = xp.permute_dims(rand((h_size, 3), dtype), (1, 0))  # transposed
    w_hh = rand((4 * h_size, h_size), dtype)
    w_hh_t = xp.permute_dims(w_hh, (1, 0))
    grad_h = rand((3, h_size), dtype)
    grad_c = xp.broadcast_to(rand((1, h_size), dtype), (3, h_size))  # stride-0 rows
    for b_hh in (rand((4 * h_size,), dtype), None, rand((8 * h_size,), dtype)[::2]):
        *new, saved = FAST.lstm_cell(gx, h, c, w_hh_t, b_hh)
        *want, want_saved = PORTABLE.lstm_cell(gx, h, c, w_hh_t, b_hh)
        for a, b in zip(new, want):
            same(a, b)
        got = FAST.lstm_cell_backward(grad_h, grad_c, saved, w_hh)
        for a, b in zip(got, PORTABLE.lstm_cell_backward(grad_h, grad_c, want_saved, w_hh)):
            same(a, b)
