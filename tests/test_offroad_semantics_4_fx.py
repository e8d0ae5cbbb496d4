"""Off the main road, differential against PyTorch: how ``fx.symbolic_trace`` records a call of a functional that
PyTorch writes in Python (``F.leaky_relu(x, 0.2)``): the required arguments positional, every other one by
keyword with its default filled in, so that a pattern written with keywords matches a call made positionally."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# name -> f(F, x) on a (4, 4) tensor
CALLS = {
    "leaky_relu positional": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu keyword": lambda F, x: F.leaky_relu(x, negative_slope=0.2),
    "leaky_relu default": lambda F, x: F.leaky_relu(x),
    "elu positional": lambda F, x: F.elu(x, 0.5),
    "celu positional": lambda F, x: F.celu(x, 0.7),
    "selu positional": lambda F, x: F.selu(x, False),
    "relu": lambda F, x: F.relu(x),
    "relu6 positional": lambda F, x: F.relu6(x, False),
    "hardtanh positional": lambda F, x: F.hardtanh(x, -0.5, 0.5),
    "softmax positional": lambda F, x: F.softmax(x, 1),
    "log_softmax positional": lambda F, x: F.log_softmax(x, -1),
    "softmin positional": lambda F, x: F.softmin(x, 0),
    "dropout positional": lambda F, x: F.dropout(x, 0.5, False),
    "normalize positional": lambda F, x: F.normalize(x, 1.0, 0),
    "pad positional": lambda F, x: F.pad(x, (1, 1), "constant", 2.0),
    "glu positional": lambda F, x: F.glu(x, 0),
    "layer_norm positional": lambda F, x: F.layer_norm(x, (4,), None, None, 1e-3),
    "mse_loss positional": lambda F, x: F.mse_loss(x, x * 2, None, None, "sum"),
    "silu positional": lambda F, x: F.silu(x, False),
    "mish positional": lambda F, x: F.mish(x, False),
    "hardswish positional": lambda F, x: F.hardswish(x, False),
    "threshold positional": lambda F, x: F.threshold(x, 0.1, 20.0),
    "gelu (built-in in PyTorch: as called)": lambda F, x: F.gelu(x, approximate="tanh"),
    "softplus (built-in in PyTorch: as called)": lambda F, x: F.softplus(x, 2.0, 10.0),
    "linear (built-in in PyTorch: as called)": lambda F, x: F.linear(x, x, None),
}


def _trace(lib, call):
    F = lib.nn.functional

    class M(lib.nn.Module):
        def forward(self, x):
            return call(F, x)

    return lib.fx.symbolic_trace(M())


def _records(gm):
    """``(number of positional arguments, {keyword: value})`` of each function call, the values that are not
    graph nodes only."""
    return [
        (len(n.args), {k: v for k, v in n.kwargs.items()})
        for n in gm.graph.nodes
        if n.op == "call_function" and "mul" not in getattr(n.target, "__name__", "")
    ]


@pytest.mark.parametrize("case", sorted(CALLS))
def test_functional_calls_are_recorded_as_pytorchs(case):
    expected = _trace(torch, CALLS[case])
    got = _trace(ember, CALLS[case])
    assert _records(got) == _records(expected)
    x = np.linspace(-2.0, 2.0, 16).reshape(4, 4)
    np.testing.assert_allclose(got(ember.tensor(x)).numpy(), expected(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_generated_code_is_pytorchs():
    def program(F, x):
        return F.leaky_relu(x, 0.2) + F.softmax(x, 1)

    expected = _trace(torch, program).code.replace("torch.", "ember.")
    assert _trace(ember, program).code == expected


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_a_keyword_pattern_matches_a_positional_call(lib):
    """``replace_pattern`` finds ``F.leaky_relu(x, negative_slope=0.2)`` in a module that called it positionally."""
    F = lib.nn.functional

    class M(lib.nn.Module):
        def forward(self, x):
            return F.leaky_relu(x, 0.2) * 2

    def pattern(x):
        return F.leaky_relu(x, negative_slope=0.2)

    def replacement(x):
        return F.relu(x)

    gm = lib.fx.symbolic_trace(M())
    matches = lib.fx.subgraph_rewriter.replace_pattern(gm, pattern, replacement)
    assert len(matches) == 1
    assert [n.target.__name__ for n in gm.graph.nodes if n.op == "call_function"][0] == "relu"
    x = lib.tensor([-1.0, 2.0])
    assert gm(x).tolist() == [0.0, 4.0]


def test_functional_calls_are_recorded_as_pytorchs_with_the_subclass_checks_on():
    """Once a Tensor subclass exists, ember's public functions are checking wrappers (ember.overrides): the calls
    through them are recorded as PyTorch's all the same."""

    class Marked(ember.Tensor):
        pass

    assert Marked is not None and ember.overrides._enabled
    for case in ("leaky_relu positional", "softmax positional", "layer_norm positional", "relu"):
        assert _records(_trace(ember, CALLS[case])) == _records(_trace(torch, CALLS[case])), case
