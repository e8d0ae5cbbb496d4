"""Refused calls against PyTorch 2.13: the exception's type and message, or the NotImplemented an operator
returns.

- In-place operators (``x.__iadd__(y, foo=1)``, ``x.__imul__("a")``): PyTorch's turn their method's TypeError
  into NotImplemented, so ``x += "a"`` raises Python's "unsupported operand type(s) for +=" and a keyword the
  method does not take gives NotImplemented; ``alpha`` and ``rounding_mode`` are still taken.
- ``einsum("i,i", [1, 2], x)``, ``einsum(3, x)``: the argument parser's words ("expected Tensor as element 0 in
  argument 1, but got list"; "argument 'equation' (position 1) must be str, not int").
"""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")

_INPLACE_OPERATORS = (
    "__iadd__ __isub__ __imul__ __itruediv__ __idiv__ __ipow__ __imod__ __ifloordiv__ __iand__ __ior__ __ixor__ "
    "__ilshift__ __irshift__"
).split()
_BITWISE = {"__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"}


def _operands(lib, name, device):
    dtype = lib.int64 if name in _BITWISE else lib.float32
    where = {"device": device} if lib is ember else {}
    return lib.ones(2, 3, dtype=dtype, **where), lib.full((2, 3), 2, dtype=dtype, **where)


def _outcome(call, *args, **kwargs):
    """What ``call(*args, **kwargs)`` gives: NotImplemented, a tensor's values, or the error's type and message."""
    try:
        result = call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error)
    return result if result is NotImplemented else result.tolist()


# -- in-place operators -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", _INPLACE_OPERATORS)
@pytest.mark.parametrize(
    "given", [{"foo": 1}, {"out": None}, {"alpha": 2}, {"rounding_mode": "floor"}], ids=lambda kw: next(iter(kw))
)
def test_inplace_operator_keywords_as_torch(device, name, given):
    outcomes = []
    for lib in (torch, ember):
        x, y = _operands(lib, name, device)
        outcomes.append((_outcome(getattr(x, name), y, **given), x.tolist()))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("name", _INPLACE_OPERATORS)
@pytest.mark.parametrize("other", ["a", None, [1.0, 2.0], {}], ids=lambda o: type(o).__name__)
def test_inplace_operator_unknown_operand_is_not_implemented(device, name, other):
    outcomes = [_outcome(getattr(_operands(lib, name, device)[0], name), other) for lib in (torch, ember)]
    assert outcomes[1] == outcomes[0] == NotImplemented


@pytest.mark.parametrize(
    "statement", ["x += 'a'", "x -= [1, 2]", "x *= None", "x /= 'a'", "x //= {}", "x %= 'a'", "x **= 'a'"]
)
def test_augmented_assignment_error_is_pythons(device, statement):
    def run(lib):
        exec(statement, {"x": _operands(lib, "__iadd__", device)[0]})  # noqa: S102 - the statement tested

    same_error(run)


@pytest.mark.parametrize("statement", ["x &= 'a'", "x |= None", "x ^= []", "x <<= 'a'", "x >>= ()"])
def test_augmented_bitwise_assignment_error_is_pythons(device, statement):
    def run(lib):
        exec(statement, {"x": _operands(lib, "__iand__", device)[0]})  # noqa: S102 - the statement tested

    same_error(run)


def test_inplace_operator_keeps_the_tensor(device):
    x, y = _operands(ember, "__iadd__", device)
    z = x
    z += y
    z -= y * 0.5
    z *= 2
    z /= y
    assert z is x and x.tolist() == [[2.0] * 3] * 2


# -- einsum with operands that are not tensors --------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.einsum("i,i", [1, 2], x),
        lambda lib, x: lib.einsum("i", 3),
        lambda lib, x: lib.einsum("i,i", x, [1.0, 2.0, 3.0]),
        lambda lib, x: lib.einsum("i", None),
        lambda lib, x: lib.einsum("i,i", [x, 3]),
        lambda lib, x: lib.einsum("i,i", x, "a"),
        lambda lib, x: lib.einsum(3, x),
        lambda lib, x: lib.einsum(b"i,j", x),
    ],
)
def test_einsum_operand_types_as_torch(device, call):
    same_error(lambda lib: call(lib, lib.ones(3, device=device) if lib is ember else lib.ones(3)))


def test_einsum_takes_a_bytes_equation_as_torch(device):
    x = ember.arange(3.0, device=device)
    assert ember.einsum(b"i,i", x, x).item() == torch.einsum(b"i,i", torch.arange(3.0), torch.arange(3.0)).item()


