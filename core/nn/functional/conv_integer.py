"""Convolution of integer tensors, which PyTorch's CPU kernels compute in the input's type.

The windows are gathered with :meth:`Tensor.unfold` and contracted with the weight by the
backend's integer matmul, so the result is exact (wrapping as the type does, as PyTorch's),
never a detour through floating point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...tensor import Tensor
from .padding import pad

__all__ = ["integer_conv"]


def integer_conv(
    input: Tensor,
    weight: Tensor,
    stride: Sequence[int],
    pads: Sequence[tuple[int, int]],
    dilation: Sequence[int],
    groups: int,
) -> Tensor:
    """The ``(N, C_out, *spatial)`` convolution of an integer ``(N, C_in, *spatial)`` input (no bias).

    Args:
        input (Tensor): the batched integer input.
        weight (Tensor): ``(C_out, C_in / groups, *kernel)`` of the same type.
        stride, dilation: one int per spatial dimension.
        pads: one ``(before, after)`` pair per spatial dimension.
        groups (int): the number of channel groups.

    Example::

        >>> from ember.nn.functional.conv_integer import integer_conv
        >>> x = ember.arange(6).reshape(1, 1, 6)
        >>> integer_conv(x, ember.tensor([[[1, -1]]]), (2,), ((0, 0),), (1,), 1)
        tensor([[[-1, -1, -1]]])
    """
    nd = input.ndim - 2
    kernel = tuple(weight.shape[2:])
    x = pad(input, [p for pair in reversed(pads) for p in pair])
    for i in range(nd):  # (N, C, O_1.., K_1..): each window trails, dilation taken by a strided slice
        x = x.unfold(2 + i, dilation[i] * (kernel[i] - 1) + 1, stride[i])
        if dilation[i] != 1:
            x = x[..., :: dilation[i]]
    n, c = x.shape[:2]
    out_shape = tuple(x.shape[2 : 2 + nd])
    taps = (c // groups) * math.prod(kernel)
    cols = x.reshape((n, groups, c // groups) + out_shape + kernel)
    cols = cols.permute((0, 1) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd)))
    cols = cols.reshape((n, groups, math.prod(out_shape), taps))
    filters = weight.reshape((groups, weight.shape[0] // groups, taps)).transpose(1, 2)
    out = cols.matmul(filters)  # (N, G, P, C_out / G)
    return out.permute(0, 1, 3, 2).reshape((n, weight.shape[0]) + out_shape)
