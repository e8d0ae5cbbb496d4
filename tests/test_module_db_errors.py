"""PyTorch's module error database (``module_db``'s ``module_error_inputs_func``) run on ember.

Each ``ModuleErrorInput`` says which constructor or forward call must fail, with which exception type
and a regex of the message. Both libraries run the case (torch too, so that a case PyTorch itself
accepts, as BatchNorm's negative ``eps`` in eval mode, is checked as accepted): ember must fail at the
same moment (construction or forward) with the same type, and its message must match the database's
regex (``torch.`` read as ``ember.``) where PyTorch's matches it, else contain PyTorch's message.

The smaller tests below pin the fixes these cases led to, each against PyTorch.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import assert_close, torch
from test_module_specs import _convert

import ember
from ember import nn

common_modules = pytest.importorskip("torch.testing._internal.common_modules", reason="needs expecttest")
ModuleErrorEnum = common_modules.ModuleErrorEnum

# (a regex of the database's, LinearCrossEntropyLoss's "[...]" class, draws Python's FutureWarning)
pytestmark = pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")


def _error_cases():
    out = []
    for info in common_modules.module_db:
        name = info.module_cls.__name__
        if info.module_error_inputs_func is None or not hasattr(nn, name):
            continue
        for training in (True, False):
            errors = info.module_error_inputs_func(
                info, device="cpu", dtype=torch.float32, requires_grad=False, training=training
            )
            out += [
                pytest.param(info, training, i, id=f"{name}-{'train' if training else 'eval'}-{i}")
                for i in range(len(errors))
            ]
    return out


def _outcome(build, training, forward_input):
    """(stage, exception): the stage ("construction" or "forward") that raised, or (None, None)."""
    try:
        module = build()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return "construction", exc
    try:
        module.train(training)
        module(*forward_input[0], **forward_input[1])
    except Exception as exc:  # noqa: BLE001
        return "forward", exc
    return None, None


@pytest.mark.parametrize("info,training,index", _error_cases())
def test_module_error_input(device, info, training, index):
    name = info.module_cls.__name__
    error = info.module_error_inputs_func(
        info, device="cpu", dtype=torch.float32, requires_grad=False, training=training
    )[index]
    ctor, fwd = error.module_error_input.constructor_input, error.module_error_input.forward_input
    fwd_args = (fwd.args, fwd.kwargs) if fwd is not None else ((), {})
    t_stage, t_exc = _outcome(lambda: info.module_cls(*ctor.args, **ctor.kwargs), training, fwd_args)
    e_stage, e_exc = _outcome(
        lambda: getattr(nn, name)(*_convert(ctor.args), **_convert(ctor.kwargs)).to(device),
        training,
        (_convert(fwd_args[0], device), _convert(fwd_args[1], device)),
    )
    expected_stage = "construction" if error.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR else "forward"
    assert e_stage == t_stage, f"{name}: ember raised at {e_stage} ({e_exc!r}), PyTorch at {t_stage} ({t_exc!r})"
    if t_exc is None:
        return
    assert t_stage == expected_stage
    assert type(e_exc) is type(t_exc), f"{name}: ember raised {e_exc!r}, PyTorch {t_exc!r}"
    message, t_message = str(e_exc), str(t_exc).replace("torch.", "ember.")
    regex = error.error_regex.replace("torch.", "ember.")
    if re.search(regex, t_message):
        assert re.search(regex, message), f"{name}: {message!r} does not match {regex!r}"
    else:
        assert t_message in message, f"{name}: {message!r} does not contain PyTorch's {t_message!r}"


# -- the fixes, each against PyTorch --------------------------------------------------------------


@pytest.mark.parametrize(
    "input_shape,target_shape",
    [((2, 3, 5), (2, 4)), ((2, 3, 5), (2, 5, 1)), ((2, 3, 5, 6, 7), (2, 5, 6, 6)), ((2, 3, 5, 6), (2, 5))],
)
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_class_index_target_size_errors(device, loss, input_shape, target_shape):
    """A K-dimensional class-index target of the wrong size: PyTorch's "Expected target size [N, d1, ...]"
    (ember said "size mismatch" for every rank), and nll_loss2d's own words for a 4-D input."""
    x = np.random.default_rng(0).standard_normal(input_shape)
    target = np.zeros(target_shape, dtype=np.int64)
    with pytest.raises(RuntimeError) as t_err:
        getattr(torch.nn.functional, loss)(torch.tensor(x), torch.tensor(target))
    with pytest.raises(RuntimeError, match=re.escape(str(t_err.value))):
        getattr(ember.nn.functional, loss)(ember.tensor(x, device=device), ember.tensor(target, device=device))


