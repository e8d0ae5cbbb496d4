"""SGD and Adam round as PyTorch's single-tensor CPU steps do: ``add`` with ``alpha`` and ``lerp_``
/ ``addcmul_`` as one fused multiply-add each. SGD's parameters and buffers are PyTorch's bit for
bit; Adam's averages are, and its parameters within PyTorch's ``sqrt`` (not correctly rounded on
this CPU: about 1 float32 element in 6 a unit off the exact root, which NumPy gives)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from ember.backends.numpy import loops

torch = pytest.importorskip("torch")

SGD_OPTIONS = [
    {"momentum": m, "dampening": d, "nesterov": n, "weight_decay": wd, "maximize": mx}
    for m, d, n, wd, mx in itertools.product((0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.01), (False, True))
    if not n or (m and d == 0)
]


def _steps(lib, name, options, dtype, size, shape=None, steps=3):
    rng = np.random.default_rng(0)
    start, grad = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    param = lib.nn.Parameter(lib.tensor(start if shape is None else start.reshape(shape)))
    optimizer = getattr(lib.optim, name)([param], lr=0.1 if name == "SGD" else 1e-3, **options)
    for step in range(steps):
        param.grad = lib.tensor((grad * (step + 1)).reshape(param.shape))
        optimizer.step()
    state = optimizer.state[param]
    return param.detach().numpy().copy(), {k: v.numpy().copy() for k, v in state.items() if k != "step"}


def _exact_float64():
    return loops.runtime.installed() and loops.get() is not None


@pytest.mark.parametrize("size", [1000, 100_000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_equals_torchs_bit_for_bit(options, dtype, size):
    if dtype == "float64" and not _exact_float64():
        pytest.skip("float64's fused multiply-add needs the compiled loops")
    (mine, mine_state), (ref, ref_state) = (_steps(lib, "SGD", options, dtype, size) for lib in (ember, torch))
    np.testing.assert_array_equal(mine, ref)
    for key in ref_state:
        np.testing.assert_array_equal(mine_state[key], ref_state[key])


@pytest.mark.parametrize("name, options", [("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("AdamW", {})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_averages_equal_torchs_bit_for_bit(name, options, dtype):
    if dtype == "float64" and not _exact_float64():
        pytest.skip("float64's fused multiply-add needs the compiled loops")
    # after one step (later ones read the parameter, through weight decay, which sqrt left apart)
    (_, mine_state), (_, ref_state) = (_steps(lib, name, options, dtype, 100_000, steps=1) for lib in (ember, torch))
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(mine_state[key], ref_state[key])
    (mine, _), (ref, _) = (_steps(lib, name, options, dtype, 100_000) for lib in (ember, torch))
    tolerance = {"rtol": 1e-6, "atol": 1e-9} if dtype == "float32" else {"rtol": 1e-14, "atol": 1e-18}
    np.testing.assert_allclose(mine, ref, **tolerance)


def test_strided_parameters_step_as_torch():
    """A transposed parameter takes the fused multiply-adds in its own layout."""
    rng = np.random.default_rng(1)
    start, grad = rng.standard_normal((64, 48)).astype(np.float32), rng.standard_normal((48, 64)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        param = lib.nn.Parameter(lib.tensor(start).t())
        optimizer = lib.optim.SGD([param], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
        for _ in range(2):
            param.grad = lib.tensor(grad)
            optimizer.step()
        results.append(param.detach().numpy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9, "weight_decay": 0.01}, {"momentum": 0.9, "nesterov": True}])
def test_sgd_on_each_device_equals_torchs(device, options):
    """Every backend's SGD step is PyTorch's in float32: the NumPy kernels, the portable ones (the
    restricted device) and the fused C bodies (OpenCL's ``fma``); CUDA's is checked on a GPU only."""
    rng = np.random.default_rng(2)
    start, grad = (rng.standard_normal(4096).astype(np.float32) for _ in range(2))
    results = []
    for lib, where in ((ember, device), (torch, "cpu")):
        param = lib.nn.Parameter(lib.tensor(start, device=where))
        optimizer = lib.optim.SGD([param], lr=0.1, **options)
        for step in range(3):
            param.grad = lib.tensor(grad * (step + 1), device=where)
            optimizer.step()
        results.append(param.detach().cpu().numpy())
    if device.startswith("cuda"):
        np.testing.assert_allclose(*results, rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_array_equal(*results)
