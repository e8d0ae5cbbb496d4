"""Portable kernels of the linear layer: ``x @ w^T + b`` on 2-D rows and its three gradients."""

from __future__ import annotations

__all__ = ["LinearKernels"]


class LinearKernels:
    def linear(self, x, weight, bias):
        """``x @ weight^T (+ bias)`` for ``x`` (rows, in), ``weight`` (out, in), ``bias`` (out,) or None."""
        xp = self.xp
        y = xp.matmul(x, xp.permute_dims(weight, (1, 0)))
        return y if bias is None else y + bias

    def linear_rounded_once(self, x, weight, bias):
        """:meth:`linear` of float16/bfloat16 arrays with a ``bias``, accumulated in float32 and rounded
        once after the bias is added (PyTorch's ``addmm``), computed in their own type where the backend
        has such a product; None where it has not (the caller then computes it in float32 and rounds)."""
        return None

    def linear_backward(self, grad, x, weight, needs_input, needs_weight, needs_bias):
        """``(grad_x, grad_weight, grad_bias)`` of :meth:`linear` (None where not needed); ``grad`` is (rows, out)."""
        xp = self.xp
        return (
            xp.matmul(grad, weight) if needs_input else None,
            xp.matmul(xp.permute_dims(grad, (1, 0)), x) if needs_weight else None,
            xp.sum(grad, axis=0) if needs_bias else None,
        )
