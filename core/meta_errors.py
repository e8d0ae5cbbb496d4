"""The error of an op whose result depends on values, which a tensor on the meta device does not hold.

PyTorch raises ``NotImplementedError`` naming the operator for the ops that have no meta kernel
(``bincount``, ``equal``, ``masked_select``, ``unique`` ...); ember's meta backend and the ops whose
result's shape or validity depends on the values raise this one error, naming the op.
"""

from __future__ import annotations

from typing import Any

__all__ = ["no_data", "refuse_meta"]


def no_data(op: str) -> NotImplementedError:
    """The error of ``op``, whose result depends on the values of a meta tensor.

    Example::

        >>> from ember.meta_errors import no_data
        >>> no_data("bincount")
        NotImplementedError('bincount: the result depends on the values of a tensor on the meta device, which holds none')
    """
    return NotImplementedError(
        f"{op}: the result depends on the values of a tensor on the meta device, which holds none"
    )


def refuse_meta(op: str, *values: Any) -> None:
    """Raise :func:`no_data` for ``op`` when one of ``values`` is a tensor on the meta device (other
    values, numbers or lists, pass).

    Example::

        >>> from ember.meta_errors import refuse_meta
        >>> refuse_meta("bincount", ember.zeros(3, dtype=ember.long, device="meta"))
        Traceback (most recent call last):
        ...
        NotImplementedError: bincount: the result depends on the values of a tensor on the meta device, which holds none
    """
    if any(getattr(v, "is_meta", False) for v in values):
        raise no_data(op)
