"""OpenCL GEMM: ember's register-blocked kernel and CLBlast (through ctypes, where the library
is installed) each against NumPy, on the layouts matmul hands them."""

from __future__ import annotations

import numpy as np
import pytest
from opencl_support import opencl_backend

BACKEND = opencl_backend()

from ember.backends.opencl import clblast  # noqa: E402

xp = BACKEND.xp
DTYPES = ["float32"] + (["float64"] if BACKEND.supports_float64 else [])
RNG = np.random.default_rng(5)


def _case(name, dtype):
    """(numpy a, numpy b, device a, device b) for one operand layout."""

    def rand(*shape):
        return RNG.standard_normal(shape).astype(dtype)

    def dev(x):
        return BACKEND.from_host(x, 0)

    if name == "plain":
        a, b = rand(70, 45), rand(45, 130)
        return a, b, dev(a), dev(b)
    if name == "transposed":
        a, b = rand(45, 70), rand(130, 45)
        return a.T, b.T, xp.permute_dims(dev(a), (1, 0)), xp.permute_dims(dev(b), (1, 0))
    if name == "batched-broadcast":
        a, b = rand(3, 33, 17), rand(17, 65)
        return a, b, dev(a), dev(b)
    if name == "vector":
        a, b = rand(40), rand(40, 9)
        return a, b, dev(a), dev(b)
    if name == "column-view":
        a, b = rand(20, 30), rand(30, 12)
        return a[:, ::2], b[::2, :], dev(a)[:, ::2], dev(b)[::2, :]
    raise ValueError(name)


CASES = ["plain", "transposed", "batched-broadcast", "vector", "column-view"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("choice", ["own", "clblast"])
def test_gemm_matches_numpy(choice, case, dtype, monkeypatch):
    if choice == "clblast" and not clblast.available(dtype):
        pytest.skip("CLBlast (libclblast) is not installed")
    monkeypatch.setenv("EMBER_OPENCL_GEMM", choice)
    calls = []
    gemm = clblast.gemm
    monkeypatch.setattr(clblast, "gemm", lambda *args: calls.append(gemm(*args)) or calls[-1])
    a, b, da, db = _case(case, dtype)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(BACKEND.to_host(xp.matmul(da, db)), a @ b, **tol)
    if choice == "own":
        assert calls == []
    elif case != "column-view":  # a column view has no unit stride: the own kernel serves it
        assert calls == [True]


def test_auto_choice_is_measured_once_per_device_and_dtype(monkeypatch):
    monkeypatch.delenv("EMBER_OPENCL_GEMM", raising=False)
    device = BACKEND.devices[0]
    monkeypatch.setattr(device, "gemm_choice", {})
    a = BACKEND.from_host(np.ones((8, 8), np.float32), 0)
    xp.matmul(a, a)
    xp.matmul(a, a)
    expected = {("clblast-faster", np.dtype("float32"))} if clblast.available("float32") else set()
    assert set(device.gemm_choice) == expected


@pytest.mark.skipif(not clblast.available("float32"), reason="CLBlast is not installed")
def test_auto_choice_is_kept_on_disk_for_a_new_process(monkeypatch, tmp_path):
    monkeypatch.delenv("EMBER_OPENCL_GEMM", raising=False)
    monkeypatch.setenv("EMBER_OPENCL_CACHE_DIR", str(tmp_path))
    device = BACKEND.devices[0]
    a = BACKEND.from_host(np.ones((8, 8), np.float32), 0)
    monkeypatch.setattr(device, "gemm_choice", {})
    xp.matmul(a, a)  # measures and stores the verdict
    verdict = device.gemm_choice[("clblast-faster", np.dtype("float32"))]
    assert [p.suffix for p in tmp_path.iterdir() if p.suffix == ".choice"] == [".choice"]

    def measure(*args):
        raise AssertionError("measured again")

    monkeypatch.setattr(clblast, "_measure", measure)
    monkeypatch.setattr(device, "gemm_choice", {})  # as in a new process
    np.testing.assert_allclose(BACKEND.to_host(xp.matmul(a, a)), np.full((8, 8), 8, np.float32))
    assert device.gemm_choice[("clblast-faster", np.dtype("float32"))] == verdict
