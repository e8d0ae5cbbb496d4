"""Leftovers of torch.masked and F.linear against PyTorch: the gradient of ``as_masked_tensor`` of a tensor with a
history (a MaskedTensor all the way down, as PyTorch's backward formulas compute on it), ``where`` of
MaskedTensors followed by an op, a number on the left of a reflected operator (Python's TypeError), a 2-argument
``where`` (the argument parser's TypeError); the tensors the saved-tensor pack hook sees for ``F.linear``
(PyTorch's ops save the input's rows and ``weight.t()``, views, ``mm`` its ``mat2`` first), and the profiler's
``aten::linear`` events of multi-head attention."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_PROTOTYPE = "The PyTorch API of MaskedTensors is in prototype stage"

pytestmark = [
    pytest.mark.filterwarnings(f"ignore:{_PROTOTYPE}:UserWarning"),
    pytest.mark.filterwarnings("ignore:It is not recommended to create a MaskedTensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*is not implemented in __torch_dispatch__:UserWarning"),
]

_MASK = [[True, False, True], [False, True, True]]


def _place(lib, device):
    return {"device": device} if lib is ember else {}


def _described(g):
    """A tensor as comparable values: its type, its data and, for a MaskedTensor, its mask."""
    if g is None:
        return None
    masked = type(g).__name__ == "MaskedTensor"
    data = np.asarray((g.get_data() if masked else g).detach().cpu().tolist(), dtype=np.float64)
    return ("MaskedTensor", data, g.get_mask().cpu().tolist()) if masked else ("Tensor", data, None)


def _same(ours, theirs):
    """Equal lists of :func:`_described` tensors (their values to float32's precision)."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            assert (a[0], a[2]) == (b[0], b[2])
            np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=1e-6)


# (input shape, the op of the tensor with a history that as_masked_tensor takes): PyTorch's backward formulas of
# each op compute on the MaskedTensor gradient and keep it one
_HISTORIES = {
    "mul": ((2, 3), lambda lib, x: x * 2),
    "exp": ((2, 3), lambda lib, x: x.exp()),
    "sin_pow": ((2, 3), lambda lib, x: x.sin() ** 2),
    "broadcast_add": ((3,), lambda lib, x: x + lib.ones(2, 3, dtype=x.dtype, device=x.device)),
    "expand": ((3,), lambda lib, x: x.expand(2, 3)),
    "reshape": ((6,), lambda lib, x: x.reshape(2, 3)),
    "t": ((3, 2), lambda lib, x: x.t()),
    "transpose": ((3, 2), lambda lib, x: x.transpose(0, 1)),
    "sum": ((4, 2, 3), lambda lib, x: x.sum(0)),
    "stack": ((3,), lambda lib, x: lib.stack([x, x.detach() * 2])),
    "clone": ((2, 3), lambda lib, x: x.clone()),
}


def _non_leaf_gradients(lib, device, dtype, case):
    shape, op = _HISTORIES[case]
    rng = np.random.default_rng(7)
    place = _place(lib, device)
    x = lib.tensor(
        rng.standard_normal(shape).tolist(), dtype=getattr(lib, str(dtype).split(".")[-1]), **place
    ).requires_grad_()
    y = op(lib, x)
    y.retain_grad()
    mt = lib.masked.as_masked_tensor(y, lib.tensor(_MASK, **place))
    mt.retain_grad()
    (mt * 3).sum().backward()
    return [_described(t.grad) for t in (x, y, mt)]


@pytest.mark.parametrize("case", sorted(_HISTORIES))
def test_gradient_through_as_masked_tensor_of_a_non_leaf_is_torchs(device, dtype, case):
    ours = _non_leaf_gradients(ember, device, dtype, case)
    theirs = _non_leaf_gradients(torch, device, dtype, case)
    assert [g[0] for g in ours] == ["MaskedTensor"] * 3
    _same(ours, theirs)


def test_a_masked_gradient_reaching_matmul_is_refused_as_torchs(device):
    # PyTorch's mm has no MaskedTensor rule ("Multiple dispatch failed for 'torch._ops.aten.mm.default'"); ember's
    # formula's ``@`` gives way ("unsupported operand type(s) for @"): a TypeError both
    for lib in (ember, torch):
        place = _place(lib, device)
        x = lib.ones(2, 3, requires_grad=True, **place)
        mt = lib.masked.as_masked_tensor(x @ lib.ones(3, 3, **place), lib.tensor(_MASK, **place))
        with pytest.raises(TypeError):
            mt.sum().backward()


