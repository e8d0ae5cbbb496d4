"""``inference_mode`` against PyTorch: the state it reports, nesting with ``inference_mode(False)``
and ``no_grad``, and the decorator form."""

from __future__ import annotations

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
