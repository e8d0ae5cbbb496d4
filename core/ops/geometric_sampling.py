"""``Tensor.geometric_``: samples of the geometric distribution (the number of Bernoulli trials up
to and including the first success), drawn from ember's generators by inversion of uniform samples.
"""

from __future__ import annotations

import math

from .. import dtypes
from ..random import Generator, drawn_in_memory_order, native_generator
from ..tensor import Tensor
from .creation import empty_like
from .dtype_support import not_implemented
from .inplace import _write

__all__: list[str] = []


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    r"""Fills this tensor with samples of the geometric distribution with success probability ``p``.

    .. math::
        P(X = k) = (1 - p)^{k - 1} p, \quad k = 1, 2, \ldots

    A sample is ``ceil(log(u) / log(1 - p))`` for a uniform sample ``u`` in [0, 1), computed in float64
    where the device has it (as PyTorch does); integer tensors receive the counts as they are.

    Args:
        p (float): the success probability, in (0, 1).
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.empty(1000).geometric_(0.5)
        >>> bool(x.min() >= 1), abs(x.mean().item() - 2.0) < 0.2
        (True, True)
    """
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    if self.dtype is dtypes.bool or self.dtype.is_complex:  # PyTorch's kernel: the real types but bool
        not_implemented("geometric_cpu", self.dtype)
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    if (
        gen.geometric((0,), self._data.dtype, p) is not None
    ):  # (draws nothing) the backend's own sampler (PyTorch's rounding on cpu)
        return _write(self, drawn_in_memory_order(self, lambda shape: gen.geometric(shape, self._data.dtype, p)))
    wide = dtypes.float64 if backend.supports_float64 else dtypes.float32
    uniforms = empty_like(self, dtype=wide).uniform_(generator=generator)  # drawn in self's memory order
    return self.copy_((uniforms.log() / math.log1p(-p)).ceil())
