"""The restricted backend: NumPy behind the declared primitives and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ember.backend import REQUIRED
from ember.backends.numpy.backend import NumpyBackend
from ember.backends.numpy.namespace import namespace as numpy_namespace
from ember.kernels import Kernels

from .array import RestrictedArray, unwrap, wrap

__all__ = ["RestrictedBackend"]


def _primitive(fn):
    def call(*args, **kwargs):
        return wrap(fn(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))

    call.__name__ = fn.__name__
    return call


# the Generator methods that return arrays
_SAMPLERS = (
    "uniform",
    "normal",
    "integers",
    "uniform_range",
    "normal_scaled",
    "normal_scaled_serially",
    "permutation",
    "exponential",
    "log_normal",
    "cauchy",
    "geometric",
    "whole_range_integers",
    "poisson",
    "standard_gamma",
    "binomial",
    "categorical",
)


class RestrictedGenerator:
    """Wraps the NumPy generator's output in restricted arrays."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        return _primitive(attr) if name in _SAMPLERS else attr


class RestrictedBackend(NumpyBackend):
    """Device type ``restricted``: exactly the required primitives (the derived ones are the
    core's portable compositions), the portable kernels, no overrides."""

    device_type = "restricted"
    autocast_device_type = "cpu"  # a host backend: PyTorch's CPU autocast policy
    _complex_dtypes = ()  # the required primitives have no complex functions and no fft
    xp = SimpleNamespace(**{name: _primitive(getattr(numpy_namespace, name)) for name in REQUIRED})

    def __init__(self):
        super().__init__()
        self.kernels = Kernels(self)

    def device_name(self, index):
        return "NumPy behind the declared primitives only"

    def from_host(self, host_array, index, copy=True):
        return RestrictedArray(np.array(host_array, copy=True))

    def to_host(self, array):
        return np.array(array._array, copy=True)

    def is_contiguous(self, array):
        return super().is_contiguous(array._array)

    def strides(self, array):
        return super().strides(array._array)

    def is_row_major(self, array):
        return super().is_row_major(array._array)

    def layout(self, array):
        return super().layout(array._array)

    def viewable(self, array):
        native = super().viewable(array._array)
        return array if native is array._array else RestrictedArray(native)

    def storage_offset(self, array):
        return super().storage_offset(array._array)

    def storage_size(self, array):
        return super().storage_size(array._array)

    def memory_owner(self, array):
        return super().memory_owner(array._array)

    def data_address(self, array):
        return super().data_address(array._array)

    def as_strided(self, array, shape, strides, offset):
        return RestrictedArray(super().as_strided(array._array, shape, strides, offset))

    def bitcast(self, array, dtype):
        return RestrictedArray(super().bitcast(array._array, dtype))

    def scatter_add(self, target, axis, index, values):
        super().scatter_add(target._array, axis, unwrap(index), unwrap(values))

    def erf(self, array):
        return RestrictedArray(super().erf(array._array))

    def create_generator(self, index, seed):
        return RestrictedGenerator(super().create_generator(index, seed))

    def from_dlpack(self, obj):
        raise NotImplementedError("the restricted backend does not exchange DLPack")
