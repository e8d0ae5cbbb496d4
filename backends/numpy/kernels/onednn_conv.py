"""The float32, bfloat16 and float16 convolutions through oneDNN (:mod:`ember.backends.numpy.onednn.convolution`),
where it is installed and ``ember.backends.mkldnn.enabled``; every other case goes on to the NumPy kernels.

These are PyTorch's own CPU convolution kernels, so the forward and the input gradient match
PyTorch's bit for bit. Where Numba's compiled loops serve the kernels around the convolutions
(:mod:`..loops`), each float32 convolution is one oneDNN call on the OpenMP team those loops run on;
otherwise the batch is split over the intra-op threads, one oneDNN call on one thread per chunk
(see :mod:`ember.backends.numpy.onednn.library`), and the weight gradient adds the chunks' sums
in batch order. Conv 32 -> 64 3x3 on 64 x 32 x 16 x 16, one thread: forward 4.0 ms
and forward + backward 13.6 ms, PyTorch 4.1 and 13.9 ms, the im2col + OpenBLAS kernels 7.0 and
22 ms.

bfloat16 convolutions (:attr:`CONV_ROUNDED_ONCE`) run as PyTorch's: oneDNN's bfloat16 primitives
(float32 accumulation, each result rounded once, a bias inside that rounding; transposed ones through
the deconvolution primitive), the whole batch in one call on ``ember.get_num_threads()`` OpenMP
threads (a weight gradient summed over chunks would be rounded per chunk), channels-last activations
read as they lie where the input or the weight is so. A case oneDNN does not take goes to the NumPy
kernels in bfloat16, as PyTorch's im2col kernels take it: a transposed convolution whose
``output_padding`` reaches its stride (whose convolution gives back a shorter input).

float16 convolutions run so too where PyTorch's CPU build sends them to oneDNN: on a CPU with
AVX512-FP16 or AVX-NE-CONVERT, unless ``ONEDNN_MAX_CPU_ISA`` caps oneDNN below them
(:func:`ember.cpu.isa.onednn_takes_float16`, decided once). Elsewhere PyTorch runs them in its im2col
kernels, which the NumPy kernels and the core's per-sample weight gradient reproduce. oneDNN 3.2's float16
primitives give PyTorch's (oneDNN 3.12) bits on a Sapphire Rapids.
"""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.backend import native_dtype_name
from ember.backends import mkldnn
from ember.cpu.isa import onednn_takes_float16
from ember.threads import get_num_threads

from .. import loops
from ..onednn.convolution import plan
from ..onednn.library import load
from ..parallel import after_openmp_team, parallel_chunks
from .conv import is_channels_last

__all__ = ["OnednnConvKernels"]

_F32 = np.dtype(np.float32)


def _dtypes():
    """The dtypes, by name, of the convolutions oneDNN takes: float32 and bfloat16, and float16 where
    PyTorch's CPU runs it through oneDNN."""
    return ("float32", "bfloat16", "float16") if onednn_takes_float16() else ("float32", "bfloat16")


def _activation(a, channels_last):
    """``a`` as a plan reads it: channels-last or C-contiguous (a copy where it is neither)."""
    if channels_last:
        return a if is_channels_last(a) else np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)
    return np.ascontiguousarray(a)


def _empty(shape, dtype, channels_last):
    """A fresh array of ``shape``, channels-last or C-contiguous."""
    if channels_last:
        return np.moveaxis(np.empty((shape[0], *shape[2:], shape[1]), dtype), -1, 1)
    return np.empty(shape, dtype)


def _plans(x_shape, weight_shape, arrays, stride, padding, dilation, groups):
    """``(plans, y_shape, channels_last)``: ``plans(lo, hi, slot, threads)``, the oneDNN plan of the batch chunk
    ``lo:hi``, the whole batch's output shape, and whether the plans read channels-last activations (bfloat16
    where either of the first two ``arrays``, the kernel's operands, is so); or None where the NumPy kernels
    serve: oneDNN off or missing, a dtype it does not take (:func:`_dtypes`), operands of two dtypes, an
    empty array, a geometry oneDNN has no implementation for."""
    dtype = arrays[0].dtype
    if (
        not mkldnn.enabled
        or native_dtype_name(dtype) not in _dtypes()
        or any(a.dtype != dtype or a.size == 0 for a in arrays)
    ):
        return None
    channels_last = dtype != _F32 and (is_channels_last(arrays[0]) or is_channels_last(arrays[1]))
    geometry = (tuple(weight_shape), tuple(stride), tuple(map(tuple, padding)), tuple(dilation), groups, dtype)
    rest = tuple(x_shape[1:])

    def plans(lo, hi, slot, threads=1):
        return plan((hi - lo, *rest), *geometry, channels_last, slot, threads)

    whole = plans(0, x_shape[0], 0)
    return None if whole is None else (plans, whole.y_shape, channels_last)


