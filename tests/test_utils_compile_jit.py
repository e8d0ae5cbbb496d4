"""ember.compile, ember.compiler and ember.jit: what they return behaves exactly as the eager
module/function (the outputs and gradients of torch's compiled/scripted counterparts), and the
argument errors are torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")

_X = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)


def _model(device):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).to(device)
    ember.manual_seed(0)
    return model


@pytest.mark.parametrize(
    "kwargs", [{}, {"mode": "max-autotune"}, {"fullgraph": True, "dynamic": True}, {"options": {}}]
)
def test_compile_returns_the_model_itself(device, kwargs):
    model = _model(device)
    compiled = ember.compile(model, **kwargs)
    assert compiled is model
    x = ember.tensor(_X, device=device, requires_grad=True)
    y = compiled(x)
    np.testing.assert_allclose(y.detach().cpu().numpy(), model(x).detach().cpu().numpy())
    y.sum().backward()
    assert x.grad is not None and list(compiled.state_dict()) == list(model.state_dict())


def test_compile_as_decorator_and_on_functions():
    def f(x):
        return x.sin() * 2

    assert ember.compile(f) is f
    decorated = ember.compile(mode="reduce-overhead")(f)
    assert decorated is f
    torch_f = torch.compile(backend="eager")(lambda x: x.sin() * 2)
    np.testing.assert_allclose(decorated(ember.tensor(_X)).numpy(), torch_f(torch.tensor(_X)).numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.compile(lambda x: x, mode="default", options={"a": 1}),
        lambda lib: lib.compile()(None),
    ],
)
def test_compile_errors_match_torch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(ember)
    assert str(got.value) == str(expected.value)


def test_compiler_namespace():
    assert ember.compiler.is_compiling() is torch.compiler.is_compiling() is False
    assert ember.compiler.is_dynamo_compiling() is False

    @ember.compiler.disable
    def f(x):
        return x + 1

    @ember.compiler.disable(recursive=False)
    def g(x):
        return x * 2

    assert f(1) == 2 and g(2) == 4


def test_jit_script_and_trace_keep_eager_results():
    model = _model("cpu")
    x = ember.tensor(_X)
    assert ember.jit.script(model) is model
    assert ember.jit.trace(model, x) is model
    assert ember.jit.trace(model, example_inputs=(x,)) is model
    fn = ember.jit.script(lambda t: t.relu())
    np.testing.assert_array_equal(fn(x).numpy(), np.maximum(_X, 0))
    with pytest.raises(RuntimeError, match="example_kwarg_inputs or example_inputs must be provided"):
        ember.jit.trace(model)
    with pytest.raises(Exception):  # noqa: B017 - the example run fails as the trace's would
        ember.jit.trace(model, ember.zeros(2, 7))


class _Block(nn.Module):
    """Model code written for TorchScript, as found in the wild."""

    scale: ember.jit.Final[float]

    def __init__(self):
        super().__init__()
        self.scale = 2.0
        self.lin = nn.Linear(3, 3)

    @ember.jit.export
    def extra(self, x):
        return x * self.scale

    @ember.jit.ignore
    def debug(self, x):
        return x.sum()

    @ember.jit.ignore(drop=True)
    def dropped(self, x):
        return x

    @ember.jit.unused
    def unused(self, x):
        return x

    def forward(self, x: ember.jit.annotations.Optional[ember.Tensor]):
        if ember.jit.is_scripting() or ember.jit.is_tracing():
            raise AssertionError("ember code always runs eagerly")
        out = ember.jit.annotate(ember.jit.annotations.List[ember.Tensor], [])
        out.append(self.extra(self.lin(x)))
        return out[0]


def test_decorators_leave_model_code_eager():
    block = ember.jit.script(_Block())
    x = ember.tensor(_X)
    np.testing.assert_allclose(block(x).detach().numpy(), (block.lin(x) * 2).detach().numpy())
    assert float(block.debug(x)) == pytest.approx(float(_X.sum()), rel=1e-5)
    assert block.dropped(1) == block.unused(1) == 1
    assert ember.jit.annotations.BroadcastingList2[int] == list[int]

    @ember.jit.interface
    class Iface:
        def forward(self, x): ...

    assert Iface.__name__ == "Iface"
