"""Type aliases of the public signatures, spelled as PyTorch's ``torch.types``.

Used in annotations only, e.g. ``def zeros(*size: int | _size, dtype: _dtype | None = None,
device: Device = None) -> Tensor``: a type checker reads them, nothing checks them at run time.
The underscore aliases are importable by name, as ``torch.types``'s are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Protocol, TypeAlias

from .device import device as _device_class
from .dtypes import dtype
from .layout import layout
from .ops.symbolic_scalars import SymBool, SymFloat, SymInt
from .ops.typed_storage import TypedStorage
from .ops.untyped_storage import UntypedStorage
from .quantized import qscheme
from .tensor import Size, Tensor

__all__ = ["Device", "Number", "FileLike", "Storage"]

_dtype: TypeAlias = dtype
_layout: TypeAlias = layout
_qscheme: TypeAlias = qscheme
_device: TypeAlias = _device_class
# the builtins under the names PyTorch's stubs give them (a module whose own names shadow them imports these)
_int: TypeAlias = int
_float: TypeAlias = float
_bool: TypeAlias = bool
_complex: TypeAlias = complex
_str: TypeAlias = str
_bytes: TypeAlias = bytes

#: a Python number (what ``Tensor.item()`` gives and what ops take as a scalar)
Number: TypeAlias = int | float | bool
#: a shape: an ``ember.Size`` or a sequence of ints
_size: TypeAlias = Size | Sequence[int]
#: where a tensor goes: a device, its name (``"cuda:0"``), an index (a CUDA device) or ``None``
#: (the default device)
Device: TypeAlias = _device_class | str | int | None
#: a tensor or a Python number (the second operand of most elementwise ops)
_tensor_or_number: TypeAlias = Tensor | Number
#: one tensor or several (what ``backward``/``autograd.grad`` take)
_TensorOrTensors: TypeAlias = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors: TypeAlias = Tensor | Sequence[Tensor | None]
#: PyTorch's symbolic numbers beside the plain ones (ember's are always plain)
IntLikeType: TypeAlias = int | SymInt
FloatLikeType: TypeAlias = float | SymFloat
BoolLikeType: TypeAlias = bool | SymBool
PySymType: TypeAlias = SymInt | SymFloat | SymBool
py_sym_types = (SymInt, SymFloat, SymBool)
#: where ``ember.save``/``ember.load`` read and write: a path or a binary file object
FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]
#: a tensor's storage, typed or untyped
Storage: TypeAlias = UntypedStorage | TypedStorage


class _RemovableHandle(Protocol):
    """What a hook registration returns (``Tensor.register_hook``, ``Node.register_hook``)."""

    def remove(self) -> None: ...
