"""The named-tuple types of ops that return several tensors, as ``torch.return_types``.

Each is a tuple (indexing, unpacking) with named fields, printed as PyTorch prints its own::

    ember.return_types.max(
    values=tensor(3.),
    indices=tensor(1))
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any, NamedTuple

__all__ = ["aminmax", "cummax", "cummin", "kthvalue", "max", "median", "min", "sort", "topk", "geqrf"]


def _repr(self: Any) -> str:
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{__name__}.{type(self).__name__}(\n{fields})"


def _return_type(name: str, fields: tuple[str, ...]) -> type:
    """A tuple type ``ember.return_types.<name>`` with the given field names."""
    return type(name, (namedtuple(name, fields),), {"__slots__": (), "__module__": __name__, "__repr__": _repr})


if TYPE_CHECKING:
    # what type checkers see: the same fields, typed
    from .tensor import Tensor

    class max(NamedTuple):
        values: Tensor
        indices: Tensor

    class min(NamedTuple):
        values: Tensor
        indices: Tensor

    class sort(NamedTuple):
        values: Tensor
        indices: Tensor

    class topk(NamedTuple):
        values: Tensor
        indices: Tensor

    class kthvalue(NamedTuple):
        values: Tensor
        indices: Tensor

    class median(NamedTuple):
        values: Tensor
        indices: Tensor

    class cummax(NamedTuple):
        values: Tensor
        indices: Tensor

    class cummin(NamedTuple):
        values: Tensor
        indices: Tensor

    class aminmax(NamedTuple):
        min: Tensor
        max: Tensor

    class geqrf(NamedTuple):
        a: Tensor
        tau: Tensor

else:
    max = _return_type("max", ("values", "indices"))  # noqa: A001
    min = _return_type("min", ("values", "indices"))  # noqa: A001
    sort = _return_type("sort", ("values", "indices"))
    topk = _return_type("topk", ("values", "indices"))
    kthvalue = _return_type("kthvalue", ("values", "indices"))
    median = _return_type("median", ("values", "indices"))
    cummax = _return_type("cummax", ("values", "indices"))
    cummin = _return_type("cummin", ("values", "indices"))
    aminmax = _return_type("aminmax", ("min", "max"))
    geqrf = _return_type("geqrf", ("a", "tau"))
