"""PyTorch's other names for ops ember has under one name (NumPy's spellings and long forms):
``moveaxis``, ``greater``/``less``/``not_equal`` and their ``_equal`` forms, ``arccos``/``arcsin``/
``arctan``/``arctan2``, ``absolute``, ``row_stack``. Each is the very same function."""

from __future__ import annotations

from .arithmetic import abs, acos, asin, atan, atan2, ge, gt, le, lt, ne  # noqa: A004
from .movement import movedim, vstack

__all__ = [
    "moveaxis", "greater", "greater_equal", "less", "less_equal", "not_equal", "arccos", "arcsin", "arctan",
    "arctan2", "absolute", "row_stack",
]  # fmt: skip

moveaxis = movedim
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
arccos, arcsin, arctan, arctan2 = acos, asin, atan, atan2
absolute = abs
row_stack = vstack
