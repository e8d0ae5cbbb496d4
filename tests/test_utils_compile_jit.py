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


_LIBS = {"torch": torch, "ember": ember}


@pytest.mark.parametrize("lib_name", sorted(_LIBS))
def test_compiler_helpers_run_eagerly_as_torch(lib_name):
    lib = _LIBS[lib_name]

    def f(x):
        return x + 1

    c = lib.compiler
    assert c.allow_in_graph(f) is f and c.assume_constant_result(f) is f
    assert c.allow_in_graph((f, f)) == [f, f] and c.allow_in_graph([f]) == [f]
    assert c.reset() is None and c.is_exporting() is False
    assert c.get_default_backend() == "inductor"
    c.set_default_backend("eager")
    assert c.get_default_backend() == "eager"
    c.set_default_backend(None)
    assert c.get_default_backend() == "inductor"
    region = c.nested_compile_region(lambda x: x * 2)
    assert region(lib.ones(1)).item() == 2
    assert c.nested_compile_region()(lambda x: x * 3)(lib.ones(1)).item() == 3

    @c.set_stance("force_eager")
    def g(x):
        return lib.compile(f)(x)

    assert g(lib.zeros(1)).item() == 1
    with c.set_stance("eager_on_recompile"):
        assert lib.compile(f)(lib.zeros(1)).item() == 1
    c.set_stance("default")

    def original(seq, start=0):
        return start + len(seq)

    @c.substitute_in_graph(original)
    def polyfill(seq, start=0):
        return -1  # a compiler would trace this; eagerly the decorated name calls the original

    assert polyfill([1, 2, 3]) == 3 and polyfill.__name__ == "polyfill"
    with pytest.raises(ValueError, match="Duplicate"):
        c.substitute_in_graph(original)(lambda seq, start=0: 0)
    with pytest.raises(TypeError, match="expects a function"):
        c.substitute_in_graph(len)(3)
    with pytest.raises(TypeError, match="Signature mismatch"):
        c.substitute_in_graph(lambda a, b=1: a)(lambda a, b=2: a)
    c.substitute_in_graph(lambda a, b=1: a, skip_signature_check=True)(lambda a, b=2: a)
    with pytest.raises(AssertionError, match="allow_in_graph expects a callable"):
        c.allow_in_graph(3)
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
        c.set_stance("force_eager", force_backend="eager")


def test_wrap_numpy_converts_tensors_in_and_arrays_out_as_torch():
    def fn(a, pair, scale=1.0):
        return np.sum(a * pair[0], axis=0) * scale, [a.T, np.sum(a)], pair[1]

    results = []
    for lib in (torch, ember):
        a, b = lib.tensor(_X), lib.tensor(_X + 1)
        out, (t, total), passed = lib.compiler.wrap_numpy(fn)(a, (b, "tag"), scale=2.0)
        with pytest.raises(RuntimeError, match="requires grad"):
            lib.compiler.wrap_numpy(fn)(a, (b.requires_grad_(), "tag"))
        assert type(out) is lib.Tensor and type(t) is lib.Tensor and passed == "tag"
        assert isinstance(total, np.floating)  # a NumPy scalar is not an array: it passes through
        results.append((out.numpy(), t.numpy(), total))
    for want, got in zip(*results):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("lib_name", sorted(_LIBS))
def test_is_exporting_inside_export_as_torch(lib_name):
    lib = _LIBS[lib_name]
    seen = []

    class M(lib.nn.Module):
        def forward(self, x):
            seen.append(lib.compiler.is_exporting())
            return x + 1

    lib.export.export(M(), (lib.ones(2),))
    assert seen and all(seen) and lib.compiler.is_exporting() is False
