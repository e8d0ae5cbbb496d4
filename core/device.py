"""Devices: ``cpu``, ``cuda:1``, ``opencl:0`` or any type a backend plugin registers."""

from __future__ import annotations

import operator
import os
import re
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .type_names import type_name

__all__ = [
    "device",
    "default_device",
    "set_default_device",
    "current_index",
    "set_current_index",
    "accelerator_backend",
    "available_accelerator",
    "connect",
    "get_device_module",
]

#: the device types PyTorch names (``torch.device`` accepts each, with or without a backend for it)
TORCH_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
    "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip
#: a device string: a type, then ``:`` and an index without sign or leading zeros
_DEVICE_STRING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::(0|[1-9][0-9]*))?")


class _ThreadDefaults(threading.local):
    """The default device of each thread (``cpu`` in a new thread, as PyTorch's), and the defaults
    that the thread's ``with device(...)`` blocks being run replaced, innermost last."""

    def __init__(self) -> None:
        self.device: device | None = None
        self.replaced: list[device] = []


_defaults = _ThreadDefaults()
#: the devices made so far from a string and an optional int index, by those arguments
_made: dict[tuple[str, int | None], device] = {}
#: () -> the plugin host's BackendRegistry, once :func:`connect` is called
_backend_registry: Callable[[], Any] | None = None
#: the current device index of each device type (``ember.cuda.set_device``,
#: ``ember.accelerator.set_device_index``): where a tensor made on a device without index goes
_current_indices: dict[str, int] = {}


def current_index(device_type: str) -> int:
    """The index of the current device of ``device_type`` (0 until :func:`set_current_index` changes it)."""
    return _current_indices.get(device_type, 0)


def set_current_index(device_type: str, index: int) -> None:
    """Make device ``index`` the current device of ``device_type``."""
    _current_indices[device_type] = index


def connect(backend_registry: Callable[[], Any]) -> None:
    """Connect the plugin host's ``backend_registry`` function (``ember.tensor_methods.install()``
    does, once, at ``import ember``): the device types and the accelerator come from it."""
    global _backend_registry
    _backend_registry = backend_registry


def accelerator_backend() -> tuple[str | None, Any]:
    """``(device_type, backend)`` of the accelerator, or ``(None, None)`` when no backend serves it.

    The accelerator is the ``cuda`` device type, or the one the environment variable
    ``EMBER_ACCELERATOR`` names (``opencl``).
    """
    kind = os.environ.get("EMBER_ACCELERATOR") or "cuda"
    if _backend_registry is None:
        return None, None
    try:
        return kind, _backend_registry().backend_for(kind)
    except RuntimeError:
        return None, None


def available_accelerator() -> str | None:
    """The accelerator's device type when a backend serves it and sees a device, else None."""
    kind, backend = accelerator_backend()
    return kind if kind is not None and backend.device_count() > 0 else None


def get_device_module(device: device | str | None = None) -> ModuleType:
    """The module of a device type (``ember.cuda`` for ``"cuda:1"``, ``ember.cpu`` for ``"cpu"``).

    Args:
        device (ember.device or str, optional): the device. Default: the current accelerator's
            type, or ``cpu`` without one (:func:`ember.accelerator.current_accelerator`).

    Raises:
        RuntimeError: for another argument, or a device type without a module (``meta``).

    Example::

        >>> ember.get_device_module("cpu") is ember.cpu
        True
        >>> ember.get_device_module(ember.device("cuda", 1)) is ember.cuda
        True
    """
    if isinstance(device, (_Device, str)):
        name = _Device(device).type
    elif device is None:
        name = available_accelerator() or "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect ember.device, str, or None")
    module = getattr(sys.modules[__package__], name, None)
    if not isinstance(module, ModuleType):
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as 'ember.{name}'.")
    return module


def _check_type(name: str) -> None:
    """PyTorch's error for a device type that neither PyTorch nor a registered backend knows."""
    if name in TORCH_DEVICE_TYPES or _backend_registry is None:
        return
    registered = _backend_registry().device_types()
    if name not in registered:
        known = ", ".join(TORCH_DEVICE_TYPES + tuple(t for t in registered if t not in TORCH_DEVICE_TYPES))
        raise RuntimeError(f"Expected one of {known} device type at start of device string: {name}")


