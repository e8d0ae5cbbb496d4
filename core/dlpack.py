"""DLPack exchange: ``ember.from_dlpack(obj)`` and ``Tensor.__dlpack__`` (zero-copy where the backend allows)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .device import device as _device
from .tensor import _new, backend_for_device, writable_data

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

# DLPack device-type codes and the ember device types they correspond to
_DEVICE_TYPES = {1: "cpu", 2: "cuda", 3: "cpu", 4: "opencl", 13: "cuda"}
_CODES = {"cpu": 1, "cuda": 2, "opencl": 4}


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A tensor sharing memory with ``ext_tensor`` (any object with ``__dlpack__``, e.g. a torch or CuPy array).

    Args:
        ext_tensor: the object to import.
        device (ember.device, optional): the device of the result; another than ``ext_tensor``'s copies
            there. Default: ``ext_tensor``'s.
        copy (bool, optional): ``True``: a copy, never shared; ``False``: shared, and a ``device`` that
            would need a copy raises ``BufferError``. Default: ``None`` (shared where it can be).

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
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(ext_tensor).__name__} does not support the DLPack protocol")
    code, index = ext_tensor.__dlpack_device__()
    code = int(code)
    if code not in _DEVICE_TYPES:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {code}")
    backend = backend_for_device(_device(_DEVICE_TYPES[code], 0))
    data, index = backend.from_dlpack(ext_tensor)
    result = _new(data, backend, _device(backend.device_type, index))
    if device is not None and _device(device) != result.device:
        if copy is False:
            raise BufferError(f"from_dlpack: copy=False, but the tensor is on {result.device}, not {_device(device)}")
        return result.to(device)
    return result.clone() if copy else result


def to_dlpack(tensor: Tensor) -> Any:
    """The DLPack capsule of ``tensor`` (legacy API; prefer passing the tensor to the consumer)."""
    return tensor.__dlpack__()


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    if self._requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    return self._backend.to_dlpack(writable_data(self), stream, max_version)


def _dlpack_device(self):
    return (_CODES.get(self._device.type, 1), self._device.index)
