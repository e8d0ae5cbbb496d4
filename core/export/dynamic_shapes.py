"""Which input sizes of an exported program may vary: :class:`Dim`, and the checks ("guards") the
exported module runs on its inputs, as PyTorch's does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["Dim", "InputGuard", "guards_from_meta", "check_inputs"]


class Dim:
    """A size that may vary between calls of an exported program (``torch.export.Dim``).

    Args:
        name (str): the symbol's name; two inputs' dimensions given the same :class:`Dim` must be equal.
        min (int, optional): the smallest size allowed. Default: ``None`` (no bound)
        max (int, optional): the largest size allowed. Default: ``None`` (no bound)

    ``Dim.AUTO`` and ``Dim.DYNAMIC`` mark a size as varying under a name of its own; ``Dim.STATIC``
    (or ``None``) keeps it fixed to the example's.

    Example::

        >>> import ember.export
        >>> batch = ember.export.Dim("batch", min=1, max=64)
        >>> model = ember.nn.Linear(3, 2)
        >>> ep = ember.export.export(model, (ember.randn(4, 3),), dynamic_shapes={"input": {0: batch}})
        >>> ep.module()(ember.randn(9, 3)).shape
        ember.Size([9, 2])
        >>> ep.range_constraints
        {'batch': (1, 64)}
    """

    AUTO: Dim
    DYNAMIC: Dim
    STATIC: Dim

    def __init__(self, name: str, *, min: int | None = None, max: int | None = None) -> None:  # noqa: A002
        self.__name__ = name
        self.min = min
        self.max = max

    def __repr__(self) -> str:
        if self in (Dim.AUTO, Dim.DYNAMIC, Dim.STATIC):
            return f"Dim.{self.__name__}"
        return f"Dim({self.__name__!r}, min={self.min}, max={self.max})"


Dim.AUTO = Dim("AUTO")
Dim.DYNAMIC = Dim("DYNAMIC")
Dim.STATIC = Dim("STATIC")

#: one input's check: its name in messages and, per dimension, the fixed size, or ``(symbol, min, max)``,
#: or None (not checked: a size given by an expression of symbols)
InputGuard = tuple[str, list[Any]]

_SYMBOL = re.compile(r"^Symbol\('([^']+)'[^()]*\)$")


def guards_from_meta(name: str, sizes: list[dict[str, Any]], ranges: dict[str, tuple[Any, Any]]) -> InputGuard:
    """The check of an input whose sizes the archive gives as ``[{"as_int": 4}, {"as_expr": ...}]``."""
    dims: list[Any] = []
    for size in sizes:
        if "as_int" in size:
            dims.append(int(size["as_int"]))
            continue
        match = _SYMBOL.match(size.get("as_expr", {}).get("expr_str", ""))
        if match is None:
            dims.append(None)
        else:
            low, high = ranges.get(match.group(1), (None, None))
            dims.append((match.group(1), low, high))
    return name, dims


def _bound(value: Any) -> int | None:
    """A range bound of the archive: an int, or None for unbounded (``int_oo``, very large numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        v = int(value)
    except (TypeError, ValueError):
        return None
    return v if abs(v) < 2**62 else None


def check_inputs(guards: Sequence[InputGuard | None], inputs: Sequence[Any]) -> None:
    """Raises ``AssertionError("Guard failed: ...")`` where an input's size breaks its guard, as PyTorch's module."""
    seen: dict[str, tuple[str, int]] = {}
    for guard, value in zip(guards, inputs):
        if guard is None or not hasattr(value, "shape"):
            continue
        name, dims = guard
        shape = tuple(value.shape)  # the rank is not checked, as PyTorch's guards do not
        for i, (dim, size) in enumerate(zip(dims, shape)):
            where = f"{name}.size()[{i}]"
            if isinstance(dim, int):
                if size != dim:
                    raise AssertionError(f"Guard failed: {where} == {dim}")
            elif isinstance(dim, tuple):
                symbol, low, high = dim
                low, high = _bound(low), _bound(high)
                if high is not None and size > high:
                    raise AssertionError(f"Guard failed: {where} <= {high}")
                if low is not None and size >= 2 and size < low:  # 0 and 1 are specialized apart, as PyTorch
                    raise AssertionError(f"Guard failed: {where} >= {low}")
                if symbol in seen:
                    first, first_size = seen[symbol]
                    if size != first_size:
                        raise AssertionError(f"Guard failed: {where} == {first}")
                else:
                    seen[symbol] = (where, size)
