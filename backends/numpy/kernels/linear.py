"""NumPy overrides of the linear layer's kernels: the bias added into the GEMM's fresh result, and
the three gradients without the portable kernel's transposes through the namespace.

The backend runs its kernels with NumPy's floating-point warnings off already, so these call the
namespace's raw ``matmul`` (bfloat16 products stay bfloat16), not its quiet wrapper."""

from __future__ import annotations

from ..namespace import _matmul

__all__ = ["NumpyLinearKernels"]


class NumpyLinearKernels:
    def linear(self, x, weight, bias):
        out = _matmul(x, weight.T)
        if bias is not None:
            out += bias  # in place: the product is a fresh buffer, so no second temporary
        return out

    def linear_backward(self, grad, x, weight, needs_input, needs_weight, needs_bias):
        return (
            _matmul(grad, weight) if needs_input else None,
            _matmul(grad.T, x) if needs_weight else None,
            grad.sum(axis=0) if needs_bias else None,
        )
