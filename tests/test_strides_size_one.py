"""Strides of new tensors made from tensors with size-1 (or size-0) dimensions, against PyTorch:
``*_like`` factories, ``clone`` and dtype casts (``preserve_format``) keep a dense input's strides
exactly, a size-1 dimension's stride too; ``contiguous_format`` gives the row-major strides."""

import pytest
import torch

import ember


def _strided(lib, shape, strides, device=None):
    """A float64 tensor of ``shape`` seen with ``strides`` over a fresh storage holding 0, 1, 2, ..."""
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    kw = {} if device is None else {"device": device}
    base = lib.arange(float(extent), dtype=lib.float64, **kw)
    return lib.as_strided(base, shape, strides)


#: (shape, strides): dense layouts whose size-1 dimensions step otherwise than row-major
_DENSE = [
    ((32, 1, 3, 3), (9, 1, 3, 1)),  # a channels-last conv weight with one input channel
    ((2, 1, 3, 3), (9, 1, 3, 1)),
    ((1, 3, 1, 1), (3, 1, 3, 3)),  # channels-last (N, C, 1, 1)
    ((4, 1, 1, 2, 2), (4, 1, 4, 2, 1)),  # channels-last-3d, one channel
    ((3, 1), (1, 3)),  # a transposed (1, 3)
    ((3, 1), (1, 2)),  # a size-1 dimension with a stride of a step
    ((2, 1), (1, 100)),
    ((1, 2, 1, 2, 1), (1, 2, 2, 1, 4)),  # a permuted tensor
    ((1, 1), (5, 7)),
]

_LIKE = {
    "empty_like": lambda lib, x: lib.empty_like(x),
    "zeros_like": lambda lib, x: lib.zeros_like(x),
    "ones_like": lambda lib, x: lib.ones_like(x),
    "full_like": lambda lib, x: lib.full_like(x, 2.0),
    "rand_like": lambda lib, x: lib.rand_like(x),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "clone": lambda lib, x: x.clone(),
    "clone_preserve": lambda lib, x: x.clone(memory_format=lib.preserve_format),
    "to_float32": lambda lib, x: x.to(lib.float32),
    "float": lambda lib, x: x.float(),
    "to_copy": lambda lib, x: x.to(lib.float64, copy=True),
}


@pytest.mark.parametrize("shape,strides", _DENSE)
@pytest.mark.parametrize("op", sorted(_LIKE))
def test_preserve_format_keeps_dense_strides(device, shape, strides, op):
    t = _LIKE[op](torch, _strided(torch, shape, strides))
    x = _strided(ember, shape, strides, device)
    assert x.stride() == strides
    e = _LIKE[op](ember, x)
    assert e.stride() == t.stride() == strides
    assert e.is_contiguous() == t.is_contiguous()
    assert e.is_contiguous(memory_format=ember.channels_last) == t.is_contiguous(memory_format=torch.channels_last)
    if op in ("clone", "clone_preserve", "to_float32", "float", "to_copy"):  # the values are the input's
        assert e.dtype.is_floating_point
        assert e.tolist() == t.tolist()


@pytest.mark.parametrize("shape,strides", _DENSE)
def test_contiguous_format_is_row_major(device, shape, strides):
    t = _strided(torch, shape, strides)
    x = _strided(ember, shape, strides, device)
    te = [
        torch.zeros_like(t, memory_format=torch.contiguous_format).stride(),
        t.clone(memory_format=torch.contiguous_format).stride(),
        t.contiguous().stride(),
    ]
    ee = [
        ember.zeros_like(x, memory_format=ember.contiguous_format).stride(),
        x.clone(memory_format=ember.contiguous_format).stride(),
        x.contiguous().stride(),
    ]
    assert ee == te
    assert x.clone(memory_format=ember.contiguous_format).tolist() == t.tolist()


def test_zeros_like_channels_last_conv_weight(device):
    w = ember.nn.Conv2d(1, 32, 3).to(device).weight.to(memory_format=ember.channels_last)
    tw = torch.nn.Conv2d(1, 32, 3).weight.to(memory_format=torch.channels_last)
    assert w.stride() == tw.stride() == (9, 1, 3, 1)
    assert ember.zeros_like(w).stride() == torch.zeros_like(tw).stride() == (9, 1, 3, 1)
    assert w.detach().clone().stride() == tw.detach().clone().stride()


@pytest.mark.parametrize("shape,strides", [((2, 0, 3), (1, 100, 2)), ((0, 3), (1, 0)), ((2, 0, 3), (1, 1, 1))])
def test_like_of_empty_keeps_strides(device, shape, strides):
    t = torch.empty_strided(shape, strides, dtype=torch.float64)
    x = ember.empty_strided(shape, strides, dtype=ember.float64, device=device)
    if x.stride() != strides:
        pytest.skip("the device does not keep these strides of an empty tensor")
    assert ember.empty_like(x).stride() == torch.empty_like(t).stride() == strides
    assert x.clone().stride() == t.clone().stride() == strides
