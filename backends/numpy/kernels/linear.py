"""NumPy overrides of the linear layer's kernels: the bias added into the GEMM's fresh result, and
the three gradients without the portable kernel's transposes through the namespace."""

from __future__ import annotations

__all__ = ["NumpyLinearKernels"]


class NumpyLinearKernels:
    def linear(self, x, weight, bias):
        out = self.xp.matmul(x, weight.T)  # the namespace's matmul: bfloat16 products stay bfloat16
        if bias is not None:
            out += bias  # in place: the product is a fresh buffer, so no second temporary
        return out

    def linear_backward(self, grad, x, weight, needs_input, needs_weight, needs_bias):
        matmul = self.xp.matmul
        return (
            matmul(grad, weight) if needs_input else None,
            matmul(grad.T, x) if needs_weight else None,
            self.xp.sum(grad, axis=0) if needs_bias else None,
        )
