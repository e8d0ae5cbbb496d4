"""Arguments PyTorch's kernels have no derivative for (a loss's class weights, the soft margin
loss's target, batch norm's running statistics): with grad mode on, one that requires grad is
refused with PyTorch's RuntimeError, where ember computed (and could hand out) a gradient."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _cases(lib, device):
    F = lib.nn.functional
    kw = {} if lib is torch else {"device": device}
    x = lib.rand(3, 4, **kw).requires_grad_()
    t = lib.tensor([0, 1, 2], **kw)
    w = lib.rand(4, **kw).requires_grad_()
    y = lib.rand(3, 4, **kw).requires_grad_()
    stat = lambda: lib.rand(4, **kw)  # noqa: E731
    return {
        "nll_loss weight": lambda: F.nll_loss(x, t, weight=w),
        "cross_entropy weight": lambda: F.cross_entropy(x, t, weight=w),
        "cross_entropy weight, label smoothing": lambda: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
        "multi_margin_loss weight": lambda: F.multi_margin_loss(x, t, weight=w),
        "soft_margin_loss target": lambda: F.soft_margin_loss(x, y),
        "binary_cross_entropy weight": lambda: F.binary_cross_entropy(x, x.detach(), weight=y),
        "binary_cross_entropy_with_logits weight": lambda: F.binary_cross_entropy_with_logits(x, x.detach(), weight=y),
        "binary_cross_entropy_with_logits pos_weight": lambda: F.binary_cross_entropy_with_logits(
            x, x.detach(), pos_weight=w
        ),
        "batch_norm running_mean": lambda: F.batch_norm(
            lib.rand(2, 4, **kw), stat().requires_grad_(), stat(), training=True
        ),
        "batch_norm running_var, eval": lambda: F.batch_norm(lib.rand(2, 4, **kw), stat(), stat().requires_grad_()),
        "instance_norm running_mean": lambda: F.instance_norm(
            lib.rand(2, 4, 3, **kw), stat().requires_grad_(), stat(), use_input_stats=True
        ),
        # where PyTorch takes a gradient-requiring argument, ember must too
        "cross_entropy probabilities, weight": lambda: F.cross_entropy(x, x.detach().softmax(1), weight=w),
        "nll_loss weight without grad mode": lambda: lib.no_grad()(lambda: F.nll_loss(x, t, weight=w))(),
    }


@pytest.mark.parametrize("case", list(_cases(torch, None)))
def test_refused_gradient_arguments_as_torch(device, case):
    try:
        _cases(torch, None)[case]()
    except RuntimeError as exc:
        with pytest.raises(RuntimeError) as caught:
            _cases(ember, device)[case]()
        assert str(caught.value) == str(exc)
    else:
        _cases(ember, device)[case]()
