"""Portable softmax and log-softmax kernels (numerically stable, one axis)."""

from __future__ import annotations

import math

from ..dtypes import float32, float64, narrow_float
from ..ops.vector_exp import c_library_exp, vectorized_exp
from ..threads import get_num_threads

__all__ = ["SoftmaxKernels"]


class SoftmaxKernels:
    def softmax(self, x, axis):
        """``exp(x - max) / sum(exp(x - max))`` along ``axis``. Float16/bfloat16 ``x`` is read as float32
        and the result rounded once, in the order of PyTorch's CPU kernels for them: over the last axis
        :meth:`_softmax_last`, over another :meth:`_softmax_across`."""
        xp = self.xp
        if self.backend.ember_dtype(x.dtype) in narrow_float:
            wide = xp.astype(x, self.backend.native_dtype(float32))
            last = axis % x.ndim == x.ndim - 1
            return xp.astype(self._softmax_last(wide) if last else self._softmax_across(wide, x.dtype, axis), x.dtype)
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        e = xp.exp(shifted)
        return e / xp.sum(e, axis=axis, keepdims=True)

    def log_softmax(self, x, axis):
        """``x - max - log(sum(exp(x - max)))`` along ``axis``. Float16/bfloat16 ``x`` is read as float32
        and the result rounded once, as PyTorch's CPU kernels: over the last axis, they round the row's sum
        of exponentials and its logarithm to the 16-bit type before the subtraction."""
        xp = self.xp
        if self.backend.ember_dtype(x.dtype) in narrow_float:
            narrow, wide = x.dtype, self.backend.native_dtype(float32)
            data = xp.astype(x, wide)
            if axis % x.ndim < x.ndim - 1:
                return xp.astype(self.log_softmax(data, axis), narrow)
            shifted = data - xp.max(data, axis=axis, keepdims=True)
            total = xp.astype(xp.astype(xp.sum(xp.exp(shifted), axis=axis, keepdims=True), narrow), wide)
            return xp.astype(shifted - xp.astype(xp.astype(xp.log(total), narrow), wide), narrow)
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def _float_lanes(self):
        """The float32 lanes of PyTorch's softmax kernels here: its vector registers' (AVX-512 16, AVX2 8),
        8 in its portable build (whose generic vectors are 32 bytes wide)."""
        return self.VECTOR_LANES or 8

    def _softmax_last(self, data):
        """Softmax over the last axis of float32 ``data`` (a 16-bit input's values) as PyTorch's CPU kernel
        for 16-bit inputs (``_vec_softmax_lastdim``) computes it: the exponentials of whole float32 vectors
        (:meth:`_float_lanes`) from ``Vectorized<float>::exp``
        (:func:`~ember.ops.vector_exp.vectorized_exp`), the rest of the row from the C library's; their sum
        kept in one vector's lanes, which are halved into one (8 + 8, 4 + 4, ...) before the rest is added
        in order; each exponential multiplied by the sum's reciprocal."""
        xp, backend = self.xp, self.backend
        shape = data.shape
        size = shape[-1]
        rows = xp.reshape(data, (-1, size))
        shifted = xp.subtract(rows, xp.max(rows, axis=1, keepdims=True))
        lanes = self._float_lanes()
        cut = size - size % lanes
        parts = [vectorized_exp(backend, shifted[:, :cut])] if cut else []
        if cut < size:
            parts.append(c_library_exp(backend, shifted[:, cut:]))
        exps = parts[0] if len(parts) == 1 else xp.concat(parts, axis=1)
        total = None
        if cut:
            acc = exps[:, :lanes]
            for start in range(lanes, cut, lanes):
                acc = xp.add(acc, exps[:, start : start + lanes])
            while acc.shape[1] > 1:
                half = acc.shape[1] // 2
                acc = xp.add(acc[:, :half], acc[:, half:])
            total = acc[:, 0]
        for j in range(cut, size):
            total = exps[:, j] if total is None else xp.add(total, exps[:, j])
        reciprocal = xp.divide(xp.asarray(1.0, dtype=data.dtype), total)
        return xp.reshape(xp.multiply(exps, xp.reshape(reciprocal, (-1, 1))), shape)

    def _softmax_across(self, data, narrow, axis):
        """Softmax over an axis that is not the last of float32 ``data`` (a 16-bit input's values, of the
        native type ``narrow``) as PyTorch's CPU kernel for 16-bit inputs (``_vec_softmax``) computes it:
        through the flat positions ``(outer, inner)`` of each thread's share (:func:`ember.get_num_threads`),
        runs of a 16-bit vector's width that fit in the row and the share are computed in float32 with
        ``Vectorized<float>::exp`` (:func:`~ember.ops.vector_exp.vectorized_exp`) and rounded once; the
        positions left at the end of a row or a share go through its scalar loop, which takes the C
        library's exponential and rounds it to the 16-bit type before dividing it by the float32 sum of the
        unrounded ones. Both add the exponentials along the axis in order."""
        xp, backend = self.xp, self.backend
        shape = data.shape
        outer, size, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
        rows = xp.reshape(data, (outer, size, inner))
        shifted = xp.subtract(rows, xp.max(rows, axis=1, keepdims=True))
        width = 2 * self._float_lanes()  # the 16-bit vector: two float32 ones
        count = outer * inner
        share = -(-count // max(1, min(get_num_threads(), count)))
        position = xp.arange(count)
        start = (position // share) * share
        row = (position // inner) * inner
        first = xp.maximum(start, row)  # where the run of this row and share begins, and ends
        last = xp.minimum(xp.minimum(start + share, count), row + inner)
        vectorized = (position - first) < ((last - first) // width) * width
        vectorized = xp.reshape(vectorized, (outer, 1, inner))
        exps = xp.where(vectorized, vectorized_exp(backend, shifted), c_library_exp(backend, shifted))
        total = exps[:, 0:1]
        for d in range(1, size):
            total = xp.add(total, exps[:, d : d + 1])
        vector = xp.divide(exps, total)
        scalar = xp.divide(xp.astype(xp.astype(exps, narrow), data.dtype), total)
        return xp.reshape(xp.where(vectorized, vector, scalar), shape)

    def softmax_backward(self, grad, y, axis):
        """Gradient of softmax given its output ``y``: ``y * (grad - sum(grad * y))``. Float16/bfloat16
        ``grad`` and ``y`` are read as float32 and the result rounded once, as PyTorch's CPU kernels."""
        xp = self.xp
        if self.backend.ember_dtype(grad.dtype) in narrow_float:
            return self._in_float32(self.softmax_backward, grad, y, axis)
        return y * (grad - xp.sum(grad * y, axis=axis, keepdims=True))

    def log_softmax_backward(self, grad, y, axis):
        """Gradient of log-softmax given its output ``y``: ``grad - exp(y) * sum(grad)``. Float16/bfloat16
        ``grad`` and ``y`` are read as float32 and the result rounded once, as PyTorch's CPU kernels; over
        an axis that is not the last, in the order of PyTorch's kernel for them (:meth:`_log_softmax_across`)."""
        xp = self.xp
        if self.backend.ember_dtype(grad.dtype) in narrow_float:
            across = axis % grad.ndim < grad.ndim - 1
            return self._in_float32(self._log_softmax_across if across else self.log_softmax_backward, grad, y, axis)
        return grad - xp.exp(y) * xp.sum(grad, axis=axis, keepdims=True)

    def _in_float32(self, kernel, grad, y, axis):
        """``kernel(grad, y, axis)`` of 16-bit ``grad`` and ``y`` read as float32, rounded back once."""
        xp = self.xp
        wide = self.backend.native_dtype(float32)
        return xp.astype(kernel(xp.astype(grad, wide), xp.astype(y, wide), axis), grad.dtype)

    def _log_softmax_across(self, grad, y, axis):
        """Log-softmax's backward ``grad - exp(y) * sum(grad)`` over an axis that is not the last, of float32
        ``grad`` and ``y`` (a 16-bit gradient's and output's values), as PyTorch's CPU kernel for 16-bit
        inputs (``_vec_log_softmax_backward``) computes it: the sum along ``axis`` in float32, the exponential
        correctly rounded (Sleef's vectorized one and the C library's nearly always are) and its product
        with the sum subtracted from ``grad`` in one fused multiply-add (the compiler contracts it)."""
        xp = self.xp
        total = xp.sum(grad, axis=axis, keepdims=True)
        wide = self.backend.native_dtype(float64) if self.backend.supports_float64 else y.dtype
        exp = xp.astype(xp.exp(xp.astype(y, wide)), y.dtype)
        return self.contracted_multiply_add(-exp, total, grad)
