"""Refused calls against PyTorch 2.13: the exception's type and message, or the NotImplemented an operator
returns.

- In-place operators (``x.__iadd__(y, foo=1)``, ``x.__imul__("a")``): PyTorch's turn their method's TypeError
  into NotImplemented, so ``x += "a"`` raises Python's "unsupported operand type(s) for +=" and a keyword the
  method does not take gives NotImplemented; ``alpha`` and ``rounding_mode`` are still taken.
- ``einsum("i,i", [1, 2], x)``, ``einsum(3, x)``: the argument parser's words ("expected Tensor as element 0 in
  argument 1, but got list"; "argument 'equation' (position 1) must be str, not int").
"""

from __future__ import annotations

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
