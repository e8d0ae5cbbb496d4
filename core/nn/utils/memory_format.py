"""Convolution weights in another memory format: ``convert_conv2d_weight_memory_format`` and
``convert_conv3d_weight_memory_format``."""

from __future__ import annotations

from typing import TypeVar

from ...layout import memory_format as _memory_format
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

_M = TypeVar("_M", bound=Module)


def _convert(module: _M, memory_format: _memory_format, kinds: tuple[type, ...]) -> _M:
    for layer in module.modules():
        if isinstance(layer, kinds):
            layer.weight.data = layer.weight.detach().clone(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module: _M, memory_format: _memory_format) -> _M:
    """Store the weights of every ``nn.Conv2d`` and ``nn.ConvTranspose2d`` in ``module`` (itself
    included) in ``memory_format``, in place; only the layout changes, not the values or shapes.

    Args:
        module (nn.Module): a convolution or a module holding some.
        memory_format: e.g. ``ember.channels_last`` or ``ember.contiguous_format``.

    Returns:
        ``module``.

    Example::

        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        >>> net = nn.utils.convert_conv2d_weight_memory_format(net, ember.channels_last)
        >>> net[0].weight.is_contiguous(memory_format=ember.channels_last)
        True
    """
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: _M, memory_format: _memory_format) -> _M:
    """Store the weights of every ``nn.Conv3d`` and ``nn.ConvTranspose3d`` in ``module`` (itself
    included) in ``memory_format``, in place (see :func:`convert_conv2d_weight_memory_format`).

    Args:
        module (nn.Module): a convolution or a module holding some.
        memory_format: e.g. ``ember.channels_last_3d`` or ``ember.contiguous_format``.

    Returns:
        ``module``.

    Example::

        >>> conv = nn.utils.convert_conv3d_weight_memory_format(nn.Conv3d(2, 4, 3), ember.channels_last_3d)
        >>> conv.weight.is_contiguous(memory_format=ember.channels_last_3d)
        True
    """
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
