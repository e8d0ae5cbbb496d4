"""``nn.DataParallel``: one process, several devices, the batch split between them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from ... import cuda
from ...autograd.grad_mode import grad_state
from ...device import device as _device
from ...tensor import backend_for_device, placement
from ..modules.module import Module
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter_kwargs

__all__ = ["DataParallel", "data_parallel"]


def _default_device_type(module: Module) -> str:
    for t in chain(module.parameters(), module.buffers()):
        return t.device.type
    return "cuda" if cuda.is_available() else "cpu"


def _resolve_devices(
    module: Module, device_ids: Iterable[_device | str | int] | None, output_device: _device | str | int | None
) -> tuple[list[_device], _device]:
    """``device_ids`` (ints mean devices of the module's device type) and ``output_device`` as devices."""
    device_type = _default_device_type(module)
    if device_ids is None:
        device_ids = range(backend_for_device(_device(device_type, 0)).device_count())

    def as_device(d: _device | str | int) -> _device:
        if isinstance(d, int) and not isinstance(d, bool):
            return placement(_device(device_type, d))[1]
        if isinstance(d, (str, _device)):
            return placement(d)[1]
        raise TypeError(f"DataParallel: a device id must be an int, a string or an ember.device, got {d!r}")

    devices = [as_device(d) for d in device_ids]
    if not devices:
        raise ValueError("DataParallel: device_ids is empty")
    output = devices[0] if output_device is None else as_device(output_device)
    return devices, output


def _check_on_source(module: Module, source: _device) -> None:
    for t in chain(module.parameters(), module.buffers()):
        if t.device != source:
            raise RuntimeError(
                f"module must have its parameters and buffers on device {source} (device_ids[0]) but found one of "
                f"them on device: {t.device}"
            )


class DataParallel(Module):
    r"""Implements data parallelism at the module level.

    Every forward splits the tensors among the inputs into chunks along ``dim``, one per
    device (other arguments are passed to every device as they are), copies the module
    onto each device, runs the copies in parallel threads, and concatenates their outputs
    along ``dim`` on ``output_device``. The copies' parameters are the module's own moved
    with differentiable copies, so ``backward`` sums every device's gradient into the
    module's parameters. Buffers updated in forward (BatchNorm's running statistics) are
    kept from the copy on ``device_ids[0]`` only, as in PyTorch.

    Works with any backend's devices, including the NumPy backend's ``cpu:0``, ``cpu:1``, ...
    (two unless ``EMBER_CPU_DEVICES=N`` asks for another number).

    Args:
        module (Module): module to be parallelized; its parameters and buffers must be on
            ``device_ids[0]``.
        device_ids (list of int or device): the devices. Ints are indices of the module's
            device type. Default: all devices of that type; for a module on ``cpu``, none: as
            PyTorch without an accelerator, the module then runs as it is (``device_ids`` is
            ``[]``) and the host's devices ``cpu:0``, ``cpu:1``, ... are used only when named.
        output_device (int or device): where the output is gathered. Default:
            ``device_ids[0]``.
        dim (int): the dimension along which inputs are split and outputs joined.
            Default: 0.

    Attributes:
        module (Module): the module to be parallelized.

    Example::

        >>> net = ember.nn.DataParallel(model, device_ids=[0, 1, 2])
        >>> output = net(input_var)  # input_var can be on any device, including CPU
    """

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[_device | str | int] | None = None,
        output_device: _device | str | int | None = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got {type(module).__name__}")
        self.dim = dim
        if device_ids is None and _default_device_type(module) == "cpu":
            # PyTorch without an accelerator: the module runs as it is, on the whole batch (BatchNorm's
            # statistics over all of it); the host's extra devices are used only when named
            self.module = module
            self.device_ids = []
            return
        devices, output = _resolve_devices(module, device_ids, output_device)
        self.module = module
        self.device_ids = devices
        self.output_device = output
        self.src_device_obj = devices[0]
        _check_on_source(module, self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _check_on_source(self.module, self.src_device_obj)
        inputs, module_kwargs = self.scatter(inputs, kwargs, self.device_ids)
        if not inputs and not module_kwargs:
            inputs, module_kwargs = ((),), ({},)
        if len(self.device_ids) == 1:
            return self.module(*inputs[0], **module_kwargs[0])
        replicas = self.replicate(self.module, self.device_ids[: len(inputs)], not grad_state.enabled)
        outputs = self.parallel_apply(replicas, inputs, module_kwargs)
        return self.gather(outputs, self.output_device)

    def replicate(self, module: Module, device_ids: Sequence[_device | str], detach: bool = False) -> list[Module]:
        return replicate(module, device_ids, detach)

    def scatter(
        self, inputs: tuple[Any, ...] | None, kwargs: dict[str, Any] | None, device_ids: Sequence[_device | str]
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(
        self, replicas: Sequence[Module], inputs: Sequence[Any], kwargs: Sequence[dict[str, Any]]
    ) -> list[Any]:
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[: len(replicas)])

    def gather(self, outputs: Sequence[Any], output_device: _device | str) -> Any:
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Sequence[_device | str | int] | None = None,
    output_device: _device | str | int | None = None,
    dim: int = 0,
    module_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Evaluate ``module(*inputs, **module_kwargs)`` in parallel over ``device_ids``.

    The functional form of :class:`DataParallel` (same arguments); ``inputs`` is a tensor
    or a tuple of positional arguments.
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if device_ids is None and isinstance(module, Module) and _default_device_type(module) == "cpu":
        # PyTorch's data_parallel without an accelerator
        raise RuntimeError("device type could not be determined")
    return DataParallel(module, device_ids, output_device, dim)(*inputs, **(module_kwargs or {}))
