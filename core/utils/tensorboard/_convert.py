"""The one conversion every summary starts from: an ember tensor, a NumPy array or a Python
number to a NumPy array."""

from __future__ import annotations

from typing import Any

import numpy as np

import ember

__all__ = ["make_np"]


def make_np(x: Any) -> np.ndarray:
    """``x`` as a NumPy array: an array as it is, a Python or NumPy number as a one-element array,
    an ember tensor detached and copied to the host.

    A bfloat16 tensor becomes float32 (exactly: every bfloat16 value is a float32 value), since
    NumPy's own routines (histograms, image scaling) know no bfloat16.

    >>> make_np(ember.tensor([[1.5, 2.0]], requires_grad=True))
    array([[1.5, 2. ]], dtype=float32)
    >>> make_np(3)
    array([3])
    """
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, ember.Tensor):
        if x.dtype == ember.bfloat16:
            x = x.float()
        return x.detach().cpu().numpy()
    raise NotImplementedError(f"Got {type(x)}, but numpy array or ember tensor are expected.")
