"""PyTorch's ``sym_*`` helpers (``sym_int``, ``sym_max``, ...) for code written to trace with symbolic sizes.

In PyTorch they compute on ``SymInt``/``SymFloat`` sizes without branching while ``torch.export``
traces, and on plain numbers as Python does. ember's sizes are always concrete numbers, so these
are the plain-number forms, with PyTorch's rules (``sym_max`` of an int and a float is a float).

:class:`SymInt`, :class:`SymFloat` and :class:`SymBool` are PyTorch's classes of those symbolic values, for
the ``isinstance`` checks of code that handles both kinds: no ember size, shape or number is one of them
(a plain ``int`` is not a ``SymInt``, as in PyTorch).
"""

from __future__ import annotations

import builtins
import math
import numbers
from typing import Any

__all__ = [
    "SymInt",
    "SymFloat",
    "SymBool",
    "sym_int",
    "sym_float",
    "sym_max",
    "sym_min",
    "sym_not",
    "sym_ite",
    "sym_sqrt",
    "sym_sum",
]


class _SymScalar:
    """A symbolic number: a node of a traced graph standing for a value known only when the graph runs."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node

    def __repr__(self) -> str:
        return repr(self.node)


class SymInt(_SymScalar):
    """PyTorch's symbolic ``int`` (a size that ``torch.export`` keeps symbolic). ember's sizes are concrete
    ints, so no ember value is one; ``isinstance(n, (int, ember.SymInt))`` accepts what PyTorch code expects.

    Example::

        >>> isinstance(ember.zeros(3).shape[0], ember.SymInt)
        False
    """

    __slots__ = ()


class SymFloat(_SymScalar):
    """PyTorch's symbolic ``float``; no ember value is one (see :class:`SymInt`).

    Example::

        >>> isinstance(2.5, ember.SymFloat)
        False
    """

    __slots__ = ()


class SymBool(_SymScalar):
    """PyTorch's symbolic ``bool``; no ember value is one (see :class:`SymInt`).

    Example::

        >>> isinstance(True, ember.SymBool)
        False
    """

    __slots__ = ()


def sym_int(a: Any) -> int:
    """``int(a)``: a float is truncated toward zero.

    Example::

        >>> ember.sym_int(-3.7)
        -3
    """
    return builtins.int(a)


def sym_float(a: Any) -> float:
    """``float(a)``.

    Example::

        >>> ember.sym_float(3)
        3.0
    """
    return builtins.float(a)


def _check_numbers(a: Any, b: Any) -> bool:
    """Whether either of the numbers ``a``, ``b`` is a float (PyTorch's sym_max/sym_min take only numbers)."""
    for value in (a, b):
        if not isinstance(value, numbers.Real):
            raise AssertionError(f"expected int or float, got {type(value)}")
    return isinstance(a, float) or isinstance(b, float)


def sym_max(a: Any, b: Any) -> Any:
    """The larger of numbers ``a`` and ``b``; a float if either is.

    Example::

        >>> ember.sym_max(2, 5), ember.sym_max(2, 5.0)
        (5, 5.0)
    """
    either_float = _check_numbers(a, b)
    return builtins.float(builtins.max(a, b)) if either_float else builtins.max(a, b)


def sym_min(a: Any, b: Any) -> Any:
    """The smaller of numbers ``a`` and ``b``; a float if either is.

    Example::

        >>> ember.sym_min(2, 5), ember.sym_min(2.0, 5)
        (2, 2.0)
    """
    either_float = _check_numbers(a, b)
    return builtins.float(builtins.min(a, b)) if either_float else builtins.min(a, b)


def sym_not(a: Any) -> bool:
    """``not a``.

    Example::

        >>> ember.sym_not(True)
        False
    """
    return not a


def sym_ite(b: bool, t: Any, f: Any) -> Any:
    """``t if b else f``, for ``t`` and ``f`` of one type (PyTorch's rule).

    Example::

        >>> ember.sym_ite(False, 1, 2)
        2
    """
    if not isinstance(b, bool):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    return t if b else f


def sym_sqrt(a: Any) -> float:
    """``math.sqrt(a)``.

    Example::

        >>> ember.sym_sqrt(4)
        2.0
    """
    return math.sqrt(a)


def sym_sum(*args: Any) -> Any:
    """The sum of the numbers given, as ``sym_sum(a, b, c)`` or ``sym_sum([a, b, c])``.

    Example::

        >>> ember.sym_sum([1, 2, 3]), ember.sym_sum(1, 2.5)
        (6, 3.5)
    """
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    return builtins.sum(args)
