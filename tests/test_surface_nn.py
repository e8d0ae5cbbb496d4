"""nn.Buffer, the lazy modules with UninitializedParameter/UninitializedBuffer, SyncBatchNorm
(without a process group), ChannelShuffle and AdaptiveLogSoftmaxWithLoss, against PyTorch."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from reference import assert_close, check, randn, to_torch

import ember
import ember.nn as nn
import ember.nn.functional as F

torch = pytest.importorskip("torch")


def test_buffer_registers_as_torch():
    for module, lib in ((nn.Module(), ember), (torch.nn.Module(), torch)):
        module.a = lib.nn.Buffer(lib.ones(2))
        module.b = lib.nn.Buffer(lib.zeros(1), persistent=False)
        module.c = lib.zeros(1)  # a plain tensor is no buffer
        assert [n for n, _ in module.named_buffers()] == ["a", "b"]
        assert list(module.state_dict()) == ["a"]
    p = nn.Buffer(ember.ones(2, requires_grad=True))
    assert p.requires_grad and isinstance(p, ember.Tensor)
    with pytest.raises(TypeError, match="Buffer"):
        nn.Buffer([1.0])


def _same_keys_and_kinds(e_module, t_module):
    e_sd, t_sd = e_module.state_dict(), t_module.state_dict()
    assert list(e_sd) == list(t_sd)
    assert [type(v).__name__ for v in e_sd.values()] == [type(v).__name__ for v in t_sd.values()]


_LAZY = [
    ("LazyLinear", (4,), (3, 5)),
    ("LazyConv1d", (4, 3), (2, 3, 7)),
    ("LazyConv2d", (4, 3), (2, 3, 6, 6)),
    ("LazyConv3d", (2, 2), (3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), (2, 3, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), (1, 2, 3, 3, 3)),
    ("LazyBatchNorm1d", (), (4, 3)),
    ("LazyBatchNorm2d", (), (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), (4, 3, 5)),
    ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("name,args,shape", _LAZY, ids=[c[0] for c in _LAZY])
def test_lazy_modules_match_torch(device, name, args, shape):
    e, t = getattr(nn, name)(*args).to(device), getattr(torch.nn, name)(*args)
    assert e.has_uninitialized_params() and t.has_uninitialized_params()
    _same_keys_and_kinds(e, t)
    x = randn(*shape)
    e(ember.tensor(x, dtype=ember.float32, device=device))
    t(torch.tensor(x, dtype=torch.float32))
    assert type(e).__name__ == type(t).__name__ == name[4:]  # LazyLinear became Linear
    e_sd, t_sd = e.state_dict(), t.state_dict()
    assert list(e_sd) == list(t_sd)
    for key in t_sd:
        assert tuple(e_sd[key].shape) == tuple(t_sd[key].shape), key
        assert e_sd[key].device == ember.device(device) or e_sd[key].dtype is ember.int64
    # the now-ordinary layer computes what torch's does with the same state
    t.load_state_dict({k: to_torch(v) for k, v in e_sd.items()})
    e.eval(), t.eval()
    assert_close(e(ember.tensor(x, dtype=ember.float32, device=device)), t(torch.tensor(x, dtype=torch.float32)))


def test_lazy_load_state_dict_and_errors(device):
    src = nn.Linear(5, 3).to(device)
    lazy = nn.LazyLinear(3).to(device)
    lazy.load_state_dict(src.state_dict())
    assert not lazy.has_uninitialized_params() and type(lazy).__name__ == "LazyLinear"
    assert ember.equal(lazy(ember.ones(2, 5, device=device)), src(ember.ones(2, 5, device=device)))
    assert type(lazy).__name__ == "Linear" and lazy.in_features == 5
    bn = nn.LazyBatchNorm1d(affine=False).to(device)
    assert bn.weight is None and isinstance(bn.running_mean, nn.UninitializedBuffer)
    bn(ember.randn(4, 6, device=device))
    assert bn.running_mean.shape == (6,) and bn.running_mean.device == ember.device(device)
    p = nn.UninitializedParameter(device=device)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.requires_grad and p.shape == (2, 3)
    t_p = torch.nn.UninitializedParameter()
    assert repr(nn.UninitializedParameter()) == repr(t_p)


@pytest.mark.parametrize(
    "use,error",
    [
        (lambda p: p.shape, RuntimeError),
        (lambda p: p.numel(), ValueError),  # counting a lazy model's parameters gave 0
        (lambda p: p.nelement(), ValueError),
        (lambda p: p.dim(), ValueError),
        (lambda p: len(p), ValueError),
        (lambda p: p.size(), None),
        (lambda p: p.ndim, None),
    ],
)
@pytest.mark.parametrize("kind", ["UninitializedParameter", "UninitializedBuffer"])
def test_uninitialized_placeholder_refuses_its_shape(kind, use, error):
    """An unmaterialized placeholder's shape and size are errors, as PyTorch's (where PyTorch allows it, so does ember)."""
    ours, theirs = getattr(nn, kind)(), getattr(torch.nn, kind)()
    if error is None:
        assert list(np.atleast_1d(use(ours))) == list(np.atleast_1d(use(theirs)))
    else:
        for placeholder in (ours, theirs):
            with pytest.raises(error, match="uninitialized"):
                use(placeholder)
    lazy = nn.LazyLinear(3)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in lazy.parameters())


def test_uninitialized_parameter_deepcopy():
    """A fresh placeholder of the same dtype and requires_grad, as PyTorch's (ember passed its arguments
    to the wrong parameters and tried to make a tensor on 'cuda')."""
    p = nn.UninitializedParameter(requires_grad=False, dtype=ember.float64)
    q = copy.deepcopy(p)
    assert type(q) is nn.UninitializedParameter and q is not p
    assert q.dtype == ember.float64 and q.device == p.device and not q.requires_grad


def test_sync_batchnorm_without_process_group(device, dtype):
    x = randn(4, 3, 5)
    e = nn.SyncBatchNorm(3).to(device).to(dtype)
    t = torch.nn.SyncBatchNorm(3).to(getattr(torch, dtype.name))
    check(e, t, [x], device=device, dtype=dtype)
    assert_close(e.running_mean, t.running_mean, dtype)
    e.eval(), t.eval()
    check(e, t, [randn(2, 3)], device=device, dtype=dtype)
    for module in (nn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)):
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            module(ember.randn(3) if isinstance(module, nn.Module) else torch.randn(3))
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sequential(nn.BatchNorm2d(4)), nn.ReLU())
    net[1][0].eval()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(converted[1][0], nn.SyncBatchNorm) and not converted[1][0].training
    assert converted[1][0].weight is net[1][0].weight
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2)), nn.SyncBatchNorm)


def test_channel_shuffle(device, dtype):
    check(
        lambda x: F.channel_shuffle(x, 3),
        lambda x: torch.nn.functional.channel_shuffle(x, 3),
        [randn(2, 6, 4)],
        device=device,
        dtype=dtype,
    )
    check(nn.ChannelShuffle(2), torch.nn.ChannelShuffle(2), [randn(1, 4, 2, 3)], device=device, dtype=dtype)
    for call, message in (
        (
            lambda m: m.nn.functional.channel_shuffle(m.zeros(2, 3, 4), 2),
            "divisible by groups. Got 3 channels and 2 groups",
        ),
        (lambda m: m.nn.functional.channel_shuffle(m.zeros(2, 4, 4), 0), "must be positive. Value of groups:0"),
        (lambda m: m.nn.functional.channel_shuffle(m.zeros(2, 4), 2), r"> 2 dims, but got input with sizes \[2, 4\]"),
    ):
        for module in (ember, torch):
            with pytest.raises(RuntimeError, match=message):
                call(module)


def test_adaptive_log_softmax(device, dtype):
    e = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0, head_bias=True).to(device).to(dtype)
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0, head_bias=True).to(getattr(torch, dtype.name))
    assert list(e.state_dict()) == list(t.state_dict())
    t.load_state_dict({k: to_torch(v) for k, v in e.state_dict().items()})
    target = np.array([0, 4, 9, 2, 7, 7])
    check(lambda x, y: tuple(e(x, y)), lambda x, y: tuple(t(x, y)), [randn(6, 8), target], device=device, dtype=dtype)
    check(e.log_prob, t.log_prob, [randn(3, 8)], device=device, dtype=dtype)
    x = randn(5, 8)
    check(e.predict, t.predict, [x], device=device, dtype=dtype, grad=False)
    check(
        lambda v: tuple(e(v, ember.tensor(4, device=device))),
        lambda v: tuple(t(v, torch.tensor(4))),
        [randn(8)],
        device=device,
        dtype=dtype,
    )
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\]"):
        e(ember.randn(2, 8, device=device, dtype=dtype), ember.tensor([0, 10], device=device))
    for lib in (nn, torch.nn):
        with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
            lib.AdaptiveLogSoftmaxWithLoss(8, 10, [6, 3])
