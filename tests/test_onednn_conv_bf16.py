"""bfloat16 convolutions on the cpu backend through oneDNN's bfloat16 primitives, PyTorch's own CPU path
(``mkldnn_convolution``, ``mkldnn_convolution_transpose``): outputs and every gradient bit for bit
torch's, on bfloat16 tensors and under ``autocast`` with a float32 model, for contiguous and
channels-last operands; without oneDNN, the float32 computation rounded once. Skipped where the
``onednn`` extra is not installed (it is in CI)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import torch_convolves_bfloat16_on_amx, torch_convolves_float16_on_onednn

import ember
import ember.backends.mkldnn
import ember.nn.functional as F
from ember.backends.numpy.kernels.conv import NumpyConvKernels

pytestmark = pytest.mark.skipif(not ember.backends.mkldnn.is_available(), reason="oneDNN (the onednn extra) missing")

CASES = [
    # (name, input shape, weight shape, keyword arguments)
    ("conv1d", (4, 16, 50), (32, 16, 5), {"padding": 2}),
    ("conv2d", (4, 16, 12, 12), (32, 16, 3, 3), {"padding": 1}),
    ("conv2d", (4, 16, 13, 13), (32, 16, 3, 3), {"stride": 2, "padding": 1}),
    ("conv2d", (4, 16, 12, 12), (32, 4, 3, 3), {"groups": 4, "padding": 1}),
    ("conv2d", (4, 16, 12, 12), (16, 1, 3, 3), {"groups": 16, "padding": 1}),  # depthwise
    ("conv2d", (4, 16, 12, 12), (32, 16, 3, 3), {"dilation": 2, "padding": 2}),
    ("conv2d", (8, 64, 14, 14), (128, 64, 1, 1), {"stride": 2}),
    ("conv2d", (8, 64, 28, 28), (64, 64, 3, 3), {"padding": 1}),
    ("conv3d", (2, 8, 6, 6, 6), (16, 8, 3, 3, 3), {"padding": 1}),
    ("conv_transpose1d", (4, 16, 20), (16, 8, 4), {"stride": 2}),
    ("conv_transpose2d", (4, 16, 8, 8), (16, 8, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose2d", (4, 16, 8, 8), (16, 4, 3, 3), {"groups": 2, "dilation": 2}),
    ("conv_transpose3d", (2, 8, 4, 4, 4), (8, 8, 3, 3, 3), {"stride": 2}),
]


def _run(lib, name, x, w, b, up, kwargs, layout, autocast):
    """Output and input, weight and bias gradients of ``lib``'s convolution ``name``."""
    dtype = lib.float32 if autocast else lib.bfloat16
    x, w, b = (lib.tensor(a).to(dtype) for a in (x, w, b))
    fmt = {4: lib.channels_last, 5: lib.channels_last_3d}.get(x.ndim)
    if layout == "channels_last input" and fmt is not None:
        x = x.contiguous(memory_format=fmt)
    if layout == "channels_last weight" and fmt is not None:
        w = w.contiguous(memory_format=fmt)
    for t in (x, w, b):
        t.requires_grad_()
    fn = getattr(lib.nn.functional, name)
    if autocast:
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = fn(x, w, b, **kwargs)
    else:
        y = fn(x, w, b, **kwargs)
    (y * lib.tensor(up).to(y.dtype)).sum().backward()
    return y, x.grad, w.grad, b.grad


