"""Page-locked ("pinned") host memory: ``Tensor.pin_memory()`` and ``Tensor.is_pinned()``.

A pinned CPU tensor's values live in host memory that the accelerator's backend allocated
page-locked (:meth:`ember.backend.Backend.pin_host`; CuPy's ``alloc_pinned_memory``), so that
``.to("cuda", non_blocking=True)`` copies it to the device asynchronously, on the current
stream. As in PyTorch, pinning needs an accelerator; a backend without pinned memory (the
contract's default) cannot pin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import accelerator
from .autograd.function import Function
from .device import device as _device
from .plugin import backend_registry

if TYPE_CHECKING:
    import numpy as np

    from .backend import Backend
    from .tensor import Tensor

_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


def pinning_backend(device: _device | str | None = None) -> Backend | None:
    """The backend that pins host memory for ``device`` (the current accelerator when ``None``),
    or ``None`` when there is no accelerator."""
    current = accelerator.current_accelerator(check_available=True)
    if current is None:
        return None
    return backend_registry().backend_for(current.type if device is None else _device(device).type)


class _Pin(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, pinned: np.ndarray) -> Tensor:
        return x._make(pinned)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def pin_memory(tensor: Tensor, device: _device | str | None = None) -> Tensor:
    """A copy of this CPU tensor in pinned (page-locked) host memory; ``self`` if it already is.

    Copies from pinned memory to the accelerator can be asynchronous:
    ``t.pin_memory().to("cuda", non_blocking=True)`` returns before the copy ends, which is
    ordered on the current stream. As in PyTorch, pinning needs an accelerator (a
    ``RuntimeError`` without one), and only CPU tensors can be pinned.

    Args:
        device (str or ember.device, optional): the accelerator device type the memory is
            pinned for. Default: the current accelerator.

    Returns:
        Tensor: a CPU tensor with the same values, whose :meth:`is_pinned` is True.

    Examples::

        >>> t = ember.ones(3)
        >>> if ember.cuda.is_available():
        ...     t = t.pin_memory()
        ...     assert t.is_pinned()
        >>> t
        tensor([1., 1., 1.])
    """
    if tensor.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{tensor.type()}' only dense CPU tensors can be pinned")
    backend = pinning_backend(device)
    if backend is None:
        raise RuntimeError(_NO_ACCELERATOR)
    if backend.is_pinned_host(tensor._data):
        return tensor
    pinned = backend.pin_host(tensor._data)
    if pinned is None:
        raise RuntimeError(f"pin_memory: the {backend.name} backend has no pinned host memory")
    return _Pin.apply(tensor, pinned)


def is_pinned(tensor: Tensor, device: _device | str | None = None) -> bool:
    """Whether this tensor's values are in pinned host memory (see :meth:`pin_memory`).

    False for tensors not on the CPU and on machines without an accelerator, as in PyTorch.

    Args:
        device (str or ember.device, optional): the accelerator device type to ask about.
            Default: the current accelerator.

    Examples::

        >>> ember.ones(2).is_pinned()
        False
    """
    if tensor.device.type != "cpu":
        return False
    backend = pinning_backend(device)
    return backend is not None and backend.is_pinned_host(tensor._data)
