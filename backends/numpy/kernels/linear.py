"""NumPy override of the linear layer's forward: the bias added into the GEMM's fresh result."""

from __future__ import annotations

__all__ = ["NumpyLinearKernels"]


class NumpyLinearKernels:
    def linear(self, x, weight, bias):
        out = self.xp.matmul(x, weight.T)  # the namespace's matmul: bfloat16 products stay bfloat16
        if bias is not None:
            out += bias  # in place: the product is a fresh buffer, so no second temporary
        return out