def _parse(text: str) -> tuple[str, int | None]:
    """``(type, index)`` of a device string such as ``"cuda:1"`` or ``"cpu"``."""
    if not text:
        raise RuntimeError("Device string must not be empty")
    match = _DEVICE_STRING.fullmatch(text)
    if match is None:
        name = re.split(r"[^A-Za-z0-9_]", text, maxsplit=1)[0]
        if name and name not in TORCH_DEVICE_TYPES:
            _check_type(name)
        raise RuntimeError(f"Invalid device string: {text!r}")
    _check_type(match[1])
    return match[1], None if match[2] is None else int(match[2])


def _checked_index(index: Any) -> int:
    if isinstance(index, bool) or not hasattr(index, "__index__"):
        raise TypeError(f"device(): argument 'index' (position 2) must be int, not {type_name(index)}")
    index = operator.index(index)
    if index < 0:
        raise RuntimeError("Device index must not be negative")
    return index


def _accelerator_device(index: Any) -> device:
    """``device(0)``: device ``index`` of the current accelerator, as PyTorch reads an int."""
    index = _checked_index(index)
    kind = available_accelerator()
    if kind is None:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return device(kind, index)


class device:  # noqa: N801 - mirrors torch.device
    """Where a tensor lives: a device type (resolved through the backend registry) and an optional index.

    Args:
        type (str, device or int): ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or another ``device``;
            an int is that device of the current accelerator
            (:func:`ember.accelerator.current_accelerator`).
        index (int, optional): the device index. ``None`` names no particular device: a tensor
            made on ``device("cuda")`` goes to the current CUDA device and reports it (``cuda:0``),
            while CPU and meta tensors report their device without index. Default: ``None``.

    Example::

        >>> ember.device("cpu")
        device(type='cpu')
        >>> ember.device("cuda", 1)
        device(type='cuda', index=1)
        >>> ember.device("cuda") == ember.device("cuda:0")
        False
        >>> str(ember.device("opencl:0"))
        'opencl:0'

    As a context manager, it is the default device of the tensors created in the block::

        >>> with ember.device("meta"):
        ...     ember.zeros(2, 3)
        tensor(..., device='meta', size=(2, 3))
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __new__(cls, type: str | device | int, index: int | None = None) -> device:  # noqa: A002
        plain = index is None or index.__class__ is int
        if plain and type.__class__ is str:
            made = _made.get((type, index))
            if made is not None:
                return made
        if isinstance(type, device):
            if index is not None:
                raise TypeError(f"device(): argument 'type' (position 1) must be str, not {_type_name(type)}")
            return type
        if not isinstance(type, str):
            if isinstance(type, bool) or not hasattr(type, "__index__") or index is not None:
                raise TypeError(f"device(): argument 'type' (position 1) must be str, not {_type_name(type)}")
            return _accelerator_device(type)
        name, parsed = _parse(type)
        if parsed is not None and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
        self = object.__new__(cls)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", parsed if index is None else _checked_index(index))
        if not plain:
            return self
        return _made.setdefault((type, index), self)  # one object per key even when threads race here

    def __enter__(self) -> device:
        """Make this the device of tensors created without ``device=`` until the block ends (PyTorch's
        ``with torch.device("meta"): model = Net()``)."""
        _defaults.replaced.append(default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        set_default_device(_defaults.replaced.pop())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'ember.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self.type,) if self.index is None else (self.type, self.index))


def _type_name(value: object) -> str:
    return "ember.device" if isinstance(value, device) else type(value).__name__


def default_device() -> device:
    """The device new tensors go to when none is given (``cpu`` unless changed), as it was given
    to :func:`set_default_device` (:func:`ember.get_default_device` reports it as PyTorch does).

    Example::

        >>> ember.get_default_device()
        device(type='cpu')
    """
    chosen = _defaults.device
    if chosen is None:
        chosen = _defaults.device = _Device("cpu")
    return chosen


def set_default_device(device: device | str | int | None) -> None:
    """Make ``device`` the device of tensors created without ``device=`` in this thread (other
    threads keep theirs; a new thread starts with ``cpu``, as in PyTorch).

    Args:
        device (ember.device, str or int): the new default device; ``None`` means ``'cpu'``.

    Example::

        >>> ember.set_default_device('cpu')
        >>> ember.get_default_device()
        device(type='cpu')
        >>> ember.zeros(2).device
        device(type='cpu')
    """
    _defaults.device = _Device(device) if device is not None else _Device("cpu")


_Device = device  # the class, where a parameter named ``device`` hides it
