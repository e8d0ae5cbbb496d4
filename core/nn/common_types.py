"""Type aliases of the ``nn`` signatures, spelled as PyTorch's ``torch.nn.common_types``.

``_size_2_t`` is "an int, or a tuple of 2 ints" (``kernel_size=3`` or ``kernel_size=(3, 5)``);
``_size_any_t`` allows a tuple of any length. Used in annotations only.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

from ..device import device
from ..dtypes import dtype
from ..tensor import Size

__all__: list[str] = []

T = TypeVar("T")

_scalar_or_tuple_any_t: TypeAlias = T | tuple[T, ...]
_scalar_or_tuple_1_t: TypeAlias = T | tuple[T]
_scalar_or_tuple_2_t: TypeAlias = T | tuple[T, T]
_scalar_or_tuple_3_t: TypeAlias = T | tuple[T, T, T]
_scalar_or_tuple_4_t: TypeAlias = T | tuple[T, T, T, T]
_scalar_or_tuple_6_t: TypeAlias = T | tuple[T, T, T, T, T, T]

_size_any_t: TypeAlias = _scalar_or_tuple_any_t[int]
_size_1_t: TypeAlias = _scalar_or_tuple_1_t[int]
_size_2_t: TypeAlias = _scalar_or_tuple_2_t[int]
_size_3_t: TypeAlias = _scalar_or_tuple_3_t[int]
_size_4_t: TypeAlias = _scalar_or_tuple_4_t[int]
_size_6_t: TypeAlias = _scalar_or_tuple_6_t[int]

# sizes that may hold None (adaptive pooling: "keep this dimension")
_size_any_opt_t: TypeAlias = _scalar_or_tuple_any_t[int | None]
_size_1_opt_t: TypeAlias = _scalar_or_tuple_1_t[int | None]
_size_2_opt_t: TypeAlias = _scalar_or_tuple_2_t[int | None]
_size_3_opt_t: TypeAlias = _scalar_or_tuple_3_t[int | None]

_ratio_any_t: TypeAlias = _scalar_or_tuple_any_t[float]
_ratio_1_t: TypeAlias = _scalar_or_tuple_1_t[float]
_ratio_2_t: TypeAlias = _scalar_or_tuple_2_t[float]
_ratio_3_t: TypeAlias = _scalar_or_tuple_3_t[float]

#: a normalized shape (LayerNorm, GroupNorm): an int, a list of ints or a Size
_shape_t: TypeAlias = int | list[int] | Size
#: where a module's parameters are made: a device, its name ("cuda:0") or an index
_device_t: TypeAlias = device | str | int | None
#: the dtype of a module's parameters (None: the default dtype)
_dtype_t: TypeAlias = dtype | None
