"""NumPy overrides of the linear layer's kernels: the bias added into the GEMM's fresh result, and
the three gradients without the portable kernel's transposes through the namespace.

The backend runs its kernels with NumPy's floating-point warnings off already, so these call the
namespace's raw ``matmul`` (bfloat16 products stay bfloat16), not its quiet wrapper. The forward
product and the input gradient of float32/float64 go by row blocks where OpenBLAS's small-matrix
GEMM then takes them (:mod:`.small_gemm`: a classifier's few output features). float32 products
go through oneDNN where it is installed and takes them (:mod:`..onednn.gemm`)."""

from __future__ import annotations

import numpy as np

from ember.backend import native_dtype_name

from ..namespace import _matmul
from ..onednn import gemm
from ..parallel import on_one_blas_thread
from .small_gemm import matmul_by_rows

__all__ = ["NumpyLinearKernels"]

#: the dtypes whose products with few output features go by row blocks (:func:`matmul_by_rows`)
_BLOCKED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


#: multiply-adds of a layer's products run on one BLAS thread (:func:`on_one_blas_thread`): from
#: where OpenBLAS starts threading a GEMM (65536 x 4 multiply-adds; below, it runs on one thread
#: by itself and the switch would only cost) up to where its threads pay: 64 x 2048 -> 10
#: (1.3 M) goes there, 256 x 784 -> 1024 (205 M) keeps BLAS's threads
ONE_THREAD_MACS = (1 << 18, 1 << 23)


def _one_thread(rows, weight):
    low, high = ONE_THREAD_MACS
    return low <= rows * weight.size < high


def _product(a, b):
    return matmul_by_rows(a, b) if a.dtype in _BLOCKED_DTYPES else _matmul(a, b)


def _onednn_products(grad, x, weight, needs_input, needs_weight):
    """The two gradient products through oneDNN (:func:`.onednn.gemm.matmul`), or None where it does not take both."""
    grad_input = gemm.matmul(grad, weight) if needs_input else None
    grad_weight = gemm.matmul(grad.T, x) if needs_weight else None
    if (grad_input is None and needs_input) or (grad_weight is None and needs_weight):
        return None
    return grad_input, grad_weight


def _products(grad, x, weight, needs_input, needs_weight):
    return (_product(grad, weight) if needs_input else None, _matmul(grad.T, x) if needs_weight else None)


class NumpyLinearKernels:
    def linear_rounded_once(self, x, weight, bias):
        """A bfloat16 layer's product with its bias inside, through oneDNN's bfloat16 matmul (PyTorch's
        ``addmm``: float32 accumulation, one rounding), where oneDNN takes it."""
        if native_dtype_name(x.dtype) != "bfloat16" or bias.dtype != x.dtype:
            return None
        return gemm.matmul(x, weight.T, bias=bias)  # None where oneDNN declines (too small a product, ...)

    def linear(self, x, weight, bias):
        if x.shape[0] * weight.size >= gemm.MIN_MACS:  # else oneDNN declines: no need to ask it
            # the bias added inside the product (one pass fewer, one rounding, as PyTorch's ``addmm``)
            fused = bias is not None and bias.dtype == x.dtype
            out = gemm.matmul(x, weight.T, bias=bias if fused else None)
            if out is not None:
                if bias is not None and not fused:
                    out += bias
                return out
        out = on_one_blas_thread(_product, x, weight.T) if _one_thread(x.shape[0], weight) else _product(x, weight.T)
        if bias is not None:
            out += bias  # in place: the product is a fresh buffer, so no second temporary
        return out

    def linear_backward(self, grad, x, weight, needs_input, needs_weight, needs_bias):
        products = None
        if grad.shape[0] * weight.size >= gemm.MIN_MACS:  # else oneDNN declines: no need to ask it
            products = _onednn_products(grad, x, weight, needs_input, needs_weight)
        if products is not None:
            grad_input, grad_weight = products
        elif _one_thread(grad.shape[0], weight):
            grad_input, grad_weight = on_one_blas_thread(_products, grad, x, weight, needs_input, needs_weight)
        else:
            grad_input, grad_weight = _products(grad, x, weight, needs_input, needs_weight)
        # the namespace's sum: float16/bfloat16 accumulated in float32 and rounded once, as PyTorch
        return grad_input, grad_weight, self.xp.sum(grad, axis=0) if needs_bias else None
