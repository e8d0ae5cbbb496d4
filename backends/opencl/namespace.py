"""The array namespace of the OpenCL backend: exactly :data:`ember.backend.PRIMITIVES`, with
array API semantics, over :class:`~ember.backends.opencl.array.CLArray`, gathered from the
modules of each concept (each imports only the ones below it):

- :mod:`.elementwise` (the map engine, promotion, the arithmetic families, ``where``, ``astype``),
- :mod:`.creation` (``asarray`` ... ``eye``, the host transfers),
- :mod:`.manipulation` (views and joins), :mod:`.reductions`, :mod:`.sorting`,
- :mod:`.indexing` (subscripts, ``take``, ``nonzero``, the scatter-add), :mod:`.linalg`.

Importing it gives ``CLArray``'s operators their functions (:func:`.array.bind_operations`).
"""

from __future__ import annotations

from types import SimpleNamespace

from ember.backend import PRIMITIVES

from .array import CLArray, bind_operations
from .creation import arange, asarray, empty_array, eye, from_host, full, ones, to_host, zeros
from .elementwise import FUNCTIONS, astype, astype_in_order, copy_into, erf, result_type, where
from .indexing import getitem, nonzero, scatter_add, setitem, take, take_along_axis
from .linalg import matmul
from .manipulation import broadcast_to, concat, expand_dims, flip, permute_dims, reshape, squeeze, stack
from .reductions import REDUCTIONS, cumulative_sum
from .runtime import current, float_dtype
from .sorting import argsort, sort

__all__ = [
    "namespace", "CLArray", "current", "from_host", "to_host", "result_type", "float_dtype", "scatter_add", "erf",
    "astype",
]  # fmt: skip

_functions = {
    **FUNCTIONS,
    **REDUCTIONS,
    "asarray": asarray, "zeros": zeros, "ones": ones, "full": full, "empty": empty_array, "arange": arange, "eye": eye,
    "where": where, "astype": astype_in_order, "reshape": reshape, "permute_dims": permute_dims,
    "broadcast_to": broadcast_to, "expand_dims": expand_dims, "squeeze": squeeze, "concat": concat,
    "stack": stack, "flip": flip, "take": take, "take_along_axis": take_along_axis, "nonzero": nonzero,
    "cumulative_sum": cumulative_sum, "sort": sort, "argsort": argsort, "matmul": matmul,
}  # fmt: skip

namespace = SimpleNamespace(**{name: _functions[name] for name in PRIMITIVES})
namespace.__name__ = "ember.backends.opencl.namespace"

bind_operations(SimpleNamespace(**_functions, copy_into=copy_into, getitem=getitem, setitem=setitem, to_host=to_host))
