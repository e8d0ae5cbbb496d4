"""``ember.cuda.get_device_properties`` and ``get_device_capability``: what a CUDA device is."""

from __future__ import annotations

from typing import Any

from ..device import device as _device
from .availability import backend as _backend
from .current import index_of

__all__ = ["CudaDeviceProperties", "get_device_properties", "get_device_capability"]


class CudaDeviceProperties:
    """The properties of a CUDA device under PyTorch's attribute names: ``name``, ``major``,
    ``minor``, ``total_memory`` (bytes), ``multi_processor_count``, ``is_integrated``,
    ``is_multi_gpu_board``, ``max_threads_per_multi_processor``, ``warp_size``,
    ``regs_per_multiprocessor``, ``shared_memory_per_block``, ``shared_memory_per_block_optin``,
    ``shared_memory_per_multiprocessor`` and ``L2_cache_size`` (bytes), as the backend reports them.
    """

    def __init__(self, properties: dict[str, Any]) -> None:
        self.__dict__.update(properties)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the CUDA backend does not report the device property {name!r}")

    def __repr__(self) -> str:
        shown = [f"name={self.name!r}"]
        for key in ("major", "minor", "total_memory", "multi_processor_count", "L2_cache_size"):
            if key in self.__dict__:
                value = self.__dict__[key]
                shown.append(
                    f"{key}={value // 2**20}MB" if key in ("total_memory", "L2_cache_size") else f"{key}={value}"
                )
        return f"_CudaDeviceProperties({', '.join(shown)})"


def get_device_properties(device: _device | str | int | None = None) -> CudaDeviceProperties:
    """The properties of a CUDA device (see :class:`CudaDeviceProperties`).

    Args:
        device (ember.device or int, optional): the device. Default: the current device

    Example::

        >>> props = ember.cuda.get_device_properties(0)  # doctest: +SKIP
        >>> props.name, props.total_memory // 2**30  # doctest: +SKIP
        ('NVIDIA H200', 139)
    """
    index = index_of(device)
    backend = _backend()
    if not 0 <= index < backend.device_count():
        raise AssertionError(f"Invalid device id: {index} ({backend.device_count()} CUDA device(s))")
    return CudaDeviceProperties(backend.device_properties(index))


def get_device_capability(device: _device | str | int | None = None) -> tuple[int, int]:
    """The compute capability ``(major, minor)`` of a CUDA device (``(9, 0)`` on an H100/H200).

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    props = get_device_properties(device)
    return props.major, props.minor
