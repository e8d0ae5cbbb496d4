"""PyTorch's ``_foreach_*`` ops: one op applied to every tensor of a list, the other operand a number,
a list of numbers, a tensor or a list of tensors (one per tensor). Exponential-moving-average and
optimizer code calls them (``torch._foreach_mul_(ema, decay)``); ember runs them as a loop of the
ordinary ops. Out-of-place forms return a tuple, in-place forms the list they were given.

Example::

    >>> params = [ember.ones(2), ember.ones(3)]
    >>> ember._foreach_mul_(params, 0.5)
    [tensor([0.5000, 0.5000]), tensor([0.5000, 0.5000, 0.5000])]
    >>> ember._foreach_add(params, [ember.ones(2), ember.zeros(3)], alpha=2)
    (tensor([2.5000, 2.5000]), tensor([0.5000, 0.5000, 0.5000]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..linalg import vector_norm
from ..tensor import Tensor

_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "clamp_min", "clamp_max")
_UNARY = (
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
    "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
)  # fmt: skip
_TERNARY = ("addcmul", "addcdiv", "lerp")


def _check_same_length(tensors: Sequence[Tensor], other: Any) -> None:
    if isinstance(other, (list, tuple)) and len(other) != len(tensors):
        if all(isinstance(o, Tensor) for o in other):
            raise RuntimeError(
                f"Tensor lists must have the same number of tensors, got {len(tensors)} and {len(other)}"
            )
        raise RuntimeError("Tensor list must have same number of elements as scalar list.")


def _nth(other: Any, i: int) -> Any:
    """The operand of the ``i``-th tensor: the ``i``-th of a list, else ``other`` itself."""
    return other[i] if isinstance(other, (list, tuple)) else other


def _apply(name: str, tensors: Sequence[Tensor], others: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """``t.<name>(...)`` for each tensor ``t``, the operands and keyword values taken one per tensor."""
    if name.rstrip("_") in ("addcmul", "addcdiv") and len(others) == 3:  # the scalars may come positionally
        kwargs = {**kwargs, "value": others[2]}
        others = others[:2]
    for other in (*others, *kwargs.values()):
        _check_same_length(tensors, other)
    method = getattr(Tensor, name)
    return [
        method(t, *(_nth(o, i) for o in others), **{k: _nth(v, i) for k, v in kwargs.items()})
        for i, t in enumerate(tensors)
    ]


def _out_of_place(name: str) -> Callable[..., tuple[Tensor, ...]]:
    def op(self: Sequence[Tensor], *others: Any, **kwargs: Any) -> tuple[Tensor, ...]:
        return tuple(_apply(name, self, others, kwargs))

    op.__name__ = op.__qualname__ = f"_foreach_{name}"
    op.__doc__ = f"``tuple(t.{name}(...) for t in self)``, the operands taken one per tensor where they are lists."
    return op


def _in_place(name: str) -> Callable[..., Sequence[Tensor]]:
    def op(self: Sequence[Tensor], *others: Any, **kwargs: Any) -> Sequence[Tensor]:
        _apply(name + "_", self, others, kwargs)
        return self

    op.__name__ = op.__qualname__ = f"_foreach_{name}_"
    op.__doc__ = f"``t.{name}_(...)`` for each ``t`` of ``self``, the operands taken one per tensor; returns ``self``."
    return op


def _foreach_norm(self: Sequence[Tensor], ord: float = 2, dtype: Any = None) -> tuple[Tensor, ...]:
    """The vector norm of each tensor (``linalg.vector_norm``), a tuple of 0-d tensors."""
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_max(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """The largest element of each tensor, a tuple of 0-d tensors."""
    return tuple(t.max() for t in self)


def _foreach_clone(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """A copy of each tensor."""
    return tuple(t.clone() for t in self)


def _foreach_zero_(self: Sequence[Tensor]) -> Sequence[Tensor]:
    """Fill each tensor with zeros; returns ``self``."""
    for t in self:
        t.zero_()
    return self


def _foreach_copy_(self: Sequence[Tensor], src: Sequence[Tensor], non_blocking: bool = False) -> Sequence[Tensor]:
    """Copy each tensor of ``src`` into the tensor of ``self`` at its place; returns ``self``."""
    _check_same_length(self, src)
    for t, s in zip(self, src):
        t.copy_(s, non_blocking=non_blocking)
    return self


_GENERATED: dict[str, Callable[..., Any]] = {}
for _name in (*_BINARY, *_UNARY, *_TERNARY):
    _GENERATED[f"_foreach_{_name}"] = _out_of_place(_name)
    _GENERATED[f"_foreach_{_name}_"] = _in_place(_name)
globals().update(_GENERATED)

__all__ = [*_GENERATED, "_foreach_norm", "_foreach_max", "_foreach_clone", "_foreach_zero_", "_foreach_copy_"]
