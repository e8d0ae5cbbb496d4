"""Type aliases of the public signatures, spelled as PyTorch's ``torch.types``.

Used in annotations only, e.g. ``def zeros(*size: int | _size, dtype: _dtype | None = None,
device: Device = None) -> Tensor``: a type checker reads them, nothing checks them at run time.
The underscore aliases are importable by name, as ``torch.types``'s are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeAlias

from .device import device as _device
from .dtypes import dtype
from .tensor import Size, Tensor

__all__ = ["Device", "Number"]

_dtype: TypeAlias = dtype

#: a Python number (what ``Tensor.item()`` gives and what ops take as a scalar)
Number: TypeAlias = int | float | bool
#: a shape: an ``ember.Size`` or a sequence of ints
_size: TypeAlias = Size | Sequence[int]
#: where a tensor goes: a device, its name (``"cuda:0"``), an index (a CUDA device) or ``None``
#: (the default device)
Device: TypeAlias = _device | str | int | None
#: a tensor or a Python number (the second operand of most elementwise ops)
_tensor_or_number: TypeAlias = Tensor | Number


class _RemovableHandle(Protocol):
    """What a hook registration returns (``Tensor.register_hook``, ``Node.register_hook``)."""

    def remove(self) -> None: ...
