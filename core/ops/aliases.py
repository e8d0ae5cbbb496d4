"""PyTorch's other names for ops ember has under one name (NumPy's spellings and long forms):
``moveaxis``, ``greater``/``less``/``not_equal`` and their ``_equal`` forms, ``arccos``/``arcsin``/
``arctan``/``arctan2``, ``absolute``, ``row_stack``. As PyTorch's, each is a function of its own, named
after the alias (``ember.arctan.__name__ == "arctan"``, ``ember.arctan is not ember.atan``), that runs the
very code of the op it stands for: a ``__torch_function__`` handler or a mode sees the name called."""

from __future__ import annotations

from typing import Any

from .arithmetic import abs, acos, asin, atan, atan2, ge, gt, le, lt, ne  # noqa: A004
from .movement import movedim, vstack
from .operands import renamed

__all__ = [
    "moveaxis", "greater", "greater_equal", "less", "less_equal", "not_equal", "arccos", "arcsin", "arctan",
    "arctan2", "absolute", "row_stack",
]  # fmt: skip

#: PyTorch's other names of ops, at the top level and on Tensor (the in-place forms with their ``_``): each
#: a function of its own under its name, as PyTorch's (``torch.arctan is not torch.atan``)
TORCH_ALIASES = frozenset(
    """absolute absolute_ arccos arccos_ arccosh arccosh_ arcsin arcsin_ arcsinh arcsinh_ arctan arctan_ arctan2
    arctan2_ arctanh arctanh_ clip clip_ concat concatenate divide divide_ ger greater greater_ greater_equal
    greater_equal_ less less_ less_equal less_equal_ moveaxis multiply multiply_ negative negative_ not_equal
    not_equal_ row_stack subtract subtract_ swapdims swapdims_ true_divide_""".split()
)


def rename_aliases(namespace: dict[str, Any]) -> None:
    """Give the aliases in ``namespace`` (a module's globals, or a table of Tensor methods) their own
    functions: :data:`TORCH_ALIASES` each :func:`renamed` after itself."""
    for name in TORCH_ALIASES.intersection(namespace):
        namespace[name] = renamed(namespace[name], name)


moveaxis = renamed(movedim, "moveaxis")
greater, greater_equal, less, less_equal, not_equal = (
    renamed(gt, "greater"),
    renamed(ge, "greater_equal"),
    renamed(lt, "less"),
    renamed(le, "less_equal"),
    renamed(ne, "not_equal"),
)
arccos, arcsin, arctan, arctan2 = (
    renamed(acos, "arccos"),
    renamed(asin, "arcsin"),
    renamed(atan, "arctan"),
    renamed(atan2, "arctan2"),
)
absolute = renamed(abs, "absolute")
row_stack = renamed(vstack, "row_stack")
