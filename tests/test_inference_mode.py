"""``inference_mode`` against PyTorch: the state it reports, nesting with ``inference_mode(False)``
and ``no_grad``, and the decorator form."""

from __future__ import annotations

import pytest
from reference import torch

import ember


def _trace(m):
    seen = [(m.is_inference_mode_enabled(), m.is_grad_enabled())]
    with m.inference_mode():
        seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
        with m.inference_mode(False):
            seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
        seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
    with m.no_grad(), m.inference_mode(False):
        seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))

    @m.inference_mode()
    def inside():
        return m.is_inference_mode_enabled(), m.is_grad_enabled()

    @m.inference_mode(False)
    def outside():
        return m.is_inference_mode_enabled(), m.is_grad_enabled()

    seen.append(inside())
    with m.inference_mode():
        seen.append(outside())
    seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
    return seen


def test_inference_mode_state_as_torch():
    assert _trace(ember) == _trace(torch)


def test_inference_mode_records_no_graph():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None


def _outcome(fn):
    """``("ok", value)`` or ``("error", type, first words of the message)``."""
    try:
        return "ok", fn()
    except RuntimeError as error:
        return "error", type(error).__name__, str(error)[:40]


def _inplace_outcomes(m):
    """In-place updates of an inference tensor (and a view of it) outside inference mode: each raises
    after the write, as in PyTorch; inside inference mode they go through."""
    with m.inference_mode():
        x = m.ones(3)
    outcomes = []

    def attempt(update):
        outcomes.append(_outcome(update))
        outcomes.append(x.tolist())

    attempt(lambda: x.add_(1))
    attempt(lambda: x.__setitem__(0, 5.0))
    attempt(lambda: x.view(3)[1:].mul_(2))
    with m.no_grad():
        attempt(lambda: x.mul_(2))
    with m.inference_mode(False):
        attempt(lambda: x.sub_(1))
    with m.inference_mode():
        attempt(lambda: x.zero_().tolist())
    outcomes.append(x.view(3).is_inference())
    return outcomes


def test_inplace_update_of_an_inference_tensor_outside_inference_mode_raises_as_torch():
    assert _inplace_outcomes(ember) == _inplace_outcomes(torch)


def _saving_outcomes(m):
    """Recorded ops that would save an inference tensor for backward raise; ops that save none run."""
    with m.inference_mode():
        x = m.tensor([1.0, 2.0])
    w = m.tensor([0.5, -1.0], requires_grad=True)
    return [
        _outcome(lambda: (x + w).sum().tolist()),
        _outcome(lambda: (x * w).sum().tolist()),
        _outcome(lambda: m.nn.functional.linear(x, w.view(1, 2)).tolist()),
        _outcome(lambda: (x.clone() * w).sum().tolist()),
        _outcome(lambda: (x * w.detach()).sum().tolist()),
    ]


def test_saving_an_inference_tensor_for_backward_raises_as_torch():
    assert _saving_outcomes(ember) == _saving_outcomes(torch)


def test_grad_modes_decorate_without_the_call_as_torch():
    # ``@torch.no_grad`` / ``@torch.inference_mode`` with no parentheses, on a method as programs write them
    def probe(m):
        class Evaluator:
            @m.no_grad
            def plain(self, x):
                return (x * 2).requires_grad, m.is_inference_mode_enabled()

            @m.inference_mode
            def inference(self, x):
                return (x * 2).requires_grad, m.is_inference_mode_enabled()

            @m.enable_grad
            def recording(self, x):
                return (x * 2).requires_grad, m.is_inference_mode_enabled()

        ev, x = Evaluator(), m.ones(2, requires_grad=True)
        with m.no_grad():
            inner = ev.recording(x)
        names = [f.__name__ for f in (Evaluator.plain, Evaluator.inference, Evaluator.recording)]
        kinds = [type(c()).__name__ for c in (m.no_grad, m.enable_grad, m.inference_mode)]
        return ev.plain(x), ev.inference(x), inner, names, kinds, m.is_grad_enabled()

    assert probe(ember) == probe(torch)


def test_an_inference_tensor_has_no_version_to_read():
    # ember read 0 from an inference tensor's _version; PyTorch refuses to
    for lib in (ember, torch):
        with lib.inference_mode():
            made = lib.ones(2)
        with pytest.raises(RuntimeError, match="^Inference tensors do not track version counter.$"):
            _ = made._version
        with pytest.raises(RuntimeError, match="^Inference tensors do not track version counter.$"):
            _ = made[:1]._version
        assert lib.ones(2)._version == 0
