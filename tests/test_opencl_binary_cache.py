"""The on-disk cache of compiled OpenCL programs (backends/opencl/binary_cache.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyopencl")
import pyopencl as cl  # noqa: E402

try:
    from ember.backends.opencl import binary_cache, runtime

    DEVICE = runtime.devices()[0]
except Exception as exc:  # noqa: BLE001 - any failure means no OpenCL here
    pytest.skip(f"opencl backend unavailable: {exc}", allow_module_level=True)

SOURCE = "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }\n"


def run_twice(program):
    host = np.arange(4, dtype=np.float32)
    buf = cl.Buffer(DEVICE.context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR, hostbuf=host)
    program.twice(DEVICE.queue, (4,), None, buf)
    cl.enqueue_copy(DEVICE.queue, host, buf)
    return host


def test_second_build_loads_the_stored_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", str(tmp_path))
    first = binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)
    (stored,) = list(tmp_path.iterdir())
    assert stored.read_bytes() == first.get_info(cl.program_info.BINARIES)[0]
    second = binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)
    assert list(tmp_path.iterdir()) == [stored]
    np.testing.assert_array_equal(run_twice(second), [0, 2, 4, 6])


def test_key_covers_source_and_options(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", str(tmp_path))
    binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)
    binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE + "// another program\n")
    binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE, "-cl-fast-relaxed-math")
    assert len(list(tmp_path.iterdir())) == 3


def test_unloadable_binary_is_rebuilt_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", str(tmp_path))
    binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)
    (stored,) = list(tmp_path.iterdir())
    stored.write_bytes(b"not a binary")
    program = binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)
    np.testing.assert_array_equal(run_twice(program), [0, 2, 4, 6])
    assert stored.read_bytes() != b"not a binary"


def test_empty_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert binary_cache.cache_dir() is None
    np.testing.assert_array_equal(run_twice(binary_cache.build(DEVICE.context, DEVICE.cl_device, SOURCE)), [0, 2, 4, 6])
    assert not any(tmp_path.iterdir())
