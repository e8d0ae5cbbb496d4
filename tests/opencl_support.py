"""The OpenCL backend for the tests/test_opencl_*.py modules, or a module-level skip."""

from __future__ import annotations

import pytest

import ember


def opencl_backend():
    """The loaded OpenCL backend; skips the calling test module where PyOpenCL, an OpenCL
    runtime or a device is missing."""
    pytest.importorskip("pyopencl")
    try:
        return ember.backends.get_backend("opencl")
    except Exception as exc:  # noqa: BLE001 - any failure means no OpenCL here
        pytest.skip(f"opencl backend unavailable: {exc}", allow_module_level=True)
