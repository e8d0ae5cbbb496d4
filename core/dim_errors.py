"""PyTorch's TypeError for a ``dim`` argument that is no int, naming the op that was called.

It imports nothing of ember's (the tensor class raises it too): the public names it looks the op up in are
read from the modules already imported.
"""

from __future__ import annotations

import sys

from .type_names import type_name

__all__ = ["called_op", "dim_type_error"]


def dim_type_error(dim: object, expected: str = "int") -> TypeError:
    """PyTorch's TypeError for a ``dim`` that is no int (``x.cumsum(dim=1.5)``: "cumsum(): argument 'dim'
    must be int, not float"), naming the ember op that was called: the outermost ember function on the
    stack whose name is a public op (found only on this error path).

    Args:
        dim (object): the argument given.
        expected (str, optional): what it should have been. Default: ``"int"``.

    Example::

        >>> str(ember.dim_errors.dim_type_error(1.5))
        "argument 'dim' must be int, not float"
    """
    op = called_op(2)
    prefix = f"{op}(): " if op else ""
    return TypeError(f"{prefix}argument 'dim' must be {expected}, not {type_name(dim)}")


def called_op(depth: int = 1) -> str | None:
    """The name of the ember op that was called, seen from ``depth`` frames above this one: the outermost ember
    function on the stack whose name is a public op of ``ember``, ``ember.nn.functional`` or ``Tensor`` (None if
    there is none). Only error paths call it.

    Example::

        >>> ember.dim_errors.called_op() is None
        True
    """
    owners = [m for m in (sys.modules.get("ember"), sys.modules.get("ember.nn.functional")) if m is not None]
    if owners:
        owners.append(owners[0].Tensor)
    op = None
    frame = sys._getframe(depth)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("ember."):
        name = frame.f_code.co_name
        if not name.startswith("_") and any(hasattr(m, name) for m in owners):
            op = name
        frame = frame.f_back
    return op
