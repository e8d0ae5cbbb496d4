"""OpenCL LSTM cell: the gate math of a step (and of its backward) in one launch each, around
the hidden-to-hidden GEMM. ``saved`` is private to this pair: ``(acts, c, tanh_c)`` with
``acts`` the activated gates ``(B, 4H)``."""

from __future__ import annotations

import numpy as np

from .array import empty
from .runtime import cl_type

__all__ = ["OpenCLRnnKernels"]


def _rnn_kernel(device, dtype, name):
    t = cl_type(dtype)
    return device.kernel(("rnn", t), "rnn.cl", name, {"T": t})


def _strided(a):
    """``[offset, row stride, column stride]`` of a 2-d array."""
    return [a.offset, *a.strides]


class OpenCLRnnKernels:
    """``lstm_cell`` / ``lstm_cell_backward`` with fused gate math (a pair: same ``saved``)."""

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        device = gx.device
        gh = self.xp.matmul(h, w_hh_t)  # contiguous (B, 4H), offset 0
        rows, hidden = c.shape
        h_new, c_new, tanh_c = (empty((rows, hidden), gx.dtype, device) for _ in range(3))
        acts = empty((rows, 4 * hidden), gx.dtype, device)
        bias = b_hh if b_hh is not None else gh
        meta = _strided(gx) + _strided(c) + [bias.offset, bias.strides[0]]
        total = rows * hidden
        device.launch(_rnn_kernel(device, gx.dtype, "lstm_cell"), total, np.int64(total), np.int64(hidden),
                      h_new.buffer, c_new.buffer, acts.buffer, tanh_c.buffer, gx.buffer, gh.buffer, bias.buffer,
                      np.int32(b_hh is not None), c.buffer, device.meta(meta))  # fmt: skip
        return h_new, c_new, (acts, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        acts, c, tanh_c = saved
        device = acts.device
        rows, hidden = c.shape
        grad_gates = empty((rows, 4 * hidden), acts.dtype, device)
        grad_c_prev = empty((rows, hidden), acts.dtype, device)
        meta = _strided(grad_h) + _strided(grad_c) + _strided(c)
        total = rows * hidden
        device.launch(_rnn_kernel(device, acts.dtype, "lstm_cell_backward"), total, np.int64(total),
                      np.int64(hidden), grad_gates.buffer, grad_c_prev.buffer, grad_h.buffer, grad_c.buffer,
                      acts.buffer, c.buffer, tanh_c.buffer, device.meta(meta))  # fmt: skip
        return grad_gates, grad_gates, self.xp.matmul(grad_gates, w_hh), grad_c_prev