def _split(n, dtype, work):
    """Run ``work(lo, hi, slot, threads)`` over the batch ``range(n)``: a bfloat16 batch, or any where the compiled
    loops serve (:mod:`..loops`, on the OpenMP team), whole in one call on the team, else split over the
    intra-op threads, one OpenMP thread per chunk."""
    threads = get_num_threads()
    if dtype == _F32:
        threads = min(threads, n)
        if threads < 2 or loops.get() is None:
            parallel_chunks(n, threads, lambda lo, hi, slot: work(lo, hi, slot, 1))
            return
    work(0, n, 0, threads)
    if threads > 1:
        after_openmp_team()


class OnednnConvKernels:
    """The conv kernels through oneDNN where it takes the case (see the module docstring)."""

    @property
    def CONV_ROUNDED_ONCE(self):  # noqa: N802 (the kernel table's flag; a property here, as oneDNN may be off)
        """bfloat16, and float16 where PyTorch's CPU runs it through oneDNN, where oneDNN is installed and
        ``ember.backends.mkldnn.enabled``; else none."""
        if not mkldnn.enabled or load() is None:
            return ()
        return (dtypes.bfloat16, dtypes.float16) if onednn_takes_float16() else (dtypes.bfloat16,)

    def conv(self, x, weight, stride, padding, dilation, groups):
        return self.conv_bias(x, weight, None, stride, padding, dilation, groups)

    def conv_bias(self, x, weight, bias, stride, padding, dilation, groups):
        arrays = (x, weight) if bias is None else (x, weight, bias)
        found = _plans(x.shape, weight.shape, arrays, stride, padding, dilation, groups)
        if found is None:
            if bias is None:
                return super().conv(x, weight, stride, padding, dilation, groups)
            return super().conv_bias(x, weight, bias, stride, padding, dilation, groups)
        plans, y_shape, channels_last = found
        x, weight = _activation(x, channels_last), np.ascontiguousarray(weight)
        bias = None if bias is None else np.ascontiguousarray(bias)
        y = _empty(y_shape, x.dtype, channels_last)
        _split(x.shape[0], x.dtype, lambda lo, hi, *at: plans(lo, hi, *at).forward(x[lo:hi], weight, bias, y[lo:hi]))
        return y

    def conv_transpose(self, x, weight, bias, output_shape, stride, padding, dilation, groups):
        found = None
        if x.dtype != _F32:  # float32 keeps the input gradient's kernel, its bias added after
            arrays = (x, weight) if bias is None else (x, weight, bias)
            found = _plans(output_shape, weight.shape, arrays, stride, padding, dilation, groups)
        if found is None or found[1] != x.shape:
            return super().conv_transpose(x, weight, bias, output_shape, stride, padding, dilation, groups)
        plans, _, channels_last = found
        x, weight = _activation(x, channels_last), np.ascontiguousarray(weight)
        bias = None if bias is None else np.ascontiguousarray(bias)
        out = _empty(tuple(output_shape), x.dtype, channels_last)
        _split(
            x.shape[0], x.dtype, lambda lo, hi, *at: plans(lo, hi, *at).transposed(x[lo:hi], weight, bias, out[lo:hi])
        )
        return out

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        found = _plans(input_shape, weight.shape, (grad, weight), stride, padding, dilation, groups)
        if found is None or found[1] != grad.shape:
            return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)
        plans, _, channels_last = found
        grad, weight = _activation(grad, channels_last), np.ascontiguousarray(weight)
        dx = _empty(tuple(input_shape), grad.dtype, channels_last)
        _split(
            grad.shape[0], grad.dtype, lambda lo, hi, *at: plans(lo, hi, *at).input_grad(grad[lo:hi], weight, dx[lo:hi])
        )
        return dx

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        found = _plans(x.shape, weight_shape, (x, grad), stride, padding, dilation, groups)
        if found is None or found[1] != grad.shape:
            return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)
        plans, _, channels_last = found
        x, grad = _activation(x, channels_last), _activation(grad, channels_last)
        sums = {}

        def work(lo, hi, slot, threads):
            sums[slot] = np.empty(tuple(weight_shape), dtype=x.dtype)
            plans(lo, hi, slot, threads).weight_grad(x[lo:hi], grad[lo:hi], sums[slot])

        _split(x.shape[0], x.dtype, work)
        total = sums[0]
        for slot in range(1, len(sums)):
            total += sums[slot]
        return total
