"""Vision: pixel (un)shuffle, interpolate/upsample, grid_sample, affine_grid, differential against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn, torch

import ember
import ember.nn.functional as F
from ember import nn

TF = torch.nn.functional


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 2), 2), ((9, 2, 1), 3), ((1, 2, 4, 3, 2), 2)])
def test_pixel_shuffle(device, dtype, shape, r):
    check(nn.PixelShuffle(r), torch.nn.PixelShuffle(r), [randn(*shape)], device, dtype)
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))


@pytest.mark.parametrize("shape,r", [((2, 1, 4, 6), 2), ((3, 3, 3), 3)])
def test_pixel_unshuffle(device, dtype, shape, r):
    check(nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), [randn(*shape)], device, dtype)


INTERP = [
    ((2, 2, 5), {"scale_factor": 2}),
    ((2, 2, 5), {"size": 3}),
    ((1, 2, 5, 7), {"scale_factor": 1.7}),
    ((1, 2, 5, 7), {"size": (3, 11)}),
    ((1, 2, 5, 7), {"scale_factor": (0.6, 2.3), "recompute_scale_factor": True}),
    ((1, 1, 3, 4, 5), {"scale_factor": (1.5, 0.5, 2)}),
    # 2-D 'nearest' takes dst and dst // 2 for outputs once and twice the input's size, whatever
    # the scale; the interpolating modes copy a dimension whose size stays
    ((1, 2, 5, 2), {"scale_factor": 2.3}),
    ((2, 1, 2, 3), {"scale_factor": (1.5, 1.2)}),
]
LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


MODES = [("nearest", None), ("nearest-exact", None), ("linear", None), ("linear", True), ("linear", False)]
MODES_2D = [("bicubic", None), ("bicubic", True), ("bicubic", False)]


@pytest.mark.parametrize(
    "shape,kwargs,mode,align_corners",
    [
        (shape, kwargs, LINEAR[len(shape)] if mode == "linear" else mode, align)
        for shape, kwargs in INTERP
        for mode, align in MODES + (MODES_2D if len(shape) == 4 else [])
    ],
)
def test_interpolate(device, dtype, shape, kwargs, mode, align_corners):
    kw = dict(kwargs, mode=mode, align_corners=align_corners)
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [randn(*shape)], device, dtype)


@pytest.mark.parametrize("shape, scale", [((2, 2, 3), 1.2), ((1, 2, 2, 2, 5), (0.7, 1.5, 1.3))])
def test_linear_modes_copy_a_dimension_whose_size_stays(device, dtype, shape, scale):
    # (1-D and 3-D 'nearest' are left out: PyTorch's forward scales there, its backward copies)
    kw = {"scale_factor": scale, "mode": LINEAR[len(shape)]}
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [randn(*shape)], device, dtype)


@pytest.mark.parametrize(
    "args", [{"scale_factor": 2}, {"size": (3, 5), "mode": "bilinear"}, {"scale_factor": 1.5, "mode": "bicubic"}]
)
def test_upsample_modules(device, dtype, args):
    e, t = nn.Upsample(**args), torch.nn.Upsample(**args)
    check(e, t, [randn(1, 2, 3, 4)], device, dtype)
    assert repr(e) == repr(t)
    for name, kw in (("UpsamplingNearest2d", {"scale_factor": 2}), ("UpsamplingBilinear2d", {"size": (5, 3)})):
        e, t = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        check(e, t, [randn(1, 2, 3, 4)], device, dtype)
        assert repr(e) == repr(t)


def test_deprecated_upsample_functions(device):
    x = randn(1, 2, 3, 3)
    for e_fn, t_fn in (
        (F.upsample, TF.upsample),
        (F.upsample_nearest, TF.upsample_nearest),
        (F.upsample_bilinear, TF.upsample_bilinear),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(lambda x, f=e_fn: f(x, scale_factor=2), lambda x, f=t_fn: f(x, scale_factor=2), [x], device)
    with pytest.warns(UserWarning, match="deprecated"):
        F.upsample(ember.randn(1, 1, 2), scale_factor=2)


GRIDS = [((2, 3, 4, 5), (2, 3, 2, 2)), ((1, 2, 2, 3, 4), (1, 2, 3, 2, 3))]


@pytest.mark.parametrize("in_shape,grid_shape", GRIDS)
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_bilinear(device, dtype, in_shape, grid_shape, padding_mode, align_corners):
    check(
        lambda x, g: F.grid_sample(x, g, "bilinear", padding_mode, align_corners),
        lambda x, g: TF.grid_sample(x, g, "bilinear", padding_mode, align_corners),
        [randn(*in_shape), randn(*grid_shape, low=-1.3, high=1.3)],
        device,
        dtype,
    )


@pytest.mark.parametrize("in_shape,grid_shape", GRIDS)
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_nearest(device, dtype, in_shape, grid_shape, padding_mode, align_corners):
    grid = randn(*grid_shape, low=-1.3, high=1.3)
    e_grid = ember.tensor(grid, dtype=dtype, device=device)
    t_grid = torch.tensor(grid, dtype=getattr(torch, dtype.name))
    check(
        lambda x: F.grid_sample(x, e_grid, "nearest", padding_mode, align_corners),
        lambda x: TF.grid_sample(x, t_grid, "nearest", padding_mode, align_corners),
        [randn(*in_shape)],
        device,
        dtype,
    )


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_bicubic(device, dtype, padding_mode, align_corners):
    in_shape, grid_shape = GRIDS[0]
    check(
        lambda x, g: F.grid_sample(x, g, "bicubic", padding_mode, align_corners),
        lambda x, g: TF.grid_sample(x, g, "bicubic", padding_mode, align_corners),
        [randn(*in_shape), randn(*grid_shape, low=-1.3, high=1.3)],
        device,
        dtype,
    )


def test_grid_sample_bicubic_needs_4d_input():
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(ember.randn(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3), "bicubic", align_corners=False)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_non_finite_grid(device, mode):
    """A NaN or infinite grid point under zero padding reads 0, as in PyTorch (it indexed out of the input)."""
    grid = randn(1, 2, 2, 2)
    grid[0, 0, 0] = np.nan
    grid[0, 1, 1, 0] = np.inf
    x = randn(1, 2, 3, 4)
    out = F.grid_sample(ember.tensor(x, device=device), ember.tensor(grid, device=device), mode, align_corners=False)
    expected = TF.grid_sample(torch.tensor(x), torch.tensor(grid), mode, align_corners=False)
    np.testing.assert_array_equal(np.isnan(out.cpu().numpy()), expected.isnan().numpy())
    finite = ~expected.isnan().numpy()
    assert_close(out.cpu().numpy()[finite], expected.numpy()[finite])


def test_affine_grid_unit_size_warning_and_batch_mismatch():
    theta = ember.randn(2, 2, 3)
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        F.affine_grid(theta, (2, 3, 1, 4), align_corners=True)
    with pytest.raises(RuntimeError):  # PyTorch's bmm refuses it
        F.affine_grid(theta, (3, 3, 2, 4), align_corners=False)


@pytest.mark.parametrize("in_shape,grid_shape", GRIDS)
def test_grid_sample_nearest_gives_the_grid_a_zero_gradient(device, dtype, in_shape, grid_shape):
    check(
        lambda x, g: F.grid_sample(x, g, "nearest", align_corners=False),
        lambda x, g: TF.grid_sample(x, g, "nearest", align_corners=False),
        [randn(*in_shape), randn(*grid_shape, low=-1.3, high=1.3)],
        device,
        dtype,
    )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_identity_transform_gradient_at_pixel_centres(device, dtype, mode, padding_mode, align_corners):
    # the spatial transformer tutorial starts from the identity: every sample lies on a pixel centre
    # (or within a rounding of it), where bilinear's slope jumps; PyTorch unnormalizes with a fused
    # multiply-add and gives the borders a zero gradient, and so must ember to follow its gradient
    def run(fn, lib):
        def f(theta, x):
            grid = fn.affine_grid(theta, (1, 1, 28, 28), align_corners=align_corners)
            return fn.grid_sample(x, grid, mode, padding_mode, align_corners) ** 2

        return f

    theta = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    check(run(F, ember), run(TF, torch), [theta, randn(1, 1, 28, 28)], device, dtype)


def test_an_affine_grid_backpropagates_more_than_once(device):
    # PyTorch's affine_grid saves no tensor: two backward calls through one grid need no retain_graph
    for lib, fn in ((torch, TF), (ember, F)):
        theta = lib.tensor([[[1.0, 0.2, 0.0], [0.1, 1.0, 0.0]]], requires_grad=True)
        if lib is ember:
            theta = ember.tensor(theta.tolist(), device=device, requires_grad=True)
        grid = fn.affine_grid(theta, (1, 1, 3, 4), align_corners=False)
        grid.sum().backward()
        (grid * 2).sum().backward()
        np.testing.assert_allclose(np.array(theta.grad.tolist()), [[[0, 0, 36], [0, 0, 36]]], atol=1e-5)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 4, 3)])
@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid(device, dtype, size, align_corners):
    d = len(size) - 2
    check(
        lambda t: F.affine_grid(t, size, align_corners),
        lambda t: TF.affine_grid(t, size, align_corners),
        [randn(size[0], d, d + 1)],
        device,
        dtype,
    )


def test_affine_grid_then_grid_sample(device, dtype):
    def run(fn, lib):
        def f(theta, x):
            return fn.grid_sample(x, fn.affine_grid(theta, (2, 2, 3, 3), align_corners=False), align_corners=False)

        return f

    check(run(F, ember), run(TF, torch), [randn(2, 2, 3) * 0.6, randn(2, 2, 4, 4)], device, dtype)


def test_gradchecks():
    x = ember.tensor(randn(1, 1, 3, 3), requires_grad=True)
    grid = ember.tensor(randn(1, 2, 2, 2, low=-0.9, high=0.9), requires_grad=True)
    theta = ember.tensor(randn(1, 2, 3), requires_grad=True)
    for mode in ("bilinear", "bicubic", "nearest"):
        kw = {"align_corners": False} if mode != "nearest" else {}
        assert ember.autograd.gradcheck(lambda t, m=mode, kw=kw: F.interpolate(t, size=(4, 5), mode=m, **kw), (x,))
    assert ember.autograd.gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear"), (x,))
    for padding_mode in ("zeros", "border", "reflection"):
        fn = lambda a, g, p=padding_mode: F.grid_sample(a, g, padding_mode=p, align_corners=True)  # noqa: E731
        assert ember.autograd.gradcheck(fn, (x, grid))
    assert ember.autograd.gradgradcheck(lambda a, g: F.grid_sample(a, g, align_corners=False), (x, grid))
    assert ember.autograd.gradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 3), align_corners=False), (theta,))
    assert ember.autograd.gradcheck(
        lambda t: F.pixel_shuffle(t, 2), (ember.tensor(randn(1, 4, 2, 1), requires_grad=True),)
    )


def test_seed_examples():
    assert nn.PixelShuffle(3)(ember.randn(1, 9, 4, 4)).shape == (1, 1, 12, 12)
    x = ember.arange(1, 5, dtype=ember.float32).reshape(1, 1, 2, 2)
    assert nn.Upsample(scale_factor=2, mode="nearest")(x).tolist() == [
        [[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]
    ]
    out = nn.UpsamplingBilinear2d(scale_factor=2)(x)
    expected = torch.nn.UpsamplingBilinear2d(scale_factor=2)(torch.arange(1, 5.0).reshape(1, 1, 2, 2))
    assert_close(out, expected)
    assert F.grid_sample(ember.randn(1, 1, 3, 3), ember.zeros(1, 2, 2, 2), align_corners=True).shape == (1, 1, 2, 2)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(ember.randn(1, 2, 3), (1, 1, 2, 2))


@pytest.mark.parametrize("factor", [2.0, True, None])
@pytest.mark.parametrize("op", ["pixel_shuffle", "pixel_unshuffle"])
def test_shuffle_factor_must_be_int(op, factor):
    with pytest.raises(TypeError) as expected:
        getattr(TF, op)(torch.zeros(1, 8, 2, 4), factor)
    with pytest.raises(TypeError) as got:
        getattr(F, op)(ember.zeros(1, 8, 2, 4), factor)
    assert str(got.value) == str(expected.value)


def test_errors():
    x = ember.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(1, 2, 3))
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D"):
        F.interpolate(ember.randn(3), scale_factor=2)
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(ember.randn(3, 3), 2)
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(x, 2)
    with pytest.raises(RuntimeError, match="height to be divisible by downscale_factor"):
        F.pixel_unshuffle(x, 2)
    with pytest.raises(NotImplementedError, match="only supports 4D and 5D sizes"):
        F.affine_grid(ember.randn(1, 2, 3), (1, 1, 2), align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(ember.randn(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(x, ember.randn(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x, ember.randn(2, 2, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(x, ember.randn(1, 2, 2, 2), mode="foo", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(x, ember.randn(1, 2, 2, 2), padding_mode="foo", align_corners=False)


def _raised(fn):
    """The type and message of what ``fn()`` raises, or None."""
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the exception is the result under test
        return type(error), str(error)
    return None


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((2, 3, 5), {"mode": "bilinear", "size": (3, 3)}),  # the size's length is checked before the mode
        ((2, 3, 5), {"mode": "trilinear", "scale_factor": (2.0, 2.0, 2.0)}),
        ((2, 3, 5), {"mode": "bogus", "size": (3, 3)}),
        ((2, 3, 5), {"mode": "bicubic", "size": 3}),
        ((2, 3, 5), {"mode": "lanczos", "size": 3}),
        ((2, 3, 5), {"mode": "bilinear", "size": 3, "recompute_scale_factor": True}),
        ((3, 5), {"mode": "linear", "scale_factor": 2.0, "antialias": True}),
        ((1, 2, 3, 4, 5), {"mode": "bicubic", "size": 3}),
        ((2, 3, 5, 4), {"mode": "bilinear", "size": (3.5, 2)}),  # sizes must be integers
        ((2, 3, 5, 4), {"mode": "nearest", "size": 2.5}),
    ],
)
def test_interpolate_errors_as_torch(shape, kwargs):
    """interpolate checks its arguments in PyTorch's order and raises PyTorch's error types."""
    x = randn(*shape)
    got = _raised(lambda: F.interpolate(ember.tensor(x), **kwargs))
    expected = _raised(lambda: TF.interpolate(torch.tensor(x), **kwargs))
    assert got is not None and expected is not None
    assert got[0] is expected[0], (got, expected)
    if expected[0] is not TypeError:  # torch's argument parser words a scalar's TypeError its own way
        assert got[1] == expected[1]