def test_masked_gradients_of_other_masks_meeting_at_a_tensor_are_refused_as_torchs(device):
    errors = []
    for lib in (ember, torch):
        place = _place(lib, device)
        x = lib.ones(3, requires_grad=True, **place)
        mt = lib.masked.as_masked_tensor(lib.stack([x, x * 2]), lib.tensor(_MASK, **place))
        with pytest.raises(ValueError) as error:
            mt.sum().backward()
        errors.append(str(error.value))
    assert errors[0] == errors[1]


_WHERE_OPS = {
    "exp": lambda w: w.exp(),
    "mul": lambda w: w * 2,
    "add_itself": lambda w: w + w,
    "neg": lambda w: -w,
    "sum": lambda w: w.sum(),
}


def _where_then(lib, device, dtype, operands, op):
    place = _place(lib, device)
    kind = getattr(lib, str(dtype).split(".")[-1])
    data = lib.tensor([0.1, 0.2, 0.3, 0.4], dtype=kind, **place)
    a = lib.masked.masked_tensor(data, lib.tensor([True, False, True, False], **place), requires_grad=True)
    b = lib.masked.masked_tensor(data * 2, lib.tensor([False, False, True, True], **place), requires_grad=True)
    p = (data * 1).requires_grad_()
    plain = p * 3  # a tensor with a history
    condition = lib.tensor([True, True, False, False], **place)
    chosen = {"masked_masked": (a, b), "masked_plain": (a, plain), "plain_masked": (plain, b)}[operands]
    result = _WHERE_OPS[op](lib.where(condition, *chosen))
    described = _described(result)
    (result.exp() * 2).sum().backward() if result.dim() else (result.exp() * 2).backward()
    return [described] + [_described(t.grad) for t in (a, b, p)]


@pytest.mark.parametrize("op", sorted(_WHERE_OPS))
@pytest.mark.parametrize("operands", ["masked_masked", "masked_plain", "plain_masked"])
def test_where_of_masked_tensors_then_an_op_is_torchs(device, dtype, operands, op):
    _same(_where_then(ember, device, dtype, operands, op), _where_then(torch, device, dtype, operands, op))


def _refusal(program, names):
    try:
        result = eval(program, names)  # noqa: S307 - the test's own programs
    except TypeError as error:
        return "TypeError", str(error)
    return "returned", repr(result) if result is NotImplemented else type(result).__name__


@pytest.mark.parametrize(
    "program", ["2 - mt", "2 ** mt", "2.5 - mt", "mt.__rsub__(2)", "2 + mt", "2 * mt", "2 / mt", "mt - 2"]
)
def test_a_number_on_the_left_of_a_masked_tensor_is_torchs(program):
    outcomes = []
    for lib in (ember, torch):
        mt = lib.masked.masked_tensor(lib.tensor([1.0, 2.0]), lib.tensor([True, False]))
        outcomes.append(_refusal(program, {"mt": mt}))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("program", ["2 - s", "s - 2", "s.__rsub__(2)", "2 ** s", "s // 2"])
def test_an_operator_whose_handlers_decline_gives_way_as_torchs(program):
    outcomes = []
    for lib in (ember, torch):

        class Declines(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented

        s = lib.tensor([1.0, 2.0]).as_subclass(Declines)
        outcomes.append(_refusal(program, {"s": s}))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("operand", ["masked", "plain", "number"])
def test_where_of_two_arguments_is_refused_as_torchs(operand):
    errors = []
    for lib in (ember, torch):
        condition = lib.tensor([True, False])
        mt = lib.masked.masked_tensor(lib.tensor([1.0, 2.0]), condition)
        second = {"masked": mt, "plain": lib.tensor([1.0, 2.0]), "number": 1.5}[operand]
        with pytest.raises(TypeError) as error:
            lib.where(condition, second)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_where_of_one_masked_argument_is_refused_as_torchs():
    errors = []
    for lib in (ember, torch):
        mt = lib.masked.masked_tensor(lib.tensor([1.0, 2.0]), lib.tensor([True, False]))
        with pytest.raises(ValueError) as error:
            lib.where(mt > 1)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


# --- F.linear: what the saved-tensor hooks see ---------------------------------------------------------------


def _packed(lib, device, dtype, in_shape, bias, needs_x, needs_w, pack_copy):
    seen = []

    def pack(t):
        seen.append((tuple(t.shape), tuple(t.stride()), t.requires_grad, t._base is not None))
        return t.clone() if pack_copy else t

    place = _place(lib, device)
    kind = getattr(lib, str(dtype).split(".")[-1])
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.standard_normal((3, 4)).tolist(), dtype=kind, **place).requires_grad_(needs_w)
    b = lib.tensor([0.5, -1.0, 2.0], dtype=kind, **place).requires_grad_() if bias else None
    x = lib.tensor(rng.standard_normal(in_shape).tolist(), dtype=kind, **place).requires_grad_(needs_x)
    with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = lib.nn.functional.linear(x, w, b)
    (y * y).sum().backward()
    grads = [_described(t.grad) for t in (x, w, b) if t is not None]
    return seen, y.grad_fn.name(), grads


