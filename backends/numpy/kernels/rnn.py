"""NumPy overrides of the recurrent kernels.

The per-step hidden products ``h @ w_hh.T`` take the transposed weight as a C-contiguous
copy made once per layer call: OpenBLAS runs a short ``(B, H) @ (H, 4H)`` product about 1.7x
slower on a transposed (Fortran-order) view (B=16, H=256, float32, one thread: about 590 us
against 340 us), and the copy costs one pass over the weight per layer instead of one slow
product per time step.

The LSTM cell works in the hidden product's fresh ``(B, 4H)`` buffer: the input part is added
into it, and the four gate activations are one ``tanh`` over the whole buffer between two
per-column affine maps (``sigmoid(x) = tanh(x / 2) / 2 + 1/2`` on the ``i, f, o`` columns, the
identity on ``g``: the portable cell's formula, value for value), four ufunc calls instead of
ten. Its backward writes the four gate gradients into the columns of one buffer, with no
temporaries and no concatenation. The kernel table runs with NumPy's floating-point warnings
off already, so the cells call the namespace's raw ``matmul`` (T=35, B=16, H=256 float32, one thread, forward and backward
of the cells: portable 25.9 ms, these 24.6 ms, min of 11 alternating rounds; the products
are most of it).
"""

from __future__ import annotations

import numpy as np

from ..namespace import _matmul

__all__ = ["NumpyRnnKernels"]


class NumpyRnnKernels:
    """Faster NumPy versions of portable rnn kernels (see the module docstring)."""

    def _step_weight(self, w):
        return np.ascontiguousarray(w.T)

    def _gate_maps(self, hidden, dtype):
        """``(scale, shift)`` over the ``4 * hidden`` gate columns: 1/2 and 1/2 on ``i, f, o``, 1 and 0 on ``g``."""
        maps = self.__dict__.setdefault("_lstm_gate_maps", {})
        key = (hidden, dtype)
        if key not in maps:
            scale = np.full(4 * hidden, 0.5, dtype=dtype)
            shift = np.full(4 * hidden, 0.5, dtype=dtype)
            scale[2 * hidden : 3 * hidden], shift[2 * hidden : 3 * hidden] = 1, 0
            maps[key] = scale, shift
        return maps[key]

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        gates = _matmul(h, w_hh_t)  # a fresh buffer: everything below happens in it
        gates += gx
        if b_hh is not None:
            gates += b_hh
        n = gates.shape[1] // 4
        scale, shift = self._gate_maps(n, gates.dtype)
        np.multiply(gates, scale, out=gates)
        np.tanh(gates, out=gates)
        np.multiply(gates, scale, out=gates)
        np.add(gates, shift, out=gates)
        i, f, g, o = gates[:, :n], gates[:, n : 2 * n], gates[:, 2 * n : 3 * n], gates[:, 3 * n :]
        c_new = f * c
        c_new += i * g
        tanh_c = np.tanh(c_new)
        return o * tanh_c, c_new, (i, f, g, o, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        i, f, g, o, c, tanh_c = saved
        n = i.shape[1]
        grad_gates = np.empty((i.shape[0], 4 * n), dtype=i.dtype)
        gi, gf, gg, go = (grad_gates[:, k * n : (k + 1) * n] for k in range(4))
        gc = np.multiply(tanh_c, tanh_c)  # grad_c + grad_h * o * (1 - tanh_c^2)
        np.subtract(1, gc, out=gc)
        gc *= o
        gc *= grad_h
        gc += grad_c
        for out, act, other in ((gi, i, g), (gf, f, c), (go, o, None)):  # sigmoid gates: act (1 - act) ...
            np.subtract(1, act, out=out)
            out *= act
            out *= tanh_c if other is None else other
            out *= grad_h if other is None else gc
        np.multiply(g, g, out=gg)  # gc * i * (1 - g^2)
        np.subtract(1, gg, out=gg)
        gg *= i
        gg *= gc
        return grad_gates, grad_gates, _matmul(grad_gates, w_hh), np.multiply(gc, f)
