"""Normalization: batch/instance/layer/group/local-response norm and normalize, differential against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn, to_ember, torch

import ember
import ember.nn.functional as F
from ember import nn

TF = torch.nn.functional


def _copy_state(e_mod, t_mod, device, dtype):
    """Load torch's parameters and buffers into the ember module (same dtype and device)."""
    for name, value in t_mod.state_dict().items():
        data = to_ember(value, device)
        getattr(e_mod, name).data = data if name == "num_batches_tracked" else data.to(dtype)


def _run_module(e_mod, t_mod, x, device, dtype, steps=3):
    """Train-mode forward/backward for several steps, then eval; compare everything with torch."""
    torch_dtype = getattr(torch, dtype.name)
    t_mod.to(torch_dtype)
    _copy_state(e_mod, t_mod, device, dtype)
    for step in range(steps + 1):
        if step == steps:
            e_mod.eval()
            t_mod.eval()
        data = x + step
        ex = ember.tensor(data, dtype=dtype, device=device, requires_grad=True)
        tx = torch.tensor(data, dtype=torch_dtype, requires_grad=True)
        eo, to = e_mod(ex), t_mod(tx)
        assert_close(eo, to, dtype)
        upstream = randn(*to.shape)
        (eo * ember.tensor(upstream, dtype=dtype, device=device)).sum().backward()
        (to * torch.tensor(upstream, dtype=torch_dtype)).sum().backward()
        assert_close(ex.grad, tx.grad, dtype, what="input grad")
    for name, t_param in t_mod.named_parameters():
        assert_close(getattr(e_mod, name).grad, t_param.grad, dtype, what=f"{name} grad")
    for name, t_buf in t_mod.named_buffers():
        assert_close(getattr(e_mod, name), t_buf, dtype if t_buf.is_floating_point() else None, what=name)


@pytest.mark.parametrize(
    "cls,shape",
    [
        ("BatchNorm1d", (4, 3)),
        ("BatchNorm1d", (3, 3, 5)),
        ("BatchNorm2d", (2, 3, 3, 2)),
        ("BatchNorm3d", (2, 3, 2, 1, 3)),
    ],
)
@pytest.mark.parametrize(
    "kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}, {"bias": False}]
)
def test_batchnorm(device, dtype, cls, shape, kwargs):
    e, t = getattr(nn, cls)(3, **kwargs), getattr(torch.nn, cls)(3, **kwargs)
    _run_module(e, t, randn(*shape), device, dtype)
    assert repr(e) == repr(t)


@pytest.mark.parametrize(
    "cls,shape",
    [
        ("InstanceNorm1d", (2, 3, 5)),
        ("InstanceNorm1d", (3, 4)),
        ("InstanceNorm2d", (2, 3, 3, 2)),
        ("InstanceNorm3d", (3, 2, 2, 3)),
    ],
)
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True, "affine": True}])
def test_instancenorm(device, dtype, cls, shape, kwargs):
    channels = shape[-1 - int(cls[-2])]
    e, t = getattr(nn, cls)(channels, **kwargs), getattr(torch.nn, cls)(channels, **kwargs)
    _run_module(e, t, randn(*shape), device, dtype)
    assert repr(e) == repr(t)


def _randomize(t_mod):
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn(p.shape))


@pytest.mark.parametrize(
    "shape,normalized,kwargs",
    [
        ((2, 3, 5), 5, {}),
        ((2, 3, 5), (3, 5), {}),
        ((4, 3), [3], {"elementwise_affine": False}),
        ((2, 3, 5), 5, {"bias": False}),
    ],
)
def test_layernorm(device, dtype, shape, normalized, kwargs):
    e, t = nn.LayerNorm(normalized, **kwargs), torch.nn.LayerNorm(normalized, **kwargs)
    _randomize(t)
    _run_module(e, t, randn(*shape), device, dtype, steps=1)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("groups,shape,affine", [(3, (2, 6, 4), True), (1, (3, 4), True), (2, (2, 4, 3, 2), False)])
def test_groupnorm(device, dtype, groups, shape, affine):
    e, t = nn.GroupNorm(groups, shape[1], affine=affine), torch.nn.GroupNorm(groups, shape[1], affine=affine)
    _randomize(t)
    _run_module(e, t, randn(*shape), device, dtype, steps=1)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("size,shape", [(2, (2, 5, 3)), (3, (1, 4, 2, 3)), (4, (1, 3, 2, 2, 2))])
