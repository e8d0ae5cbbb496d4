"""``ExampleBackend``: what ember needs beside the namespace (see ``ember.backend.Backend``)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

import ember
from ember.backend import REQUIRED, Backend, Generator
from ember.kernels import Kernels

from . import namespace
from .array import ExampleArray, unwrap, wrap


class ExampleGenerator(Generator):
    """The random stream of the device: NumPy's PCG64, wrapped."""

    def __init__(self, seed):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def uniform(self, shape, dtype):
        return wrap(self._rng.random(shape).astype(dtype))

    def normal(self, shape, dtype):
        return wrap(self._rng.standard_normal(shape).astype(dtype))

    def integers(self, low, high, shape, dtype):
        return wrap(self._rng.integers(low, high, size=shape).astype(dtype))

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state


class ExampleBackend(Backend):
    device_type = "example"
    supports_float64 = True
    # exactly the required primitives, nothing else (ember composes the derived ones from them)
    xp = SimpleNamespace(**{name: getattr(namespace, name) for name in REQUIRED})

    def __init__(self):
        super().__init__()
        for dtype in ember.dtypes.all_dtypes:  # ember dtype -> the native dtype arrays report
            self.register_dtype(dtype, np.dtype(dtype.name))
        self.kernels = Kernels(self)  # the portable kernels; override methods here for speed

    def device_name(self, index):
        return "NumPy, one primitive at a time (ember-backend-example)"

    def from_host(self, host_array, index, copy=True):
        return ExampleArray(np.array(host_array, copy=True))

    def to_host(self, array):
        return np.array(array.data, copy=True)

    def scatter_add(self, target, axis, index, values):
        grid = list(np.indices(index.shape, sparse=True))
        grid[axis] = unwrap(index)
        np.add.at(target.data, tuple(grid), unwrap(values))

    def erf(self, array):
        return wrap(np.vectorize(math.erf, otypes=[array.dtype])(array.data))

    def create_generator(self, index, seed):
        return ExampleGenerator(seed)
