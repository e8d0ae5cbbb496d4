"""NumPy as an array namespace (see :func:`ember.backend.build_namespace`)."""

from __future__ import annotations

import numpy as np

from ember.backend import build_namespace

__all__ = ["namespace"]

namespace = build_namespace(np, "ember.backends.numpy.namespace")


def _matmul(x1, x2, /):
    """``np.matmul``, except that bfloat16 operands (which ml_dtypes multiplies into float32) give
    bfloat16, as PyTorch's bfloat16 matmul does (float32 accumulation, one rounding)."""
    out = np.matmul(x1, x2)
    return out if out.dtype == x1.dtype else out.astype(x1.dtype)


namespace.matmul = _matmul
