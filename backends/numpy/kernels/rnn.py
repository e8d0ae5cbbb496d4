"""NumPy overrides of the recurrent kernels.

The per-step hidden products ``h @ w_hh.T`` take the transposed weight as a C-contiguous
copy made once per layer call: OpenBLAS runs a short ``(B, H) @ (H, 4H)`` product about 1.7x
slower on a transposed (Fortran-order) view (B=16, H=256, float32, one thread: about 590 us
against 340 us), and the copy costs one pass over the weight per layer instead of one slow
product per time step.

An in-place NumPy ``lstm_cell``/``lstm_cell_backward`` (gate activations computed in the
hidden-product buffer, gate gradients written into one array) measured no faster than the
portable cells (LSTM layer, T=35, B=16, H=256, float32, one thread: about 70-95 ms portable
against 75-108 ms in place), because the in-place updates run on strided column slices; the
portable cells are used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyRnnKernels"]


class NumpyRnnKernels:
    """Faster NumPy versions of portable rnn kernels (see the module docstring)."""

    def _step_weight(self, w):
        return np.ascontiguousarray(w.T)
