"""The backward graph as user code sees it, against PyTorch's: the order in which the parameters' gradients
are accumulated (their hooks' order), ``next_functions`` of an op with a Python-number operand, the shape of
``CopySlices`` (an in-place op on a view) and the names of the nodes of a few composite ops."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


# -- 1. the order of the parameters' gradient accumulation ----------------------------------------------
# fmt: off
_MODULES = {
    "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    "batchnorm2d": (lambda L: L.nn.BatchNorm2d(3), (2, 3, 4, 4)),
    "batchnorm2d_eval": (lambda L: L.nn.BatchNorm2d(3).eval(), (2, 3, 4, 4)),
    "instancenorm2d": (lambda L: L.nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    "layernorm": (lambda L: L.nn.LayerNorm(4), (2, 3, 4)),
    "layernorm_2d": (lambda L: L.nn.LayerNorm((3, 4)), (2, 3, 4)),
    "groupnorm": (lambda L: L.nn.GroupNorm(2, 4), (2, 4, 3)),
    "linear": (lambda L: L.nn.Linear(4, 3), (2, 4)),
    "linear_3d": (lambda L: L.nn.Linear(4, 3), (2, 2, 4)),
    "linear_1d": (lambda L: L.nn.Linear(4, 3), (4,)),
    "embedding": (lambda L: L.nn.Embedding(5, 3), None),
    "lstm": (lambda L: L.nn.LSTM(3, 4, num_layers=2), (5, 2, 3)),
    "lstm_bidirectional": (lambda L: L.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3)),
    "sequential_linear": (
        lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.Linear(4, 3, bias=False), L.nn.LayerNorm(3), L.nn.Linear(3, 2)),
        (2, 4),
    ),
    "sequential": (
        lambda L: L.nn.Sequential(
            L.nn.Conv2d(2, 4, 3), L.nn.BatchNorm2d(4), L.nn.ReLU(), L.nn.Conv2d(4, 2, 1, bias=False),
            L.nn.BatchNorm2d(2), L.nn.Conv2d(2, 3, 2), L.nn.GroupNorm(1, 3), L.nn.Flatten(), L.nn.Linear(27, 5),
            L.nn.LayerNorm(5),
        ),
        (2, 2, 6, 6),
    ),
}
# fmt: on


def _accumulation_order(lib, name, hook_kind):
    build, shape = _MODULES[name]
    module = build(lib)
    order = []
    for pname, p in module.named_parameters():
        if hook_kind == "post_accumulate":
            p.register_post_accumulate_grad_hook(lambda _p, pname=pname: order.append(pname))
        else:
            p.register_hook(lambda grad, pname=pname: order.append(pname))
    x = lib.tensor([1, 2, 4]) if shape is None else lib.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape))
    out = module(x.float() if shape is not None else x)
    if isinstance(out, tuple):
        out = out[0]
    out.sum().backward()
    return order


@pytest.mark.parametrize("hook_kind", ["post_accumulate", "tensor_hook"])
@pytest.mark.parametrize("name", list(_MODULES))
def test_parameter_gradients_accumulate_in_pytorchs_order(name, hook_kind):
    assert _accumulation_order(ember, name, hook_kind) == _accumulation_order(torch, name, hook_kind)


def test_leaves_of_one_node_accumulate_in_pytorchs_order():
    # five leaves into one node: the sinks all become ready at once, and the engine's heap orders them
    def order(lib):
        leaves = [lib.ones(3, requires_grad=True) for _ in range(5)]
        seen = []
        for i, leaf in enumerate(leaves):
            leaf.register_post_accumulate_grad_hook(lambda _p, i=i: seen.append(i))
        lib.stack(leaves).sum().backward()
        return seen

    assert order(ember) == order(torch)


# -- the structure of a node: its name and next_functions, ``depth`` levels deep ---------------------------
def _structure(node, depth):
    if node is None:
        return None
    if depth == 0:
        return type(node).__name__, node.name()
    return (
        type(node).__name__,
        node.name(),
        tuple((_structure(child, depth - 1), nr) for child, nr in node.next_functions),
    )


# -- 2. an operand that is a Python number ---------------------------------------------------------------
# fmt: off
_SCALAR_OPS = {
    "mul": lambda L, x: L.mul(x, 2), "mul_float": lambda L, x: x * 2.5, "rmul": lambda L, x: 2 * x,
    "mul_bool": lambda L, x: x * True,
    "add": lambda L, x: L.add(x, 2), "radd": lambda L, x: 2 + x, "add_alpha": lambda L, x: x.add(2, alpha=3),
    "sub": lambda L, x: L.sub(x, 2.5), "rsub_operator": lambda L, x: 2 - x, "rsub": lambda L, x: L.rsub(x, 2),
    "div": lambda L, x: L.div(x, 2), "rdiv": lambda L, x: 2 / x, "true_divide": lambda L, x: L.true_divide(x, 2),
    "pow": lambda L, x: L.pow(x, 2), "pow_float": lambda L, x: x**0.5, "rpow": lambda L, x: 2**x,
    "mul_": lambda L, x: x.clone().mul_(2), "add_": lambda L, x: x.clone().add_(2),
    "sub_": lambda L, x: x.clone().sub_(2), "div_": lambda L, x: x.clone().div_(2),
    "pow_": lambda L, x: x.clone().pow_(2),
    "remainder": lambda L, x: x % 2, "mul_tensor": lambda L, x: x * L.tensor(2.0),
}
# fmt: on


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", list(_SCALAR_OPS))
def test_next_functions_with_a_python_number(op, dtype):
    def structure(lib):
        x = lib.ones(2, 3, dtype=getattr(lib, dtype), requires_grad=True)
        return _structure(_SCALAR_OPS[op](lib, x).grad_fn, 2)

    assert structure(ember) == structure(torch)


def test_scalar_operand_gradient_unchanged():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    ((x * 3) + 1 - 2).div(4).sum().backward()
    assert x.grad.tolist() == [0.75, 0.75]


# -- 3. CopySlices ----------------------------------------------------------------------------------------
# fmt: off
_VIEW_WRITES = {
    "setitem": lambda L, y, w: y.__setitem__(0, w),
    "iadd_column": lambda L, y, w: y[:, 1].__iadd__(w[:3]),
    "select_mul_": lambda L, y, w: y.select(0, 1).mul_(w),
    "mul_number": lambda L, y, w: y[1:].mul_(2),
    "setitem_number": lambda L, y, w: y.__setitem__(0, 5.0),
    "copy_": lambda L, y, w: y[0].copy_(w),
    "zero_": lambda L, y, w: y[0].zero_(),
    "fill_number": lambda L, y, w: y[0].fill_(3.0),
    "fill_tensor": lambda L, y, w: y[0].fill_(w.sum()),
    "addcmul_": lambda L, y, w: y[0].addcmul_(w, w),
    "sub_alpha": lambda L, y, w: y[0].sub_(w, alpha=2),
    "div_": lambda L, y, w: y[0].div_(w),
    "lerp_": lambda L, y, w: y[0].lerp_(w, 0.3),
    "sigmoid_": lambda L, y, w: y[0].sigmoid_(),
    "pow_": lambda L, y, w: y[0].pow_(2),
    "transposed": lambda L, y, w: y.t()[1].mul_(w[:3]),
    "diagonal": lambda L, y, w: y.diagonal().mul_(w[:3]),
    "nested_view": lambda L, y, w: y[1:][0].mul_(w),
    "twice": lambda L, y, w: (y[0].mul_(w), y[:, 2].add_(w[:3])),
    "leaky_relu_": lambda L, y, w: L.nn.functional.leaky_relu(y[0], inplace=True),
}
# fmt: on


def _view_write(lib, op, dtype):
    x = lib.tensor(np.arange(12.0).reshape(3, 4) / 7 + 0.3, dtype=getattr(lib, dtype), requires_grad=True)
    w = lib.tensor(np.arange(4.0) / 5 + 0.2, dtype=getattr(lib, dtype), requires_grad=True)
    y = x.clone()
    _VIEW_WRITES[op](lib, y, w)
    return x, w, y


@pytest.mark.parametrize("op", list(_VIEW_WRITES))
def test_copy_slices_structure(op):
    def structure(lib):
        _, _, y = _view_write(lib, op, "float32")
        return _structure(y.grad_fn, 3)

    assert structure(ember) == structure(torch)


def test_view_written_in_place_reads_the_base():
    def structure(lib):
        x = lib.ones(3, 4, requires_grad=True)
        w = lib.ones(4, requires_grad=True)
        v = x.clone()[0]
        v.add_(w)
        return _structure(v.grad_fn, 3)

    assert structure(ember) == structure(torch)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", list(_VIEW_WRITES))
def test_copy_slices_gradients(op, dtype):
    def gradients(lib):
        x, w, y = _view_write(lib, op, dtype)
        first = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in first if g is not None)
        second = lib.autograd.grad(total, (x, w), allow_unused=True)
        return [None if g is None else g.detach().numpy() for g in (*first, *second)]

    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for mine, theirs in zip(gradients(ember), gradients(torch)):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=tolerance)


def test_copy_slices_refuses_a_second_backward():
    def message(lib):
        x = lib.ones(3, 4, requires_grad=True)
        w = lib.ones(4, requires_grad=True)
        y = x.clone()
        y[0].mul_(w)
        loss = y.sum()
        loss.backward()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
        return str(info.value).replace("torch", "ember")

    assert message(ember) == message(torch)


# -- 4. names of the nodes -------------------------------------------------------------------------------
# fmt: off
_NAMED = {
    "cdist_p2": lambda L, F, x, y: L.cdist(x, y),
    "cdist_p1": lambda L, F, x, y: L.cdist(x, y, p=1),
    "cdist_pinf": lambda L, F, x, y: L.cdist(x, y, p=float("inf")),
    "cdist_mm": lambda L, F, x, y: L.cdist(x.repeat(10, 1), y.repeat(10, 1)),
    "pad_circular": lambda L, F, x, y: F.pad(x.reshape(1, 3, 4), (1, 2), mode="circular"),
    "pad_reflect": lambda L, F, x, y: F.pad(x.reshape(1, 3, 4), (1, 2), mode="reflect"),
    "pad_replicate": lambda L, F, x, y: F.pad(x.reshape(1, 3, 4), (1, 2), mode="replicate"),
    "F_unfold": lambda L, F, x, y: F.unfold(x.reshape(1, 1, 3, 4), 2),
    "F_fold": lambda L, F, x, y: F.fold(x.repeat(1, 2).reshape(1, 4, 6), (3, 4), 2),
    "Tensor_unfold": lambda L, F, x, y: x.unfold(1, 2, 1),
    "rrelu_train": lambda L, F, x, y: F.rrelu(x, training=True),
    "rrelu_eval": lambda L, F, x, y: F.rrelu(x, training=False),
    "rrelu_inplace_train": lambda L, F, x, y: F.rrelu(x * 1, training=True, inplace=True),
    "rrelu_inplace_eval": lambda L, F, x, y: F.rrelu(x * 1, training=False, inplace=True),
    "leaky_relu_inplace": lambda L, F, x, y: F.leaky_relu(x * 1, inplace=True),
    "elu_inplace": lambda L, F, x, y: F.elu(x * 1, inplace=True),
    "hardtanh_inplace": lambda L, F, x, y: F.hardtanh(x * 1, inplace=True),
    "threshold_inplace": lambda L, F, x, y: F.threshold(x * 1, 0.1, 2.0, inplace=True),
    "threshold": lambda L, F, x, y: F.threshold(x, 0.1, 2.0),
    "pdist": lambda L, F, x, y: F.pdist(x),
    "pairwise_distance": lambda L, F, x, y: F.pairwise_distance(x, y),
    "channel_shuffle": lambda L, F, x, y: F.channel_shuffle(x.reshape(1, 4, 3, 1), 2),
}
# fmt: on


@pytest.mark.parametrize("op", list(_NAMED))
def test_grad_fn_names(op):
    def names(lib):
        lib.manual_seed(0)
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=lib.float32, requires_grad=True)
        y = lib.tensor(np.linspace(1, -0.5, 12).reshape(3, 4), dtype=lib.float32, requires_grad=True)
        node = _NAMED[op](lib, lib.nn.functional, x, y).grad_fn
        return type(node).__name__, node.name()

    assert names(ember) == names(torch)
