"""``searchsorted``: the indices at which values would be inserted into sorted sequences, found by
PyTorch's bisection on all values at once (so NaN and unsorted sequences give torch's indices).

Its own module so that the samplers of :mod:`ember.ops.creation` (``multinomial``) can use it: the
shape helpers of :mod:`ember.ops.slicing_joining`, which re-export it, import the factories.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import dtypes
from ..tensor import Tensor
from .dtype_support import not_implemented
from .operands import as_tensor_arg, bool_arg_error
from .out_argument import write_out

if TYPE_CHECKING:
    from ..types import Number

__all__ = ["searchsorted"]


def searchsorted(
    sorted_sequence: Tensor,
    input: Tensor | Number,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """Indices at which ``input``'s values would be inserted into the innermost dimension of ``sorted_sequence``.

    Args:
        sorted_sequence (Tensor): sorted along its last dimension (1-D, or leading dims matching ``input``'s).
        input (Tensor or number): the values to look up.
        out_int32 (bool): return int32 instead of int64. Default: ``False``
        right (bool): the last suitable index instead of the first. Default: ``False``
        side (str, optional): ``"left"`` or ``"right"``; overrides ``right``.
        sorter (Tensor, optional): indices that sort ``sorted_sequence`` along its last dimension.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> seq = ember.tensor([1, 3, 5, 7])
        >>> ember.searchsorted(seq, ember.tensor([3, 6, 9]))
        tensor([1, 3, 4])
        >>> ember.searchsorted(seq, ember.tensor([3, 6, 9]), right=True)
        tensor([2, 3, 4])
    """
    if out is not None:
        result = searchsorted(sorted_sequence, input, out_int32=out_int32, right=right, side=side, sorter=sorter)
        return write_out("searchsorted", result, out, exact_dtype=True)
    for name, flag in (("out_int32", out_int32), ("right", right)):
        if flag is not True and flag is not False:
            raise bool_arg_error("searchsorted", name, flag)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    if sorted_sequence.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"
        )
    seq = sorted_sequence.detach()
    if sorter is not None:
        seq = seq.gather(-1, sorter)
    scalar = not isinstance(input, Tensor)
    if scalar:  # a weak operand: cast (wrapping) to the type it promotes to with the sequence (uint8: -1 is 255)
        values = as_tensor_arg("searchsorted", input, seq)
        values = values.to(dtypes.result_type([seq.dtype], [], [values.dtype]))
    else:
        values = input.detach()  # type: ignore[union-attr]
    if seq.dtype is dtypes.bool and values.dtype is dtypes.bool and values.numel():
        not_implemented("searchsorted_out_cpu", seq.dtype)
    if seq.dtype.is_complex or values.dtype.is_complex:  # complex numbers have no order
        not_implemented("searchsorted_out_cpu", seq.dtype if seq.dtype.is_complex else values.dtype)
    if seq.ndim > 1 and tuple(seq.shape[:-1]) != tuple(values.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and input value "
            f"tensor {list(values.shape)}"
        )
    found = _binary_search(seq, values.reshape(1) if values.ndim == 0 else values, right)
    found = found.reshape(()) if values.ndim == 0 else found
    return found.to(dtypes.int32) if out_int32 else found


def _binary_search(seq: Tensor, values: Tensor, right: bool) -> Tensor:
    """PyTorch's bisection of each value in the last dimension of ``seq``, run on all values at once:
    step right past ``seq[mid]`` unless ``seq[mid] >= value`` (``>`` for ``right``). A NaN value thus lands
    after every element, and an unsorted ``seq`` gives the index torch's search gives, not a count."""
    n = seq.shape[-1]
    start = values.new_zeros(values.shape, dtype=dtypes.int64)
    if n == 0:
        return start
    rows = seq if seq.ndim > 1 else seq.expand(*values.shape[:-1], n)
    end = start + n
    for _ in range(n.bit_length()):
        mid = (start + end) >> 1
        at_mid = rows.gather(-1, mid.clamp(max=n - 1))
        stop = at_mid > values if right else at_mid >= values
        active = start < end
        start = start.where(~active | stop, mid + 1)
        end = end.where(~active | ~stop, mid)
    return start
