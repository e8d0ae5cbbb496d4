"""Convolution of integer tensors (and its transpose), which PyTorch's CPU kernels compute in the input's type.

The windows are gathered with :meth:`Tensor.unfold` and contracted with the weight by the
backend's integer matmul, so the result is exact (wrapping as the type does, as PyTorch's),
never a detour through floating point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...tensor import Tensor
from .padding import pad

__all__ = ["integer_conv", "integer_conv_transpose"]


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


def integer_conv_transpose(
    input: Tensor,
    weight: Tensor,
    stride: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> Tensor:
    """The transposed convolution of an integer ``(N, C_in, *spatial)`` input (no bias): the input
    spread ``stride`` apart with zeros, convolved with the flipped, transposed kernel.

    Args:
        input (Tensor): the batched integer input.
        weight (Tensor): ``(C_in, C_out / groups, *kernel)`` of the same type.
        stride, padding, output_padding, dilation: one int per spatial dimension.
        groups (int): the number of channel groups.

    Example::

        >>> from ember.nn.functional.conv_integer import integer_conv_transpose
        >>> integer_conv_transpose(ember.tensor([[[1, 2]]]), ember.tensor([[[1, 10]]]), (2,), (0,), (0,), (1,), 1)
        tensor([[[ 1, 10,  2, 20]]])
    """
    nd = input.ndim - 2
    n, c_in = input.shape[:2]
    kernel = tuple(weight.shape[2:])
    spread = input
    if any(s != 1 for s in stride):
        spread = input.new_zeros((n, c_in) + tuple((i - 1) * s + 1 for i, s in zip(input.shape[2:], stride)))
        spread[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = input
    reach = [d * (k - 1) - p for d, k, p in zip(dilation, kernel, padding)]  # negative: cropped
    pads = tuple((r, r + o) for r, o in zip(reach, output_padding))
    c_out = weight.shape[1] * groups
    flipped = (
        weight.reshape((groups, c_in // groups, weight.shape[1]) + kernel)
        .transpose(1, 2)
        .reshape((c_out, c_in // groups) + kernel)
        .flip(tuple(range(2, 2 + nd)))
    )
    return integer_conv(spread, flipped, (1,) * nd, pads, dilation, groups)