# -- pooling and padding with sizes of the wrong type or value ----------------------------------------------
_POOLING_CALLS = """
F.max_pool2d(x, kernel_size=(2, True))
F.max_pool2d(x, 2, stride=-1)
F.max_pool2d(x, 2, dilation=-1)
F.max_pool2d(x, (-1, 2), padding=1)
F.max_pool1d(x[0], 2, stride=-1, return_indices=True)
F.max_pool1d(x[0], 2, dilation=-1, return_indices=True)
F.max_pool1d(x[0], -1, return_indices=True)
F.avg_pool1d(x[0], 2, stride=-1)
F.avg_pool2d(x, -1)
F.max_pool3d(x[None], 2, stride=-1)
F.max_pool3d(x[None], 2, dilation=-1)
F.avg_pool3d(x[None], 2, stride=2, padding=-1)
F.avg_pool2d(x, kernel_size=(2, True))
F.lp_pool2d(x, 2, (2, True))
F.max_pool2d(x, 2, stride=(1, True))
F.max_pool2d(x, 2, padding=(True, 0))
F.max_pool2d(x, True)
F.max_pool2d(x, (2.0, 2))
F.max_pool2d(x, (2, "a"))
F.avg_pool2d(x, (2, None))
F.max_pool2d(x, 2.5)
F.max_pool1d(x[0], 2.5)
F.max_pool3d(x[None], 2.5)
F.max_pool2d(x, "a")
F.max_pool2d(x, None)
F.avg_pool2d(x, 2, stride=2.5)
F.max_pool2d(x, 2, 2, 1.5)
F.max_pool2d(x, 2, 2, 0, 1.5)
F.max_pool2d(x, kernel_size=0)
F.avg_pool2d(x, kernel_size=0)
F.max_pool3d(x[None], 0)
F.avg_pool1d(x[0], 0)
F.max_pool1d(x[0], 0)
F.max_pool2d(x, 0, stride=1)
F.avg_pool2d(x, 0, stride=1)
F.avg_pool1d(x[0], 0, stride=1)
F.avg_pool3d(x[None], 0, stride=1)
F.max_pool2d(x, -1)
F.max_pool2d(x, 0, 0)
F.lp_pool2d(x, 2, 0)
F.max_pool1d(x[0], 2, padding=2)
F.max_pool1d(x[0], 3, padding=2, dilation=2)
F.max_pool1d(x[0], (2, True))
F.avg_pool1d(x[0], (2, True))
F.max_pool1d(x[0], [])
F.avg_pool1d(x[0], [])
F.max_pool1d(x[0], 2, (1, 2))
F.max_pool1d(x[0], 2, 1, (1, 1))
F.max_pool1d(x[0], 2, 1, 0, (1, 1))
F.avg_pool1d(x[0], 2, (1, 2))
F.avg_pool1d(x[0], 2, 1, (1, 1))
F.max_pool3d(x[None], (2, True, 1))
F.max_pool2d(x, 2, ceil_mode=1)
F.max_pool1d(x[0], 2, ceil_mode=None)
F.max_pool3d(x[None], 2, ceil_mode=1)
F.avg_pool2d(x, 2, ceil_mode=1)
F.avg_pool1d(x[0], 2, ceil_mode=1)
F.avg_pool2d(x, 2, count_include_pad=2)
F.avg_pool2d(x[0, 0, 0], 2)
F.avg_pool2d(x[0, 0], 2)
F.avg_pool2d(x.sum(), 2)
F.adaptive_avg_pool2d(x, (2, True))
F.adaptive_max_pool2d(x, (2, True))
F.adaptive_avg_pool3d(x, (2, True, 1))
F.adaptive_avg_pool2d(x, "a")
F.adaptive_max_pool2d(x, "ab")
F.adaptive_avg_pool2d(x, 2.5)
F.adaptive_max_pool2d(x, 2.5)
F.adaptive_avg_pool2d(x, None)
F.adaptive_max_pool2d(x, None)
F.adaptive_avg_pool3d(x, None)
F.adaptive_avg_pool2d(x, (2.5, 2))
F.adaptive_max_pool2d(x, (None, 2.5))
F.adaptive_avg_pool1d(x[0], (True,))
F.adaptive_avg_pool1d(x[0], (2.5,))
F.adaptive_avg_pool1d(x[0], None)
F.adaptive_max_pool1d(x[0], None)
F.adaptive_avg_pool2d(x, True)
F.adaptive_max_pool1d(x[0], True)
F.adaptive_avg_pool1d(x[0], [])
F.adaptive_avg_pool2d(x, (2, 2, 2, 2))
F.adaptive_avg_pool2d(x, {2: 1, 3: 2})
F.adaptive_avg_pool2d(x[0], (None, 2))
F.pad(x, (1.5, 1))
F.pad(x, (1, 1.5))
F.pad(x, (1, None))
F.pad(x, (True, 1))
F.pad(x, (1, True))
F.pad(x, "a")
F.pad(x, 1)
F.pad(x, None)
F.pad(x, [1, 1], value="a")
F.pad(x, (1, 1), value=1j)
F.pad(x, (1, 1), value=[1])
F.pad(x, (1, 1), "reflect", "a")
F.pad(x, (1, 1), mode=1)
F.pad(x, (1, 1), mode=None)
F.pad(x, (1,))
F.pad(x, (1, 1, 1))
F.pad(x, (1,) * 10)
F.pad(x, (4, 4), mode="reflect")
F.pad(x, (1,) * 10, mode="replicate")
"""


