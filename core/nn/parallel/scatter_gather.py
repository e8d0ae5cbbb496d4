"""Split inputs over devices and collect outputs back: ``scatter``, ``scatter_kwargs``, ``gather``.

Tensors are split with :meth:`Tensor.chunk` and moved with :meth:`Tensor.to`, both recorded
by autograd, so gradients flow back from every device to the original input.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ...device import device as _device
from ...ops.movement import cat
from ...tensor import Tensor, placement

__all__ = ["scatter", "scatter_kwargs", "gather"]


def _is_namedtuple(obj: object) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def scatter(inputs: Any, target_gpus: Sequence[_device | str], dim: int = 0) -> list[Any]:
    """Split the tensors in ``inputs`` into chunks along ``dim``, one per device.

    Tuples, lists and dicts are walked; any other object is referenced by every device's
    share. Like :meth:`Tensor.chunk`, a short dimension may give fewer chunks than devices,
    and then the result has as many entries as there are chunks.

    Args:
        inputs: a tensor or a structure holding tensors.
        target_gpus (list): the devices (``ember.device``, strings).
        dim (int): the dimension to split. Default: 0.

    Returns:
        list: one share of ``inputs`` per device.
    """
    devices = [placement(d)[1] for d in target_gpus]

    def scatter_map(obj: Any) -> list[Any]:
        if isinstance(obj, Tensor):
            chunks = obj.chunk(len(devices), dim)
            return [chunk.to(dev) for chunk, dev in zip(chunks, devices)]
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in devices]

    return scatter_map(inputs)


def scatter_kwargs(
    inputs: tuple[Any, ...] | None,
    kwargs: dict[str, Any] | None,
    target_gpus: Sequence[_device | str],
    dim: int = 0,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """:func:`scatter` ``inputs`` and ``kwargs`` alike; pads the shorter list with empty entries.

    Returns:
        tuple: ``(inputs, kwargs)``, tuples with one entry per share.
    """
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(scattered_inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def gather(outputs: Sequence[Any], target_device: _device | str, dim: int = 0) -> Any:
    """Concatenate the per-device ``outputs`` along ``dim`` on ``target_device``.

    Structures (tuples, lists, dicts) are gathered entry by entry; ``None`` stays ``None``.
    Zero-dimensional tensors are stacked into a vector, with a warning (as PyTorch does).

    Args:
        outputs (list): one output per device.
        target_device: where the result goes (``ember.device`` or string).
        dim (int): the dimension to concatenate. Default: 0.
    """
    target = placement(target_device)[1]

    def gather_map(outs: Sequence[Any]) -> Any:
        out = outs[0]
        if isinstance(out, Tensor):
            if all(o.dim() == 0 for o in outs):
                warnings.warn(
                    "Was asked to gather along dimension 0, but all input tensors were scalars; "
                    "will instead unsqueeze and return a vector.",
                    stacklevel=3,
                )
                outs = [o.unsqueeze(0) for o in outs]
                return cat([o.to(target) for o in outs], 0)
            return cat([o.to(target) for o in outs], dim)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outs):
                raise ValueError("All dicts must have the same number of keys")
            return type(out)((k, gather_map([d[k] for d in outs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outs)))
        if isinstance(out, (tuple, list)):
            return type(out)(map(gather_map, zip(*outs)))
        return out

    return gather_map(outputs)
