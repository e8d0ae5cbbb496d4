"""``replicate``: copies of a module on several devices that stay in the original's graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from ...autograd.grad_mode import no_grad
from ...device import device as _device
from ...tensor import placement

if TYPE_CHECKING:
    from ...tensor import Tensor
    from ..modules.module import Module

__all__ = ["replicate"]

_M = TypeVar("_M", bound="Module")


def _shallow_replica(module: _M) -> _M:
    """A new module object sharing ``module``'s attributes, with its own parameter/buffer/child tables."""
    replica = module.__new__(type(module))
    state = module.__dict__.copy()
    state["_parameters"] = {}
    state["_buffers"] = dict(state["_buffers"])
    state["_modules"] = dict(state["_modules"])
    state["_is_replica"] = True
    replica.__dict__ = state
    return replica


def _copy_to(tensors: Sequence[Tensor], dev: _device | str, detach: bool) -> list[Tensor]:
    if detach:
        with no_grad():
            return [t.to(dev) for t in tensors]
    return [t.to(dev) for t in tensors]


def replicate(network: _M, devices: Sequence[_device | str], detach: bool = False) -> list[_M]:
    """One copy of ``network`` per device in ``devices``.

    A replica's parameters are the original parameters moved with :meth:`Tensor.to` (the
    originals themselves on their own device): autograd records the moves, so the gradient
    of every replica's output sums into the original parameters' ``.grad``. Buffers are
    copied too; on the original's device a replica shares the original buffers, so
    in-place updates there (BatchNorm's running statistics) reach the original module.

    Args:
        network (Module): the module to copy.
        devices (list): the devices (``ember.device``, strings).
        detach (bool): copy without recording autograd. Default: ``False``.

    Returns:
        list[Module]: the replicas, in the order of ``devices``.
    """
    devices = [placement(d)[1] for d in devices]
    params = list(network.parameters())
    param_index = {id(p): i for i, p in enumerate(params)}
    param_copies = [_copy_to(params, dev, detach) for dev in devices]

    buf: Tensor | None  # a buffer below, and an entry of a module's buffer table (may be None) further on
    buffers = list(network.buffers())
    buffer_index = {id(b): i for i, b in enumerate(buffers)}
    buffer_copies = []
    for dev in devices:
        copies = []
        for buf in buffers:
            differentiable = buf.requires_grad and not detach
            copies.append(_copy_to([buf], dev, not differentiable)[0])
        buffer_copies.append(copies)

    modules = list(network.modules())
    module_index = {id(m): i for i, m in enumerate(modules)}
    module_copies = [[_shallow_replica(m) for m in modules] for _ in devices]

    for i, module in enumerate(modules):
        for j in range(len(devices)):
            replica = module_copies[j][i]
            for key, child in module._modules.items():
                replica._modules[key] = None if child is None else module_copies[j][module_index[id(child)]]
            for key, param in module._parameters.items():
                replica.__dict__[key] = None if param is None else param_copies[j][param_index[id(param)]]
            for key, buf in module._buffers.items():
                replica._buffers[key] = None if buf is None else buffer_copies[j][buffer_index[id(buf)]]
    return [copies[0] for copies in module_copies]  # type: ignore[misc]  # modules()[0] is network
