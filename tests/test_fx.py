"""ember.fx against torch.fx: the same model traced by both gives the same nodes (op, target, name,
arguments), the same generated code and the same outputs; graph edits, the conv/bn fusion pass of
PyTorch's tutorial, the Interpreter, Transformer and ShapeProp behave alike; control flow raises the
same errors. The ember side of each test runs without torch; the comparison skips when it is absent.
"""

from __future__ import annotations

import copy
import math
import operator
import pickle

import numpy as np
import pytest

import ember
import ember.fx
import ember.nn as enn
import ember.nn.functional as EF
from ember.fx.passes.shape_prop import ShapeProp


def _torch():
    return pytest.importorskip("torch")


def _libs():
    """(lib, fx, nn, F) for ember, and for torch when it is installed."""
    out = [(ember, ember.fx, enn, EF)]
    try:
        import torch
        import torch.fx
        import torch.nn.functional

        out.append((torch, torch.fx, torch.nn, torch.nn.functional))
    except ImportError:
        pass
    return out


def _to_numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _copy_weights(torch_model, ember_model):
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    ember_model.load_state_dict(state)


def _target_name(n):
    t = n.target
    return t if isinstance(t, str) else t.__name__


def _arg(a):
    if isinstance(a, (tuple, list)):
        return type(a)(_arg(x) for x in a)
    if isinstance(a, dict):
        return {k: _arg(v) for k, v in a.items()}
    if isinstance(a, slice):
        return ("slice", _arg(a.start), _arg(a.stop), _arg(a.step))
    if hasattr(a, "op") and hasattr(a, "users"):  # a Node of either library
        return "%" + a.name
    if type(a).__name__ == "dtype":
        return "dtype:" + str(a).split(".")[-1]
    return a


def _structure(gm):
    return [(n.op, _target_name(n), n.name, _arg(n.args), _arg(n.kwargs)) for n in gm.graph.nodes]


