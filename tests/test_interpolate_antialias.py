"""interpolate(..., antialias=True), differential against PyTorch's CPU kernels.

Values and input gradients (bilinear, bicubic and lanczos, align_corners both ways, size and
scale_factor, down- and up-sampling, batches and channels, non-square), uint8 exactly, a
float64 gradcheck, non-finite pixels, and PyTorch's errors.

Two places where PyTorch 2.13's CPU kernel disagrees with itself, and ember does not follow it:

- an output width of 1: its vertical pass then repeats the first output row down the whole
  column (``torch.autograd.gradcheck`` of it fails); ember is compared with PyTorch on the
  transposed image, where the same resampling is computed without the fault;
- an axis whose size does not change under a ``scale_factor`` other than 1: its forward skips
  the axis, its backward resamples along it with ``1 / scale_factor`` (gradcheck fails); ember's
  gradient is that of the forward, which matches PyTorch's, and is checked with gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn, torch

import ember
import ember.nn.functional as F

TF = torch.nn.functional

CASES = [
    ((2, 3, 17, 23), {"size": (5, 7)}),  # downsampling, batch and channels, non-square
    ((1, 2, 8, 9), {"size": (19, 4)}),  # up along H, down along W
    ((2, 1, 30, 11), {"scale_factor": (0.3, 1.7)}),
    ((1, 1, 16, 40), {"scale_factor": 0.13}),  # a wide filter: 17 taps along W
    ((1, 2, 5, 7), {"scale_factor": (0.6, 2.3), "recompute_scale_factor": True}),
    ((1, 1, 9, 6), {"size": (1, 3)}),  # a single output row
    ((1, 1, 6, 6), {"size": (6, 3)}),  # H unchanged: not resampled
    ((1, 1, 3, 4), {"scale_factor": 3}),  # upsampling only
]
MODES = [("bilinear", None), ("bilinear", True), ("bicubic", False), ("bicubic", True), ("lanczos", False)]


def _kwargs(kwargs, mode, align_corners):
    return {**kwargs, "mode": mode, "align_corners": align_corners, "antialias": True}


@pytest.mark.parametrize("shape,kwargs", CASES)
@pytest.mark.parametrize("mode,align_corners", MODES)
def test_values_and_gradients(device, dtype, shape, kwargs, mode, align_corners):
    kw = _kwargs(kwargs, mode, align_corners)
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [randn(*shape)], device, dtype)


@pytest.mark.parametrize("mode,align_corners", MODES)
def test_output_width_one(device, dtype, mode, align_corners):
    kw = {"mode": mode, "align_corners": align_corners, "antialias": True}

    def transposed(x):
        return TF.interpolate(x.transpose(2, 3), size=(1, 9), **kw).transpose(2, 3)

    check(lambda x: F.interpolate(x, size=(9, 1), **kw), transposed, [randn(2, 2, 5, 7)], device, dtype)
    out = F.interpolate(ember.tensor(randn(1, 1, 5, 1), dtype=dtype, device=device), size=(3, 1), **kw)
    assert len(set(out.flatten().tolist())) == 3  # not PyTorch's repeated first row


def test_unchanged_axis_under_a_scale_factor(device, dtype):
    kw = {"scale_factor": (1.4, 0.5), "mode": "bilinear", "antialias": True}
    check(
        lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [randn(1, 2, 2, 6)], device, dtype, False
    )
    if dtype is ember.float64:
        x = ember.tensor(randn(1, 1, 2, 6), dtype=dtype, device=device, requires_grad=True)
        assert ember.autograd.gradcheck(lambda t: F.interpolate(t, **kw), (x,))


@pytest.mark.parametrize("mode,align_corners", MODES)
def test_gradcheck(device, mode, align_corners):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = ember.tensor(randn(1, 2, 7, 6), dtype=ember.float64, device=device, requires_grad=True)
    for size in ((3, 4), (10, 2)):
        kw = {"size": size, "mode": mode, "align_corners": align_corners, "antialias": True}
        assert ember.autograd.gradcheck(lambda t, kw=kw: F.interpolate(t, **kw), (x,))


@pytest.mark.parametrize("shape,kwargs", CASES)
@pytest.mark.parametrize("mode,align_corners", MODES)
def test_uint8(device, shape, kwargs, mode, align_corners):
    image = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    kw = _kwargs(kwargs, mode, align_corners)
    expected = TF.interpolate(torch.from_numpy(image), **kw)
    assert_close(F.interpolate(ember.tensor(image, device=device), **kw), expected)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_non_finite_pixels(device, dtype, mode):
    image = randn(1, 1, 12, 12)
    image[0, 0, 5, 6], image[0, 0, 0, 0] = np.inf, np.nan
    for size in ((4, 5), (20, 17), (12, 5)):
        kw = {"size": size, "mode": mode, "antialias": True}
        expected = TF.interpolate(torch.tensor(image, dtype=getattr(torch, dtype.name)), **kw)
        out = F.interpolate(ember.tensor(image, dtype=dtype, device=device), **kw)
        assert_close(out, expected, dtype)


@pytest.mark.parametrize("narrow", ["float16", "bfloat16"])
def test_narrow_floats(device, narrow):
    narrow = getattr(ember, narrow)
    try:
        x = ember.tensor(randn(1, 2, 9, 8), device=device).to(narrow)
    except TypeError as exc:  # the backend cannot hold the type (bfloat16 on OpenCL)
        pytest.skip(str(exc))
    kw = {"size": (4, 3), "mode": "bicubic", "antialias": True}
    if ember.device(device).type in ("cpu", "restricted"):  # PyTorch's CPU kernel refuses them
        with pytest.raises(NotImplementedError) as refused:
            F.interpolate(x, **kw)
        with pytest.raises(NotImplementedError) as expected:
            TF.interpolate(torch.zeros(1, 2, 9, 8, dtype=getattr(torch, narrow.name)), **kw)
        assert str(refused.value) == str(expected.value)
    else:  # computed in float32, rounded once
        out = F.interpolate(x, **kw)
        assert out.dtype is narrow
        assert out.tolist() == F.interpolate(x.float(), **kw).to(narrow).tolist()


def _same_error(device, shape, dtype="float32", **kwargs):
    """ember and PyTorch raise the same exception type with the same message."""
    with pytest.raises(Exception) as expected:
        TF.interpolate(torch.zeros(shape, dtype=getattr(torch, dtype)), **kwargs)
    with pytest.raises(expected.type) as raised:
        F.interpolate(ember.zeros(shape, dtype=getattr(ember, dtype), device=device), **kwargs)
    assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((1, 1, 4, 4), {"mode": "nearest"}),
        ((1, 1, 4, 4), {"mode": "nearest-exact"}),
        ((1, 1, 4, 4), {"mode": "area"}),
        ((1, 1, 4, 4), {"mode": "linear"}),
        ((1, 1, 4, 4), {"mode": "trilinear"}),
        ((1, 1, 4, 4), {"mode": "unknown"}),
        ((1, 1, 4), {"mode": "bilinear"}),
        ((1, 1, 4, 4, 4), {"mode": "bicubic"}),
        ((1, 1, 4, 4), {"mode": "nearest", "align_corners": True}),  # align_corners is checked first
        ((1, 1, 4, 4), {"mode": "bilinear", "size": (2, 3, 4)}),
        ((1, 1, 4, 4), {"mode": "bilinear", "size": 2, "scale_factor": 2}),
        ((1, 1, 4, 4), {"mode": "lanczos", "antialias": False}),
        ((1, 1, 4, 4), {"mode": "lanczos", "align_corners": True}),
        ((1, 1, 4), {"mode": "lanczos", "antialias": False}),
        ((1, 1, 4, 4, 4), {"mode": "lanczos"}),
        ((1, 1, 4, 4), {"mode": "bicubic", "dtype": "int64"}),
        ((1, 1, 4, 4), {"mode": "lanczos", "dtype": "int16"}),
        ((1, 1, 4, 4), {"mode": "bilinear", "dtype": "int32"}),
        ((1, 1, 4, 4), {"mode": "bilinear", "dtype": "bool"}),
        ((1, 1, 4, 4), {"mode": "bicubic", "dtype": "int8"}),
    ],
)
def test_errors(device, shape, kwargs):
    defaults = {"antialias": True} if "scale_factor" in kwargs else {"size": 2, "antialias": True}
    _same_error(device, shape, **{**defaults, **kwargs})


def test_empty_output(device):  # PyTorch's type and message, which prints the sizes as "(H: 4, W: 4)"
    with pytest.raises(RuntimeError, match="Input and output sizes should be greater than 0"):
        F.interpolate(ember.zeros(1, 1, 4, 4, device=device), scale_factor=0.1, mode="bilinear", antialias=True)
