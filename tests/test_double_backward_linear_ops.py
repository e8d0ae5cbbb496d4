"""Double backward of ops that are linear in their input (average pooling, reflection and replication
padding, the NLL loss) or piecewise so (max-type pooling) against PyTorch:
under ``create_graph`` the input's gradient requires grad even where the incoming gradient does not, with
PyTorch's node (``AvgPool2DBackwardBackward0``, an edge to the input whose derivative is zero), so a second
``autograd.grad`` through it gives zeros rather than "does not require grad"; where the incoming gradient
requires grad, its own gradient is the op applied to the gradient's gradient."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _target(lib, device):
    return lib.tensor([0, 1, 4, 2], device=device)


OPS = {
    "avg_pool1d": ((2, 3, 8), lambda lib, x, d: lib.nn.functional.avg_pool1d(x, 2)),
    "avg_pool2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.functional.avg_pool2d(x, 2)),
    "avg_pool2d_pad": (
        (2, 3, 5, 6),
        lambda lib, x, d: lib.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    ),
    "avg_pool3d": ((1, 2, 4, 4, 4), lambda lib, x, d: lib.nn.functional.avg_pool3d(x, 2)),
    "avg_pool3d_divisor": ((1, 2, 4, 5, 4), lambda lib, x, d: lib.nn.functional.avg_pool3d(x, 2, divisor_override=3)),
    "AvgPool2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.AvgPool2d(3, 1)(x)),
    "reflect1d": ((2, 3, 8), lambda lib, x, d: lib.nn.functional.pad(x, (2, 1), mode="reflect")),
    "reflect2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect")),
    "reflect2d_one_side": ((3, 5, 6), lambda lib, x, d: lib.nn.functional.pad(x, (0, 0, 3, 0), mode="reflect")),
    "ReflectionPad3d": ((1, 2, 4, 4, 4), lambda lib, x, d: lib.nn.ReflectionPad3d(1)(x)),
    "replicate1d": ((3, 8), lambda lib, x, d: lib.nn.functional.pad(x, (3, 1), mode="replicate")),
    "replicate2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.functional.pad(x, (2, -1, 1, 2), mode="replicate")),
    "ReplicationPad3d": ((1, 2, 4, 3, 4), lambda lib, x, d: lib.nn.ReplicationPad3d((1, 0, 2, 1, 0, 3))(x)),
    "max_pool1d": ((2, 3, 8), lambda lib, x, d: lib.nn.functional.max_pool1d(x, 2)),
    "max_pool2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.functional.max_pool2d(x, 3, 2, 1)),
    "max_pool2d_channels_last": (
        (2, 3, 6, 6),
        lambda lib, x, d: lib.nn.functional.max_pool2d(x.contiguous(memory_format=lib.channels_last), 2),
    ),
    "MaxPool3d": ((1, 2, 4, 4, 4), lambda lib, x, d: lib.nn.MaxPool3d(2)(x)),
    "adaptive_max_pool2d": ((2, 3, 6, 6), lambda lib, x, d: lib.nn.functional.adaptive_max_pool2d(x, (4, 3))),
    "adaptive_max_pool3d": ((1, 2, 4, 4, 4), lambda lib, x, d: lib.nn.functional.adaptive_max_pool3d(x, 3)),
    "fractional_max_pool2d": (
        (2, 3, 6, 6),
        lambda lib, x, d: lib.nn.functional.fractional_max_pool2d(
            x, 2, output_size=3, _random_samples=lib.full((2, 3, 2), 0.5, dtype=x.dtype, device=d)
        ),
    ),
    "nll_loss": ((4, 5), lambda lib, x, d: lib.nn.functional.nll_loss(x, _target(lib, d))),
    "nll_loss_sum": ((4, 5), lambda lib, x, d: lib.nn.functional.nll_loss(x, _target(lib, d), reduction="sum")),
    "nll_loss_weighted": (
        (4, 5),
        lambda lib, x, d: lib.nn.functional.nll_loss(
            x, _target(lib, d), weight=lib.arange(1.0, 6.0, dtype=x.dtype, device=d), ignore_index=1
        ),
    ),
    "NLLLoss_none": ((4, 5), lambda lib, x, d: lib.nn.NLLLoss(reduction="none")(x, _target(lib, d))),
}

SECOND_ORDER = [{}, {"allow_unused": True}, {"allow_unused": True, "materialize_grads": True}]


def _input(lib, name, device):
    shape = OPS[name][0]
    data = np.random.default_rng(0).standard_normal(shape)
    kw = {"device": device} if lib is ember else {}
    return lib.tensor(data, dtype=lib.float64, requires_grad=True, **kw)


def _first_order(lib, name, device):
    x = _input(lib, name, device)
    out = OPS[name][1](lib, x, device if lib is ember else "cpu")
    (dx,) = lib.autograd.grad(out, x, lib.ones_like(out), create_graph=True)
    return x, dx


@pytest.mark.parametrize("name", sorted(OPS))
def test_first_gradient_is_recorded(device, name):
    tx, tdx = _first_order(torch, name, "cpu")
    ex, edx = _first_order(ember, name, device)
    assert edx.requires_grad == tdx.requires_grad
    assert type(edx.grad_fn).__name__ == type(tdx.grad_fn).__name__
    assert edx.stride() == tdx.stride()
    np.testing.assert_allclose(edx.detach().cpu().numpy(), tdx.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", SECOND_ORDER, ids=["plain", "allow_unused", "materialize"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_second_order_of_input_is_zeros(device, name, kwargs):
    tx, tdx = _first_order(torch, name, "cpu")
    ex, edx = _first_order(ember, name, device)
    (tg,) = torch.autograd.grad(tdx, tx, torch.ones_like(tdx), **kwargs)
    (eg,) = ember.autograd.grad(edx, ex, ember.ones_like(edx), **kwargs)
    assert eg.dtype is ember.float64 and tuple(eg.shape) == tuple(tg.shape)
    np.testing.assert_array_equal(eg.cpu().numpy(), tg.numpy())


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradient_of_the_incoming_gradient(device, name):
    """With a gradient that requires grad, the gradient's gradient is the op applied to it, and the input's
    second derivative is zeros (a gradient penalty through the op)."""
    results = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        x = _input(lib, name, dev)
        out = OPS[name][1](lib, x, dev if lib is ember else "cpu")
        data = np.random.default_rng(1).standard_normal(tuple(out.shape))
        kw = {"device": dev} if lib is ember else {}
        g = lib.tensor(data, dtype=lib.float64, requires_grad=True, **kw)
        (dx,) = lib.autograd.grad(out, x, g, create_graph=True)
        w = lib.tensor(np.random.default_rng(2).standard_normal(tuple(dx.shape)), dtype=lib.float64, **kw)
        gg, gx = lib.autograd.grad((dx * w).sum() + (dx * dx).sum(), (g, x))
        results.append((gg.detach().cpu().numpy(), gx.detach().cpu().numpy()))
    (tgg, tgx), (egg, egx) = results
    np.testing.assert_allclose(egg, tgg, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(egx, tgx)


def test_gradient_without_create_graph_is_not_recorded(device):
    x = _input(ember, "avg_pool2d", device)
    (dx,) = ember.autograd.grad(ember.nn.functional.avg_pool2d(x, 2).sum(), x)
    assert not dx.requires_grad and dx.grad_fn is None


def test_input_without_grad(device):
    """Only the incoming gradient requires grad: the gradient's node has no edge to the input (PyTorch's
    next_functions hold ``None`` there) and its gradient is the op again."""
    for lib, dev in ((torch, "cpu"), (ember, device)):
        kw = {"device": dev} if lib is ember else {}
        x = lib.tensor(np.arange(16.0).reshape(1, 1, 4, 4), **kw)
        g = lib.ones(1, 1, 2, 2, dtype=lib.float64, requires_grad=True, **kw)
        x.requires_grad_()
        out = lib.nn.functional.avg_pool2d(x, 2)
        (dx,) = lib.autograd.grad(out, x, g, create_graph=True)
        assert type(dx.grad_fn).__name__ == "AvgPool2DBackwardBackward0"
        assert len(dx.grad_fn.next_functions) == 2 and dx.grad_fn.next_functions[1][0] is not None


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("ndim", [4, 5])
def test_padding_gradient_keeps_channels_last(device, mode, ndim):
    """PyTorch's reflection/replication backward lays the input's gradient out as the input."""
    shape = (2, 3, 4, 5, 6)[:ndim]
    data = np.random.default_rng(0).standard_normal(shape)
    results = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        kw = {"device": dev} if lib is ember else {}
        fmt = lib.channels_last if ndim == 4 else lib.channels_last_3d
        x = lib.tensor(data, **kw).contiguous(memory_format=fmt).requires_grad_()
        y = lib.nn.functional.pad(x, (2, 1, 1, 2, 1, 1)[: 2 * (ndim - 2)], mode=mode)
        (dx,) = lib.autograd.grad(y, x, lib.ones_like(y))
        results.append((y.stride(), dx.stride(), dx.detach().cpu().numpy()))
    (ty, tdx, tv), (ey, edx, ev) = results
    assert (ey, edx) == (ty, tdx)
    np.testing.assert_array_equal(ev, tv)


# -- layouts found by the same sweep --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["Conv", "ConvTranspose"])
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("operand", ["input", "weight", "both"])
def test_conv_channels_last_layout(device, dtype, name, nd, operand):
    """PyTorch's CPU convolution lays its result and both gradients out channels-last where an operand is,
    except a 3-d one in float64 (its slow path, no oneDNN): row-major there."""
    shape = (2, 4, 3, 4, 5)[: nd + 2]
    data = np.random.default_rng(0).standard_normal(shape)
    results = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        kw = {"device": dev} if lib is ember else {}
        fmt = lib.channels_last if nd == 2 else lib.channels_last_3d
        module = getattr(lib.nn, f"{name}{nd}d")(4, 6, 2).to(getattr(lib, dtype))
        with lib.no_grad():
            module.weight.copy_(lib.tensor(np.random.default_rng(1).standard_normal(tuple(module.weight.shape))))
            module.bias.zero_()
        if operand != "input":
            module = module.to(memory_format=fmt)
        module = module.to(dev) if lib is ember else module
        x = lib.tensor(data, dtype=getattr(lib, dtype), **kw)
        if operand != "weight":
            x = x.contiguous(memory_format=fmt)
        x.requires_grad_()
        y = module(x)
        gx, gw = lib.autograd.grad(y, (x, module.weight), lib.ones_like(y))
        results.append([(t.stride(), t.detach().cpu().numpy()) for t in (y, gx, gw)])
    tol = 1e-12 if dtype == "float64" else 1e-4
    for (ts, tv), (es, ev) in zip(*results):
        assert es == ts
        np.testing.assert_allclose(ev, tv, rtol=tol, atol=tol)


PERMUTED = {
    "unbatched_1d": ((3, 5, 4), (2, 0, 1), (0, 0)),
    "unbatched_2d": ((3, 5, 4), (0, 2, 1), (0, 0, 0, 0)),
    "unbatched_3d": ((2, 3, 5, 4), (3, 0, 1, 2), (0, 0, 0, 0, 0, 0)),
    "channels_last": ((2, 3, 5, 4), (0, 3, 1, 2), (0, 0, 0, 0)),
    "sliced": ((2, 3, 5, 4), (2, 0, 3, 1), (0, 0, 0, 0)),
    "one_side": ((3, 5, 4), (2, 0, 1), (1, 0)),
}


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("case", sorted(PERMUTED))
def test_pad_of_strided_input_layout(device, case, mode):
    """Zero constant padding is PyTorch's clone (the input's strides kept); zero reflection or replication
    padding runs its kernel (row-major, channels-last kept); circular padding is row-major."""
    shape, perm, pads = PERMUTED[case]
    if mode != "constant" and len(pads) == 6 and len(shape) == 4:
        pytest.skip("non-constant 3-d padding takes a 4-D or 5-D input")
    data = np.arange(float(np.prod(shape))).reshape(shape)
    results = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        kw = {"device": dev} if lib is ember else {}
        x = lib.tensor(data, requires_grad=True, **kw)
        view = x.permute(*perm)
        if case == "sliced":
            view = view[:, :, 1:]
        y = lib.nn.functional.pad(view, pads, mode=mode)
        results.append((y.stride(), y.grad_fn.name(), y.detach().cpu().numpy()))
    (ts, tn, tv), (es, en, ev) = results
    assert (es, en) == (ts, tn)
    np.testing.assert_array_equal(ev, tv)


@pytest.mark.parametrize(
    "name", ["avg_pool2d", "avg_pool3d", "max_pool2d", "reflect2d", "ReplicationPad3d", "nll_loss"]
)
def test_third_order_node(device, name):
    """The gradient of the incoming gradient, itself recorded, is made by the op's own node again."""
    names = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        x = _input(lib, name, dev)
        out = OPS[name][1](lib, x, dev if lib is ember else "cpu")
        kw = {"device": dev} if lib is ember else {}
        g = lib.ones(tuple(out.shape), dtype=lib.float64, requires_grad=True, **kw)
        (dx,) = lib.autograd.grad(out, x, g, create_graph=True)
        (gg,) = lib.autograd.grad((dx * dx).sum(), g, create_graph=True)
        names.append(type(gg.grad_fn).__name__)
    assert names[1] == names[0]
