"""Devices without float64: a program that uses ``double`` is refused before it is built, and
the float32 programs (random draws included) use none (EMBER_OPENCL_NO_FP64=1 runs the suite
as if the device lacked cl_khr_fp64)."""

from __future__ import annotations

import numpy as np
import pytest
from opencl_support import opencl_backend

BACKEND = opencl_backend()

from ember.backends.opencl import runtime  # noqa: E402
from ember.backends.opencl.backend import PhiloxGenerator  # noqa: E402


@pytest.fixture
def without_fp64(monkeypatch):
    device = BACKEND.devices[0]
    monkeypatch.setattr(device, "supports_float64", False)
    for cache in ("_programs", "_kernels"):
        monkeypatch.setattr(device, cache, {})
    return device


def test_uses_double_ignores_comments():
    assert runtime.uses_double("double x;")
    assert runtime.uses_double("#define R double\n")
    assert runtime.uses_double("double2 v;")
    assert not runtime.uses_double("// a double\n/* double */ float x; long doubled;")


def test_program_with_double_is_refused(without_fp64):
    with pytest.raises(TypeError, match=r"opencl:0 .*has no float64.*gather\.cl uses double"):
        without_fp64.kernel(("no-fp64-test",), "gather.cl", "gather", {"T": "double"})


@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_float32_random_draws_build_without_double(without_fp64, kind):
    generator = PhiloxGenerator(without_fp64, 7)
    values = BACKEND.to_host(getattr(generator, kind)((1000,), np.float32))
    assert values.dtype == np.float32 and np.isfinite(values).all()
    if kind == "uniform":
        assert 0 <= values.min() and values.max() < 1


def test_float64_arrays_are_refused(without_fp64):
    with pytest.raises(TypeError, match=r"opencl:0 .*does not support float64"):
        BACKEND.xp.full((2,), 1.0, dtype=np.float64)
    assert BACKEND.xp.full((2,), 1.0).dtype == np.float32  # the device's default float type
