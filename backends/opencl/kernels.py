"""The OpenCL kernel table: portable defaults, with the kernels that pay on OpenCL replaced."""

from __future__ import annotations

import math

import numpy as np

from ember.kernels import Kernels

from . import codegen
from .array import collapse, empty
from .attention import OpenCLAttentionKernels
from .conv import OpenCLConvKernels
from .optim import OpenCLOptimKernels
from .pooling import OpenCLPoolingKernels
from .rnn import OpenCLRnnKernels
from .runtime import cl_type

__all__ = ["OpenCLKernels"]


class OpenCLKernels(
    OpenCLConvKernels, OpenCLPoolingKernels, OpenCLRnnKernels, OpenCLOptimKernels, OpenCLAttentionKernels, Kernels
):
    """Overrides: softmax and log-softmax in one pass per row (instead of five array ops);
    the mixins' convolution, pooling, LSTM-cell, fused optimizer-step and fused attention kernels."""

    def _softmax(self, x, axis, log):
        axis %= max(x.ndim, 1)
        # float16/bfloat16: the portable kernel's float32 in PyTorch's CPU order (which calls this one back)
        if x.ndim == 0 or x.dtype.kind != "f" or x.dtype.itemsize == 2:
            return getattr(super(), "log_softmax" if log else "softmax")(x, axis)
        device = x.device
        out = empty(x.shape, x.dtype, device)
        outer_dims = [d for d in range(x.ndim) if d != axis]
        rows = math.prod(x.shape[d] for d in outer_dims)
        k = x.shape[axis]
        inner = math.prod(x.shape[axis + 1 :])
        oshape, (ostr,) = collapse(tuple(x.shape[d] for d in outer_dims), [tuple(x.strides[d] for d in outer_dims)])
        t = cl_type(x.dtype)
        subs = codegen.rows_fields()
        kern = device.kernel(("softmax", t, log), "softmax.cl", "softmax", {"T": t, "LOG": int(log)}, subs)
        meta = device.meta([len(oshape), *oshape, x.offset, *ostr])
        if k:
            device.launch(kern, rows, np.int64(rows), np.int64(k), out.buffer, x.buffer, meta,
                          np.int64(x.strides[axis]), np.int64(max(inner, 1)))  # fmt: skip
        return out

    def softmax(self, x, axis):
        return self._softmax(x, axis, False)

    def log_softmax(self, x, axis):
        return self._softmax(x, axis, True)
