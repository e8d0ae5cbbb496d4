"""Fold/Unfold, RMSNorm and CrossMapLRN2d, differential against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn, torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

TF = torch.nn.functional

_BLOCKS = [
    ((2, 3, 6, 7), {"kernel_size": (2, 3)}),
    ((3, 7, 8), {"kernel_size": 3, "dilation": 2, "padding": 1, "stride": 2}),
    ((1, 2, 5, 5), {"kernel_size": 2, "stride": 2}),
    ((2, 2, 6, 5), {"kernel_size": (3, 2), "dilation": (1, 2), "padding": (2, 0), "stride": (2, 1)}),
]


@pytest.mark.parametrize("shape,kwargs", _BLOCKS)
def test_unfold(device, dtype, shape, kwargs):
    check(
        lambda x: F.unfold(x, **kwargs), lambda x: TF.unfold(x, **kwargs), [randn(*shape)], device=device, dtype=dtype
    )
    check(
        lambda x: nn.Unfold(**kwargs)(x),
        lambda x: torch.nn.Unfold(**kwargs)(x),
        [randn(*shape)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("shape,kwargs", _BLOCKS)
def test_fold(device, dtype, shape, kwargs):
    cols = TF.unfold(torch.zeros(shape), **kwargs).shape
    size = shape[-2:]
    check(
        lambda c: F.fold(c, size, **kwargs),
        lambda c: TF.fold(c, size, **kwargs),
        [randn(*cols)],
        device=device,
        dtype=dtype,
    )
    check(
        lambda c: nn.Fold(size, **kwargs)(c),
        lambda c: torch.nn.Fold(size, **kwargs)(c),
        [randn(*cols)],
        device=device,
        dtype=dtype,
    )


def test_fold_unfold_gradgradcheck(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = ember.tensor(randn(1, 2, 4, 4), device=device, requires_grad=True)
    assert gradgradcheck(lambda x: F.unfold(x, 2, padding=1, stride=2) ** 2, (x,))
    c = ember.tensor(randn(1, 8, 4), device=device, requires_grad=True)
    assert gradgradcheck(lambda c: F.fold(c, (3, 3), 2) ** 2, (c,))


def test_fold_unfold_errors():
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(ember.randn(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(ember.randn(1, 4, 5), (3, 3), 2)
    with pytest.raises(RuntimeError, match="3D or 4D"):
        F.unfold(ember.randn(2, 3), 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 0},  # unfold returned an empty result
        {"kernel_size": (2, -1)},
        {"kernel_size": 2, "stride": 0},  # ZeroDivisionError
        {"kernel_size": 2, "stride": (1, 0)},
        {"kernel_size": 2, "dilation": 0},
        {"kernel_size": 2, "padding": -1},
        {"kernel_size": 2, "padding": -1, "stride": 0},  # unfold checks padding first, fold stride
        {"kernel_size": 2, "dilation": 0, "padding": -1, "stride": 0},
    ],
)
@pytest.mark.parametrize("op", ["unfold", "fold"])
def test_fold_unfold_geometry_errors_as_torch(op, kwargs):
    """The block geometry is checked first, in PyTorch's order for each op, with its messages."""
    x = randn(1, 2, 5, 6) if op == "unfold" else randn(1, 8, 12)
    args = () if op == "unfold" else ((4, 5),)
    with pytest.raises(RuntimeError) as expected:
        getattr(TF, op)(torch.tensor(x), *args, **kwargs)
    with pytest.raises(RuntimeError) as got:
        getattr(F, op)(ember.tensor(x), *args, **kwargs)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("shape,normalized", [((3, 4, 5), (5,)), ((2, 3, 4), (3, 4)), ((0, 5), (5,))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm(device, dtype, shape, normalized, eps, affine):
    arrays = [randn(*shape)] + ([randn(*normalized)] if affine else [])
    check(
        lambda x, *w: F.rms_norm(x, normalized, *w, eps=eps),
        lambda x, *w: TF.rms_norm(x, normalized, *w, eps=eps),
        arrays,
        device=device,
        dtype=dtype,
    )
    t_mod = torch.nn.RMSNorm(normalized, eps=eps, elementwise_affine=affine)
    e_mod = nn.RMSNorm(normalized, eps=eps, elementwise_affine=affine)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert repr(e_mod) == repr(t_mod)


def test_rms_norm_gradgradcheck_and_errors(device):
    if ember.backends.get_backend(device).supports_float64:
        x = ember.tensor(randn(2, 3), device=device, requires_grad=True)
        w = ember.tensor(randn(3), device=device, requires_grad=True)
        assert gradcheck(lambda x, w: F.rms_norm(x, (3,), w), (x, w))
        assert gradgradcheck(lambda x, w: F.rms_norm(x, (3,), w), (x, w))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.rms_norm(ember.randn(2, 3, device=device), (4,))


@pytest.mark.parametrize("channels,size", [(7, 3), (8, 5), (6, 4), (2, 5), (3, 2)])
def test_cross_map_lrn2d(device, dtype, channels, size):
    kwargs = {"alpha": 0.5, "beta": 0.75, "k": 1.5}
    check(
        lambda x: nn.CrossMapLRN2d(size, **kwargs)(x),
        lambda x: torch.nn.CrossMapLRN2d(size, **kwargs)(x),
        [randn(2, channels, 3, 4)],
        device=device,
        dtype=dtype,
    )
    assert repr(nn.CrossMapLRN2d(size, **kwargs)) == repr(torch.nn.CrossMapLRN2d(size, **kwargs))


def test_cross_map_lrn2d_needs_4d():
    with pytest.raises(ValueError, match="4D"):
        nn.CrossMapLRN2d(3)(ember.randn(2, 3, 4))
    assert_close(nn.CrossMapLRN2d(1)(ember.ones(1, 1, 1, 1)), np.full((1, 1, 1, 1), (1 + 1e-4) ** -0.75))
