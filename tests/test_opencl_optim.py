"""The OpenCL fused optimizer steps (one launch per parameter, the shared bodies in
ember/kernels/fused/*.h) against the NumPy backend's kernels, for every option."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from opencl_support import opencl_backend

import ember

BACKEND = opencl_backend()

NUMPY = ember.backends.get_backend("cpu")
DTYPES = ["float32"] + (["float64"] if BACKEND.supports_float64 else [])
SGD = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=wd, maximize=mx, first=f)
    for m, d, n, wd, mx, f in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.01), (False, True), (False, True)
    )
    if (not n or (m and d == 0)) and (m or not f)
]
ADAM = [
    dict(amsgrad=a, weight_decay=wd, decoupled=dc, maximize=mx)
    for a, wd, dc, mx in itertools.product((False, True), (0.0, 0.1), (False, True), (False, True))
]


class Launches:
    """Counts the kernel launches on opencl:0 (by ``Device.launch`` and by ``Device.run``)."""

    def __init__(self, monkeypatch):
        self.count = 0
        device = BACKEND.devices[0]
        for name in ("launch", "run"):
            monkeypatch.setattr(device, name, self._counted(getattr(device, name)))

    def _counted(self, launch):
        def counted(*args, **kwargs):
            self.count += 1
            return launch(*args, **kwargs)

        return counted


def _arrays(dtype, count, seed):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal((7, 33)).astype(dtype) for _ in range(count)]
    out[2:] = [np.abs(a) for a in out[2:]]  # second moments are non-negative
    return out


def _both(arrays):
    return [NUMPY.from_host(a.copy(), 0) for a in arrays], [BACKEND.from_host(a, 0) for a in arrays]


def _tolerance(dtype):
    return {"rtol": 2e-6, "atol": 1e-7} if dtype == "float32" else {"rtol": 1e-14, "atol": 1e-15}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", SGD, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_step_matches_numpy_in_one_launch(dtype, options, monkeypatch):
    options = dict(options)
    first = options.pop("first")
    (p_np, g_np, b_np), (p_cl, g_cl, b_cl) = _both(_arrays(dtype, 3, 1))
    if first:
        b_np = b_cl = None
    launches = Launches(monkeypatch)
    out_cl = BACKEND.kernels.sgd_step(p_cl, g_cl, b_cl, lr=0.1, **options)
    assert launches.count == 1
    out_np = NUMPY.kernels.sgd_step(p_np, g_np, b_np, lr=0.1, **options)
    np.testing.assert_allclose(BACKEND.to_host(p_cl), p_np, **_tolerance(dtype))
    assert (out_cl is None) == (out_np is None)
    if out_np is not None:
        np.testing.assert_allclose(BACKEND.to_host(out_cl), out_np, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", ADAM, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_adam_step_matches_numpy_in_one_launch(dtype, options, monkeypatch):
    amsgrad = options["amsgrad"]
    arrays = _arrays(dtype, 5, 2)
    on_np, on_cl = _both(arrays)
    if not amsgrad:
        on_np[4] = on_cl[4] = None
    hyper = dict(step=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=options["weight_decay"])
    flags = dict(maximize=options["maximize"], decoupled_weight_decay=options["decoupled"])
    launches = Launches(monkeypatch)
    BACKEND.kernels.adam_step(*on_cl[:2], *on_cl[2:], **hyper, **flags)
    assert launches.count == 1
    NUMPY.kernels.adam_step(*on_np[:2], *on_np[2:], **hyper, **flags)
    for a_cl, a_np in zip(on_cl, on_np):
        if a_np is not None:
            np.testing.assert_allclose(BACKEND.to_host(a_cl), a_np, **_tolerance(dtype))


def test_strided_parameter_takes_the_portable_kernels(monkeypatch):
    p, g = (np.arange(12, dtype=np.float32).reshape(3, 4) for _ in range(2))
    p_cl = BACKEND.from_host(p, 0)[:, ::2]
    launches = Launches(monkeypatch)
    BACKEND.kernels.sgd_step(p_cl, BACKEND.from_host(g[:, ::2].copy(), 0), None, 0.5, 0.0, 0.0, False, 0.0, False)
    assert launches.count > 1
    np.testing.assert_allclose(BACKEND.to_host(p_cl), p[:, ::2] - 0.5 * g[:, ::2])


def test_transposed_gradient_is_copied_then_fused(monkeypatch):
    p, g = (np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32) for _ in range(2))
    p_cl = BACKEND.from_host(p, 0)
    g_cl = BACKEND.xp.permute_dims(BACKEND.from_host(np.ascontiguousarray(g.T), 0), (1, 0))  # strides (1, 5)
    launches = Launches(monkeypatch)
    buf = BACKEND.kernels.sgd_step(p_cl, g_cl, None, 0.5, 0.9, 0.0, True, 0.0, False)
    assert launches.count == 2  # the copy of the view, then the fused step
    p_np = NUMPY.from_host(p.copy(), 0)
    b_np = NUMPY.kernels.sgd_step(p_np, NUMPY.from_host(g.copy(), 0), None, 0.5, 0.9, 0.0, True, 0.0, False)
    np.testing.assert_allclose(BACKEND.to_host(p_cl), p_np, **_tolerance("float32"))
    np.testing.assert_allclose(BACKEND.to_host(buf), b_np, **_tolerance("float32"))
