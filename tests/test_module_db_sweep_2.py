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
