"""The memory a tensor views: ``Tensor.data_ptr``, ``Tensor.untyped_storage`` and ``ember.UntypedStorage``.

A tensor's storage is the backend array its data views (:meth:`ember.backend.Backend.layout` gives
the offset into it, :meth:`~ember.backend.Backend.storage_size` its length). Its address comes
from the backend (:meth:`~ember.backend.Backend.data_address`): NumPy and CuPy arrays have one,
so ``data_ptr`` is PyTorch's (equal for tensors that start at the same element, apart by the
offset in bytes for views); an OpenCL buffer is a handle, not an address, and asking for its
address raises. The size of a storage is known on every backend.

An :class:`UntypedStorage` sees the whole storage as bytes, through the backend's strided and
bit-cast views (:meth:`~ember.backend.Backend.as_strided`, :meth:`~ember.backend.Backend.bitcast`),
so that reading and writing its bytes reads and writes every tensor on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..device import device as _device
from ..tensor import Tensor, _new, tensor, writable_data
from ..type_names import type_name
from .creation import empty

__all__ = ["UntypedStorage", "data_ptr", "storage_bytes", "storage_text", "untyped_storage"]


def _address(op: str, input: Tensor) -> int:
    """The address of ``input``'s first element; 0 where it has none (an empty storage's bytes too), as in PyTorch."""
    if not input.numel():
        return 0
    backend, data = input._backend, writable_data(input)  # an array, whose address stays
    address = backend.data_address(data)
    if address is None:
        raise RuntimeError(
            f"{op}: the {backend.name} backend gives no address for the memory of a tensor on {input._device}"
        )
    return address


def storage_bytes(input: Tensor) -> Tensor:
    """The whole storage of ``input`` as a 1-D uint8 tensor that views it (from its first byte, not
    ``input``'s): writes through it change ``input``."""
    backend, data = input._backend, writable_data(input)
    whole = backend.as_strided(data, (backend.storage_size(data),), (1,), 0)
    if input.dtype is not dtypes.uint8:
        whole = backend.bitcast(whole, backend.native_dtype(dtypes.uint8))
    return _new(whole, backend, input._device)


class UntypedStorage:
    """A block of bytes on a device: the memory that a tensor and its views share.

    ``ember.UntypedStorage(n)`` allocates ``n`` uninitialised bytes (``UntypedStorage(sequence)``
    holds the given byte values); ``Tensor.untyped_storage()`` gives the storage of a tensor, from
    its first byte. Indexing reads and writes bytes, which every tensor on the storage sees;
    :meth:`ember.Tensor.set_` makes a tensor of any dtype over a storage.

    Args:
        size (int or sequence of int): the number of bytes, or their values. Default: ``0``.
        device (ember.device or str, optional): the device. Default: ``cpu``.

    Example::

        >>> x = ember.zeros(2, 3)
        >>> x[1:].untyped_storage().nbytes()
        24
        >>> s = ember.UntypedStorage([0, 0, 128, 63])
        >>> ember.tensor([], dtype=ember.float32).set_(s)
        tensor([1.])
    """

    __slots__ = ("_bytes",)

    def __init__(self, size: int | Sequence[int] = 0, *, device: Any = None) -> None:
        if isinstance(size, int):
            if size < 0:
                raise RuntimeError(f"Storage size calculation overflowed with sizes=[{size}]")
            self._bytes = empty(size, dtype=dtypes.uint8, device=device)
        else:
            self._bytes = tensor(list(size), dtype=dtypes.uint8, device=device)

    @classmethod
    def _of(cls, bytes_: Tensor) -> UntypedStorage:
        """The storage seen by the 1-D uint8 tensor ``bytes_`` (:func:`storage_bytes`)."""
        storage = object.__new__(cls)
        storage._bytes = bytes_
        return storage

    def nbytes(self) -> int:
        """The size of the storage in bytes."""
        return self._bytes.shape[0]

    def size(self) -> int:
        """The size of the storage in bytes (an untyped storage counts bytes)."""
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        """1: an untyped storage's element is a byte."""
        return 1

    def data_ptr(self) -> int:
        """The address of the storage's first byte (0 when it is empty); a ``RuntimeError`` on a
        backend whose memory has no address (OpenCL)."""
        return _address("untyped_storage().data_ptr", self._bytes)

    @property
    def device(self) -> _device:
        """The device that holds the storage."""
        return self._bytes._device

    @property
    def is_cuda(self) -> bool:
        """True if the storage is on a CUDA device."""
        return self.device.type == "cuda"

    def is_shared(self) -> bool:
        """Whether the storage is in shared memory (:meth:`ember.Tensor.share_memory_`)."""
        return self._bytes.is_shared()

    def is_pinned(self, device: Any = None) -> bool:
        """Whether the storage is in pinned host memory (:meth:`ember.Tensor.pin_memory`)."""
        return self._bytes.is_pinned(device)

    def tolist(self) -> list[int]:
        """The bytes, as a list of ints."""
        return self._bytes.tolist()

    def __getitem__(self, index: int) -> int:
        return int(self._bytes[self._byte_index(index)].item())

    def __setitem__(self, index: int, value: int) -> None:
        self._bytes[self._byte_index(index)] = value

    def _byte_index(self, index: object) -> int:
        if not isinstance(index, int):
            raise TypeError(f"can't index a torch.UntypedStorage with {type_name(index)}")
        if not -self.nbytes() <= index < self.nbytes():
            raise IndexError(f"index {index} out of range for storage of size {self.nbytes()}")
        return index

    def fill_(self, value: int) -> UntypedStorage:
        """Set every byte to ``value``; returns the storage."""
        self._bytes.fill_(value)
        return self

    def copy_(self, source: UntypedStorage, non_blocking: bool = False) -> UntypedStorage:
        """Copy the bytes of ``source``, a storage of the same size; returns the storage."""
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size mismatch: copying {source.nbytes()} bytes into a storage of {self.nbytes()}")
        self._bytes.copy_(source._bytes)
        return self

    def clone(self) -> UntypedStorage:
        """A copy of the storage, in memory of its own."""
        return UntypedStorage._of(self._bytes.clone())

    def cpu(self) -> UntypedStorage:
        """The storage on the CPU (itself when it is there)."""
        return self if self.device.type == "cpu" else UntypedStorage._of(self._bytes.cpu())

    def untyped(self) -> UntypedStorage:
        """The storage itself."""
        return self

    def __eq__(self, other: object) -> bool:  # the same memory
        if not isinstance(other, UntypedStorage):
            return NotImplemented
        a, b = self._bytes, other._bytes
        backend = a._backend
        return (
            backend is b._backend
            and a._device == b._device
            and backend.memory_owner(a._data) is backend.memory_owner(b._data)
            and backend.layout(a._data)[1] == backend.layout(b._data)[1]
            and self.nbytes() == other.nbytes()
        )

    def __hash__(self) -> int:
        return hash((id(self._bytes._backend.memory_owner(self._bytes._data)), self.nbytes()))

    def __repr__(self) -> str:
        return storage_text(self, f"ember.storage.UntypedStorage(device={self.device})")


def storage_text(storage: Any, description: str) -> str:
    """A storage printed as PyTorch prints one: its elements one a line, then ``[description of size n]``
    (a meta storage's elements as ``...``)."""
    info = f"[{description} of size {len(storage)}]"
    if storage.device.type == "meta":
        return "...\n" + info
    return " " + "\n ".join(str(value) for value in storage.tolist()) + "\n" + info


def data_ptr(input: Tensor) -> int:
    """The address of ``input``'s first element: the address of its storage plus its
    ``storage_offset()`` in bytes, 0 when it has no elements. Raises ``RuntimeError`` on a backend
    whose memory has no address (OpenCL buffers are handles).

    Example::

        >>> x = ember.arange(6.0)
        >>> x[2:].data_ptr() - x.data_ptr()
        8
        >>> x.view(2, 3).data_ptr() == x.data_ptr()
        True
    """
    return _address("data_ptr", input)


def untyped_storage(input: Tensor) -> UntypedStorage:
    """The memory ``input`` views, shared with its views (:class:`UntypedStorage`).

    Example::

        >>> x = ember.arange(6.0)
        >>> x[2:].untyped_storage().nbytes()
        24
        >>> x[2:].untyped_storage().data_ptr() == x.data_ptr()
        True
        >>> x.untyped_storage() == x[2:].untyped_storage()
        True
    """
    return UntypedStorage._of(storage_bytes(input))