@pytest.mark.parametrize("needs", ["weight", "input", "both"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("in_shape", [(4,), (2, 4), (2, 5, 4), (3, 2, 5, 4)])
def test_linear_pack_hook_sees_torchs_saved_tensors(device, dtype, in_shape, bias, needs):
    flags = (needs != "weight", needs != "input")
    ours = _packed(ember, device, dtype, in_shape, bias, *flags, pack_copy=False)
    theirs = _packed(torch, device, dtype, in_shape, bias, *flags, pack_copy=False)
    assert ours[:2] == theirs[:2]
    _same(ours[2], theirs[2])


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("in_shape", [(4,), (2, 4), (2, 5, 4)])
def test_linear_gradients_from_packed_copies_are_torchs(device, in_shape, bias):
    ours = _packed(ember, device, "float64", in_shape, bias, True, True, pack_copy=True)
    theirs = _packed(torch, device, "float64", in_shape, bias, True, True, pack_copy=True)
    assert ours[:2] == theirs[:2]
    _same(ours[2], theirs[2])


def test_linear_second_derivative_through_saved_tensor_hooks_is_torchs(device):
    results = []
    for lib in (ember, torch):
        place = _place(lib, device)
        w = lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64, **place).requires_grad_()
        x = lib.tensor([[2.0, 1.0], [-1.0, 0.5], [0.0, 4.0]], dtype=lib.float64, **place).requires_grad_()
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = lib.nn.functional.linear(x, w)
            (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        gx.sum().backward()
        results.append([_described(t.grad) for t in (x, w)])
    _same(*results)


# --- the profiler's events of multi-head attention -----------------------------------------------------------

_ATTENTION = {
    "mha": (lambda lib: lib.nn.MultiheadAttention(8, 2), lambda lib: (lib.randn(3, 2, 8),) * 3),
    "mha_batch_first": (
        lambda lib: lib.nn.MultiheadAttention(8, 2, batch_first=True),
        lambda lib: (lib.randn(2, 3, 8),) * 3,
    ),
    "mha_kdim_vdim": (
        lambda lib: lib.nn.MultiheadAttention(8, 2, kdim=4, vdim=6),
        lambda lib: (lib.randn(3, 2, 8), lib.randn(5, 2, 4), lib.randn(5, 2, 6)),
    ),
    "mha_no_weights": (
        lambda lib: lib.nn.MultiheadAttention(8, 2),
        lambda lib: (*(lib.randn(3, 2, 8),) * 3, None, False),
    ),
    "encoder_layer": (
        lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
        lambda lib: (lib.randn(3, 2, 8),),
    ),
}


def _product_events(lib, case, grad):
    make, inputs = _ATTENTION[case]
    lib.manual_seed(0)
    module = make(lib)
    args = inputs(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's note about the nested-tensor fast path
        with lib.set_grad_enabled(grad), lib.profiler.profile() as prof:
            module(*args)
    names = [event.name for event in prof.events()]
    return [name for name in names if any(part in name for part in ("linear", "addmm", "matmul")) or name == "aten::mm"]


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("case", sorted(_ATTENTION))
def test_attention_profiler_linear_events_are_torchs(case, grad):
    ours = _product_events(ember, case, grad)
    assert ours == _product_events(torch, case, grad)
    assert "aten::linear" in ours
