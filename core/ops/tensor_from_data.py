"""Tensors made from existing data, with PyTorch's sharing rules: ``asarray`` (shares memory with
a tensor or a NumPy array when it can), ``frombuffer`` (a CPU tensor over a Python buffer) and
``scalar_tensor`` (a 0-dimensional tensor of the default dtype).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import dtypes
from ..device import device as _device
from ..tensor import Tensor, dtype_arg, from_numpy, require_grad_of_new, tensor
from ..type_names import type_name

__all__ = ["asarray", "frombuffer", "scalar_tensor"]


def _alias_error(what: str, dtype: dtypes.dtype | None) -> ValueError:
    return ValueError(f"can't alias {what} into dtype '{dtype}'.")


def _from_tensor(obj: Tensor, dtype, device, copy, requires_grad) -> Tensor:
    target_dtype = obj.dtype if dtype is None else dtypes.as_dtype(dtype)
    target_device = obj.device if device is None else _device(device)
    if target_dtype is not obj.dtype and copy is False:
        raise _alias_error(f"tensor with dtype {obj.dtype}", target_dtype)
    if target_device != obj.device and copy is False:
        raise ValueError(f"can't alias tensor from device '{obj.device}' to '{target_device}'.")
    result = obj.to(device=target_device, dtype=target_dtype)
    if copy and result is obj:
        result = obj.clone()
    if requires_grad is not None and requires_grad != result.requires_grad:
        result = require_grad_of_new(result.detach()) if requires_grad else result.detach()
    return result


def asarray(
    obj: Any,
    *,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    copy: bool | None = None,
    requires_grad: bool | None = None,
) -> Tensor:
    r"""Converts ``obj`` to a tensor, sharing its memory when it can.

    ``obj`` is a tensor, a NumPy array (or any object with the array interface), an object with
    ``__dlpack__``, an object with the buffer protocol, a scalar or a sequence of scalars. A tensor
    is returned as it is, and a NumPy array on the ``cpu`` device shares its memory, unless
    ``dtype`` or ``device`` differ or ``copy=True``; a buffer's bytes are read as elements of
    ``dtype`` (the default dtype when omitted, as :func:`frombuffer` reads them), sharing its
    memory; sequences and scalars are always copied, their dtype inferred as :func:`ember.tensor`
    infers it.

    Args:
        obj (object): the data.
        dtype (ember.dtype, optional): the dtype of the result. Default: ``obj``'s.
        device (ember.device, optional): the device of the result. Default: ``obj``'s (``cpu``
            for data that is not a tensor).
        copy (bool, optional): ``True`` always copies, ``False`` never does (a
            :class:`ValueError` if it would have to), ``None`` copies only when needed.
            Default: ``None``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``obj``'s
            for a tensor, else ``False``.

    Example::

        >>> import numpy as np
        >>> a = np.array([1.0, 2.0])
        >>> t = ember.asarray(a)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 2.], dtype=ember.float64)
        >>> ember.asarray([1, 2], dtype=ember.float32)
        tensor([1., 2.])
    """
    if isinstance(obj, Tensor):
        return _from_tensor(obj, dtype, device, copy, requires_grad)
    if hasattr(obj, "__dlpack__") and not isinstance(obj, np.ndarray):
        from ..dlpack import from_dlpack

        return _from_tensor(from_dlpack(obj), dtype, device, copy, requires_grad)
    target_dtype = None if dtype is None else dtypes.as_dtype(dtype)
    target_device = _device("cpu" if device is None else device)
    if isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__"):
        array = np.asarray(obj)
        if target_dtype is None:
            target_dtype = dtypes.as_dtype(dtypes.native_dtype_name(array.dtype))
        shareable = target_device.type == "cpu" and dtypes.host_dtype(target_dtype) == array.dtype
        if copy is False and not shareable:
            raise _alias_error(f"array with dtype {array.dtype}", target_dtype)
        result = (
            from_numpy(array) if shareable and not copy else tensor(array, dtype=target_dtype, device=target_device)
        )
    elif _is_buffer(obj):  # its bytes read as elements of ``dtype``, the default dtype when None, as PyTorch
        result = frombuffer(obj, dtype=target_dtype or dtypes.get_default_dtype())
        if target_device.type != "cpu":
            if copy is False:
                raise ValueError(f"can't alias buffer from device 'cpu' to '{target_device}'.")
            result = result.to(target_device)
        elif copy:
            result = result.clone()
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        result = tensor(obj, dtype=target_dtype, device=target_device)
    return require_grad_of_new(result) if requires_grad else result


def _is_buffer(obj: Any) -> bool:
    """Whether ``obj`` has the buffer protocol (``bytes``, ``bytearray``, ``array.array``, ``memoryview``)."""
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def frombuffer(
    buffer: Any, *, dtype: dtypes.dtype, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    r"""A 1-dimensional CPU tensor over the memory of a Python buffer (``bytes``, ``bytearray``,
    ``array.array``, ``memoryview``, ...): writes to one show in the other.

    Args:
        buffer (object): an object with the buffer protocol.
        dtype (ember.dtype): the element type to read the bytes as.
        count (int, optional): the number of elements to read; ``-1`` reads to the end.
            Default: ``-1``.
        offset (int, optional): the number of bytes to skip at the start. Default: ``0``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Example::

        >>> import array
        >>> a = array.array("i", [1, 2, 3])
        >>> t = ember.frombuffer(a, dtype=ember.int32)
        >>> a[0] = 7
        >>> t
        tensor([7, 2, 3], dtype=ember.int32)
    """
    dt = dtypes.as_dtype(dtype)
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    length, size = view.nbytes, np.dtype(dtypes.host_dtype(dt)).itemsize
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} bytes) minus 1"
        )
    if count < 0:
        if (length - offset) % size:
            raise ValueError(
                f"buffer length ({length - offset} bytes) after offset ({offset} bytes) "
                f"must be a multiple of element size ({size})"
            )
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(
            f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) "
            f"must not be greater than actual buffer length ({length} bytes)"
        )
    if view.readonly:
        warnings.warn(
            "The given buffer is not writable: the tensor shares its memory and cannot be written to. "
            "Copy the buffer (or make it writable) before converting it to a tensor to write.",
            UserWarning,
            stacklevel=2,
        )
    array = np.frombuffer(view.cast("B"), dtype=dtypes.host_dtype(dt), count=count, offset=offset)
    result = from_numpy(array)
    return require_grad_of_new(result) if requires_grad else result


def scalar_tensor(
    s: bool | int | float,
    *,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""A 0-dimensional tensor holding ``s``, of the default dtype unless ``dtype`` is given
    (integers and booleans too, as in PyTorch).

    Args:
        s (Number): the value.
        dtype (ember.dtype, optional): the dtype. Default: :func:`ember.get_default_dtype`.
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Example::

        >>> ember.scalar_tensor(3)
        tensor(3.)
        >>> ember.scalar_tensor(3, dtype=ember.int64)
        tensor(3)
    """
    if isinstance(s, Tensor) or not isinstance(s, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type_name(s)}")
    dt = dtypes.get_default_dtype() if dtype is None else dtype_arg("scalar_tensor", dtype)
    return tensor(s, dtype=dt, device=device, requires_grad=requires_grad)
