"""In-place variants (``add_``, ``mul_``, ``clamp_``, ``fill_``, ``uniform_``, ...).

Each in-place op computes its out-of-place twin and writes the result into the
tensor's storage; the write bumps the version counter and, while recording, becomes
the tensor's new ``grad_fn``. While recording, the twin reads a copy of the old
values so that the graph never sees storage that the write changed.
"""

from __future__ import annotations

import math

from .. import dtypes
from ..autograd.grad_mode import grad_state
from ..random import check_probabilities, native_generator
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .conversion import assign_, check_inplace

__all__ = []


def _inplace(name):
    out_of_place = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        recording = grad_state.enabled and (
            self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
        )
        if recording:
            check_inplace(self)
            result = out_of_place(self.clone(), *args, **kwargs)
        else:
            result = out_of_place(self, *args, **kwargs)
        if result.dtype is not self.dtype and result.dtype._category > self.dtype._category:
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {self.dtype}")
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"{name}_: output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        return assign_(self, result)

    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return method


def _write(self, data):
    """Store freshly made native ``data`` (no autograd) into ``self``."""
    if grad_state.enabled and self._requires_grad and self.grad_fn is None:
        check_inplace(self)
    self._data[...] = data
    self._version.value += 1
    return self


def fill_(self, value):
    """Set every element to ``value``."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return assign_(self, value)
    if grad_state.enabled and self._requires_grad:
        check_inplace(self)
        return assign_(self, self.new_full((), value))
    return _write(self, self._backend.xp.full(self._data.shape, value, dtype=self._data.dtype))


def zero_(self):
    """Set every element to zero."""
    return fill_(self, 0)


def _sample_(self, name, draw, generator):
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    native = self._data.dtype
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{_TORCH_NAMES[self.dtype.name]}'")
    return _write(self, draw(gen, tuple(self._data.shape), native, backend.xp))


def _require(ok, message):
    if not ok:
        raise RuntimeError(message)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U[a, b)."""
    _require(a <= b, f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _sample_(self, "uniform_", lambda g, s, d, xp: g.uniform(s, d) * (b - a) + a, generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2)."""
    _require(std >= 0.0, f"normal expects std >= 0.0, but found std {std}")
    return _sample_(self, "normal_", lambda g, s, d, xp: g.normal(s, d) * std + mean, generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from the exponential distribution with rate ``lambd``."""
    _require(lambd > 0.0, f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _sample_(self, "exponential_", lambda g, s, d, xp: -xp.log1p(-g.uniform(s, d)) / lambd, generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples that are 1 with probability ``p`` (a number or a tensor)."""
    check_probabilities("bernoulli_", p)
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    probs = p._data if isinstance(p, Tensor) else p
    u = gen.uniform(
        tuple(self._data.shape),
        backend.native_dtype(dtypes.float32 if not backend.supports_float64 else dtypes.float64),
    )
    return _write(self, backend.xp.astype(u < probs, self._data.dtype))


def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers uniform in ``[from_, to)`` (``[0, from_)`` with one argument)."""
    if to is None:
        from_, to = 0, from_
        if to == 0:
            to = 2**24 if self.dtype.is_floating_point else 2**63 - 1
    _require(from_ < to, f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    ints = gen.integers(from_, to, tuple(self._data.shape), backend.native_dtype(dtypes.int64))
    return _write(self, backend.xp.astype(ints, self._data.dtype))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples whose logarithm is N(mean, std^2)."""
    _require(std > 0.0, f"log_normal_ expects std > 0.0, but found std={std}")
    return _sample_(self, "log_normal_", lambda g, s, d, xp: xp.exp(g.normal(s, d) * std + mean), generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples from the Cauchy distribution."""
    _require(sigma > 0.0, f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _sample_(
        self, "cauchy_", lambda g, s, d, xp: median + sigma * xp.tan(math.pi * (g.uniform(s, d) - 0.5)), generator
    )