@pytest.mark.parametrize("call", _POOLING_CALLS.strip().splitlines())
def test_pooling_and_padding_sizes_as_torch(device, call):
    def run(lib):
        x = lib.arange(16.0, device=device) if lib is ember else lib.arange(16.0)
        return eval(call, {"F": lib.nn.functional, "x": x.reshape(1, 1, 4, 4)})  # noqa: S307 - the call tested

    try:
        expected = run(torch)
    except Exception:  # noqa: BLE001 - PyTorch refuses it: ember raises the same
        same_error(run)
    else:  # (a device may round the power means otherwise)
        np.testing.assert_allclose(run(ember).tolist(), expected.tolist(), rtol=1e-6)


def test_size_of_a_zero_dimensional_tensor_as_torch(device):
    same_error(lambda lib: (lib.ones((), device=device) if lib is ember else lib.ones(())).size(-3))
    same_error(lambda lib: (lib.ones((), device=device) if lib is ember else lib.ones(())).size(0))


# -- top-level in-place functions given something other than a tensor ------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "abs_",
        "exp_",
        "sigmoid_",
        "clamp_",
        "clip_",
        "clamp_min_",
        "fill_",
        "xlogy_",
        "addmv_",
        "zero_",
        "nan_to_num_",
        "detach_",
    ],
)
@pytest.mark.parametrize("operand", ["a", None, [1.0, 2.0]], ids=lambda o: type(o).__name__)
def test_top_level_inplace_refuses_a_non_tensor_as_torch(name, operand):
    same_error(lambda lib: getattr(lib, name)(operand))


def test_top_level_inplace_writes_the_tensor(device):
    x = ember.tensor([-1.0, 2.0], device=device)
    assert ember.abs_(x) is x and x.tolist() == [1.0, 2.0]
    assert ember.clamp_(x, max=1.5) is x and x.tolist() == [1.0, 1.5]


# -- Python's own errors name the op (not "_compare.<locals>.op()") -------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.logical_and(x, x, foo=1),
        lambda lib, x: lib.logical_xor(x, x, foo=1),
        lambda lib, x: x.float(foo=1),
        lambda lib, x: x.double(foo=1),
        lambda lib, x: x.bool(memory_format=None, foo=1),
        lambda lib, x: lib.ones_like(x, foo=1),
        lambda lib, x: x.new_ones(2, foo=1),
    ],
)
def test_unexpected_keyword_names_the_op_as_torch(device, call):
    same_error(lambda lib: call(lib, lib.ones(2, device=device) if lib is ember else lib.ones(2)))


@pytest.mark.parametrize(
    "name", ["eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "logical_or", "ones", "zeros_like"]
)
def test_generated_ops_are_named_after_themselves(name):
    # Python names a function by its qualified name in its own errors ("eq() got an unexpected keyword ...")
    assert getattr(ember, name).__qualname__ == name


# -- an argument's position: a method's parser does not count self ---------------------------------------------
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "atan2", "fmax", "hypot", "outer"])
@pytest.mark.parametrize("bad", ["a", None, [1.0, "b"]], ids=lambda b: type(b).__name__)
def test_argument_position_of_method_and_function_as_torch(device, name, bad):
    def tensor(lib):
        return lib.ones(2, device=device) if lib is ember else lib.ones(2)

    same_error(lambda lib: getattr(tensor(lib), name)(bad))
    same_error(lambda lib: getattr(lib, name)(tensor(lib), bad))


def test_topk_position_of_method_and_function_as_torch(device):
    def tensor(lib):
        return lib.ones(3, device=device) if lib is ember else lib.ones(3)

    same_error(lambda lib: tensor(lib).topk("a"))
    same_error(lambda lib: lib.topk(tensor(lib), "a"))