# -- models, written once for both libraries ------------------------------------------------------------
def _block(lib, nn):
    class Block(nn.Module):
        """Not in lib.nn: traced through."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.register_buffer("scale", lib.full((4,), 0.5))

        def forward(self, x):
            return lib.tanh(self.fc(x)) * self.scale

    return Block


def _model(lib, nn):
    Block = _block(lib, nn)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 4)
            self.p = nn.Parameter(lib.ones(4))
            self.seq = nn.Sequential(nn.ReLU(), nn.Linear(4, 4))
            self.block = Block()
            self.blocks = nn.ModuleList([Block(), Block()])

        def forward(self, x, y=2):
            a = self.linear(x)
            b = lib.relu(a) + self.p
            c = b * y
            d = c.sum(dim=1, keepdim=True)
            e = self.seq(c) + d + x.shape[0]
            for blk in self.blocks:
                e = blk(e)
            e = self.block(e)
            f = e.view(e.size(0), -1).transpose(0, 1)[1:, ::2]
            g, h = f.chunk(2, dim=0)
            k = self.p * g.mean() - self.p + 1.0
            m = lib.cat([g, h], 0).permute(1, 0).contiguous()
            return {"out": m.flatten(), "k": k, "l": [a, abs(-b), b.dtype, b.shape]}

    return Model


def _assert_same_outputs(t_out, e_out, rtol=1e-5, atol=1e-6):
    if isinstance(t_out, dict):
        assert t_out.keys() == e_out.keys()
        for k in t_out:
            _assert_same_outputs(t_out[k], e_out[k], rtol, atol)
    elif isinstance(t_out, (list, tuple)) and not type(t_out).__name__ == "Size":
        assert len(t_out) == len(e_out)
        for a, b in zip(t_out, e_out):
            _assert_same_outputs(a, b, rtol, atol)
    elif hasattr(t_out, "detach"):
        np.testing.assert_allclose(_to_numpy(e_out), _to_numpy(t_out), rtol=rtol, atol=atol)
    elif type(t_out).__name__ == "dtype":
        assert str(t_out).split(".")[-1] == str(e_out).split(".")[-1]
    else:
        assert tuple(t_out) == tuple(e_out) if type(t_out).__name__ == "Size" else t_out == e_out


# -- tracing -------------------------------------------------------------------------------------------
def test_trace_runs_and_matches_eager():
    m = _model(ember, enn)()
    gm = ember.fx.symbolic_trace(m)
    x = ember.randn(2, 3)
    _assert_same_outputs(m(x), gm(x))
    _assert_same_outputs(m(x, 3), gm(x, 3))
    assert isinstance(gm, enn.Module) and type(gm).__name__ == "Model"


def test_trace_nodes_match_torch():
    em = _model(ember, enn)()
    e_gm = ember.fx.symbolic_trace(em)
    expected_start = [
        ("placeholder", "x", "x"),
        ("placeholder", "y", "y"),
        ("call_module", "linear", "linear"),
        ("call_function", "relu", "relu"),
        ("get_attr", "p", "p"),
        ("call_function", "add", "add"),
        ("call_function", "mul", "mul"),
        ("call_method", "sum", "sum_1"),
        ("call_module", "seq.0", "seq_0"),
        ("call_module", "seq.1", "seq_1"),
    ]
    assert [(op, target, name) for op, target, name, _, _ in _structure(e_gm)][:10] == expected_start
    torch = _torch()
    tm = _model(torch, torch.nn)()
    _copy_weights(tm, em)
    t_gm = torch.fx.symbolic_trace(tm)
    assert _structure(e_gm) == _structure(t_gm)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    _assert_same_outputs(t_gm(torch.tensor(x)), e_gm(ember.tensor(x)))


def test_generated_code_matches_torch():
    e_code = ember.fx.symbolic_trace(_model(ember, enn)()).code
    assert e_code.startswith("\n\n\ndef forward(self, x, y = 2):\n    linear = self.linear(x)\n")
    assert "    relu = ember.relu(linear)\n    p = self.p\n    add = relu + p;  relu = None\n" in e_code  # p used later
    assert "    getitem = getattr_1[0];  getattr_1 = None\n" in e_code
    torch = _torch()
    t_code = torch.fx.symbolic_trace(_model(torch, torch.nn)()).code
    assert e_code == t_code.replace("torch.", "ember.")


def test_graph_printout_matches_torch():
    e_str = str(ember.fx.symbolic_trace(_model(ember, enn)()).graph)
    assert e_str.startswith(
        "graph():\n    %x : [num_users=2] = placeholder[target=x]\n"
        "    %y : [num_users=1] = placeholder[target=y](default=2)\n"
        "    %linear : [num_users=2] = call_module[target=linear](args = (%x,), kwargs = {})\n"
        "    %relu : [num_users=1] = call_function[target=ember.relu](args = (%linear,), kwargs = {})\n"
    )
    torch = _torch()
    t_str = str(torch.fx.symbolic_trace(_model(torch, torch.nn)()).graph)
    assert e_str == t_str.replace("torch.", "ember.")


def test_functional_and_namespace_calls_are_recorded():
    def fn(x):
        y = EF.softmax(x, dim=-1) + ember.special.expit(x)
        z = ember.linalg.vector_norm(y, dim=1) + ember.sum(x)
        return ember.fft.rfft(x).abs().sum() + z + math.sqrt(2.0) + math.sqrt(x.size(0))

    gm = ember.fx.symbolic_trace(fn)
    targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert EF.softmax in targets and ember.special.expit in targets and ember.linalg.vector_norm in targets
    assert ember.sum in targets and ember.fft.rfft in targets
    assert "ember.nn.functional.softmax(x, dim = -1, _stacklevel = 3, dtype = None)" in gm.code  # as PyTorch's
    x = ember.randn(3, 4)
    np.testing.assert_allclose(_to_numpy(gm(x)), _to_numpy(fn(x)), rtol=1e-6)


def test_from_import_in_forward_globals_is_recorded():
    namespace = {}
    exec(  # a module that imported the function by name: its globals are patched while tracing
        "import ember\nfrom ember import relu\nfrom math import sqrt\n"
        "class M(ember.nn.Module):\n    def forward(self, x):\n        return relu(x) * sqrt(x.size(0))\n",
        namespace,
    )
    gm = ember.fx.symbolic_trace(namespace["M"]())
    assert [n.target for n in gm.graph.nodes if n.op == "call_function"][0] is ember.relu
    assert namespace["relu"] is ember.relu and namespace["sqrt"] is math.sqrt  # restored
    x = ember.randn(4)
    np.testing.assert_allclose(_to_numpy(gm(x)), _to_numpy(ember.relu(x) * 2.0), rtol=1e-6)


def test_patches_are_restored_even_on_error():
    orig = (ember.relu, EF.relu, enn.Module.__call__, enn.Module.__getattr__, ember.special.expit)

    def bad(x):
        ember.relu(x)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        ember.fx.symbolic_trace(bad)
    assert (ember.relu, EF.relu, enn.Module.__call__, enn.Module.__getattr__, ember.special.expit) == orig
    assert "conv2d" not in vars(ember)  # a lazily provided name is removed again, not left patched
    assert not ember.fx.is_fx_tracing()


def test_leaf_modules_follow_torch_rule():
    tracer = ember.fx.Tracer()
    assert tracer.is_leaf_module(enn.Linear(2, 2), "l")
    assert tracer.is_leaf_module(enn.ReLU(), "r")
    assert not tracer.is_leaf_module(enn.Sequential(enn.ReLU()), "s")
    assert not tracer.is_leaf_module(_block(ember, enn)(), "b")


def test_custom_leaf_module():
    Block = _block(ember, enn)

    class T(ember.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Block) or super().is_leaf_module(m, qualname)

    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.b = Block()

        def forward(self, x):
            return self.b(x).relu()

    m = M()
    graph = T().trace(m)
    assert [(n.op, n.target) for n in graph.nodes][1] == ("call_module", "b")
    gm = ember.fx.GraphModule(m, graph)
    x = ember.randn(2, 4)
    assert ember.equal(gm(x), m(x))


def test_concrete_args_match_torch():
    def build(lib):
        def f(x, flag):
            if flag:
                return x + 1
            return x - 1

        return f

    e_gm = ember.fx.symbolic_trace(build(ember), concrete_args={"flag": True})
    x = ember.randn(3)
    assert ember.equal(e_gm(x, True), x + 1)
    with pytest.raises(AssertionError, match="flag has been specialized"):
        e_gm(x, False)
    torch = _torch()
    t_gm = torch.fx.symbolic_trace(build(torch), concrete_args={"flag": True})
    assert [(n.op, n.name) for n in e_gm.graph.nodes] == [(n.op, n.name) for n in t_gm.graph.nodes]


def test_varargs_and_kwargs_placeholders():
    def f(x, *args, scale=2, **kwargs):
        return x * scale + args[0]

    gm = ember.fx.symbolic_trace(f)
    names = [n.target for n in gm.graph.nodes if n.op == "placeholder"]
    assert names == ["x", "scale", "*args", "**kwargs"] or names == ["x", "*args", "scale", "**kwargs"]
    torch = _torch()
    t_gm = torch.fx.symbolic_trace(lambda x, *args: x + args[0])
    e_gm = ember.fx.symbolic_trace(lambda x, *args: x + args[0])
    assert _structure(e_gm) == _structure(t_gm)


def _len_user(x):
    return len(x)


ember.fx.wrap("_len_user")


def test_wrap_keeps_function_a_leaf():
    def f(x):
        return x + _len_user(x)

    gm = ember.fx.symbolic_trace(f)
    calls = [n for n in gm.graph.nodes if n.op == "call_function"]
    assert calls[0].target is _len_user
    assert _len_user.__name__ == "_len_user" and globals()["_len_user"] is _len_user  # restored
    x = ember.randn(5)
    assert ember.equal(gm(x), x + 5)


# -- control flow: the same errors as torch.fx -------------------------------------------------------
def _control_flow_cases(lib):
    def if_on_value(x):
        if x.sum() > 0:
            return x
        return -x

    def loop_over(x):
        out = 0
        for v in x:
            out = out + v
        return out

    def length(x):
        return x * len(x)

    return [(if_on_value, "symbolically traced variables cannot be used as inputs to control flow"),
            (loop_over, "Proxy object cannot be iterated"),
            (length, "'len' is not supported in symbolic tracing by default")]  # fmt: skip


@pytest.mark.parametrize("case", range(3))
def test_control_flow_errors_match_torch(case):
    for lib, fx, _, _ in _libs():
        fn, message = _control_flow_cases(lib)[case]
        with pytest.raises(Exception, match=message) as info:
            fx.symbolic_trace(fn)
        expected = RuntimeError if case == 2 else ValueError
        assert isinstance(info.value, expected), (lib.__name__, type(info.value))
        assert type(info.value).__name__ == ("RuntimeError" if case == 2 else "TraceError")


# -- graph editing -------------------------------------------------------------------------------------
def _relu_to_gelu(fx, gm, lib, F):
    graph = gm.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is lib.relu:
            with graph.inserting_after(node):
                new = graph.call_function(F.gelu, node.args, node.kwargs)
            node.replace_all_uses_with(new)
            graph.erase_node(node)
    graph.lint()
    gm.recompile()
    return gm


def test_relu_to_gelu_edit_matches_torch():
    em = _model(ember, enn)()
    e_gm = _relu_to_gelu(ember.fx, ember.fx.symbolic_trace(em), ember, EF)
    assert "gelu = ember.nn.functional.gelu(linear)" in e_gm.code and "relu = " not in e_gm.code.split("seq_0")[0]
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)

    class Gelu(ember.fx.Interpreter):  # the edit's expected result, computed another way
        def call_function(self, target, args, kwargs):
            return super().call_function(EF.gelu if target is ember.relu else target, args, kwargs)

    _assert_same_outputs(Gelu(ember.fx.symbolic_trace(em)).run(ember.tensor(x)), e_gm(ember.tensor(x)))
    torch = _torch()
    tm = _model(torch, torch.nn)()
    _copy_weights(tm, em)
    t_gm = _relu_to_gelu(torch.fx, torch.fx.symbolic_trace(tm), torch, torch.nn.functional)
    assert [n.name for n in e_gm.graph.nodes] == [n.name for n in t_gm.graph.nodes]
    _assert_same_outputs(t_gm(torch.tensor(x)), e_gm(ember.tensor(x)))


def test_erase_node_with_users_raises_like_torch():
    for _lib, fx, _, _ in _libs():
        g = fx.Graph()
        x = g.placeholder("x")
        r = g.call_method("relu", (x,))
        g.output(r)
        with pytest.raises(RuntimeError, match="Tried to erase Node x but it still had 1 users in the graph"):
            g.erase_node(x)


def test_graph_building_and_editing():
    g = ember.fx.Graph()
    x = g.placeholder("x")
    y = g.placeholder("y", default_value=3)
    a = g.call_function(operator.add, (x, y))
    b = g.call_method("mul", (a, 2))
    dead = g.call_function(ember.exp, (x,))
    out = g.output((b, a))
    assert [n.name for n in g.nodes] == ["x", "y", "add", "mul", "exp", "output"]
    assert a.all_input_nodes == [x, y] and set(x.users) == {a, dead}
    assert b.prev is a and b.next is dead and len(g.nodes) == 6
    assert g.find_nodes(op="call_method") == [b] and g.find_nodes(op="call_function", target=ember.exp) == [dead]
    assert g.eliminate_dead_code() and dead not in list(g.nodes)
    with g.inserting_before(b):
        c = g.call_method("neg", (a,))
    b.replace_input_with(a, c)
    assert b.args == (c, 2) and set(a.users) == {c, out}
    assert b.format_node() == "%mul : [num_users=1] = call_method[target=mul](args = (%neg, 2), kwargs = {})"
    gm = ember.fx.GraphModule(enn.Module(), g)
    t = ember.tensor([1.0, 2.0])
    r0, r1 = gm(t)
    assert ember.equal(r0, -(t + 3) * 2) and ember.equal(r1, t + 3)
    assert ember.equal(gm(t, 1)[1], t + 1)
    # a copy into another graph
    g2 = ember.fx.Graph()
    val_map = {}
    out_val = g2.graph_copy(g, val_map)
    g2.output(out_val)
    assert [n.name for n in g2.nodes] == [n.name for n in g.nodes]
    dup = copy.deepcopy(g)
    assert str(dup) == str(g)


def test_lint_catches_use_before_definition():
    g = ember.fx.Graph()
    x = g.placeholder("x")
    a = g.call_method("relu", (x,))
    b = g.call_method("neg", (a,))
    g.output(b)
    a.prepend(b)  # move b before its input
    with pytest.raises(RuntimeError, match="used before it has been defined"):
        g.lint()


# -- conv/bn fusion, as PyTorch's tutorial writes it ----------------------------------------------------
def _fuse_conv_bn_weights(lib, conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    if conv_b is None:
        conv_b = lib.zeros_like(bn_rm)
    bn_var_rsqrt = lib.rsqrt(bn_rv + bn_eps)
    conv_w = conv_w * (bn_w * bn_var_rsqrt).reshape([-1] + [1] * (len(conv_w.shape) - 1))
    conv_b = (conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b
    return conv_w, conv_b


def _fuse(lib, fx, nn, model):
    model = copy.deepcopy(model)
    fx_model = fx.symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    for node in fx_model.graph.nodes:
        if node.op != "call_module":
            continue
        if type(modules[node.target]) is nn.BatchNorm2d and type(modules[node.args[0].target]) is nn.Conv2d:
            if len(node.args[0].users) > 1:
                continue
            conv, bn = modules[node.args[0].target], modules[node.target]
            with lib.no_grad():
                w, b = _fuse_conv_bn_weights(
                    lib, conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
                )
            fused = copy.deepcopy(conv)
            fused.weight = nn.Parameter(w)
            fused.bias = nn.Parameter(b)
            *parent, name = (
                node.args[0].target.rsplit(".", 1) if "." in node.args[0].target else ("", node.args[0].target)
            )
            setattr(modules[parent[0]] if parent and parent[0] else fx_model, name, fused)
            node.replace_all_uses_with(node.args[0])
            fx_model.graph.erase_node(node)
    fx_model.graph.lint()
    fx_model.recompile()
    return fx_model


def _conv_net(lib, nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.layer = nn.Sequential(nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())

        def forward(self, x):
            return self.layer(lib.relu(self.bn1(self.conv1(x)))).mean(dim=(2, 3))

    return Net()


def test_conv_bn_fusion_matches_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    em = _conv_net(ember, enn)
    for bn in (em.bn1, em.layer[1]):  # running statistics that are not the initial ones
        bn.running_mean.copy_(ember.tensor(rng.standard_normal(8).astype(np.float32)))
        bn.running_var.copy_(ember.tensor(rng.uniform(0.5, 2.0, 8).astype(np.float32)))
    em.eval()
    e_fused = _fuse(ember, ember.fx, enn, em)
    assert [n.target for n in e_fused.graph.nodes if n.op == "call_module"] == ["conv1", "layer.0", "layer.2"]
    np.testing.assert_allclose(
        _to_numpy(e_fused(ember.tensor(x))), _to_numpy(em(ember.tensor(x))), rtol=1e-4, atol=1e-5
    )
    torch = _torch()
    tm = _conv_net(torch, torch.nn)
    tm.load_state_dict({k: torch.tensor(_to_numpy(v)) for k, v in em.state_dict().items()})
    tm.eval()
    t_fused = _fuse(torch, torch.fx, torch.nn, tm)
    assert _structure(e_fused) == _structure(t_fused)
    np.testing.assert_allclose(
        _to_numpy(e_fused(ember.tensor(x))), t_fused(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )


# -- GraphModule ---------------------------------------------------------------------------------------
def test_graph_module_state_and_copies():
    em = _model(ember, enn)()
    e_gm = ember.fx.symbolic_trace(em)
    assert e_gm.linear.weight is em.linear.weight  # shared, as torch.fx does
    dup = copy.deepcopy(e_gm)
    assert dup.linear.weight is not e_gm.linear.weight and dup.code == e_gm.code
    x = ember.randn(2, 3)
    _assert_same_outputs(dup(x), e_gm(x))
    with ember.no_grad():
        dup.linear.weight.add_(1.0)
    assert not ember.equal(dup(x)["out"], e_gm(x)["out"])
    as64 = copy.deepcopy(e_gm).to(ember.float64)
    assert as64(x.double())["out"].dtype == ember.float64
    e_gm.graph = e_gm.graph  # the setter recompiles
    assert e_gm.code == dup.code
    torch = _torch()
    tm = _model(torch, torch.nn)()
    t_gm = torch.fx.symbolic_trace(tm)
    assert list(e_gm.state_dict()) == list(t_gm.state_dict())
    assert [n for n, _ in e_gm.named_parameters()] == [n for n, _ in t_gm.named_parameters()]


def test_graph_module_pickles():
    m = _model(ember, enn)()
    gm = ember.fx.symbolic_trace(m)
    restored = pickle.loads(pickle.dumps(gm))
    x = ember.randn(2, 3)
    _assert_same_outputs(restored(x), gm(x))
    assert restored.code == gm.code


def test_graph_module_from_dict_root_and_print_readable(capsys):
    g = ember.fx.Graph()
    x = g.placeholder("x")
    w = g.get_attr("sub.w")
    out = g.call_module("sub.lin", (g.call_function(operator.mul, (x, w)),))
    g.output(out)
    lin = enn.Linear(2, 2)
    gm = ember.fx.GraphModule({"sub.w": ember.ones(2), "sub.lin": lin}, g, "Mine")
    assert "sub.w" in gm.state_dict() and gm.sub.lin is lin
    src = gm.print_readable()
    assert src.startswith("class Mine(ember.nn.Module):") and "def forward(self, x):" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="referenced target sub.w but that target was not provided"):
        ember.fx.GraphModule({"sub.lin": lin}, g)


def test_tensor_constants_become_attributes():
    c = ember.tensor([1.0, 2.0])

    def f(x):
        return x + c

    gm = ember.fx.symbolic_trace(f)
    assert [(n.op, n.target) for n in gm.graph.nodes][1] == ("get_attr", "_tensor_constant0")
    assert ember.equal(gm(ember.ones(2)), ember.tensor([2.0, 3.0]))
    torch = _torch()
    tc = torch.tensor([1.0, 2.0])
    t_gm = torch.fx.symbolic_trace(lambda x: x + tc)
    assert _structure(gm) == _structure(t_gm)


# -- Interpreter, Transformer, ShapeProp ----------------------------------------------------------------
def test_interpreter_runs_and_overrides():
    m = _model(ember, enn)()
    gm = ember.fx.symbolic_trace(m)
    x = ember.randn(2, 3)
    _assert_same_outputs(ember.fx.Interpreter(gm).run(x), m(x))
    seen = []

    class Recorder(ember.fx.Interpreter):
        def run_node(self, n):
            seen.append(n.op)
            return super().run_node(n)

        def call_function(self, target, args, kwargs):
            if target is ember.relu:
                return ember.nn.functional.gelu(*args, **kwargs)
            return super().call_function(target, args, kwargs)

    out = Recorder(gm).run(x)
    assert seen[0] == "placeholder" and seen[-1] == "output" and "call_module" in seen
    edited = _relu_to_gelu(ember.fx, ember.fx.symbolic_trace(m), ember, EF)
    _assert_same_outputs(out, edited(x))
    with pytest.raises(RuntimeError, match="Expected positional argument for parameter x"):
        ember.fx.Interpreter(gm).run()


def test_transformer_matches_torch():
    def build(lib, fx, F):
        class ReluToGelu(fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target is lib.relu:
                    return F.gelu(*args, **kwargs)  # called on proxies: recorded
                return super().call_function(target, args, kwargs)

        return ReluToGelu

    em = _model(ember, enn)()
    e_new = build(ember, ember.fx, EF)(ember.fx.symbolic_trace(em)).transform()
    assert isinstance(e_new, ember.fx.GraphModule)
    assert EF.gelu in [n.target for n in e_new.graph.nodes] and ember.relu not in [n.target for n in e_new.graph.nodes]
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    edited = _relu_to_gelu(ember.fx, ember.fx.symbolic_trace(em), ember, EF)
    _assert_same_outputs(e_new(ember.tensor(x)), edited(ember.tensor(x)))
    torch = _torch()
    tm = _model(torch, torch.nn)()
    tm.load_state_dict({k: torch.tensor(_to_numpy(v)) for k, v in em.state_dict().items()})
    t_new = build(torch, torch.fx, torch.nn.functional)(torch.fx.symbolic_trace(tm)).transform()
    assert [(n.op, _target_name(n), n.name) for n in e_new.graph.nodes] == [
        (n.op, _target_name(n), n.name) for n in t_new.graph.nodes
    ]
    _assert_same_outputs(t_new(torch.tensor(x)), e_new(ember.tensor(x)))


def test_shape_prop_matches_torch():
    em = _conv_net(ember, enn)
    e_gm = ember.fx.symbolic_trace(em)
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 8)).astype(np.float32)
    ShapeProp(e_gm).propagate(ember.tensor(x))
    out_meta = list(e_gm.graph.nodes)[-1].meta["tensor_meta"]
    assert tuple(out_meta.shape) == (2, 8) and out_meta.dtype == ember.float32 and out_meta.requires_grad
    assert out_meta.memory_format == ember.contiguous_format and out_meta.stride == (8, 1)
    torch = _torch()
    from torch.fx.passes.shape_prop import ShapeProp as TorchShapeProp

    tm = _conv_net(torch, torch.nn)
    t_gm = torch.fx.symbolic_trace(tm)
    TorchShapeProp(t_gm).propagate(torch.tensor(x))
    for en, tn in zip(e_gm.graph.nodes, t_gm.graph.nodes):
        em_, tm_ = en.meta["tensor_meta"], tn.meta["tensor_meta"]
        assert tuple(em_.shape) == tuple(tm_.shape), en.name
        assert str(em_.dtype).split(".")[-1] == str(tm_.dtype).split(".")[-1]
        assert em_.requires_grad == tm_.requires_grad
        assert tuple(em_.stride) == tuple(tm_.stride), en.name
        assert str(em_.memory_format).split(".")[-1] == str(tm_.memory_format).split(".")[-1]
        assert em_.is_quantized == tm_.is_quantized
        assert em_._fields == tm_._fields
        assert en.meta["type"].__name__ == tn.meta["type"].__name__


@pytest.mark.parametrize("shape", [(2, 3)])
def test_traced_model_on_each_device(device, shape):
    m = _model(ember, enn)().to(device)
    gm = ember.fx.symbolic_trace(m)
    x = ember.randn(*shape).to(device)
    _assert_same_outputs(gm(x), m(x))
    assert gm(x)["out"].device == x.device


# -- Tensor operators give way to an unknown operand's reflected method, as in PyTorch ------------------
class _Other:
    def __radd__(self, o):
        return "radd"

    def __rmul__(self, o):
        return "rmul"

    def __rsub__(self, o):
        return "rsub"

    def __rtruediv__(self, o):
        return "rtruediv"

    def __rmatmul__(self, o):
        return "rmatmul"


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.sub, operator.truediv, operator.matmul])
def test_binary_operator_defers_to_reflected_like_torch(op, device):
    expected = {"add": "radd", "mul": "rmul", "sub": "rsub", "truediv": "rtruediv", "matmul": "rmatmul"}[op.__name__]
    assert op(ember.ones(2, device=device), _Other()) == expected
    assert op(enn.Parameter(ember.ones(2, device=device)), _Other()) == expected
    torch = _torch()
    assert op(torch.ones(2), _Other()) == expected


def test_binary_operator_without_reflected_still_raises_type_error():
    class Plain:
        pass

    with pytest.raises(TypeError):
        ember.ones(2) + Plain()
    with pytest.raises(TypeError):
        ember.ones(2) * [1, 2, 3]  # no __rmul__ that takes a tensor: still refused
    torch = _torch()
    with pytest.raises(TypeError):
        torch.ones(2) + Plain()


def test_tensor_left_of_proxy_is_recorded_like_torch():
    def build(lib):
        b = lib.ones(3)

        def f(x):
            return (b + x) * (b * x) - (b / x) + (b - x) + b**x

        return f

    e_gm = ember.fx.symbolic_trace(build(ember))
    x = ember.rand(3) + 0.5
    np.testing.assert_allclose(_to_numpy(e_gm(x)), _to_numpy(build(ember)(x)), rtol=1e-6)
    torch = _torch()
    t_gm = torch.fx.symbolic_trace(build(torch))
    assert _structure(e_gm) == _structure(t_gm)


# -- subgraph rewriting, printing ----------------------------------------------------------------------
def _rewrite_case(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, x, w):
            a = lib.add(lib.mul(x, w), 1).relu()
            b = lib.add(lib.mul(a, w), 1)
            return self.lin(a + b) + lib.mul(x, w)

    def pattern(a, b):
        return lib.add(lib.mul(a, b), 1)

    def replacement(a, b):
        return lib.addcmul(lib.ones_like(a), a, b)

    return M(), pattern, replacement


def test_replace_pattern_matches_torch():
    em, ep, er = _rewrite_case(ember)
    e_gm = ember.fx.symbolic_trace(em)
    x, w = ember.rand(2, 3), ember.rand(2, 3)
    expected = em(x, w)
    e_matches = ember.fx.replace_pattern(e_gm, ep, er)
    assert len(e_matches) == 2 and all(n.target is not ember.add for n in e_gm.graph.nodes if n.op == "call_function")
    np.testing.assert_allclose(_to_numpy(e_gm(x, w)), _to_numpy(expected), rtol=1e-6)
    torch = _torch()
    tm, tp, tr = _rewrite_case(torch)
    tm.load_state_dict({k: torch.tensor(_to_numpy(v)) for k, v in em.state_dict().items()})
    t_gm = torch.fx.symbolic_trace(tm)
    t_matches = torch.fx.replace_pattern(t_gm, tp, tr)
    assert _structure(e_gm) == _structure(t_gm)
    assert [m.anchor.name for m in e_matches] == [m.anchor.name for m in t_matches]
    assert [sorted(n.name for n in m.nodes_map.values()) for m in e_matches] == [
        sorted(n.name for n in m.nodes_map.values()) for m in t_matches
    ]
    np.testing.assert_allclose(
        _to_numpy(e_gm(x, w)), t_gm(torch.tensor(_to_numpy(x)), torch.tensor(_to_numpy(w))).detach().numpy(), rtol=1e-6
    )


def test_replace_pattern_skips_a_match_whose_inner_value_escapes():
    def f(x):
        m = ember.mul(x, 2)
        return ember.add(m, 1) + m  # m is used outside the pattern's match

    def pattern(a):
        return ember.add(ember.mul(a, 2), 1)

    def replacement(a):
        return ember.addcmul(ember.ones_like(a), a, ember.full_like(a, 2.0))

    gm = ember.fx.symbolic_trace(f)
    assert ember.fx.replace_pattern(gm, pattern, replacement) == []


def test_print_tabular(capsys):
    gm = ember.fx.symbolic_trace(lambda x: ember.relu(x) + 1)
    gm.graph.print_tabular()
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["opcode", "name", "target", "args", "kwargs"]
    assert out[-3].split()[:3] == ["call_function", "relu", "ember.relu"]
    assert out[-1].split()[:3] == ["output", "output", "output"]


def double_it(x):
    return x * 2


def test_tracer_subclass_and_autowrap_functions_match_torch():
    def build(lib, fx):
        nn, F = lib.nn, lib.nn.functional

        class Sub(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(lib.randn(4, 3))
                self.bias = nn.Parameter(lib.zeros(4))

            def forward(self, x):
                return double_it(F.linear(x, self.weight, self.bias))

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.sub = Sub()
                self.norm = nn.LayerNorm(4)

            def forward(self, x):
                y = self.norm(self.sub(x))
                return {"feat": y, "pooled": y.mean(0)}

        class PathTracer(fx.Tracer):  # as torchvision's feature extractor tracks module paths
            def __init__(self):
                super().__init__(autowrap_functions=(double_it,))
                self.paths = []

            def call_module(self, m, forward, args, kwargs):
                self.paths.append(self.path_of_module(m))
                return super().call_module(m, forward, args, kwargs)

        return M(), PathTracer

    results = []
    for lib, fx, _, _ in _libs():
        m, tracer_cls = build(lib, fx)
        tracer = tracer_cls()
        graph = tracer.trace(m)
        assert [n for n in graph.nodes if n.op == "call_function"][1].target is double_it
        results.append((tracer.paths, [(n.op, n.name, _target_name(n), _arg(n.args)) for n in graph.nodes]))
        if lib is ember:
            gm = ember.fx.GraphModule(tracer.root, graph)
            x = ember.randn(2, 3)
            _assert_same_outputs(gm(x), m(x))
    assert results[0][0] == ["sub", "norm"]
    if len(results) == 2:
        assert results[0] == results[1]


def test_ember_call_in_another_modules_helper_is_recorded():
    helpers = {}
    exec("from ember import tanh as th\ndef helper(v):\n    return th(v) * 3\n", helpers)  # not the forward's globals

    def f(x):
        return helpers["helper"](x) + 1

    tanh_code = ember.tanh.__code__
    gm = ember.fx.symbolic_trace(f)
    assert [n.target for n in gm.graph.nodes if n.op == "call_function"][0] is ember.tanh
    x = ember.randn(3)
    np.testing.assert_allclose(_to_numpy(gm(x)), _to_numpy(ember.tanh(x) * 3 + 1), rtol=1e-6)
    assert ember.tanh.__code__ is tanh_code  # the code is back


def test_interpreter_error_names_the_node_like_torch():
    for lib, fx, _, _ in _libs():
        gm = fx.symbolic_trace(lambda x, y: x.matmul(y))
        with pytest.raises(
            RuntimeError, match=r"(?s)While executing %matmul : \[num_users=1\] = call_method\[target=matmul\]"
        ) as info:
            fx.Interpreter(gm).run(lib.ones(2, 3), lib.ones(2, 3))
        assert "Original traceback:" in str(info.value)


def test_dead_code_elimination_keeps_in_place_calls():
    def f(x):
        y = x.clone()
        y.add_(1)  # unused result, but y is changed
        ember.relu_(y)
        unused = x.exp()  # noqa: F841 - removed
        return y

    gm = ember.fx.symbolic_trace(f)
    assert gm.graph.eliminate_dead_code()
    assert [n.name for n in gm.graph.nodes] == ["x", "clone", "add_", "relu_", "output"]
    gm.recompile()
    x = ember.tensor([-3.0, 0.5])
    assert ember.equal(gm(x), ember.tensor([0.0, 1.5]))


def test_annotations_in_generated_code_match_torch():
    source = (  # compiled here: this file's ``from __future__ import annotations`` would make them strings
        "from typing import List, Optional\n"
        "def f(x: lib.Tensor, n: int = 2, ys: Optional[List[lib.Tensor]] = None) -> lib.Tensor:\n"
        "    return x * n\n"
    )

    def build(lib):
        namespace = {"lib": lib}
        exec(compile(source, "<annotated>", "exec", dont_inherit=True), namespace)
        return namespace["f"]

    e_gm = ember.fx.symbolic_trace(build(ember))
    assert e_gm.code.splitlines()[3].startswith("def forward(self, x : ember.Tensor, n : int = 2")
    assert ember.equal(e_gm(ember.ones(2)), ember.full((2,), 2.0))
    torch = _torch()
    assert e_gm.code == torch.fx.symbolic_trace(build(torch)).code.replace("torch.", "ember.")


def test_print_readable_matches_torch():
    def build(lib, fx):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.l = lib.nn.Linear(2, 2)
                self.g = fx.symbolic_trace(lib.nn.Sequential(lib.nn.ReLU()))

            def forward(self, x):
                return self.g(lib.relu(self.l(x)) * 2)

        class KeepGraphModules(fx.Tracer):
            def is_leaf_module(self, m, qualname):
                return isinstance(m, fx.GraphModule) or super().is_leaf_module(m, qualname)

        m = M()
        return fx.GraphModule(m, KeepGraphModules().trace(m))

    text = build(ember, ember.fx).print_readable(print_output=False)
    assert text.startswith("class GraphModule(ember.nn.Module):\n    def forward(self, x):\n")
    assert "\n    class g(ember.nn.Module):\n        def forward(self, input):\n" in text
    torch = _torch()
    assert text == build(torch, torch.fx).print_readable(print_output=False).replace("torch.", "ember.")
    assert ember.fx.symbolic_trace(enn.LayerNorm(2)).code.splitlines()[3] == (
        "def forward(self, input : ember.Tensor) -> ember.Tensor:"
    )


def test_wrap_builtin_len_matches_torch(tmp_path, monkeypatch):
    source = "import {lib}, {lib}.fx\n{lib}.fx.wrap('len')\ndef f(x):\n    return x + len(x)\n"
    for lib in ("ember", "torch"):
        (tmp_path / f"fx_wrap_len_{lib}.py").write_text(source.format(lib=lib))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    e_mod = importlib.import_module("fx_wrap_len_ember")
    e_gm = ember.fx.symbolic_trace(e_mod.f)
    assert [n.target for n in e_gm.graph.nodes if n.op == "call_function"][0] is len
    assert "len" not in vars(e_mod)  # the patch is gone
    assert ember.equal(e_gm(ember.ones(3)), ember.full((3,), 4.0))
    assert ember.equal(pickle.loads(pickle.dumps(e_gm))(ember.ones(2)), ember.full((2,), 3.0))
    _torch()
    import torch.fx

    t_gm = torch.fx.symbolic_trace(importlib.import_module("fx_wrap_len_torch").f)
    assert e_gm.code == t_gm.code.replace("torch.", "ember.")


def test_traced_func_name_like_torch():
    for lib, fx, _, _ in _libs():

        class M(lib.nn.Module):
            def forward(self, x):
                return x + 1

            def other(self, x):
                return x * 2

        tracer = fx.Tracer()
        tracer.traced_func_name = "other"
        assert [n.name for n in tracer.trace(M()).nodes] == ["x", "mul", "output"]
        tracer.traced_func_name = "nope"
        with pytest.raises(AssertionError, match="traced_func_name=nope doesn't exist in M"):
            tracer.trace(M())
    gm = ember.fx.symbolic_trace(lambda x: x.relu())
    ShapeProp(gm, fake_mode=None).propagate(ember.ones(2))
    assert tuple(list(gm.graph.nodes)[1].meta["tensor_meta"].shape) == (2,)


def test_tracing_linear_itself_as_torch():
    """ember.nn.Linear's input check ran on the proxy (``input.ndim == 0`` is a proxy, whose truth is
    refused): tracing the module itself, as torch.fx traces torch.nn.Linear, raised TraceError."""
    import ember.fx

    layer = ember.nn.Linear(3, 4)
    traced = ember.fx.symbolic_trace(layer)
    assert [n.op for n in traced.graph.nodes] == ["placeholder", "get_attr", "get_attr", "call_function", "output"]
    x = ember.randn(2, 3)
    assert ember.equal(traced(x), layer(x))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):  # F.linear's check, as in torch.fx's graph
        traced(ember.randn(2, 5))
