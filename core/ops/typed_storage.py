"""Storages of one dtype: ``Tensor.storage()``, ``ember.TypedStorage`` and the legacy classes
(``ember.FloatStorage``, ``ember.LongStorage``, ...).

A :class:`TypedStorage` is an :class:`~ember.UntypedStorage` read as elements of one dtype; PyTorch
deprecates it in favour of the untyped one and warns, once, when a program first makes one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..tensor import Tensor, _new, tensor
from .creation import empty
from .untyped_storage import UntypedStorage, storage_bytes, storage_text, untyped_storage

__all__ = ["TypedStorage", "LEGACY_STORAGES", "storage", "storage_type"]

_warned = False


def _warn_typed_storage_removal() -> None:
    """PyTorch's deprecation warning, the first time a program makes a typed storage."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
            "storage class. This should only matter to you if you are using storages directly.  To access "
            "UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
            UserWarning,
            stacklevel=3,
        )


class _LegacyStorageMeta(type):
    """``isinstance(s, ember.FloatStorage)`` holds for every typed storage of float32, as in PyTorch."""

    def __instancecheck__(cls, instance: object) -> bool:
        fixed = cls.__dict__.get("_fixed_dtype")
        if fixed is None:
            return type.__instancecheck__(cls, instance)
        return isinstance(instance, TypedStorage) and instance.dtype is fixed


class TypedStorage(metaclass=_LegacyStorageMeta):
    """An :class:`~ember.UntypedStorage` read as elements of ``dtype``.

    ``ember.TypedStorage(n, dtype=...)`` allocates ``n`` elements, ``TypedStorage(sequence,
    dtype=...)`` holds the given values, ``TypedStorage(wrap_storage=untyped, dtype=...)`` reads an
    existing untyped storage. ``Tensor.storage()`` gives a tensor's, the whole storage from its
    first element; writes through it change every tensor on the storage.

    Args:
        size (int or sequence): the number of elements, or their values. Default: ``0``.
        dtype (ember.dtype, optional): the dtype. Default: :func:`ember.get_default_dtype`.
        device (ember.device or str, optional): the device. Default: ``cpu``.
        wrap_storage (ember.UntypedStorage, optional): the bytes to read.

    Example::

        >>> import warnings
        >>> x = ember.arange(4.0)
        >>> with warnings.catch_warnings(action="ignore"):  # PyTorch deprecates TypedStorage
        ...     s = x[1:].storage()
        >>> s.size(), s.dtype, s[1]
        (4, ember.float32, 1.0)
        >>> s[0] = 10.0
        >>> x
        tensor([10.,  1.,  2.,  3.])
    """

    __slots__ = ("_untyped_storage", "dtype")
    _fixed_dtype: dtypes.dtype | None = None
    is_sparse = False

    def __init__(
        self,
        *args: Any,
        dtype: dtypes.dtype | None = None,
        device: Any = None,
        wrap_storage: UntypedStorage | None = None,
    ) -> None:
        _warn_typed_storage_removal()
        fixed = type(self)._fixed_dtype
        if fixed is not None and dtype is not None and dtype is not fixed:
            raise RuntimeError(f"Keyword argument 'dtype' cannot be specified when constructing {type(self).__name__}")
        self.dtype = fixed or dtype or dtypes.get_default_dtype()
        if wrap_storage is not None:
            if args or device is not None:
                raise RuntimeError("TypedStorage(): wrap_storage cannot be given with a size, sequence or device")
            self._untyped_storage = wrap_storage
            return
        if len(args) > 1:
            raise TypeError(f"TypedStorage(): expected at most one positional argument, got {len(args)}")
        size = args[0] if args else 0
        if isinstance(size, int):
            elements = empty(size, dtype=self.dtype, device=device)
        elif isinstance(size, Sequence):
            elements = tensor(list(size), dtype=self.dtype, device=device)
        else:
            raise TypeError(f"TypedStorage(): expected an int or a sequence, not {type(size).__name__}")
        self._untyped_storage = UntypedStorage._of(storage_bytes(elements))

    @classmethod
    def _of(cls, untyped: UntypedStorage, dtype: dtypes.dtype) -> TypedStorage:
        """The typed storage that reads ``untyped`` as ``dtype`` (no warning: the caller warns)."""
        storage = object.__new__(TypedStorage)
        storage._untyped_storage, storage.dtype = untyped, dtype
        return storage

    def _elements(self) -> Tensor:
        """The storage as a 1-D tensor of its dtype that views it."""
        raw = self._untyped_storage._bytes
        backend = raw._backend
        data = raw._data if self.dtype is dtypes.uint8 else backend.bitcast(raw._data, backend.native_dtype(self.dtype))
        return _new(data, backend, raw._device)

    def untyped(self) -> UntypedStorage:
        """The untyped storage this one reads."""
        return self._untyped_storage

    def size(self) -> int:
        """The number of elements."""
        return self._untyped_storage.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def nbytes(self) -> int:
        """The size of the storage in bytes."""
        return self._untyped_storage.nbytes()

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self.dtype.itemsize

    def data_ptr(self) -> int:
        """The address of the first element (see :meth:`ember.UntypedStorage.data_ptr`)."""
        return self._untyped_storage.data_ptr()

    @property
    def device(self) -> Any:
        """The device that holds the storage."""
        return self._untyped_storage.device

    @property
    def is_cuda(self) -> bool:
        """True if the storage is on a CUDA device."""
        return self.device.type == "cuda"

    def is_shared(self) -> bool:
        """Whether the storage is in shared memory (:meth:`ember.Tensor.share_memory_`)."""
        return self._untyped_storage._bytes.is_shared()

    def is_pinned(self, device: Any = None) -> bool:
        """Whether the storage is in pinned host memory (:meth:`ember.Tensor.pin_memory`)."""
        return self._untyped_storage._bytes.is_pinned(device)

    def tolist(self) -> list:
        """The elements, as a list of Python numbers."""
        return self._elements().tolist()

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, int):
            raise TypeError(f"TypedStorage indices must be integers, not {type(index).__name__}")
        return self._elements()[self._check_index(index)].item()

    def __setitem__(self, index: int, value: Any) -> None:
        if not isinstance(index, int):
            raise TypeError(f"TypedStorage indices must be integers, not {type(index).__name__}")
        self._elements()[self._check_index(index)] = value

    def _check_index(self, index: int) -> int:
        if not -self.size() <= index < self.size():
            raise IndexError(f"index {index} out of range for storage of size {self.size()}")
        return index

    def fill_(self, value: Any) -> TypedStorage:
        """Set every element to ``value``; returns the storage."""
        self._elements().fill_(value)
        return self

    def copy_(self, source: TypedStorage | UntypedStorage, non_blocking: bool = False) -> TypedStorage:
        """Copy the bytes of ``source``, a storage of the same size in bytes; returns the storage."""
        self._untyped_storage.copy_(source.untyped())
        return self

    def clone(self) -> TypedStorage:
        """A copy of the storage, in memory of its own."""
        return TypedStorage._of(self._untyped_storage.clone(), self.dtype)

    def cpu(self) -> TypedStorage:
        """The storage on the CPU (itself when it is there)."""
        return self if self.device.type == "cpu" else TypedStorage._of(self._untyped_storage.cpu(), self.dtype)

    def __eq__(self, other: object) -> bool:  # the same memory, read as the same dtype
        if not isinstance(other, TypedStorage):
            return NotImplemented
        return self.dtype is other.dtype and self._untyped_storage == other._untyped_storage

    def __hash__(self) -> int:
        return hash((self.dtype, self._untyped_storage))

    def __repr__(self) -> str:
        return storage_text(self, f"ember.storage.TypedStorage(dtype={self.dtype}, device={self.device})")


