"""CTC loss, differential against PyTorch: reductions, zero_infinity, blank, target layouts, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck

TF = torch.nn.functional
_rng = np.random.default_rng(11)


def _case(T=12, N=3, C=6, S=5, blank=0):
    log_probs = torch.randn(T, N, C, dtype=torch.float64, generator=torch.Generator().manual_seed(3)).log_softmax(2)
    labels = [c for c in range(C) if c != blank]
    targets = _rng.choice(labels, size=(N, S))
    return log_probs.numpy(), targets


def _compare(device, dtype, log_probs, e_targets, t_targets, il, tl, **kwargs):
    torch_dtype = getattr(torch, dtype.name)
    t = torch.tensor(log_probs, dtype=torch_dtype, requires_grad=True)
    e = ember.tensor(log_probs, dtype=dtype, device=device, requires_grad=True)
    t_out = TF.ctc_loss(t, t_targets, il, tl, **kwargs)
    e_out = F.ctc_loss(e, e_targets, il, tl, **kwargs)
    assert_close(e_out, t_out, dtype)
    upstream = _rng.standard_normal(tuple(t_out.shape))
    (t_out * torch.tensor(upstream, dtype=torch_dtype)).sum().backward()
    (e_out * ember.tensor(upstream, dtype=dtype, device=device)).sum().backward()
    assert_close(e.grad, t.grad, dtype, what="log_probs grad")


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("layout", ["padded", "concatenated", "tensor_lengths"])
def test_ctc_loss(device, dtype, reduction, zero_infinity, layout):
    log_probs, targets = _case()
    il, tl = [12, 10, 7], [5, 3, 0]
    t_targets = torch.tensor(targets)
    if layout == "concatenated":
        t_targets = torch.cat([t_targets[i, : tl[i]] for i in range(3)])
    e_targets = ember.tensor(t_targets.numpy(), device=device)
    if layout == "tensor_lengths":
        il, tl = torch.tensor(il), torch.tensor(tl)
        e_il, e_tl = ember.tensor(il.numpy(), device=device), ember.tensor(tl.numpy(), device=device)
        torch_dtype = getattr(torch, dtype.name)
        t = torch.tensor(log_probs, dtype=torch_dtype, requires_grad=True)
        e = ember.tensor(log_probs, dtype=dtype, device=device, requires_grad=True)
        t_out = TF.ctc_loss(t, t_targets, il, tl, reduction=reduction, zero_infinity=zero_infinity)
        e_out = F.ctc_loss(e, e_targets, e_il, e_tl, reduction=reduction, zero_infinity=zero_infinity)
        assert_close(e_out, t_out, dtype)
        return
    _compare(device, dtype, log_probs, e_targets, t_targets, il, tl, reduction=reduction, zero_infinity=zero_infinity)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_alignment(device, dtype, zero_infinity):
    log_probs, targets = _case()
    il, tl = [12, 10, 3], [5, 3, 4]  # the third target cannot fit in 3 steps
    kwargs = {"reduction": "none", "zero_infinity": zero_infinity}
    if zero_infinity:
        _compare(
            device, dtype, log_probs, ember.tensor(targets, device=device), torch.tensor(targets), il, tl, **kwargs
        )
    else:
        out = F.ctc_loss(
            ember.tensor(log_probs, dtype=dtype, device=device), ember.tensor(targets, device=device), il, tl, **kwargs
        )
        assert np.isinf(out.cpu().numpy()[2]) and np.isfinite(out.cpu().numpy()[:2]).all()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_impossible_alignment_gradient_is_nan_at_every_class(device, dtype, reduction):
    # PyTorch's gradient exp(lp) - exp(lcab + nll - lp) has -inf + inf for every class of an
    # infinite sample's valid frames (and 0 after its input length), not only for its labels
    log_probs, targets = _case()
    il, tl = [12, 10, 3], [5, 3, 4]
    targets[2, :4] = 3  # repeats need blanks between them: 7 frames, 3 given
    _compare(
        device,
        dtype,
        log_probs,
        ember.tensor(targets, device=device),
        torch.tensor(targets),
        il,
        tl,
        reduction=reduction,
    )


def test_ctc_loss_blank_and_unbatched(device, dtype):
    log_probs, targets = _case(blank=5)
    _compare(
        device,
        dtype,
        log_probs,
        ember.tensor(targets, device=device),
        torch.tensor(targets),
        [12, 11, 9],
        [5, 4, 2],
        blank=5,
    )
    log_probs, targets = _case()  # blank 0, never a target label
    _compare(
        device, dtype, log_probs[:, 0], ember.tensor(targets[0], device=device), torch.tensor(targets[0]), (12,), (5,)
    )


def test_ctc_module(device):
    log_probs, targets = _case()
    e = nn.CTCLoss(reduction="sum", zero_infinity=True)(
        ember.tensor(log_probs, device=device), ember.tensor(targets, device=device), (12, 12, 12), (5, 5, 5)
    )
    t = torch.nn.CTCLoss(reduction="sum", zero_infinity=True)(
        torch.tensor(log_probs), torch.tensor(targets), (12, 12, 12), (5, 5, 5)
    )
    assert_close(e, t)


def test_ctc_gradcheck_through_log_softmax(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = ember.tensor(_rng.standard_normal((6, 2, 4)), device=device, requires_grad=True)
    targets = ember.tensor([[1, 2], [3, 3]], device=device)
    assert gradcheck(lambda x: F.ctc_loss(x.log_softmax(2), targets, (6, 5), (2, 2)), (x,))


def test_ctc_errors():
    log_probs = ember.randn(5, 2, 4).log_softmax(2)
    targets = ember.tensor([[1, 2], [3, 1]])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(log_probs, targets, (5, 5), (2, 2), reduction="avg")
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(log_probs, targets, (5, 5), (2, 2), blank=4)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(log_probs, targets, (6, 5), (2, 2))
    with pytest.raises(RuntimeError, match="batch size"):
        F.ctc_loss(log_probs, targets, (5,), (2, 2))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_empty_inputs_match_torch(device, dtype, reduction, zero_infinity):
    # an input of length 0 (audio shorter than the feature extractor's receptive field):
    # loss -0.0 against an empty target, inf against any other, no gradient
    log_probs, targets = _case()
    il, tl = [0, 0, 9], [0, 2, 3]
    kwargs = {"reduction": reduction, "zero_infinity": zero_infinity}
    _compare(device, dtype, log_probs, ember.tensor(targets, device=device), torch.tensor(targets), il, tl, **kwargs)


@pytest.mark.parametrize("lengths", [[13, 12, 12], [-1, 12, 12]])
def test_ctc_loss_input_length_out_of_range_is_torchs_error(lengths):
    log_probs, targets = _case()
    with pytest.raises(RuntimeError) as theirs:
        TF.ctc_loss(torch.tensor(log_probs), torch.tensor(targets), lengths, [5, 5, 5])
    with pytest.raises(RuntimeError) as ours:
        F.ctc_loss(ember.tensor(log_probs), ember.tensor(targets), lengths, [5, 5, 5])
    assert str(ours.value) == str(theirs.value)


def _ctc_inputs(lib, device=None):
    place = {} if lib is torch else {"device": device}
    rng = np.random.default_rng(3)
    log_probs = lib.tensor(rng.standard_normal((5, 2, 4)), dtype=lib.float64, **place).log_softmax(2)
    return log_probs.detach(), lib.tensor([[1, 2], [3, 1]], **place), [5, 5], [2, 2]


def test_ctc_loss_higher_derivative_refused_as_torch(device):
    """PyTorch has no derivative of ctc_loss's backward: a gradient taken with create_graph=True may not
    be differentiated again (not silently treated as a constant)."""
    for lib in (torch, ember):
        log_probs, targets, lengths, target_lengths = _ctc_inputs(lib, device)
        log_probs.requires_grad_()
        loss = lib.nn.functional.ctc_loss(log_probs, targets, lengths, target_lengths)
        (grad,) = lib.autograd.grad(loss, log_probs, create_graph=True)
        assert grad.requires_grad
        penalty = (grad * grad).sum() + loss
        with pytest.raises(RuntimeError, match="derivative for .*ctc_loss_backward is not implemented"):
            penalty.backward()


def test_ctc_loss_forward_mode_refused_as_torch(device):
    """A dual log_probs is refused (the double-backward rule would give a zero tangent)."""
    for lib in (torch, ember):
        log_probs, targets, lengths, target_lengths = _ctc_inputs(lib, device)
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(log_probs, lib.ones_like(log_probs))
            with pytest.raises(NotImplementedError, match="forward AD with _?ctc_loss"):
                lib.nn.functional.ctc_loss(dual, targets, lengths, target_lengths)
