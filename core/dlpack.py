"""DLPack exchange: ``ember.from_dlpack(obj)`` and ``Tensor.__dlpack__`` (zero-copy where the backend allows)."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from . import dtypes as _dtypes
from .device import device as _device
from .ops.operands import tensor_input
from .tensor import _new, backend_for_device, placement, writable_data

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

# DLPack device-type codes and the ember device types they correspond to
_DEVICE_TYPES = {1: "cpu", 2: "cuda", 3: "cpu", 4: "opencl", 13: "cuda"}
_CODES = {"cpu": 1, "cuda": 2, "opencl": 4}
#: DLPack's ``(type code, bits)`` of the dtypes that array libraries (NumPy) cannot exchange themselves:
#: they travel as unsigned integers of their size, retagged in the capsule (kDLBfloat, kDLFloat8_*)
_EXTENDED_CODES = {
    "bfloat16": (4, 16),
    "float8_e4m3fn": (10, 8),
    "float8_e4m3fnuz": (11, 8),
    "float8_e5m2": (12, 8),
    "float8_e5m2fnuz": (13, 8),
    "float8_e8m0fnu": (14, 8),
}
_EXTENDED_DTYPES = {code: name for name, code in _EXTENDED_CODES.items()}
_UNSIGNED_CODE = 1  # kDLUInt


class _Capsule:
    """A DLPack capsule (``to_dlpack``'s result) presented through the ``__dlpack__`` protocol
    that the backends import. Its device is read from the ``DLTensor`` it points to (after the
    ``data`` pointer come ``device_type`` and ``device_id``, then ``ndim`` and the dtype's
    ``code``, ``bits`` and ``lanes``), which a versioned capsule (``"dltensor_versioned"``) holds
    after its version, context, deleter and flags."""

    _DLTENSOR_OFFSETS = {b"dltensor": 0, b"dltensor_versioned": 32}

    def __init__(self, capsule: Any) -> None:
        # prototypes of their own, so that ctypes.pythonapi's shared functions keep theirs
        get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", ctypes.pythonapi))
        name = get_name(capsule)
        if name not in self._DLTENSOR_OFFSETS:
            raise RuntimeError(
                f"from_dlpack: the DLPack capsule was already consumed (it is named '{name.decode()}', not 'dltensor')"
            )
        get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
            ("PyCapsule_GetPointer", ctypes.pythonapi)
        )
        address = get_pointer(capsule, name) + self._DLTENSOR_OFFSETS[name] + ctypes.sizeof(ctypes.c_void_p)
        device = ctypes.cast(address, ctypes.POINTER(ctypes.c_int32))
        self._device = (int(device[0]), int(device[1]))
        self._dtype = ctypes.cast(address + 12, ctypes.POINTER(ctypes.c_uint8))  # after device (8) and ndim (4)
        self._capsule = capsule
        # a capsule before DLPack 1.0 has no read-only flag: its tensor is writable, as PyTorch imports it
        self.unversioned = name == b"dltensor"

    @property
    def type_code(self) -> tuple[int, int]:
        """The ``(code, bits)`` of the dtype the capsule's tensor holds."""
        return int(self._dtype[0]), int(self._dtype[1])

    def retag(self, code: int) -> None:
        """Relabel the elements as DLPack type ``code`` of the same size (the bytes are unchanged)."""
        self._dtype[0] = code

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._capsule


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` (a torch,
    NumPy or CuPy array) or a DLPack capsule from :func:`to_dlpack`.

    Args:
        ext_tensor: the object to import.
        device (ember.device, optional): the device of the result; a different device than the
            source's copies. Default: the source's.
        copy (bool, optional): ``True`` always copies, ``False`` refuses to copy (a different
            ``device`` is then an error). Default: ``None``, copy only when needed.

    Example::

        >>> import numpy as np
        >>> ember.from_dlpack(np.arange(3.0))
        tensor([0., 1., 2.], dtype=ember.float64)
        >>> a = np.arange(3.0)
        >>> t = ember.from_dlpack(a, copy=True)
        >>> a[0] = 9.0
        >>> t
        tensor([0., 1., 2.], dtype=ember.float64)
    """
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(ext_tensor).__name__} does not support the DLPack protocol")
    code, index = ext_tensor.__dlpack_device__()
    code = int(code)
    if code not in _DEVICE_TYPES:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {code}")
    backend = backend_for_device(_device(_DEVICE_TYPES[code], 0))
    extended = None
    if not isinstance(ext_tensor, _Capsule) and str(getattr(ext_tensor, "dtype", "")).split(".")[-1] in _EXTENDED_CODES:
        ext_tensor = _Capsule(_versioned_capsule(ext_tensor))  # a bfloat16 or float8 tensor (torch's, say)
    if isinstance(ext_tensor, _Capsule):
        extended = _EXTENDED_DTYPES.get(ext_tensor.type_code)
        if extended is not None:  # imported as unsigned integers of its size, then viewed as its dtype
            ext_tensor.retag(_UNSIGNED_CODE)
    data, index = backend.from_dlpack(ext_tensor)
    result = _new(data, backend, placement(_device(backend.device_type, index))[1])
    if extended is not None:
        result = result.view(getattr(_dtypes, extended))
    if device is not None and placement(device)[1] != result.device:
        if copy is False:
            raise BufferError(f"from_dlpack: copy=False, but the tensor is on {result.device}, not {_device(device)}")
        return result.to(device)
    return result.clone() if copy else result


@tensor_input
def to_dlpack(tensor: Tensor) -> Any:
    """The DLPack capsule of ``tensor`` (legacy API; prefer passing the tensor to the consumer).

    Example::

        >>> ember.from_dlpack(ember.to_dlpack(ember.arange(3)))
        tensor([0, 1, 2])
    """
    return _export(tensor, None, None)  # as torch.utils.dlpack.to_dlpack, a tensor requiring grad too


def _versioned_capsule(ext_tensor: Any) -> Any:
    """``ext_tensor``'s DLPack capsule, versioned (so that a writable tensor imports writable) where it can give one."""
    try:
        return ext_tensor.__dlpack__(max_version=(1, 0))
    except TypeError:  # a producer of DLPack before 1.0
        return ext_tensor.__dlpack__()


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    if self._requires_grad:  # PyTorch's error (a BufferError, as the DLPack protocol's errors are)
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    source = self
    if dl_device is not None and tuple(int(v) for v in dl_device) != _dlpack_device(self):
        if copy is False or int(dl_device[0]) not in (1, 3):  # only a copy to the CPU is made here
            raise BufferError(
                f"__dlpack__: cannot export a tensor on {self.device} to DLPack device {tuple(dl_device)}"
            )
        source = self.cpu()  # a copy: its memory is the consumer's alone
    elif copy:  # the consumer asks for memory of its own (the array API's copy=True): never this tensor's
        source = self.clone()
    return _export(source, stream, max_version)


def _export(self, stream, max_version):
    extended = _EXTENDED_CODES.get(self.dtype.name)
    if extended is None:
        return self._backend.to_dlpack(writable_data(self), stream, max_version)
    # exported as unsigned integers of its size (which every array library can), retagged as its dtype
    writable_data(self)
    unsigned = self.view(getattr(_dtypes, f"uint{extended[1]}"))
    capsule = self._backend.to_dlpack(writable_data(unsigned), stream, max_version)
    _Capsule(capsule).retag(extended[0])
    return capsule


def _dlpack_device(self):
    return (_CODES.get(self._device.type, 1), self._device.index or 0)
