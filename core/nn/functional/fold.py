"""Sliding blocks, functional forms: ``F.unfold`` (im2col) and ``F.fold`` (col2im, its adjoint).

Both are grouped convolutions with a one-hot weight (each output channel picks one kernel
offset of one input channel), so they run on every backend through the conv kernels and
differentiate twice like them.
"""

from __future__ import annotations

import math

from ... import dtypes
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...ops.creation import eye
from ...ops.dtype_support import FLOATING_AND_HALF, not_implemented
from ...ops.operands import named_node, require_tensors
from ...tensor import Tensor
from ..common_types import _size_any_t
from .conv import conv2d, conv_transpose2d
from .padding import pad

__all__ = ["unfold", "fold"]


def _pair(op, name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise RuntimeError(f"{op}(): {name} must be an int or a pair of ints, got {value!r}")
    return pair


def _pairs(op, **values):
    """Each of ``values`` checked by :func:`_pair` (named by its keyword), in order."""
    return tuple(_pair(op, name, value) for name, value in values.items())


#: PyTorch's im2col/col2im checks of the block geometry: (what must hold, the name in the message, the least value)
_GEOMETRY_RULES = {
    "kernel_size": ("kernel size should be greater than zero", "kernel", 1),
    "dilation": ("dilation should be greater than zero", "dilation", 1),
    "padding": ("padding should be non-negative", "pad", 0),
    "stride": ("stride should be greater than zero", "stride", 1),
}


def _check_geometry(**pairs):
    """Each ``(height, width)`` pair of ``pairs`` checked by :data:`_GEOMETRY_RULES`, in the order given."""
    for name, (height, width) in pairs.items():
        what, label, least = _GEOMETRY_RULES[name]
        if height < least or width < least:
            raise RuntimeError(f"{what}, but got {label}_height: {height} {label}_width: {width}")


def _batched(op, input, nd):
    """``input`` with a batch dimension (added to an unbatched ``(nd - 1)``-D one) and whether it had one."""
    if input.ndim not in (nd - 1, nd):
        raise RuntimeError(
            f"{op}(): expected a {nd - 1}D or {nd}D (batch mode) input, got {input.ndim}D of shape {list(input.shape)}"
        )
    batched = input.ndim == nd
    return (input if batched else input.unsqueeze(0)), batched


def _one_hot_weight(like, channels, kernel):
    """``(channels * kh * kw, 1, kh, kw)``: output channel ``c * k + i`` picks offset ``i`` of channel ``c``."""
    k = math.prod(kernel)
    picks = eye(k, dtype=like.dtype, device=like.device).reshape((k, 1) + kernel)
    return picks.repeat(channels, 1, 1, 1)


def _blocks(size, kernel, dilation, padding, stride):
    """The number of sliding blocks along each of the two spatial dims."""
    return tuple(
        (s + 2 * p - d * (k - 1) - 1) // st + 1 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride)
    )


#: PyTorch's im2col and col2im kernels: floating types and bool
_IM2COL_TYPES = FLOATING_AND_HALF | {dtypes.bool, dtypes.complex64, dtypes.complex128}


def unfold(
    input: Tensor,
    kernel_size: _size_any_t,
    dilation: _size_any_t = 1,
    padding: _size_any_t = 0,
    stride: _size_any_t = 1,
) -> Tensor:
    r"""Extracts sliding local blocks from a batched input tensor (im2col).

    Args:
        input (Tensor): :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        kernel_size (int or tuple): the size of the blocks.
        dilation (int or tuple): the stride of the elements within a block. Default: 1
        padding (int or tuple): implicit zero padding on both sides. Default: 0
        stride (int or tuple): the stride of the blocks. Default: 1

    Shape:
        - Output: :math:`(N, C \times \prod(\text{kernel\_size}), L)` (without ``N`` for an
          unbatched input), :math:`L` the number of blocks.

    Examples::

        >>> F.unfold(ember.randn(2, 5, 3, 4), kernel_size=(2, 3)).shape
        ember.Size([2, 30, 4])
    """
    require_tensors("im2col", ("input",), input)  # the op PyTorch's functional calls
    if _amp.active:  # PyTorch's im2col is one op outside the tables: its convolution is not cast
        return autocast_call("im2col", unfold, input, kernel_size, dilation, padding, stride)
    op = "unfold"
    kernel, dil, pd, st = _pairs(op, kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    _check_geometry(kernel_size=kernel, dilation=dil, padding=pd, stride=st)
    x, batched = _batched(op, input, 4)
    if x.dtype not in _IM2COL_TYPES:
        not_implemented("im2col_out_cpu", x.dtype)
    if x.dtype is dtypes.bool:  # no bool convolution: the one-hot columns copy 0s and 1s, exact in float32
        return unfold(input.float(), kernel_size, dilation, padding, stride).bool()
    if any(b < 1 for b in _blocks(x.shape[2:], kernel, dil, pd, st)):
        raise RuntimeError(
            f"{op}(): input of spatial size {list(x.shape[2:])} is too small for kernel_size {list(kernel)}, "
            f"dilation {list(dil)}, padding {list(pd)}"
        )
    c = x.shape[1]
    # row-major columns whatever the input's layout, as PyTorch's im2col (a channels-last convolution stays so)
    cols = conv2d(x.contiguous(), _one_hot_weight(x, c, kernel), stride=st, padding=pd, dilation=dil, groups=c)
    cols = cols.reshape((x.shape[0], cols.shape[1], math.prod(cols.shape[2:])))  # -1 fails on an empty batch
    return named_node(cols if batched else cols.squeeze(0), "Im2ColBackward0")  # PyTorch's one node


def fold(
    input: Tensor,
    output_size: _size_any_t,
    kernel_size: _size_any_t,
    dilation: _size_any_t = 1,
    padding: _size_any_t = 0,
    stride: _size_any_t = 1,
) -> Tensor:
    r"""Combines an array of sliding local blocks into a large tensor (col2im), summing overlaps.

    Args:
        input (Tensor): :math:`(N, C \times \prod(\text{kernel\_size}), L)` or unbatched
            :math:`(C \times \prod(\text{kernel\_size}), L)`.
        output_size (int or tuple): the spatial shape :math:`(H, W)` of the output.
        kernel_size, dilation, padding, stride: as in :func:`unfold`.

    Shape:
        - Output: :math:`(N, C, H, W)` or :math:`(C, H, W)`.

    Examples::

        >>> F.fold(ember.ones(1, 4, 4), output_size=(3, 3), kernel_size=2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    require_tensors("col2im", ("input",), input)  # the op PyTorch's functional calls
    if _amp.active:  # col2im, likewise
        return autocast_call("col2im", fold, input, output_size, kernel_size, dilation, padding, stride)
    op = "fold"
    size, kernel, dil, pd, st = _pairs(
        op, output_size=output_size, kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride
    )
    _check_geometry(kernel_size=kernel, stride=st, dilation=dil, padding=pd)
    cols, batched = _batched(op, input, 3)
    if cols.dtype not in _IM2COL_TYPES:
        not_implemented("col2im_out_cpu", cols.dtype)
    if cols.dtype is dtypes.bool:  # no bool convolution: the overlaps sum 0s and 1s in float32, then any()
        return fold(input.float(), output_size, kernel_size, dilation, padding, stride).bool()
    k = math.prod(kernel)
    if cols.shape[1] % k:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={cols.shape[1]} and kernel_size={kernel}"
        )
    blocks = _blocks(size, kernel, dil, pd, st)
    if any(b < 1 for b in blocks) or cols.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dil}, padding={pd}, stride={st}, expected "
            f"size of input's dimension 2 to match the calculated number of sliding blocks {blocks[0]} * "
            f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={cols.shape[2]}."
        )
    c = cols.shape[1] // k
    cols = cols.reshape((cols.shape[0], cols.shape[1]) + blocks)
    full = conv_transpose2d(cols, _one_hot_weight(cols, c, kernel), stride=st, dilation=dil, groups=c)
    # the full (padded) canvas covered by the blocks, widened to the padded output and cropped
    extra = [s + 2 * p - f for s, p, f in zip(size, pd, full.shape[2:])]
    full = pad(full, (0, extra[1], 0, extra[0]))
    out = full[:, :, pd[0] : pd[0] + size[0], pd[1] : pd[1] + size[1]]
    return named_node(out if batched else out.squeeze(0), "Col2ImBackward0")  # PyTorch's one node
