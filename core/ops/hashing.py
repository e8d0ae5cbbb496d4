"""``hash_tensor``: a tensor's elements reduced to one 64-bit hash (PyTorch's xor reduction)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .dtype_support import not_implemented
from .movement import cat
from .operands import normalize_dims, tensor_input

__all__ = ["hash_tensor"]

# the element types PyTorch's xor_sum kernel has: floats widen to float64, integers to int64 (sign-extended)
_HASHED = frozenset(
    (
        dtypes.float64,
        dtypes.float32,
        dtypes.float16,
        dtypes.bfloat16,
        dtypes.int64,
        dtypes.int32,
        dtypes.int16,
        dtypes.int8,
        dtypes.uint8,
        dtypes.bool,
    )
)


def _xor_last_dim(bits: Tensor) -> Tensor:
    """XOR of ``bits`` along its last dimension, halving it at each step."""
    while bits.shape[-1] > 1:
        half = bits.shape[-1] // 2
        folded = bits[..., :half] ^ bits[..., half : 2 * half]
        bits = cat((folded, bits[..., 2 * half :]), -1) if bits.shape[-1] % 2 else folded
    return bits[..., 0]


@tensor_input
def hash_tensor(
    input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, mode: int = 0
) -> Tensor:
    """A hash of the elements of ``input`` (all of them, or those along ``dim``), as ``ember.uint64``.

    The only mode, 0, widens each element to its 64-bit equivalent (float64 for floating dtypes,
    int64 for integers and bool), reads its bits as ``uint64`` and reduces them with XOR: equal
    tensors hash equally, whatever their floating dtype. Not differentiable.

    Args:
        input (Tensor): the tensor to hash.
        dim (int or tuple of ints, optional): the dimensions to reduce; all of them if ``None``. Default: ``None``.
        keepdim (bool): keep the reduced dimensions with size 1. Default: ``False``.
        mode (int): the hash; only 0 (XOR reduction) exists. Default: 0.

    Shape:
        - Output: ``input``'s shape without the reduced dimensions (with them, of size 1, if ``keepdim``).

    Example::

        >>> ember.hash_tensor(ember.tensor([0.0, 1.0]))
        tensor(4607182418800017408, dtype=ember.uint64)
        >>> ember.hash_tensor(ember.tensor([[1, 2], [3, 3]]), 1)
        tensor([3, 0], dtype=ember.uint64)
    """
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if input.dtype not in _HASHED:
        not_implemented("xor_sum_cpu", input.dtype)
    if dim is None and input.numel() == 0:
        raise RuntimeError(
            "hash_tensor: Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    axes = normalize_dims(None if isinstance(dim, Sequence) and not dim else dim, input.ndim)
    for axis in axes:
        if input.shape[axis] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {axis} to have non-zero size.")
    with no_grad():
        wide = dtypes.float64 if input.dtype.is_floating_point else dtypes.int64
        bits = input.to(wide).view(dtypes.int64)  # the same bits as uint64, XORed alike
        kept = [d for d in range(input.ndim) if d not in axes]
        reduced = math.prod(input.shape[d] for d in axes)
        flat = bits.permute(*kept, *axes).reshape(*(input.shape[d] for d in kept), reduced)
        hashed = _xor_last_dim(flat).view(dtypes.uint64)
        if keepdim:
            hashed = hashed.reshape([1 if d in axes else input.shape[d] for d in range(input.ndim)])
    return hashed