@pytest.mark.parametrize("input_shape,target_shape", [((5, 10), (3,)), ((10,), (2,)), ((5, 10), (5, 1)), ((5, 10), ())])
def test_multi_margin_loss_target_size_error(device, input_shape, target_shape):
    x = np.random.default_rng(0).standard_normal(input_shape)
    target = np.zeros(target_shape, dtype=np.int64)
    with pytest.raises(RuntimeError) as t_err:
        torch.nn.MultiMarginLoss()(torch.tensor(x), torch.tensor(target))
    with pytest.raises(RuntimeError, match=re.escape(str(t_err.value))):
        nn.MultiMarginLoss()(ember.tensor(x, device=device), ember.tensor(target, device=device))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("input_shape,target_shape", [((1, 10), ()), ((10,), ()), ((10,), (1,)), ((1, 10), (1,))])
def test_multi_margin_loss_one_sample(device, dtype, input_shape, target_shape, reduction):
    """One sample with a 0-d target, batched or not: PyTorch takes it and shapes the unreduced loss as the
    target (ember refused a (1, C) input with a 0-d target)."""
    x = np.random.default_rng(0).standard_normal(input_shape)
    target = np.full(target_shape, 3, dtype=np.int64)
    t_x = torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True)
    e_x = ember.tensor(x, dtype=dtype, device=device, requires_grad=True)
    t_out = torch.nn.functional.multi_margin_loss(t_x, torch.tensor(target), reduction=reduction)
    e_out = ember.nn.functional.multi_margin_loss(e_x, ember.tensor(target, device=device), reduction=reduction)
    assert_close(e_out, t_out, dtype)
    t_out.sum().backward()
    e_out.sum().backward()
    assert_close(e_x.grad, t_x.grad, dtype)


@pytest.mark.parametrize(
    "pool,shape",
    [
        ("max_pool2d", (3, 4)),
        ("max_pool2d", (1, 2, 3, 4, 5)),
        ("max_pool2d", (2, 0, 4, 4)),
        ("max_pool3d", (3, 4)),
        ("max_pool3d", (1, 2, 3, 4, 5, 6)),
        ("avg_pool3d", (3, 4)),
        ("max_pool1d", (3, 4, 5, 6)),
        ("max_pool1d", (4,)),
    ],
)
def test_pooling_rank_error_words(device, pool, shape):
    """PyTorch's "non-empty 3D or 4D (batch mode) tensor expected for input" (and, for an empty
    non-batch dim, "... with optional 0 dim batch size"), with the op and the shape named."""
    x = np.zeros(shape)
    with pytest.raises(Exception) as t_err:
        getattr(torch.nn.functional, pool)(torch.tensor(x), 2)
    with pytest.raises(RuntimeError) as e_err:
        getattr(ember.nn.functional, pool)(ember.tensor(x, device=device), 2)
    message = str(e_err.value)
    if isinstance(t_err.value, RuntimeError):  # (PyTorch's avg_pool2d gives an IndexError for 2-D input)
        assert str(t_err.value).replace("got:[", "got: [") in message
    assert pool in message and str(list(shape)) in message


def test_huber_loss_delta_type():
    for delta in (1 + 2j, "1", ember.tensor(1.0)):
        with pytest.raises(TypeError) as t_err:
            torch.nn.HuberLoss(delta=torch.tensor(1.0) if isinstance(delta, ember.Tensor) else delta)
        with pytest.raises(TypeError, match=r"HuberLoss: delta must be a float or int, got: <class '"):
            nn.HuberLoss(delta=delta)
        assert "delta must be a float or int" in str(t_err.value)
    for delta in (True, 2, 0.5, np.float64(0.5)):
        assert nn.HuberLoss(delta=delta).delta == torch.nn.HuberLoss(delta=delta).delta


def test_group_norm_divisibility_message():
    with pytest.raises(ValueError, match=r"num_channels \(10\) must be divisible by num_groups \(3\)"):
        torch.nn.GroupNorm(3, 10)
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(10\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 10)
