"""Padding: F.pad in every mode and the padding layers, differential against PyTorch."""

from __future__ import annotations

import pytest
from reference import check, randn, torch

import ember
import ember.nn.functional as F
from ember import nn

TF = torch.nn.functional

CASES = [
    ((2, 5), (1, 2)),
    ((2, 3, 5), (2, 0)),
    ((2, 3, 5), (-1, 2)),
    ((2, 3, 4, 5), (2, 1, 3, 0)),
    ((3, 4, 5), (-1, 2, 1, -2)),
    ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)),
    ((2, 3, 4, 5), (0, 0, -1, 2)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", CASES)
def test_pad_non_constant(device, dtype, mode, shape, pad):
    check(lambda x: F.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode), [randn(*shape)], device, dtype)


@pytest.mark.parametrize(
    "shape,pad,value",
    [((4,), (1, 2), 0), ((2, 3), (1, 1, 2, 0), 1.5), ((2, 3, 4), (-1, 2, 0, 0, 1, 1), -2.0), ((2, 3, 4), (0, -4), 0)],
)
def test_pad_constant(device, dtype, shape, pad, value):
    check(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), [randn(*shape)], device, dtype)


def test_pad_double_backward():
    x = ember.tensor(randn(1, 2, 4), requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert ember.autograd.gradcheck(lambda t, m=mode: F.pad(t, (2, 1), mode=m), (x,))
        assert ember.autograd.gradgradcheck(lambda t, m=mode: F.pad(t, (2, 1), mode=m) ** 2, (x,))


LAYERS = [
    ("ReflectionPad1d", 2, (2, 3, 4)),
    ("ReflectionPad2d", (1, 0, 2, 1), (1, 2, 3, 4)),
    ("ReflectionPad3d", 1, (1, 1, 2, 3, 3)),
    ("ReplicationPad1d", (3, 1), (3, 4)),
    ("ReplicationPad2d", 2, (1, 3, 3)),
    ("ReplicationPad3d", (1, 2, 0, 1, 1, 0), (1, 1, 2, 2, 2)),
    ("ZeroPad1d", 1, (2, 3, 4)),
    ("ZeroPad2d", (1, 1, 2, 0), (1, 2, 3, 3)),
    ("ZeroPad3d", 1, (1, 2, 2, 2)),
    ("CircularPad1d", (2, 1), (2, 3, 4)),
    ("CircularPad2d", 1, (1, 2, 3, 3)),
    ("CircularPad3d", (1, 0, 1, 0, 1, 0), (1, 1, 2, 2, 2)),
]


@pytest.mark.parametrize("name,padding,shape", LAYERS)
def test_padding_layers(device, dtype, name, padding, shape):
    e, t = getattr(nn, name)(padding), getattr(torch.nn, name)(padding)
    check(e, t, [randn(*shape)], device, dtype)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_constant_pad_layers(device, dims):
    name = f"ConstantPad{dims}d"
    e, t = getattr(nn, name)(1, 3.5), getattr(torch.nn, name)(1, 3.5)
    check(e, t, [randn(*(2,) * (dims + 1))], device)
    assert repr(e) == repr(t)


def test_seed_examples():
    x = ember.randn(2, 3, 8, 9)
    assert nn.ReflectionPad2d(3)(x).shape == (2, 3, 14, 15)
    assert nn.ReflectionPad2d((3, 3, 6, 6))(x).shape == (2, 3, 20, 15)
    assert nn.ReplicationPad3d((3, 3, 6, 6, 1, 1))(ember.randn(1, 1, 2, 3, 4)).shape == (1, 1, 4, 15, 10)
    assert nn.ZeroPad2d((3, 3, 6, 6))(x).shape == (2, 3, 20, 15)
    assert nn.ConstantPad2d(3, 3.5)(x)[0, 0, 0, 0].item() == 3.5


def test_pad_errors():
    x = ember.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(x, (4, 4), mode="reflect")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="two times the input dimension"):
        F.pad(x, (1,) * 8)
    with pytest.raises(NotImplementedError, match="Padding size 6 is not supported for 3D"):
        F.pad(x, (1,) * 6, mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (5, 5), mode="circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(x, (1, 1), mode="reflect", value=2)
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-5, 0))
    with pytest.raises(RuntimeError, match="non-zero dimensions"):
        F.pad(ember.randn(1, 2, 0), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.CircularPad1d(1)(ember.randn(1, 2, 3, 4))
