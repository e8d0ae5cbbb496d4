"""DLPack exchange: ``ember.from_dlpack(obj)`` and ``Tensor.__dlpack__`` (zero-copy where the backend allows)."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from .device import device as _device
from .tensor import _new, backend_for_device, placement, writable_data

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

# DLPack device-type codes and the ember device types they correspond to
_DEVICE_TYPES = {1: "cpu", 2: "cuda", 3: "cpu", 4: "opencl", 13: "cuda"}
_CODES = {"cpu": 1, "cuda": 2, "opencl": 4}


class _Capsule:
    """A DLPack capsule (``to_dlpack``'s result) presented through the ``__dlpack__`` protocol
    that the backends import. Its device is read from the ``DLTensor`` it points to (after the
    ``data`` pointer come ``device_type`` and ``device_id``), which a versioned capsule
    (``"dltensor_versioned"``) holds after its version, context, deleter and flags."""

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
        self._capsule = capsule

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
    data, index = backend.from_dlpack(ext_tensor)
    result = _new(data, backend, placement(_device(backend.device_type, index))[1])
    if device is not None and placement(device)[1] != result.device:
        if copy is False:
            raise BufferError(f"from_dlpack: copy=False, but the tensor is on {result.device}, not {_device(device)}")
        return result.to(device)
    return result.clone() if copy else result


def to_dlpack(tensor: Tensor) -> Any:
    """The DLPack capsule of ``tensor`` (legacy API; prefer passing the tensor to the consumer).

    Example::

        >>> ember.from_dlpack(ember.to_dlpack(ember.arange(3)))
        tensor([0, 1, 2])
    """
    return tensor.__dlpack__()


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    if self._requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    return self._backend.to_dlpack(writable_data(self), stream, max_version)


def _dlpack_device(self):
    return (_CODES.get(self._device.type, 1), self._device.index or 0)
