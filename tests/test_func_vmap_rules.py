"""ember.vmap over a custom autograd.Function against torch.vmap: its ``vmap`` staticmethod is called on
the batched inputs (with their in_dims, the batch size and randomness), ``generate_vmap_rule=True`` maps
``forward``, gradients flow through the rule, and PyTorch's errors for Functions without a rule, with
both, of the old style, and for rules returning the wrong things."""

from __future__ import annotations

import pytest
from reference import randn, reseed
from test_func_transforms import both, same_error

import ember

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _inputs():
    reseed(13)


def _functions(lib):
    """Functions with and without vmap rules, their rules' calls recorded in ``calls``."""
    calls = []

    class NoRule(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Generated(NoRule):
        generate_vmap_rule = True

    class Scale(NoRule):  # a rule that differs from forward, to tell which one ran
        @staticmethod
        def vmap(info, in_dims, x):
            calls.append((info.batch_size, info.randomness, in_dims, tuple(x.shape)))
            return x * 3, in_dims[0]

    class Both(Scale):
        generate_vmap_rule = True

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

        @staticmethod
        def vmap(info, in_dims, x, y):
            calls.append((info.batch_size, in_dims, tuple(x.shape), tuple(y.shape)))
            x = x.movedim(in_dims[0], -1) if in_dims[0] is not None else x.unsqueeze(-1)
            y = y.movedim(in_dims[1], -1) if in_dims[1] is not None else y.unsqueeze(-1)
            return (x * y + 100, x - y), (-1, -1)

    class OldStyle(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    def returning(result):
        class Returns(NoRule):
            @staticmethod
            def vmap(info, in_dims, x):
                return result(x)

        return Returns

    return {
        "NoRule": NoRule,
        "Generated": Generated,
        "Scale": Scale,
        "Both": Both,
        "Mul": Mul,
        "OldStyle": OldStyle,
        "returning": returning,
        "calls": calls,
    }


CASES = {
    "rule": lambda lib, F, x, y: lib.vmap(F["Scale"].apply)(x),
    "rule_in_dim1": lambda lib, F, x, y: lib.vmap(F["Scale"].apply, in_dims=1)(x),
    "rule_out_dim1": lambda lib, F, x, y: lib.vmap(F["Scale"].apply, out_dims=1)(x),
    "rule_unbatched_input": lambda lib, F, x, y: lib.vmap(lambda a: F["Scale"].apply(y) + a)(x.T),
    "two_inputs": lambda lib, F, x, y: lib.vmap(F["Mul"].apply, in_dims=(1, None))(x, y),
    "nested": lambda lib, F, x, y: lib.vmap(lib.vmap(F["Scale"].apply))(x),
    "generated": lambda lib, F, x, y: lib.vmap(F["Generated"].apply)(x),
    "in_grad": lambda lib, F, x, y: lib.func.grad(lambda a: lib.vmap(F["Scale"].apply)(a).sum())(x),
    "grad_in_vmap": lambda lib, F, x, y: lib.vmap(lib.func.grad(lambda a: F["Scale"].apply(a).sum()))(x),
}


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_of_function(device, dtype, name):
    found = {}

    def case(lib, fn, x, y):
        functions = _functions(lib)
        out = CASES[name](lib, functions, x, y)
        found[lib.__name__] = functions["calls"]
        return out

    both(case, [randn(4, 3), randn(4)], device, dtype)
    if name != "grad_in_vmap":  # grad's inputs are its own leaves: ember runs forward per entry, same values
        assert [c[:2] for c in found["ember"]][:1] == [c[:2] for c in found["torch"]][:1]


def test_gradient_flows_through_the_rule(device, dtype):
    """The rule's ops are what autograd records (torch: the gradient of ``x * 3``, not backward's ``2``)."""

    def case(lib, fn, x):
        out = lib.vmap(_functions(lib)["Scale"].apply, in_dims=1)(x)
        (out * out).sum().backward()
        return out, x.grad

    both(case, [randn(2, 3)], device, dtype, requires_grad=True)


def test_rule_runs_once_per_batch():
    functions = _functions(ember)
    ember.vmap(lambda a: functions["Scale"].apply(a) + 1)(ember.ones(5, 2))
    assert functions["calls"] == [(5, "error", (0,), (5, 2))]


def _errors(lib):
    functions = _functions(lib)
    returning = functions["returning"]
    x = lib.ones(2, 3)
    return {
        "no_rule": lambda: lib.vmap(functions["NoRule"].apply)(x),
        "no_rule_unbatched_input": lambda: lib.vmap(lambda a: functions["NoRule"].apply(lib.ones(3)) + a)(x),
        "both": lambda: lib.vmap(functions["Both"].apply)(x),
        "old_style": lambda: lib.vmap(functions["OldStyle"].apply)(x),
        "returns_tensor": lambda: lib.vmap(returning(lambda a: a).apply)(x),
        "returns_three": lambda: lib.vmap(returning(lambda a: (a, 0, 0)).apply)(x),
        "out_dims_structure": lambda: lib.vmap(returning(lambda a: (a, (0, 0))).apply)(x),
    }


@pytest.mark.parametrize("name", list(_errors(torch)))
def test_errors_as_torch(name):
    same_error(name, _errors(ember)[name], _errors(torch)[name])


def test_rule_sees_forwards_defaults():
    """The rule is called with every argument of forward, defaults bound (torch's in_dims has one per argument)."""
    seen = {}
    for lib in (ember, torch):

        class Scaled(lib.autograd.Function):
            @staticmethod
            def forward(x, k, shift=1.0):
                return x * k + shift

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, grad):
                return grad, None, None

            @staticmethod
            def vmap(info, in_dims, x, k, shift=None, lib=lib):
                seen[lib.__name__] = (in_dims, shift)
                return x * k + shift, in_dims[0]

        lib.vmap(lambda a: Scaled.apply(a, 2.0))(lib.ones(2, 3))
    assert seen["ember"] == seen["torch"] == ((0, None, None), 1.0)