def test_local_response_norm(device, dtype, size, shape):
    e, t = nn.LocalResponseNorm(size, alpha=0.5, beta=0.7, k=1.5), torch.nn.LocalResponseNorm(size, 0.5, 0.7, 1.5)
    check(e, t, [randn(*shape)], device, dtype)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("p,dim", [(2, 1), (1, 0), (3.0, -1)])
def test_normalize(device, dtype, p, dim):
    check(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), [randn(3, 4, 2)], device, dtype)


def test_functional_forms(device, dtype):
    x, w, b = randn(4, 3, 2), randn(3), randn(3)
    rm, rv = randn(3), randn(3, low=0.5, high=2.0)
    e_rm, e_rv = (ember.tensor(a, dtype=dtype, device=device) for a in (rm, rv))
    t_rm, t_rv = (torch.tensor(a, dtype=getattr(torch, dtype.name)) for a in (rm, rv))
    check(
        lambda x, w, b: F.batch_norm(x, e_rm, e_rv, w, b, training=False, eps=1e-3),
        lambda x, w, b: TF.batch_norm(x, t_rm, t_rv, w, b, training=False, eps=1e-3),
        [x, w, b],
        device,
        dtype,
    )
    check(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
        [x, w, b],
        device,
        dtype,
    )
    check(
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
        [x, w, b],
        device,
        dtype,
    )
    check(lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: TF.group_norm(x, 3, w, b), [x, w, b], device, dtype)
    check(
        lambda x, w, b: F.layer_norm(x, (3, 2), w, b),
        lambda x, w, b: TF.layer_norm(x, (3, 2), w, b),
        [x, randn(3, 2), randn(3, 2)],
        device,
        dtype,
    )


def test_functional_running_stats(device, dtype):
    x = randn(5, 3, 2)
    torch_dtype = getattr(torch, dtype.name)
    e_mean, e_var = ember.zeros(3, dtype=dtype, device=device), ember.ones(3, dtype=dtype, device=device)
    t_mean, t_var = torch.zeros(3, dtype=torch_dtype), torch.ones(3, dtype=torch_dtype)
    for step in range(3):
        F.batch_norm(ember.tensor(x + step, dtype=dtype, device=device), e_mean, e_var, training=True, momentum=0.3)
        TF.batch_norm(torch.tensor(x + step, dtype=torch_dtype), t_mean, t_var, training=True, momentum=0.3)
        F.instance_norm(ember.tensor(x * step, dtype=dtype, device=device), e_mean, e_var, momentum=0.2)
        TF.instance_norm(torch.tensor(x * step, dtype=torch_dtype), t_mean, t_var, momentum=0.2)
    assert_close(e_mean, t_mean, dtype)
    assert_close(e_var, t_var, dtype)


def test_gradchecks():
    x = ember.tensor(randn(3, 2, 2), requires_grad=True)
    w = ember.tensor(randn(2), requires_grad=True)
    b = ember.tensor(randn(2), requires_grad=True)
    fns = [
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: F.group_norm(x, 2, w, b),
        lambda x, w, b: F.layer_norm(x, (2,), w.reshape(2), b),
        lambda x, w, b: F.local_response_norm(x, 2) * w.reshape(2, 1) + b.reshape(2, 1),
        lambda x, w, b: F.normalize(x) * w.reshape(2, 1) + b.reshape(2, 1),
    ]
    for fn in fns:
        assert ember.autograd.gradcheck(fn, (x, w, b))
        assert ember.autograd.gradgradcheck(fn, (x, w, b))


def test_seed_examples():
    assert nn.BatchNorm1d(100)(ember.randn(20, 100)).shape == (20, 100)
    assert nn.BatchNorm1d(100, affine=False)(ember.randn(20, 100)).shape == (20, 100)
    assert nn.BatchNorm2d(10, affine=False)(ember.randn(4, 10, 3, 5)).shape == (4, 10, 3, 5)
    assert nn.BatchNorm3d(10)(ember.randn(2, 10, 3, 4, 2)).shape == (2, 10, 3, 4, 2)
    assert nn.InstanceNorm1d(10)(ember.randn(4, 10, 6)).shape == (4, 10, 6)
    assert nn.InstanceNorm2d(10, affine=True)(ember.randn(4, 10, 3, 5)).shape == (4, 10, 3, 5)
    out = nn.BatchNorm1d(3)(ember.randn(50, 3) * 4 + 2).detach().numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-2)


