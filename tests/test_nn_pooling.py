"""Pooling layers and their functional forms, differential against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from reference import assert_close, check, randn

import ember
import ember.nn.functional as F
from ember import nn

MAX_CASES = [
    (1, (2, 3, 8), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    (1, (3, 7), {"kernel_size": 2, "padding": 1, "dilation": 2}),  # unbatched
    (2, (2, 3, 7, 6), {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "dilation": (1, 2), "ceil_mode": True}),
    (2, (1, 2, 5, 5), {"kernel_size": 2, "stride": 3}),  # stride > kernel
    (2, (2, 6, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),  # last window rule
    (2, (1, 1, 5, 5), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
    (3, (1, 2, 3, 4, 5), {"kernel_size": 2, "stride": 1, "padding": 1}),
    (3, (2, 3, 5, 4), {"kernel_size": (2, 3, 2), "stride": 2, "ceil_mode": True}),  # unbatched
]


@pytest.mark.parametrize("nd, xs, kwargs", MAX_CASES)
def test_max_pool_matches_torch(device, dtype, nd, xs, kwargs):
    check(
        lambda x: getattr(F, f"max_pool{nd}d")(x, return_indices=True, **kwargs),
        lambda x: getattr(TF, f"max_pool{nd}d")(x, return_indices=True, **kwargs),
        [randn(*xs)],
        device=device,
        dtype=dtype,
    )


def test_max_pool_ties_and_with_indices(device):
    x = np.array([[[[1.0, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0], [3, 3, 0, 5]]]])
    out = F.max_pool2d_with_indices(ember.tensor(x, device=device), 2, 1)
    ref = TF.max_pool2d_with_indices(torch.tensor(x), 2, 1)
    assert_close(out[0], ref[0])
    assert_close(out[1], ref[1])


AVG_CASES = [
    (1, (2, 3, 7), {"kernel_size": 3, "stride": 2}),
    (1, (3, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    (2, (2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    (2, (2, 3, 7, 6), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "count_include_pad": False}),
    (2, (3, 5, 5), {"kernel_size": 2, "divisor_override": 3, "ceil_mode": True}),
    (3, (1, 2, 4, 5, 3), {"kernel_size": 2, "stride": (1, 2, 2), "padding": (1, 0, 1), "ceil_mode": True}),
]


@pytest.mark.parametrize("nd, xs, kwargs", AVG_CASES)
def test_avg_pool_matches_torch(device, dtype, nd, xs, kwargs):
    check(
        lambda x: getattr(F, f"avg_pool{nd}d")(x, **kwargs),
        lambda x: getattr(TF, f"avg_pool{nd}d")(x, **kwargs),
        [randn(*xs)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize(
    "nd, xs, args",
    [(1, (2, 3, 9), (2, 3, 2)), (2, (2, 3, 7, 6), (1.5, (3, 2), (2, 1))), (2, (3, 5, 5), (2, 2, None, True))],
)
def test_lp_pool_matches_torch(device, dtype, nd, xs, args):
    check(
        lambda x: getattr(F, f"lp_pool{nd}d")(x, *args),
        lambda x: getattr(TF, f"lp_pool{nd}d")(x, *args),
        [randn(*xs, low=0.1, high=2.0)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("nd, xs", [(1, (2, 3, 9)), (2, (2, 3, 5, 6)), (3, (1, 2, 3, 4, 5))])
@pytest.mark.parametrize("norm_type", [float("inf"), -float("inf")])
def test_lp_pool_infinite_norm_matches_torch(device, nd, xs, norm_type):
    # p = +-inf is the largest / smallest magnitude of the window, not the p-th root of a sum
    check(
        lambda x: getattr(F, f"lp_pool{nd}d")(x, norm_type, 2, None, True),
        lambda x: getattr(TF, f"lp_pool{nd}d")(x, norm_type, 2, None, True),
        [randn(*xs)],
        device=device,
    )


@pytest.mark.parametrize(
    "nd, xs, size", [(1, (2, 3, 8), 5), (2, (2, 3, 7, 9), (4, 5)), (2, (3, 10, 9), (None, 4)), (3, (1, 2, 5, 4, 7), 3)]
)
def test_adaptive_pools_match_torch(device, dtype, nd, xs, size):
    check(
        lambda x: getattr(F, f"adaptive_max_pool{nd}d")(x, size, return_indices=True),
        lambda x: getattr(TF, f"adaptive_max_pool{nd}d")(x, size, return_indices=True),
        [randn(*xs)],
        device=device,
        dtype=dtype,
    )
    check(
        lambda x: getattr(F, f"adaptive_avg_pool{nd}d")(x, size),
        lambda x: getattr(TF, f"adaptive_avg_pool{nd}d")(x, size),
        [randn(*xs)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize(
    "nd, xs, kernel, kwargs",
    [
        (2, (2, 3, 7, 6), 2, {"output_size": (4, 3)}),
        (2, (2, 9, 8), (3, 2), {"output_ratio": (0.5, 0.6)}),  # unbatched
        (3, (1, 2, 4, 5, 6), 2, {"output_size": (2, 3, 3)}),
    ],
)
def test_fractional_max_pool_matches_torch(device, dtype, nd, xs, kernel, kwargs):
    samples = np.random.default_rng(3).random((xs[0] if len(xs) == nd + 2 else 1, xs[-nd - 1], nd))
    check(
        lambda x: getattr(F, f"fractional_max_pool{nd}d")(
            x,
            kernel,
            return_indices=True,
            _random_samples=ember.tensor(samples, dtype=x.dtype, device=device),
            **kwargs,
        ),
        lambda x: getattr(TF, f"fractional_max_pool{nd}d")(
            x, kernel, return_indices=True, _random_samples=torch.tensor(samples, dtype=x.dtype), **kwargs
        ),
        [randn(*xs)],
        device=device,
        dtype=dtype,
    )


def test_fractional_random_samples_drawn():
    out = nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))(ember.randn(2, 3, 50, 32))
    assert out.shape == (2, 3, 25, 16)
    out, idx = F.fractional_max_pool2d(ember.randn(3, 9, 9), 2, output_size=4, return_indices=True)
    assert out.shape == (3, 4, 4) and idx.dtype == ember.int64


@pytest.mark.parametrize(
    "nd, xs, kernel, stride, padding, output_size",
    [
        (1, (2, 3, 9), 3, 2, 0, None),
        (2, (2, 3, 5, 6), 2, 2, 0, (5, 7)),
        (2, (3, 6, 6), 3, 2, 1, (6, 6)),  # unbatched, overlapping windows (duplicate indices)
        (3, (1, 2, 4, 5, 4), 2, 2, 0, [1, 2, 5, 5, 4]),
    ],
)
def test_max_unpool_matches_torch(device, dtype, nd, xs, kernel, stride, padding, output_size):
    x = randn(*xs)
    tp, ti = getattr(TF, f"max_pool{nd}d")(torch.tensor(x), kernel, stride, padding, return_indices=True)
    ei = ember.tensor(ti.numpy(), device=device)
    check(
        lambda v: getattr(F, f"max_unpool{nd}d")(v, ei, kernel, stride, padding, output_size),
        lambda v: getattr(TF, f"max_unpool{nd}d")(v, ti, kernel, stride, padding, output_size),
        [tp.numpy()],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize(
    "cls, args, kwargs, xs",
    [
        ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 6, 7)),
        ("MaxPool1d", (2,), {"return_indices": True}, (2, 3, 7)),
        ("MaxPool3d", ((2, 1, 2),), {}, (1, 2, 4, 3, 4)),
        ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 7)),
        ("AvgPool2d", ((3, 2),), {"stride": (2, 1), "divisor_override": 2}, (2, 3, 6, 5)),
        ("AvgPool3d", (2,), {"ceil_mode": True}, (1, 2, 3, 5, 4)),
        ("LPPool1d", (2, 3), {"stride": 2}, (2, 3, 7)),
        ("LPPool2d", (1.2, (3, 2)), {"stride": (2, 1)}, (2, 3, 6, 5)),
        ("AdaptiveMaxPool1d", (4,), {"return_indices": True}, (2, 3, 7)),
        ("AdaptiveMaxPool2d", ((None, 3),), {}, (2, 3, 6, 5)),
        ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 3, 5, 4)),
        ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 7)),
        ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 6, 5)),
        ("AdaptiveAvgPool3d", ((2, None, 3),), {}, (1, 2, 3, 5, 4)),
    ],
)
def test_modules_match_torch(device, dtype, cls, args, kwargs, xs):
    tm = getattr(torch.nn, cls)(*args, **kwargs)
    em = getattr(nn, cls)(*args, **kwargs)
    x = randn(*xs, low=0.1, high=2.0) if cls.startswith("LP") else randn(*xs)
    check(em, tm, [x], device=device, dtype=dtype)
    assert repr(em) == repr(tm)


def test_unpool_and_fractional_modules(device):
    pool = nn.MaxPool2d(2, stride=2, return_indices=True)
    unpool = nn.MaxUnpool2d(2, stride=2)
    x = ember.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]], device=device)
    output, indices = pool(x)
    expected = [[[[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]]
    assert unpool(output, indices).tolist() == expected
    assert unpool(output, indices, output_size=[1, 1, 5, 5]).shape == (1, 1, 5, 5)
    assert repr(unpool) == repr(torch.nn.MaxUnpool2d(2, stride=2))
    samples = ember.tensor([[[0.3, 0.7]]], dtype=ember.float64, device=device)
    fm = nn.FractionalMaxPool2d(2, output_size=3, return_indices=True, _random_samples=samples)
    tfm = torch.nn.FractionalMaxPool2d(
        2, output_size=3, return_indices=True, _random_samples=torch.tensor([[[0.3, 0.7]]], dtype=torch.float64)
    )
    xs = randn(1, 1, 6, 5)
    e_out, e_idx = fm(ember.tensor(xs, device=device))
    t_out, t_idx = tfm(torch.tensor(xs))
    assert_close(e_out, t_out)
    assert_close(e_idx, t_idx)


def test_seed_examples():
    m = nn.AvgPool1d(3, stride=2)
    assert m(ember.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]])).tolist() == [[[2.0, 4.0, 6.0]]]
    assert nn.MaxPool2d((3, 2), stride=(2, 1))(ember.randn(2, 3, 50, 32)).shape == (2, 3, 24, 31)
    pool, unpool = nn.MaxPool3d(3, stride=2, return_indices=True), nn.MaxUnpool3d(3, stride=2)
    output, indices = pool(ember.randn(2, 3, 7, 5, 9))
    assert unpool(output, indices).shape == (2, 3, 7, 5, 9)
    assert nn.AdaptiveMaxPool2d((None, 7))(ember.randn(1, 4, 10, 9)).shape == (1, 4, 10, 7)
    assert nn.AdaptiveAvgPool3d((7, None, None))(ember.randn(1, 2, 10, 9, 8)).shape == (1, 2, 7, 9, 8)
    assert nn.FractionalMaxPool2d(3, output_size=(13, 12))(ember.randn(2, 3, 50, 32)).shape == (2, 3, 13, 12)
    assert nn.LPPool2d(1.2, (3, 2), stride=(2, 1))(ember.randn(2, 3, 50, 32)).shape == (2, 3, 24, 31)


def test_gradchecks(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip("no float64")
    x = ember.tensor(randn(1, 2, 5, 4), device=device, requires_grad=True)
    fns = [
        lambda t: F.max_pool2d(t, 2, 1, padding=1),
        lambda t: F.avg_pool2d(t, 3, 2, padding=1, ceil_mode=True, count_include_pad=False),
        lambda t: F.adaptive_max_pool2d(t, (3, 2)),
        lambda t: F.adaptive_avg_pool2d(t, (3, 3)),
        lambda t: F.lp_pool2d(t * t + 0.5, 2, 2),
        lambda t: F.fractional_max_pool2d(t, 2, output_size=3, _random_samples=ember.tensor([[[0.2, 0.6]] * 2]).to(t)),
    ]
    for fn in fns:
        assert ember.autograd.gradcheck(fn, (x,))
        assert ember.autograd.gradgradcheck(fn, (x,))
    v, idx = F.max_pool2d(x.detach(), 2, return_indices=True)
    v.requires_grad_()
    assert ember.autograd.gradcheck(lambda t: F.max_unpool2d(t, idx, 2), (v,))


def test_errors(device):
    x = ember.randn(1, 2, 3, 3, device=device)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(2x3x3\). Calculated output size: \(2x0x0\)"):
        F.max_pool2d(x, 5)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool1d(ember.randn(1, 2, 2, device=device), 3)
    with pytest.raises(RuntimeError, match=r"non-empty 3D or 4D \(batch mode\) tensor expected"):  # as PyTorch
        F.max_pool2d(ember.randn(3, 3, device=device), 2)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.adaptive_avg_pool2d(ember.randn(3, 3, device=device), 2)
    with pytest.raises(RuntimeError, match="stride should not be zero"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="Found an invalid max index: 30"):
        F.max_unpool2d(ember.randn(1, 1, 2, 2, device=device), ember.tensor([[[[0, 1], [2, 30]]]], device=device), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match="too large relative to input"):
        F.fractional_max_pool2d(x, 3, output_size=2)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="requires specifying either an output size"):
        nn.FractionalMaxPool2d(2)


def test_max_pool_nan_like_torch(device):
    x = randn(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 2, 3] = np.nan
    out, idx = F.max_pool2d(ember.tensor(x, device=device), 2, 1, return_indices=True)
    t_out, t_idx = TF.max_pool2d(torch.tensor(x), 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.cpu().numpy(), t_out.numpy())
    assert_close(idx, t_idx)


@pytest.mark.parametrize("threads", [1, 2])
def test_numpy_scatter_add_agrees_with_portable(threads, numpy_threads, no_loops):
    """Repeated indices add up; on 2 threads each takes its own samples (3 samples: an uneven split)."""
    from ember.kernels import Kernels

    numpy_threads(threads)
    backend = ember.backends.get_backend("cpu")
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 3, 4)).astype(np.float32)
    indices = rng.integers(0, 5, (3, 3, 4))
    mine = backend.kernels.pool_scatter_add(values, indices, (5,))
    assert mine.dtype == np.float32
    np.testing.assert_allclose(mine, Kernels(backend).pool_scatter_add(values, indices, (5,)), rtol=1e-6)


NUMPY_MAX_POOL_CASES = [
    # input shape, (kernel, stride, padding, dilation, out_shape)
    ((3, 3, 9, 8), ((3, 2), (2, 2), (1, 1), (1, 2), (5, 4))),
    ((3, 3, 10), ((3,), (2,), (1,), (2,), (5,))),
    ((2, 2, 5, 6, 7), ((2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1), (3, 2, 3))),
    ((3, 2, 5, 5), ((2, 2), (2, 2), (0, 0), (1, 1), (3, 3))),  # ceil_mode: the last window overhangs
]


@pytest.mark.parametrize("block", [None, 1])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("shape,args", NUMPY_MAX_POOL_CASES)
def test_numpy_max_pool_agrees_with_portable(shape, args, nan, threads, block, numpy_threads, no_loops, monkeypatch):
    """The NumPy max_pool override: same values and indices as the portable kernel (ties: first
    occurrence; -inf inputs; a NaN wins), on 1 and 2 threads, the batch in one block or blocks of
    one sample, on a negative-stride view."""
    from ember.backends.numpy.kernels import pooling as numpy_pooling
    from ember.kernels import Kernels

    numpy_threads(threads)
    if block is not None:
        monkeypatch.setattr(numpy_pooling, "BLOCK_BYTES", block)
    backend = ember.backends.get_backend("cpu")
    x = np.random.default_rng(0).integers(-2, 3, shape).astype(np.float32)
    x[x == -2] = -np.inf
    if nan:
        x[1, 0].flat[4] = np.nan
    x = x[:, :, ::-1]
    values, indices = backend.kernels.max_pool(x, *args)
    want_values, want_indices = Kernels(backend).max_pool(x, *args)
    assert values.dtype == np.float32 and indices.dtype == np.int64
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(indices, want_indices)


@pytest.mark.parametrize(
    "name, args, shape",
    [("max_pool2d", (2,), (0, 3, 4, 4)), ("max_pool1d", (2,), (0, 3, 4)), ("lp_pool2d", (2.0, 2), (0, 3, 4, 4))],
)
def test_pool_empty_batch_matches_torch(device, name, args, shape):
    """A batch of 0 samples: an empty output and gradient, as PyTorch (ember's NumPy kernels once raised
    IndexError sizing their blocks by the first sample)."""
    check(lambda x: getattr(F, name)(x, *args), lambda x: getattr(TF, name)(x, *args), [randn(*shape)], device=device)
