"""The float32 convolutions through oneDNN (:mod:`ember.backends.numpy.onednn.convolution`), where it is
installed and ``ember.backends.mkldnn.enabled``; every other case goes on to the NumPy kernels.

These are PyTorch's own CPU convolution kernels, so the forward and the input gradient match
PyTorch's bit for bit. Where Numba's compiled loops serve the kernels around the convolutions
(:mod:`..loops`), each convolution is one oneDNN call on the OpenMP team those loops run on;
otherwise the batch is split over the intra-op threads, one oneDNN call on one thread per chunk
(see :mod:`ember.backends.numpy.onednn.library`), and the weight gradient adds the chunks' sums
in batch order. Conv 32 -> 64 3x3 on 64 x 32 x 16 x 16, one thread: forward 4.0 ms
and forward + backward 13.6 ms, PyTorch 4.1 and 13.9 ms, the im2col + OpenBLAS kernels 7.0 and
22 ms.
"""

from __future__ import annotations

import numpy as np

from ember.backends import mkldnn
from ember.threads import get_num_threads

from .. import loops
from ..onednn.convolution import plan
from ..parallel import after_openmp_team, parallel_chunks

__all__ = ["OnednnConvKernels"]

_F32 = np.dtype(np.float32)


def _plans(x_shape, weight_shape, arrays, stride, padding, dilation, groups):
    """``(plans, y_shape)``: ``plans(lo, hi, slot, threads)``, the oneDNN plan of the batch chunk ``lo:hi``, and
    the whole batch's output shape; or None where the NumPy kernels serve: oneDNN off or missing, a
    dtype other than float32, an empty array, a geometry oneDNN has no implementation for."""
    if not mkldnn.enabled or any(a.dtype != _F32 or a.size == 0 for a in arrays):
        return None
    geometry = (tuple(weight_shape), tuple(stride), tuple(map(tuple, padding)), tuple(dilation), groups)
    rest = tuple(x_shape[1:])

    def plans(lo, hi, slot, threads=1):
        return plan((hi - lo, *rest), *geometry, slot, threads)

    whole = plans(0, x_shape[0], 0)
    return None if whole is None else (plans, whole.y_shape)


def _split(n, work):
    """Run ``work(lo, hi, slot, threads)`` over the batch ``range(n)``: where the compiled loops serve
    (:mod:`..loops`, on the OpenMP team) the whole batch in one call on the team, else split over the
    intra-op threads, one OpenMP thread per chunk."""
    threads = min(get_num_threads(), n)
    if threads > 1 and loops.get() is not None:
        work(0, n, 0, threads)
        after_openmp_team()
    else:
        parallel_chunks(n, threads, lambda lo, hi, slot: work(lo, hi, slot, 1))


class OnednnConvKernels:
    """The conv kernels through oneDNN where it takes the case (see the module docstring)."""

    def conv(self, x, weight, stride, padding, dilation, groups):
        return self.conv_bias(x, weight, None, stride, padding, dilation, groups)

    def conv_bias(self, x, weight, bias, stride, padding, dilation, groups):
        arrays = (x, weight) if bias is None else (x, weight, bias)
        found = _plans(x.shape, weight.shape, arrays, stride, padding, dilation, groups)
        if found is None:
            if bias is None:
                return super().conv(x, weight, stride, padding, dilation, groups)
            return super().conv_bias(x, weight, bias, stride, padding, dilation, groups)
        (plans, y_shape), x, weight = found, np.ascontiguousarray(x), np.ascontiguousarray(weight)
        bias = None if bias is None else np.ascontiguousarray(bias)
        y = np.empty(y_shape, dtype=np.float32)
        _split(x.shape[0], lambda lo, hi, *at: plans(lo, hi, *at).forward(x[lo:hi], weight, bias, y[lo:hi]))
        return y

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        found = _plans(input_shape, weight.shape, (grad, weight), stride, padding, dilation, groups)
        if found is None or found[1] != grad.shape:
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        plans, grad, weight = found[0], np.ascontiguousarray(grad), np.ascontiguousarray(weight)
        dx = np.empty(tuple(input_shape), dtype=np.float32)
        _split(grad.shape[0], lambda lo, hi, *at: plans(lo, hi, *at).input_grad(grad[lo:hi], weight, dx[lo:hi]))
        return dx

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        found = _plans(x.shape, weight_shape, (x, grad), stride, padding, dilation, groups)
        if found is None or found[1] != grad.shape:
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        plans, x, grad = found[0], np.ascontiguousarray(x), np.ascontiguousarray(grad)
        sums = {}

        def work(lo, hi, slot, threads):
            sums[slot] = np.empty(tuple(weight_shape), dtype=np.float32)
            plans(lo, hi, slot, threads).weight_grad(x[lo:hi], grad[lo:hi], sums[slot])

        _split(x.shape[0], work)
        total = sums[0]
        for slot in range(1, len(sums)):
            total += sums[slot]
        return total