def test_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(ember.randn(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        nn.BatchNorm1d(3)(ember.randn(2, 4))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        nn.InstanceNorm1d(3)(ember.randn(2, 3, 1))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(ember.randn(2, 4, 5))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        nn.LayerNorm(5)(ember.randn(2, 4))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ember.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(ember.randn(2, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(ember.randn(2, 3), 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,axes",
    [
        ((4, 3, 5, 6), (0, 2, 3)),
        ((4, 3, 5, 6), (2, 3)),
        ((4, 6, 5), (1, 2)),
        ((7, 5), (0,)),
        ((2, 3, 4, 5, 6), (0, 2, 3, 4)),
    ],
)
@pytest.mark.parametrize("threads,block_bytes", [(1, None), (2, 1)])
def test_numpy_normalize_kernels_agree_with_portable(
    shape, axes, dtype, threads, block_bytes, numpy_and_portable_kernels
):
    """The NumPy normalize_forward/backward overrides against the portable kernels, on a strided input
    with a large offset (the mean's accuracy); one block, or one leading row a block split over 2 threads."""
    from ember.backends.numpy.kernels import normalization as numpy_normalization

    backend, portable = numpy_and_portable_kernels(numpy_normalization, threads, block_bytes)
    rng = np.random.default_rng(0)
    x = (1000 + rng.standard_normal(shape)).astype(dtype)[..., ::-1]
    grad = rng.standard_normal(shape).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    mine, want = backend.kernels.normalize_forward(x, axes, 1e-5), portable.normalize_forward(x, axes, 1e-5)
    for got, expected in zip(mine, want):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    xhat, invstd = want[0], want[3]
    got = backend.kernels.normalize_backward(grad, xhat, invstd, axes)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, portable.normalize_backward(grad, xhat, invstd, axes), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (7, 3), (2, 3, 4, 5, 2)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("threads,block_bytes", [(1, None), (2, 1)])
def test_numpy_batch_norm_kernels_agree_with_portable(
    shape, dtype, affine, threads, block_bytes, numpy_and_portable_kernels
):
    """The NumPy batch_norm_forward/backward overrides (affine folded in) against the portable kernels,
    with a large offset on a strided input; one block, or one leading row a block split over 2 threads."""
    from ember.backends.numpy.kernels import normalization as numpy_normalization

    backend, portable = numpy_and_portable_kernels(numpy_normalization, threads, block_bytes)
    rng = np.random.default_rng(1)
    axes = (0,) + tuple(range(2, len(shape)))
    x = (1000 + rng.standard_normal(shape)).astype(dtype)[..., ::-1]
    grad = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal(3).astype(dtype) if affine in ("both", "weight") else None
    bias = rng.standard_normal(3).astype(dtype) if affine in ("both", "bias") else None
    tol = 1e-4 if dtype == np.float32 else 1e-10
    mine = backend.kernels.batch_norm_forward(x, axes, 1e-5, weight, bias)
    want = portable.batch_norm_forward(x, axes, 1e-5, weight, bias)
    for got, expected in zip(mine, want):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    xhat, invstd = want[1], want[4]
    mine = backend.kernels.batch_norm_backward(grad, xhat, invstd, axes, weight)
    want = portable.batch_norm_backward(grad, xhat, invstd, axes, weight)
    for got, expected in zip(mine, want):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("affine", ["weight", "bias", "none"])
def test_batch_norm_training_partial_affine(device, dtype, affine):
    """Training-mode batch norm with only a weight, only a bias or neither: values and gradients."""
    w = None if affine == "bias" or affine == "none" else randn(3)
    b = None if affine == "weight" or affine == "none" else randn(3)
    params = [p for p in (w, b) if p is not None]

    def call(fn, x, *given):
        it = iter(given)
        return fn(x, None, None, next(it) if w is not None else None, next(it) if b is not None else None, True)

    check(
        lambda x, *p: call(F.batch_norm, x, *p),
        lambda x, *p: call(TF.batch_norm, x, *p),
        [randn(4, 3, 2, 5), *params],
        device,
        dtype,
    )


@pytest.mark.parametrize("affine", ["weight", "bias"])
def test_batch_norm_training_partial_affine_gradgradcheck(affine):
    x = ember.tensor(randn(3, 2, 2), requires_grad=True)
    p = ember.tensor(randn(2), requires_grad=True)
    if affine == "weight":
        fn = lambda x, p: F.batch_norm(x, None, None, p, None, training=True)  # noqa: E731
    else:
        fn = lambda x, p: F.batch_norm(x, None, None, None, p, training=True)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, p))
    assert ember.autograd.gradgradcheck(fn, (x, p))
