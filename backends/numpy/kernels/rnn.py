"""NumPy overrides of the recurrent kernels.

None at present: an in-place NumPy ``lstm_cell``/``lstm_cell_backward`` (gate activations
computed in the hidden-product buffer, gate gradients written into one array) measured no
faster than the portable kernels (LSTM layer, T=35, B=16, H=256, float32, one thread: about
70-95 ms portable against 75-108 ms in place), because the in-place updates run on strided
column slices; the portable defaults are used.
"""

from __future__ import annotations

__all__ = ["NumpyRnnKernels"]


class NumpyRnnKernels:
    """Faster NumPy versions of portable rnn kernels (none yet; see the module docstring)."""
