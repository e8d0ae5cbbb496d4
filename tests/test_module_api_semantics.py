"""nn.Module API off the main road (hooks, state dicts, attributes, moves, containers), run side by side with torch."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(fn, lib):
    """What ``fn(lib)`` returns, or the type of the exception it raises."""
    try:
        return fn(lib)
    except Exception as error:  # the outcome compared is the exception's type
        return type(error)


def _same(fn):
    """``fn`` gives the same outcome on ember and on torch; returns ember's."""
    ours, theirs = _outcome(fn, ember), _outcome(fn, torch)
    assert ours == theirs, (ours, theirs)
    return ours


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


# -- full backward hooks ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_full_backward_hook_grad_input_holds_zeros_for_inputs_without_gradient(dtype):
    def run(lib):
        class TwoInputs(lib.nn.Module):
            def forward(self, a, b, c, unused):
                return a * 2, b + 1, a.detach()

        seen = []
        module = TwoInputs()
        module.register_full_backward_hook(lambda m, gi, go: seen.append((_lists(gi), _lists(go))))
        a = lib.ones(2, dtype=getattr(lib, dtype), requires_grad=True)
        unused = lib.ones(3, dtype=getattr(lib, dtype), requires_grad=True)
        x, _, _ = module(a, lib.ones(2, dtype=getattr(lib, dtype)), 3, unused)
        x.sum().backward()
        return seen, unused.grad.tolist(), a.grad.tolist()

    assert _same(run) == (
        [([[2.0, 2.0], [0.0, 0.0], None, [0.0, 0.0, 0.0]], [[1.0, 1.0], None, None])],
        [0.0, 0.0, 0.0],
        [2.0, 2.0],
    )


@pytest.mark.parametrize(
    "body",
    [
        lambda x: x.relu_(),  # the module's input, written in place inside forward
        lambda x: x.mul_(2),
    ],
)
def test_full_backward_hook_refuses_in_place_writes_into_the_hooked_tensors(body):
    def run(lib):
        class InPlace(lib.nn.Module):
            def forward(self, x):
                return body(x)

        module = InPlace()
        module.register_full_backward_hook(lambda *args: None)
        return module(lib.ones(2, requires_grad=True) * 1)

    assert _same(run) is RuntimeError
    with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being modified inplace"):
        run(ember)


def test_full_backward_hook_refuses_in_place_writes_into_the_output():
    def run(lib):
        module = lib.nn.Linear(2, 2)
        module.register_full_backward_hook(lambda *args: None)
        y = module(lib.ones(2, requires_grad=True))
        y.add_(1)

    assert _same(run) is RuntimeError


def test_full_backward_hook_function_is_named_and_viewed_as_torch():
    def run(lib):
        class Keep(lib.nn.Module):
            def forward(self, a):
                self.seen = a
                return a * 2

        module = Keep()
        module.register_full_backward_hook(lambda *args: None)
        x = lib.ones(2, requires_grad=True)
        y = module(x)
        return y.grad_fn.name(), module.seen._base is x, module.seen is x, y._base is not None

    assert _same(run) == ("BackwardHookFunctionBackward", True, False, True)


def test_full_backward_hook_result_read_as_a_sequence():
    """A hook returning a tensor instead of a tuple: torch reads it as a sequence (by its first dimension)."""

    def run(lib, batch):
        module = lib.nn.Linear(2, 2)
        module.register_full_backward_hook(lambda m, gi, go: gi[0] * 0)
        x = lib.ones(batch, 2, requires_grad=True)
        module(x).sum().backward()

    assert _same(lambda lib: run(lib, 1)) is RuntimeError  # a row where the whole gradient was expected
    assert _same(lambda lib: run(lib, 2)) is RuntimeError  # two "gradients" for one input
