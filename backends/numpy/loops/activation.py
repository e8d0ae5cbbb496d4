"""ReLU and its gradient as compiled loops over flat C-contiguous arrays (see :mod:`.runtime`).

Each element is selected as PyTorch selects it: ``relu`` keeps ``x`` unless ``x < 0`` (so NaN and
``-0.`` pass, as in ``clamp_min(x, 0)``); its gradient is 0 where the output is ``<= 0`` and the
incoming gradient elsewhere, so a non-finite gradient where the output is 0 gives 0, not the NaN
of a product by a mask.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["relu", "relu_backward"]


@njit(parallel=True, nogil=True, cache=True)
def relu(x, out):
    """``out[i] = 0 if x[i] < 0 else x[i]``."""
    for i in prange(x.size):
        value = x[i]
        out[i] = 0 if value < 0 else value


@njit(parallel=True, nogil=True, cache=True)
def relu_backward(grad, y, out):
    """``out[i] = 0 if y[i] <= 0 else grad[i]`` (``y`` the ReLU's output)."""
    for i in prange(grad.size):
        out[i] = 0 if y[i] <= 0 else grad[i]
