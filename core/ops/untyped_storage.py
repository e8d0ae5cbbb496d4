"""The memory a tensor views: ``Tensor.data_ptr`` and ``Tensor.untyped_storage``.

A tensor's storage is the backend array its data views (:meth:`ember.backend.Backend.layout` gives
the offset into it, :meth:`~ember.backend.Backend.storage_size` its length). Its address comes
from the backend (:meth:`~ember.backend.Backend.data_address`): NumPy and CuPy arrays have one,
so ``data_ptr`` is PyTorch's (equal for tensors that start at the same element, apart by the
offset in bytes for views); an OpenCL buffer is a handle, not an address, and asking for its
address raises. The size of a storage is known on every backend.
"""

from __future__ import annotations

from ..device import device as _device
from ..tensor import Tensor, writable_data

__all__ = ["UntypedStorage", "data_ptr", "untyped_storage"]


def _address(op: str, input: Tensor) -> int:
    """The address of ``input``'s first element; 0 for an empty storage, as in PyTorch."""
    backend, data = input._backend, writable_data(input)  # an array, whose address stays
    if not backend.storage_size(data):
        return 0
    address = backend.data_address(data)
    if address is None:
        raise RuntimeError(
            f"{op}: the {backend.name} backend gives no address for the memory of a tensor on {input._device}"
        )
    return address


class UntypedStorage:
    """The bytes that a tensor and its views share (what ``Tensor.untyped_storage()`` returns).

    It answers PyTorch's questions about the memory (:meth:`nbytes`, :meth:`data_ptr`,
    :attr:`device`); it holds the tensor it came from, which keeps the memory alive. Reading and
    writing bytes through it is not offered: use the tensor.

    Example::

        >>> x = ember.zeros(2, 3)
        >>> x[1:].untyped_storage().nbytes()
        24
    """

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Tensor) -> None:
        writable_data(tensor)  # memory of its own, which later writes keep
        self._tensor = tensor

    def nbytes(self) -> int:
        """The size of the storage in bytes."""
        t = self._tensor
        return t._backend.storage_size(t._data) * t.element_size()

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
        t = self._tensor
        address = _address("untyped_storage().data_ptr", t)
        return address and address - t._backend.layout(t._data)[1] * t.element_size()

    @property
    def device(self) -> _device:
        """The device that holds the storage."""
        return self._tensor._device

    def __repr__(self) -> str:
        return f"ember.UntypedStorage(nbytes={self.nbytes()}, device='{self.device}')"


def data_ptr(input: Tensor) -> int:
    """The address of ``input``'s first element: the address of its storage plus its
    ``storage_offset()`` in bytes, 0 when the storage is empty. Raises ``RuntimeError`` on a backend
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
    """
    return UntypedStorage(input)
