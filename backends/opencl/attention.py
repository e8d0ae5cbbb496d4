"""OpenCL fused scaled dot-product attention (``cl/attention.cl``): the fused-attention hook of
the kernel contract (:mod:`ember.kernels.attention`). One launch for the forward (online softmax
over key blocks, the log-sum-exp of each row saved), two for the backward (dq and the gradient
of the scores per query block, then dk and dv per key block); float32, float64 and float16
(stored as half, computed in float32, the log-sum-exp kept in float32); no ``(L, S)``
probabilities in memory unless the gradient of a float mask is asked for. Dropout and head
dims over :data:`MAX_HEAD_DIM` are left to the portable kernels.
"""

from __future__ import annotations

import math

import numpy as np

from .array import empty
from .runtime import SCALAR_TYPES, compute_type

__all__ = ["OpenCLAttentionKernels", "MAX_HEAD_DIM"]

#: the largest head dim (of queries/keys or of values) the fused kernels take: the rows are
#: held in each work-item's private memory
MAX_HEAD_DIM = 256
#: query (key) rows per work-group and the rows of a tile in local memory
_ROWS = 32
_FLOATS = (np.dtype("float32"), np.dtype("float64"), np.dtype("float16"))
_HALF = np.dtype("float16")
_MASK_KINDS = {None: 0, np.dtype("bool"): 1}


def _tile_rows(device, dmax, itemsize):
    """Rows of a local-memory tile: the kernels hold two tiles of ``dmax`` values per row (and
    two of one value), within half the device's local memory; 0 if not even one row fits."""
    fit = device.cl_device.local_mem_size // 2 // ((2 * dmax + 2) * itemsize)
    return 0 if fit < 1 else 1 << min(int(math.log2(fit)), int(math.log2(_ROWS)))


def _stats_dtype(dtype):
    """The dtype the kernels compute in, and keep the row statistics in: float32 for float16."""
    return np.dtype("float32") if dtype == _HALF else dtype


def _operand(a):
    """``[offset, batch strides, row stride, column stride]`` of a strided ``(*, rows, cols)`` array."""
    return [a.offset, *a.strides]


def _meta(device, batch, operands):
    """The kernels' meta buffer: the batch shape, then each operand's layout (q's stands in for
    an absent one)."""
    return device.meta([len(batch), *batch, *(v for a in operands for v in _operand(a))])


class OpenCLAttentionKernels:
    """``fused_attention_supports`` / ``fused_attention_forward`` / ``fused_attention_backward``
    on OpenCL devices (see the module docstring for the cases served)."""

    def fused_attention_supports(self, q, k, v, mask, is_causal, scale, dropout_p):
        dtype = q.dtype
        if dropout_p > 0.0 or dtype not in _FLOATS or q.ndim < 2:
            return False
        if mask is not None and mask.dtype != dtype and mask.dtype not in _MASK_KINDS:
            return False
        if 0 in q.shape or 0 in k.shape or 0 in v.shape or max(q.shape[-1], v.shape[-1]) > MAX_HEAD_DIM:
            return False
        device = q.device
        if dtype == np.float64 and not device.supports_float64:
            return False
        return device.max_work_group >= _ROWS and _tile_rows(device, self._dmax(q, v), _stats_dtype(dtype).itemsize) > 0

    @staticmethod
    def _dmax(q, v):
        """The private and local rows' length: the larger head dim rounded up to a multiple of 8."""
        return -(-max(q.shape[-1], v.shape[-1]) // 8) * 8

    def _kernel(self, q, v, name):
        device, dtype = q.device, q.dtype
        dmax = self._dmax(q, v)
        tile = _tile_rows(device, dmax, _stats_dtype(dtype).itemsize)
        t, half = compute_type(dtype), int(dtype == _HALF)
        defines = {"T": t, "HALF": half, "VT": f"{t}8", "BM": _ROWS, "BN": tile, "DMAX": dmax}
        return device.kernel(("attention", t, half, dmax, tile), "attention.cl", name, defines)

    def _common(self, q, k, v, mask, is_causal, scale):
        """The launch geometry and the arguments every kernel takes after the shapes."""
        batch = q.shape[:-2]
        L, S, E, EV = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
        kind = 0 if mask is None else _MASK_KINDS.get(mask.dtype, 2)
        scalars = (np.int64(L), np.int64(S), np.int32(E), np.int32(EV), SCALAR_TYPES[compute_type(q.dtype)](scale),
                   np.int32(kind), np.int32(bool(is_causal)))  # fmt: skip
        masks = [q.buffer, q.buffer]  # (bool mask, float mask): q's buffer stands in for the absent ones
        if kind:
            masks[kind - 1] = mask.buffer
        return batch, math.prod(batch), L, S, E, EV, scalars, masks

    def fused_attention_forward(self, q, k, v, mask, is_causal, scale):
        device = q.device
        batch, B, L, S, E, EV, scalars, masks = self._common(q, k, v, mask, is_causal, scale)
        out = empty((*batch, L, EV), q.dtype, device)
        lse = empty((*batch, L), _stats_dtype(q.dtype), device)
        meta = _meta(device, batch, (q, k, v, q if mask is None else mask, q))
        kern = self._kernel(q, v, "attention_forward")
        device.enqueue(kern, (-(-L // _ROWS) * _ROWS, B), (_ROWS, 1), *scalars, out.buffer, lse.buffer,
                       q.buffer, k.buffer, v.buffer, *masks, meta)  # fmt: skip
        return out, lse

    def fused_attention_backward(self, grad, q, k, v, mask, is_causal, scale, out, stats, mask_grad):
        device, dtype = q.device, q.dtype
        batch, B, L, S, E, EV, scalars, masks = self._common(q, k, v, mask, is_causal, scale)
        dq = empty((*batch, L, E), dtype, device)
        dk = empty((*batch, S, E), dtype, device)
        dv = empty((*batch, S, EV), dtype, device)
        D = empty((*batch, L), _stats_dtype(dtype), device)
        ds = empty((*batch, L, S), dtype, device) if mask_grad else D
        meta = _meta(device, batch, (q, k, v, q if mask is None else mask, grad))
        rows = (-(-L // _ROWS) * _ROWS, B)
        device.enqueue(self._kernel(q, v, "attention_backward_dq"), rows, (_ROWS, 1), *scalars,
                       np.int32(bool(mask_grad)), dq.buffer, ds.buffer, D.buffer, stats.buffer, out.buffer,
                       q.buffer, k.buffer, v.buffer, grad.buffer, *masks, meta)  # fmt: skip
        cols = (-(-S // _ROWS) * _ROWS, B)
        device.enqueue(self._kernel(q, v, "attention_backward_dkv"), cols, (_ROWS, 1), *scalars, dk.buffer,
                       dv.buffer, D.buffer, stats.buffer, q.buffer, k.buffer, v.buffer, grad.buffer, *masks,
                       meta)  # fmt: skip
        return dq, dk, dv, ds if mask_grad else None