def _legacy(name: str, dtype: dtypes.dtype) -> type[TypedStorage]:
    """The legacy storage class ``name`` (``FloatStorage``): a :class:`TypedStorage` of ``dtype``."""
    doc = f"A :class:`TypedStorage` of ``{dtype}`` (PyTorch's legacy ``torch.{name}``)."
    return _LegacyStorageMeta(name, (TypedStorage,), {"__slots__": (), "_fixed_dtype": dtype, "__doc__": doc})


LEGACY_STORAGES = {
    name: _legacy(name, dt)
    for name, dt in (
        ("DoubleStorage", dtypes.float64),
        ("FloatStorage", dtypes.float32),
        ("HalfStorage", dtypes.float16),
        ("BFloat16Storage", dtypes.bfloat16),
        ("LongStorage", dtypes.int64),
        ("IntStorage", dtypes.int32),
        ("ShortStorage", dtypes.int16),
        ("CharStorage", dtypes.int8),
        ("ByteStorage", dtypes.uint8),
        ("BoolStorage", dtypes.bool),
        ("ComplexFloatStorage", dtypes.complex64),
        ("ComplexDoubleStorage", dtypes.complex128),
    )
}


def storage(input: Tensor) -> TypedStorage:
    """The storage of ``input`` read as its dtype (:class:`ember.TypedStorage`, deprecated in PyTorch in
    favour of :meth:`untyped_storage`, with a warning the first time).

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings(action="ignore"):
        ...     ember.arange(6.0)[2:].storage().tolist()
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    _warn_typed_storage_removal()
    return TypedStorage._of(untyped_storage(input), input.dtype)


def storage_type(input: Tensor) -> type[TypedStorage] | None:
    """The legacy storage class of ``input``'s dtype (``ember.FloatStorage`` for float32), ``None`` for a dtype
    that has none (uint16, the float8 types), as PyTorch's; deprecated with :class:`TypedStorage`.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings(action="ignore"):
        ...     ember.ones(2).storage_type() is ember.FloatStorage
        True
    """
    _warn_typed_storage_removal()
    return next((cls for cls in LEGACY_STORAGES.values() if cls._fixed_dtype is input.dtype), None)
