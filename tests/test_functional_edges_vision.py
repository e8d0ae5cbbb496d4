"""Sampling functions off the main road, against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "mode, volumetric",
    [("bilinear", False), ("nearest", False), ("bicubic", False), ("bilinear", True), ("nearest", True)],
)
@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_of_non_finite_grid_points(device, dtype, mode, volumetric, padding_mode, align_corners):
    # border and reflection padding clip an infinite coordinate to the border, and a NaN one to 0 in 2-D
    # (PyTorch: "NaN values in grid would be interpreted as -1") and to the far border in 3-D (its scalar
    # kernel's std::min/std::max); ember gave NaN samples
    name = str(dtype).split(".")[-1]
    points = [[NAN, 0], [INF, 1], [-INF, 0], [1e30, -1], [0.5, -INF], [1e300, NAN]]
    if volumetric:  # the points in the plane of depth 0.25
        grid = np.array([p + [0.25] for p in points]).reshape(1, 2, 3, 1, 3).astype(name)
        x = np.arange(2 * 5 * 3 * 4, dtype=name).reshape(1, 2, 5, 3, 4)
    else:
        grid = np.array(points).reshape(1, 2, 3, 2).astype(name)
        x = np.arange(2 * 3 * 4, dtype=name).reshape(1, 2, 3, 4)
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out = ember.nn.functional.grid_sample(ember.tensor(x, device=device), ember.tensor(grid, device=device), **kwargs)
    expected = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), **kwargs)
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


EMPTY_BATCHES = [((0, 3, 7, 6), (0, 3, 3, 2)), ((2, 0, 7, 6), (2, 3, 3, 2)), ((2, 3, 7, 6), (2, 0, 3, 2))]


@pytest.mark.parametrize(
    "input_shape, grid_shape, mode",
    [(i, g, m) for i, g in EMPTY_BATCHES for m in ("bilinear", "nearest", "bicubic")]
    + [((0, 3, 4, 5, 6), (0, 2, 3, 4, 3), m) for m in ("bilinear", "nearest")],
)
def test_grid_sample_of_an_empty_batch(device, input_shape, grid_shape, mode):
    # an empty batch (or no channels) raised "shape '[0, -1, 2]' is invalid for input of size 0"
    results = []
    for T, kw in ((torch, {}), (ember, {"device": device})):
        x, grid = T.zeros(input_shape, requires_grad=True, **kw), T.zeros(grid_shape, requires_grad=True, **kw)
        out = T.nn.functional.grid_sample(x, grid, mode=mode, align_corners=False)
        out.sum().backward()
        results.append((tuple(out.shape), tuple(x.grad.shape), tuple(grid.grad.shape)))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("scale, align_corners", [(1.7, False), (0.6, False), (3.0, True)])
def test_bicubic_interpolation_of_16_bit_inputs(dtype, scale, align_corners):
    # PyTorch keeps a 16-bit input's cubic weights in its type (the sums in float32): with float32 weights
    # 40% of the float16 outputs and half of the bfloat16 ones were a unit off; the gradient is unchanged
    gen = np.random.default_rng(0)
    x = gen.uniform(-3, 3, (2, 6, 9, 8))
    results = []
    for T in (torch, ember):
        leaf = T.tensor(x).to(getattr(T, dtype)).requires_grad_()
        out = T.nn.functional.interpolate(leaf, scale_factor=scale, mode="bicubic", align_corners=align_corners)
        out.backward(T.tensor(np.random.default_rng(1).uniform(-1, 1, tuple(out.shape))).to(getattr(T, dtype)))
        results.append([out.detach().float().numpy(), leaf.grad.float().numpy()])
    (out, grad), (expected, expected_grad) = results[1], results[0]
    if dtype == "bfloat16":
        np.testing.assert_array_equal(out, expected)
    else:  # float16: the float32 sums, in another order, round a few outputs the other way
        assert (out != expected).mean() < 0.03
        np.testing.assert_allclose(out, expected, rtol=2e-3, atol=1e-3)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-2, atol=1e-2)