@pytest.mark.parametrize("autocast", [False, True], ids=["bfloat16", "autocast"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last input", "channels_last weight"])
@pytest.mark.parametrize("name, xs, ws, kwargs", CASES)
def test_bfloat16_convolutions_equal_torchs_bit_for_bit(name, xs, ws, kwargs, layout, autocast, numpy_threads):
    numpy_threads(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[1] * kwargs.get("groups", 1) if "transpose" in name else ws[0]).astype(np.float32)
    shape = getattr(torch.nn.functional, name)(*(torch.tensor(a) for a in (x, w, b)), **kwargs).shape
    up = rng.standard_normal(tuple(shape)).astype(np.float32)
    ref = _run(torch, name, x, w, b, up, kwargs, layout, autocast)
    got = _run(ember, name, x, w, b, up, kwargs, layout, autocast)
    for what, mine, theirs in zip(("output", "input grad", "weight grad", "bias grad"), got, ref):
        assert str(mine.dtype) == str(theirs.dtype).replace("torch", "ember"), what
        mine, theirs = mine.float().detach().numpy(), theirs.float().detach().numpy()
        if what != "output" and torch_convolves_bfloat16_on_amx():
            _one_unit_apart_at_most_rarely(mine, theirs, what)
        else:
            np.testing.assert_array_equal(mine, theirs, err_msg=what)
    assert got[0].stride() == ref[0].stride() and got[1].stride() == ref[1].stride()


def _one_unit_apart_at_most_rarely(mine, theirs, what):
    """Bit for bit but for at most one element in a thousand one bfloat16 unit apart: a gradient's sums on
    PyTorch's AMX tiles (see :func:`reference.torch_convolves_bfloat16_on_amx`)."""
    apart = mine != theirs
    unit = np.abs(np.asarray(theirs, np.float32).view(np.int32) - np.asarray(mine, np.float32).view(np.int32))
    assert np.all(unit[apart] == 1 << 16), what  # one bfloat16 unit: the 17th bit of a float32
    assert apart.sum() <= max(1, apart.size // 1000), (what, int(apart.sum()), apart.size)


@pytest.mark.parametrize(
    "name, xs, ws, kwargs, layout",
    [
        ("conv2d", (6, 32, 16, 16), (32, 32, 3, 3), {"padding": 1}, "contiguous"),
        ("conv2d", (3, 16, 13, 13), (32, 16, 3, 3), {"stride": 2}, "channels_last input"),
        ("conv_transpose2d", (6, 32, 8, 8), (32, 16, 4, 4), {"stride": 2, "padding": 1}, "contiguous"),
    ],
)
def test_bfloat16_conv_on_two_threads_equals_torchs(name, xs, ws, kwargs, layout, numpy_threads):
    """The whole batch in one call on the OpenMP team, as PyTorch's (a weight gradient summed over
    chunks of the batch would be rounded per chunk)."""
    numpy_threads(2)
    torch.set_num_threads(2)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[1] if "transpose" in name else ws[0]).astype(np.float32)
    shape = getattr(torch.nn.functional, name)(*(torch.tensor(a) for a in (x, w, b)), **kwargs).shape
    up = rng.standard_normal(tuple(shape)).astype(np.float32)
    got = _run(ember, name, x, w, b, up, kwargs, layout, False)
    ref = _run(torch, name, x, w, b, up, kwargs, layout, False)
    for mine, theirs in zip(got, ref):
        np.testing.assert_array_equal(mine.float().detach().numpy(), theirs.float().detach().numpy())


@pytest.mark.parametrize("autocast", [False, True], ids=["bfloat16", "autocast"])
def test_transposed_output_padding_of_the_stride_takes_torchs_im2col_kernels(autocast, numpy_threads):
    """A transposed convolution whose output_padding reaches its stride (allowed below the dilation)
    PyTorch leaves to its im2col kernels, in bfloat16 too: the product rounded, the bias added after
    it, the weight gradient rounded sample by sample. So does ember (it had computed it in float32 and
    rounded once: 274 of 1568 outputs and 80 of 288 weight gradients a unit or more off)."""
    numpy_threads(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 8, 6, 6), (8, 4, 3, 3), (4,)))
    kwargs = {"dilation": 3, "output_padding": 2}
    up = rng.standard_normal((2, 4, 14, 14)).astype(np.float32)
    got = _run(ember, "conv_transpose2d", x, w, b, up, kwargs, "contiguous", autocast)
    ref = _run(torch, "conv_transpose2d", x, w, b, up, kwargs, "contiguous", autocast)
    for what, mine, theirs in zip(("output", "input grad", "weight grad", "bias grad"), got, ref):
        np.testing.assert_array_equal(mine.float().detach().numpy(), theirs.float().detach().numpy(), err_msg=what)


@pytest.fixture
def numpy_conv_refused(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("NumPy conv kernel called")

    for name in ("conv", "conv_bias", "conv_backward_input", "conv_backward_weight"):
        monkeypatch.setattr(NumpyConvKernels, name, refuse)


def test_bfloat16_conv_runs_in_bfloat16_on_onednn(numpy_conv_refused):
    x = ember.randn(2, 4, 8, 8, dtype=ember.bfloat16, requires_grad=True)
    conv = ember.nn.Conv2d(4, 4, 3).bfloat16()
    conv(x).sum().backward()
    up = ember.nn.ConvTranspose2d(4, 4, 3, stride=2).bfloat16()
    up(x).sum().backward()
    # float16 too where PyTorch runs it through oneDNN, on this CPU and under ONEDNN_MAX_CPU_ISA
    float16 = (ember.float16,) if torch_convolves_float16_on_onednn() else ()
    assert x._backend.kernels.CONV_ROUNDED_ONCE == (ember.bfloat16, *float16)
    assert x.grad.dtype is ember.bfloat16 and conv.weight.grad.dtype is ember.bfloat16


@pytest.mark.parametrize("name", ["conv2d", "conv_transpose2d"])
def test_without_onednn_bfloat16_follows_pytorchs_im2col_kernels(name):
    """With oneDNN off (PyTorch's ``torch.backends.mkldnn.enabled = False`` too) PyTorch's CPU convolves bfloat16
    in its im2col kernels: a transposed convolution's overlapping sums are rounded to bfloat16 one by one,
    not computed in float32 and rounded once."""
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 6, 6), (4, 4, 3, 3), 4)]
    x, w, b = (ember.tensor(a).bfloat16() for a in arrays)
    fn = getattr(F, name)
    # (the flags' context managers: a test that ran torch's disable_global_flags forbids plain assignment)
    with ember.backends.mkldnn.flags(enabled=False):
        assert x._backend.kernels.CONV_ROUNDED_ONCE == ()
        got = fn(x, w, b, stride=2)
    with torch.backends.mkldnn.flags(enabled=False):
        expected = getattr(torch.nn.functional, name)(*(torch.tensor(a).bfloat16() for a in arrays), stride=2)
    assert got.dtype is ember.bfloat16
    np.testing.assert_array_equal(got.float().numpy(), expected.float().numpy())
