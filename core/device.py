"""Devices: ``cpu``, ``cuda:1``, ``opencl:0`` or any type a backend plugin registers."""

from __future__ import annotations

from typing import Any

__all__ = ["device", "default_device", "set_default_device"]

#: the device types of one device, whose name is printed without its index (``cpu``, ``meta``)
_SINGLE = ("cpu", "meta")
#: the default devices that the ``with device(...)`` blocks being run replaced, innermost last
_replaced_defaults: list[device] = []


class device:  # noqa: N801 - mirrors torch.device
    """Where a tensor lives: a device type (resolved through the backend registry) and an index.

    Args:
        type: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or another ``device``.
        index: device index; ``None`` means the backend's default device.

    Example::

        >>> ember.device("cpu")
        device(type='cpu', index=0)

    As a context manager, it is the default device of the tensors created in the block::

        >>> with ember.device("meta"):
        ...     ember.zeros(2, 3)
        tensor(..., device='meta', size=(2, 3))
    """

    __slots__ = ("type", "index")
    type: str
    index: int
    _cache: dict[tuple[str | device, int | None], device] = {}

    def __new__(cls, type: str | device, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device):
            if index is None:
                return type
            type = type.type
        key = (type, index)
        cached = cls._cache.get(key)
        if cached is not None:
            return cached
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or device, got {type!r}")
        name = type
        if ":" in name:
            if index is not None:
                raise ValueError(f"device: index given twice in {name!r} and index={index}")
            name, _, text = name.partition(":")
            if not text.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(text)
        if not name or not name.replace("_", "").isalnum():
            raise RuntimeError(f"Invalid device string: {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        self = object.__new__(cls)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", 0 if index is None else index)
        return cls._cache.setdefault(key, self)  # one object per key even when threads race here

    def __enter__(self) -> device:
        """Make this the device of tensors created without ``device=`` until the block ends (PyTorch's
        ``with torch.device("meta"): model = Net()``)."""
        _replaced_defaults.append(default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        set_default_device(_replaced_defaults.pop())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device is immutable")

    def __repr__(self) -> str:
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return f"{self.type}:{self.index}" if self.type not in _SINGLE or self.index else self.type

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self.type, self.index))


_default_device: device | None = None


def default_device() -> device:
    """The device new tensors go to when none is given (``cpu`` unless changed).

    Example::

        >>> ember.get_default_device()
        device(type='cpu', index=0)
    """
    global _default_device
    if _default_device is None:
        _default_device = _Device("cpu")
    return _default_device


def set_default_device(device: device | str | None) -> None:
    """Make ``device`` the device of tensors created without ``device=``.

    Args:
        device (ember.device or str): the new default device; ``None`` means ``'cpu'``.

    Example::

        >>> ember.set_default_device('cpu')
        >>> ember.get_default_device()
        device(type='cpu', index=0)
        >>> ember.zeros(2).device
        device(type='cpu', index=0)
    """
    global _default_device
    _default_device = _Device(device) if device is not None else _Device("cpu")


_Device = device  # the class, where a parameter named ``device`` hides it
