"""What a sweep of PyTorch's whole ``module_db`` against ember found, each fix against PyTorch.

The sweep (every ``ModuleInput`` of every module, float32 and float64, training and eval: outputs,
strides, gradients, buffers, state_dict, parameters, repr, errors) found ember's values equal to
PyTorch's; what differed was the name of the output's backward node (``type(y.grad_fn).__name__``),
for the modules below.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, torch

import ember


def _node(t):
    return None if t.grad_fn is None else (type(t.grad_fn).__name__, t.grad_fn.name())


def _run(fn, arrays, device, dtype, grad=(0,)):
    """``fn(lib, *tensors)`` on torch and on ember (float arrays in ``dtype``; those at ``grad`` require it)."""

    def make(lib, a, i, **kw):
        t = lib.tensor(a, **kw)
        if t.dtype.is_floating_point:
            t = t.to(getattr(lib, dtype.name))
        return t.requires_grad_() if i in grad and t.dtype.is_floating_point else t

    t_in = [make(torch, a, i) for i, a in enumerate(arrays)]
    e_in = [make(ember, a, i, device=device) for i, a in enumerate(arrays)]
    return fn(ember, *e_in), fn(torch, *t_in), e_in, t_in


def _check(fn, arrays, device, dtype, grad=(0,)):
    """Same node name, values and dtype; and the same gradients of the inputs at ``grad``."""
    e_out, t_out, e_in, t_in = _run(fn, arrays, device, dtype, grad)
    assert _node(e_out) == _node(t_out)
    assert str(e_out.dtype) == str(t_out.dtype).replace("torch", "ember")
    assert_close(e_out, t_out, dtype)
    t_out.sum().backward()
    e_out.sum().backward()
    for e, t in zip(e_in, t_in):
        if t.requires_grad:
            assert_close(e.grad, t.grad, dtype, what="gradient")


_rng = np.random.default_rng(0)


def _require_dtype(device, name):
    """Skip where the device's backend has no ``name`` dtype (OpenCL's has no bfloat16)."""
    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, name))
    except TypeError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 4), (0, 3, 5), (0, 3)])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_node(device, dtype, shape, affine, training):
    """Eval-mode batch norm's node is NativeBatchNormBackward0 (ember's was its affine step's,
    ScaleShiftBackward0, or MulBackward0); an empty input's is PyTorch's copy, times ``weight[0]``,
    plus ``bias[0]`` (CloneBackward0/AddBackward0; ember gave MulBackward0/ScaleShiftBackward0)."""
    x = _rng.standard_normal(shape)
    w, b = np.abs(_rng.standard_normal(3)) + 0.5, _rng.standard_normal(3)
    mean, var = _rng.standard_normal(3), np.abs(_rng.standard_normal(3)) + 0.5

    def fn(lib, x, w, b, mean, var):
        return lib.nn.functional.batch_norm(
            x, mean, var, w if affine else None, b if affine else None, training=training
        )

    _check(fn, [x, w, b, mean, var], device, dtype, grad=(0, 1, 2))


@pytest.mark.parametrize("dtype16", ["float16", "bfloat16"])
@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_node_16_bit_with_float32_parameters(device, dtype16, training):
    """A 16-bit input with float32 parameters ("mixed type"): PyTorch's node is still its batch norm's."""
    _require_dtype(device, dtype16)
    x = torch.randn(4, 3, dtype=getattr(torch, dtype16), requires_grad=True)
    t_out = torch.nn.functional.batch_norm(x, torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3), training)
    e_x = ember.tensor(x.detach().float().numpy(), device=device).to(getattr(ember, dtype16)).requires_grad_()
    e_out = ember.nn.functional.batch_norm(
        e_x, ember.zeros(3, device=device), ember.ones(3, device=device), ember.ones(3, device=device),
        ember.zeros(3, device=device), training,
    )  # fmt: skip
    assert _node(e_out) == _node(t_out) == ("NativeBatchNormBackward0", "NativeBatchNormBackward0")


def test_batch_norm_module_eval_node(device, dtype):
    """The module, frozen for fine-tuning: its output's node is PyTorch's."""
    t_bn = torch.nn.BatchNorm2d(3).to(getattr(torch, dtype.name)).eval()
    e_bn = ember.nn.BatchNorm2d(3).to(device=device, dtype=dtype).eval()
    x = _rng.standard_normal((2, 3, 4, 4))
    t_out = t_bn(torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True))
    e_out = e_bn(ember.tensor(x, dtype=dtype, device=device, requires_grad=True))
    assert _node(e_out) == _node(t_out) == ("NativeBatchNormBackward0", "NativeBatchNormBackward0")


@pytest.mark.parametrize(
    "shape", [(2, 4, 5, 5), (2, 4, 5), (2, 4, 3, 2, 2), (2, 4), (4,)], ids=["4d", "3d", "5d", "2d", "1d"]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_class_index_loss_node(device, dtype, loss, shape, reduction):
    """A K-dimensional input's nll_loss/cross_entropy node is nll_loss2d's, NllLoss2DBackward0 (3-D and
    over 4-D inputs are viewed as 4-D, and their unreduced loss viewed back: ViewBackward0); ember
    said NllLossBackward0 for every rank."""
    x = _rng.standard_normal(shape)
    target = _rng.integers(0, 4, shape[:1] + shape[2:] if len(shape) > 1 else ())
    _check(lambda lib, x, t: getattr(lib.nn.functional, loss)(x, t, reduction=reduction), [x, target], device, dtype)


@pytest.mark.parametrize("shape", [(2, 4, 5, 5), (2, 4), (4,)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_probabilities_mean_node(device, dtype, shape, label_smoothing):
    """Class-probability targets, reduction 'mean': PyTorch divides by a Scalar, DivBackward1 (ember's
    DivBackward0)."""
    x, p = _rng.standard_normal(shape), np.abs(_rng.standard_normal(shape))

    def fn(lib, x, p):
        return lib.nn.functional.cross_entropy(x, p, label_smoothing=label_smoothing)

    _check(fn, [x, p], device, dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_loss_node(device, dtype, reduction):
    """SoftMarginLossBackward0 (ember's was its last composite op's: MeanBackward0, SumBackward0, Log1PBackward0)."""
    x, y = _rng.standard_normal((5, 5)), np.sign(_rng.standard_normal((5, 5)))
    _check(lambda lib, x, y: lib.nn.functional.soft_margin_loss(x, y, reduction=reduction), [x, y], device, dtype)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_scalar_node(device, dtype, fn):
    """A 0-d input: PyTorch's kernel's node (ember's was the ViewBackward0 of its reshape)."""
    _check(lambda lib, x: getattr(lib.nn.functional, fn)(x, 0), [_rng.standard_normal(())], device, dtype)


@pytest.mark.parametrize("shape", [(8, 2), (2,), (2, 3, 2)])
@pytest.mark.parametrize("bias", [False, True])
def test_bilinear_node(device, dtype, shape, bias):
    """The bias is added last, as PyTorch's: AddBackward0 (ember's ViewBackward0: it added the bias before
    its final reshape)."""
    x1, x2 = _rng.standard_normal(shape), _rng.standard_normal(shape[:-1] + (3,))
    w, b = _rng.standard_normal((4, 2, 3)), _rng.standard_normal(4)

    def fn(lib, x1, x2, w, b):
        return lib.nn.functional.bilinear(x1, x2, w, b if bias else None)

    _check(fn, [x1, x2, w, b], device, dtype, grad=(0, 1, 2, 3))


@pytest.mark.parametrize("nd,shape", [(2, (1, 3, 5, 7)), (2, (3, 5, 7)), (3, (1, 2, 5, 6, 7)), (3, (2, 5, 6, 7))])
def test_fractional_max_pool_node(device, dtype, nd, shape):
    """FractionalMaxPool2DBackward0/3D, batched or not (ember's MaxByIndexBackward0, and SqueezeBackward1 for
    an unbatched input: PyTorch's kernel takes one as it is)."""
    x = _rng.standard_normal(shape)
    samples = _rng.uniform(size=(1, shape[-nd - 1], nd))

    def fn(lib, x, samples):
        pool = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
        return pool(x, 2, output_ratio=(0.5,) * nd, _random_samples=samples)

    _check(fn, [x, samples], device, dtype)


# -- the result's layout (the sweep again, with channels-last and transposed inputs) ---------------------------


def _layout_input(lib, array, layout):
    t = lib.tensor(array)
    if layout == "transposed":  # (N, L, C) -> (N, C, L), as a sequence model feeds BatchNorm1d
        return t.transpose(1, 2)
    if layout == "channels_last":
        return t.contiguous(memory_format=lib.channels_last if t.ndim == 4 else lib.channels_last_3d)
    return t


def _check_layout(make_module, array, layout, device, dtype, training):
    """The module's output: PyTorch's strides, node name and values; the input's gradient: its values and strides."""
    outs, grads = [], []
    for lib in (torch, ember):
        module = make_module(lib).to(getattr(lib, dtype.name)).train(training)
        x = _layout_input(lib, array, layout).to(getattr(lib, dtype.name))
        if lib is ember:
            module, x = module.to(device), x.to(device)
        x.requires_grad_()
        y = module(x)
        y.sum().backward()
        outs.append(y)
        grads.append(x.grad)
    e_out, t_out = outs[1], outs[0]
    assert e_out.stride() == t_out.stride()
    assert _node(e_out) == _node(t_out)
    assert_close(e_out, t_out, dtype)
    assert grads[1].stride() == grads[0].stride()
    assert_close(grads[1], grads[0], dtype, what="gradient")


@pytest.mark.parametrize(
    "name,shape,layout",
    [
        ("BatchNorm1d", (2, 5, 3), "transposed"),
        ("BatchNorm2d", (2, 3, 4, 5), "channels_last"),
        ("BatchNorm3d", (2, 3, 4, 2, 3), "channels_last"),
        ("BatchNorm2d", (2, 3, 4, 5), "row_major"),
    ],
)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_result_layout(device, dtype, name, shape, layout, affine, training):
    """Batch norm's result is channels-last where the input is, else row-major, as PyTorch's kernel allocates
    it: ember's was row-major for a channels-last input in training, and followed a transposed input's strides
    in eval mode ((15, 1, 3) for PyTorch's (15, 5, 1))."""
    array = _rng.standard_normal(shape)
    _check_layout(lambda lib: getattr(lib.nn, name)(3, affine=affine), array, layout, device, dtype, training)


@pytest.mark.parametrize(
    "groups,channels,shape",
    [(3, 6, (4, 6, 2, 3)), (1, 3, (4, 3, 2, 3)), (3, 3, (2, 3, 4, 5)), (2, 6, (2, 6, 4, 5, 2))],
)
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_channels_last_result(device, dtype, groups, channels, shape, affine):
    """A channels-last input's group norm is channels-last, as PyTorch's CPU kernel gives it (ember's was
    row-major where the groups held more than one channel)."""
    array = _rng.standard_normal(shape)
    _check_layout(
        lambda lib: lib.nn.GroupNorm(groups, channels, affine=affine), array, "channels_last", device, dtype, True
    )


@pytest.mark.parametrize("name,shape", [("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm3d", (2, 3, 4, 2, 3))])
@pytest.mark.parametrize("training", [False, True])
def test_instance_norm_running_stats_channels_last_result(device, dtype, name, shape, training):
    """Instance norm with its running statistics (eval mode): PyTorch's batch norm of the input made row-major,
    viewed back, so a row-major result (ember's kept the channels-last layout)."""
    array = _rng.standard_normal(shape)

    def make(lib):
        return getattr(lib.nn, name)(3, affine=True, track_running_stats=True)

    _check_layout(make, array, "channels_last", device, dtype, training)


# -- the node of a channels-last input's result --------------------------------------------------------------


def _cl_pair(array, dtype16=None):
    """The torch and ember forms of ``array`` laid out channels-last (``channels_last_3d`` for 5-D)."""
    out = []
    for lib in (torch, ember):
        t = lib.tensor(array)
        t = t.contiguous(memory_format=lib.channels_last if t.ndim == 4 else lib.channels_last_3d)
        out.append(t if dtype16 is None else t.to(getattr(lib, dtype16)))
    return out


def _check_cl(fn, array, device, dtype, extra=()):
    """``fn(lib, x, *extra)`` of a channels-last ``x`` requiring grad: PyTorch's node, strides and values."""
    t_x, e_x = _cl_pair(array)
    t_x = t_x.to(getattr(torch, dtype.name)).requires_grad_()
    e_x = e_x.to(device=device, dtype=dtype).requires_grad_()
    t_extra = [torch.tensor(a, dtype=getattr(torch, dtype.name)) for a in extra]
    e_extra = [ember.tensor(a, dtype=dtype, device=device) for a in extra]
    t_out, e_out = fn(torch, t_x, *t_extra), fn(ember, e_x, *e_extra)
    assert _node(e_out) == _node(t_out)
    assert e_out.stride() == t_out.stride()
    assert_close(e_out, t_out, dtype)
    t_out.sum().backward()
    e_out.sum().backward()
    assert_close(e_x.grad, t_x.grad, dtype, what="gradient")


@pytest.mark.parametrize("transposed", [False, True])
def test_conv2d_channels_last_node(device, dtype, transposed):
    """A channels-last input's convolution (row-major weight): ConvolutionBackward0 (ember's CloneBackward0, the copy
    into the channels-last layout)."""
    w = _rng.standard_normal((3, 4, 3, 3) if transposed else (4, 3, 3, 3))

    def fn(lib, x, w):
        conv = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
        return conv(x, w)

    _check_cl(fn, _rng.standard_normal((2, 3, 6, 6)), device, dtype, [w])


@pytest.mark.parametrize("nd,output_size", [(2, 1), (2, (1, 1)), (2, 2), (3, 1), (3, 2)])
def test_adaptive_avg_pool_channels_last_node(device, dtype, nd, output_size):
    """Global average pooling of a channels-last input: PyTorch's mean() restrided in place to the input's format,
    AsStridedBackward1 (ember's MeanBackward1; and row-major strides for a 3-D pooling's)."""
    shape = (2, 3, 4, 5) if nd == 2 else (2, 3, 4, 5, 3)
    fn = lambda lib, x: getattr(lib.nn.functional, f"adaptive_avg_pool{nd}d")(x, output_size)  # noqa: E731
    _check_cl(fn, _rng.standard_normal(shape), device, dtype)


@pytest.mark.parametrize("dtype16", ["bfloat16", "float16"])
@pytest.mark.parametrize("output_size", [1, 2])
def test_adaptive_avg_pool_16_bit_node(device, dtype16, output_size):
    """A 16-bit input, summed in float32 and rounded: PyTorch's node, not ToCopyBackward0."""
    _require_dtype(device, dtype16)
    for channels_last in (False, True):
        t_x, e_x = _cl_pair(_rng.standard_normal((2, 3, 4, 5)), dtype16)
        if not channels_last:
            t_x, e_x = t_x.contiguous(), e_x.contiguous()
        t_out = torch.nn.functional.adaptive_avg_pool2d(t_x.requires_grad_(), output_size)
        e_out = ember.nn.functional.adaptive_avg_pool2d(e_x.to(device).requires_grad_(), output_size)
        assert _node(e_out) == _node(t_out)
        assert e_out.stride() == t_out.stride()


@pytest.mark.parametrize("pad", [(1, 1), (1, 1, 2, 0), (-1, 1)])
def test_constant_pad_channels_last_node(device, dtype, pad):
    """ConstantPadNdBackward0 for a channels-last input too (ember's CloneBackward0)."""
    fn = lambda lib, x: lib.nn.functional.pad(x, pad, value=1.5)  # noqa: E731
    _check_cl(fn, _rng.standard_normal((2, 3, 4, 5)), device, dtype)
