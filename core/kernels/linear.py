"""Portable kernels of the linear layer: ``x @ w^T + b`` on 2-D rows and its three gradients."""

from __future__ import annotations

from .. import dtypes

__all__ = ["LinearKernels"]


class LinearKernels:
    #: whether float16/bfloat16 products with a bias are computed in float32 and rounded once, as
    #: PyTorch's ``addmm`` (the bias added to the float32 accumulator); a backend whose 16-bit GEMM
    #: would lose its speed in float32 sets it False and adds the bias after the product's rounding
    NARROW_BIAS_IN_FLOAT32 = True

    def linear(self, x, weight, bias):
        """``x @ weight^T (+ bias)`` for ``x`` (rows, in), ``weight`` (out, in), ``bias`` (out,) or None."""
        if self._rounds_once(x, bias):
            return self._linear_in_float32(x, weight, bias)
        xp = self.xp
        y = xp.matmul(x, xp.permute_dims(weight, (1, 0)))
        return y if bias is None else y + bias

    def _rounds_once(self, x, bias):
        """Whether :meth:`linear` of ``x`` goes through :meth:`_linear_in_float32`."""
        return (
            bias is not None
            and x.dtype.itemsize == 2
            and self.NARROW_BIAS_IN_FLOAT32
            and self.backend._ember[x.dtype] in dtypes.narrow_float
        )

    def _linear_in_float32(self, x, weight, bias):
        """:meth:`linear` of 16-bit floats computed in float32, rounded to their type once."""
        xp = self.xp
        wide = self.backend.native_dtype(dtypes.float32)
        y = self.linear(xp.astype(x, wide), xp.astype(weight, wide), xp.astype(bias, wide))
        return xp.astype(y, x.dtype)

    def linear_backward(self, grad, x, weight, needs_input, needs_weight, needs_bias):
        """``(grad_x, grad_weight, grad_bias)`` of :meth:`linear` (None where not needed); ``grad`` is (rows, out)."""
        xp = self.xp
        return (
            xp.matmul(grad, weight) if needs_input else None,
            xp.matmul(xp.permute_dims(grad, (1, 0)), x) if needs_weight else None,
            xp.sum(grad, axis=0) if needs_bias else None,
        )
