"""float16 on OpenCL against torch: stored as half (vload_half/vstore_half, no cl_khr_fp16
needed), computed and accumulated in float32, rounded once to nearest even; kernels without
a float16 path raise a TypeError that says so."""

from __future__ import annotations

import numpy as np
import pytest
from opencl_support import opencl_backend

import ember

torch = pytest.importorskip("torch")
opencl_backend()

DEVICE = "opencl:0"
DATA = np.array([[1.5, -2.25, 3.0, 0.1], [7.0e4, -0.5, 1e-5, 2.0], [0.3, 0.7, -8.0, 4.0]], dtype=np.float32)


def _pair(data=DATA):
    return ember.tensor(data, device=DEVICE).half(), torch.tensor(data).half()


def _check(got, want, exact=True):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    g, w = got.cpu().numpy(), want.numpy()
    if exact:
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize(
    "op",
    [
        lambda a: a + 1.0,
        lambda a: a * a - a,
        lambda a: a / 3,
        lambda a: -a.abs(),
        lambda a: a > 0.5,
        lambda a: a.float(),
        lambda a: a.to(torch.int64 if isinstance(a, torch.Tensor) else ember.int64),
        lambda a: a[:, 1:3].t(),
        lambda a: a[a > 0],
        lambda a: a.max(1).values,
        lambda a: a.argmin(0),
        lambda a: a.sort(1).values,
    ],
)
def test_elementwise_casts_indexing_exact(op):
    e, t = _pair()
    _check(op(e), op(t))


@pytest.mark.parametrize("other", ["float32", "int64", "bool"])
def test_promotion_with_other_dtypes(other):
    e, t = _pair()
    _check(
        e + ember.tensor(DATA, device=DEVICE).to(getattr(ember, other)),
        t + torch.tensor(DATA).to(getattr(torch, other)),
    )


@pytest.mark.parametrize(
    "op",
    [
        lambda a: a.exp(),
        lambda a: a.mean(1),
        lambda a: a.cumsum(1),
        lambda a: a @ a.t(),
        lambda a: a.softmax(1),
    ],
)
def test_math_in_float32_rounded_once(op):
    e, t = _pair(np.clip(DATA, -8, 8))
    _check(op(e), op(t), exact=False)


def test_reductions_accumulate_in_float32():
    ones = np.ones(4096, dtype=np.float32)  # a float16 accumulator would stop at 2048
    e, t = _pair(ones)
    _check(e.sum(), t.sum())
    _check(e.mean(), t.mean())


def test_random_draws_in_float16():
    x = ember.rand(1000, dtype=ember.float16, device=DEVICE)
    values = x.cpu().numpy()
    assert x.dtype is ember.float16 and 0 <= values.min() and values.max() <= 1


def test_kernels_without_float16_say_so():
    x = ember.randn(1, 2, 5, 5, device=DEVICE).half()
    w = ember.randn(3, 2, 3, 3, device=DEVICE).half()
    with pytest.raises(TypeError, match="float16 is not supported by the OpenCL kernels of cl/conv.cl"):
        ember.nn.functional.conv2d(x, w)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimizer_steps_on_float16_parameters(name):
    inputs = np.clip(DATA[:, :4], -8, 8)
    weight = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    results = []
    for lib, device in ((ember, DEVICE), (torch, "cpu")):
        model = lib.nn.Linear(4, 2, bias=False)
        model.weight.data = lib.tensor(weight)
        model = model.to(device).half()
        opt = getattr(lib.optim, name)(model.parameters(), lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            model(lib.tensor(inputs).to(device).half()).square().sum().backward()
            opt.step()
        assert str(model.weight.dtype).endswith("float16")
        results.append(model.weight.detach().float().cpu().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=2e-3, atol=2e-3)
