"""Kernel builds on OpenCL print nothing: no compiler warnings for any op's program."""

from __future__ import annotations

import warnings

import pytest
from opencl_support import opencl_backend

import ember

BACKEND = opencl_backend()

from pyopencl import CompilerWarning  # noqa: E402


@pytest.fixture
def fresh_builds(monkeypatch):
    """Every program is built again from source (in-process and on-disk caches bypassed)."""
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", "")
    device = BACKEND.devices[0]
    for cache in ("_programs", "_kernels", "map_kernels"):
        monkeypatch.setattr(device, cache, {})


def _ops(x, numeric):
    """The reductions of ``x``; argmax/argmin and median only for numbers (PyTorch refuses them on bool)."""
    out = [x.max(), x.min(1).values, x.sort(1).values]
    return out + ([x.argmax(), x.argmin(1), x.median(1).values, x.median()] if numeric else [])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
def test_reductions_and_median_build_without_warnings(dtype, fresh_builds):
    torch = pytest.importorskip("torch")
    data = [[3, 1, 2], [0, 5, 1]]
    x = ember.tensor(data, device="opencl:0").to(getattr(ember, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompilerWarning)
        got = _ops(x, dtype != "bool")
    reference = torch.tensor(data).to(getattr(torch, dtype))
    # torch has no argmax/argmin of bool: its uint8 results are the same numbers
    want = _ops(reference.to(torch.uint8) if dtype == "bool" else reference, dtype != "bool")
    for g, w in zip(got, want):
        assert g.cpu().numpy().tolist() == w.numpy().tolist()
