"""``ember.segment_reduce``: reductions over consecutive segments of one dimension, the segments given by
their lengths or offsets (PyTorch's ``torch.segment_reduce``), written once over :meth:`Tensor.scatter_reduce`,
whose gradients it inherits (a maximum or minimum shared by several elements splits its gradient evenly
among them; a product's gradient is the product of the others, zeros included).
"""

from __future__ import annotations

import numbers

from .. import dtypes
from ..tensor import Tensor
from ..type_names import type_name
from .creation import arange, full
from .operands import int_arg
from .searching import searchsorted

__all__ = ["segment_reduce"]

#: reduce -> (scatter_reduce's name, the value of an empty segment without ``initial``)
_REDUCTIONS = {
    "sum": ("sum", 0.0),
    "mean": ("sum", float("nan")),
    "max": ("amax", float("-inf")),
    "amax": ("amax", float("-inf")),
    "min": ("amin", float("inf")),
    "amin": ("amin", float("inf")),
    "prod": ("prod", 1.0),
}


def _check_index_dtype(name: str, t: Tensor) -> None:
    if t.dtype not in (dtypes.int64, dtypes.int32):  # PyTorch's kernels exist for int32 and int64 only
        raise NotImplementedError(f"segment_reduce(): {name} must be int32 or int64, got {t.dtype}")


def segment_reduce(
    data: Tensor,
    reduce: str,
    *,
    lengths: Tensor | None = None,
    indices: Tensor | None = None,
    offsets: Tensor | None = None,
    axis: int = 0,
    unsafe: bool = False,
    initial: float | None = None,
) -> Tensor:
    r"""Reduces consecutive segments of ``data`` along ``axis``: segment :math:`s` covers positions
    ``offsets[..., s]`` to ``offsets[..., s + 1]`` (or, from ``lengths``, the next ``lengths[..., s]``
    positions after the segments before it).

    The dimensions of ``data`` before ``axis`` are batch dimensions: ``lengths`` has them, then one entry per
    segment (``offsets`` one more), so each batch row has its own segments. An empty segment gives
    ``initial`` when given, else 0 (sum), NaN (mean), -inf (max), inf (min) or 1 (prod). With ``initial``,
    sum and prod include it, max and min compare with it, and the mean is ``(sum + initial) / length``.

    Args:
        data (Tensor): the floating values.
        reduce (str): ``'sum'``, ``'mean'``, ``'max'`` (or ``'amax'``), ``'min'`` (or ``'amin'``) or ``'prod'``.
        lengths (Tensor, optional): int64/int32 segment lengths, shape ``data.shape[:axis] + (S,)``.
        indices (Tensor, optional): not supported (as in PyTorch).
        offsets (Tensor, optional): int64/int32 segment boundaries, shape ``data.shape[:axis] + (S + 1,)``.
        axis (int): the dimension of ``data`` that is segmented: the last of ``lengths``. Default: 0
        unsafe (bool): skip the check that the lengths add up to ``data.shape[axis]`` (positions past the
            last segment are then left out). Default: ``False``
        initial (float, optional): the starting value of every segment. Default: ``None``

    Shape:
        - Output: ``data.shape[:axis] + (S,) + data.shape[axis + 1:]``.

    Example::

        >>> data = ember.tensor([1.0, 3.0, 2.0, 5.0, 4.0])
        >>> ember.segment_reduce(data, "sum", lengths=ember.tensor([2, 0, 3]))
        tensor([ 4.,  0., 11.])
        >>> ember.segment_reduce(data, "max", offsets=ember.tensor([0, 2, 2, 5]))
        tensor([3., -inf, 5.])
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if not isinstance(data, Tensor):
        raise TypeError(f"segment_reduce(): argument 'data' (position 1) must be Tensor, not {type_name(data)}")
    if type(axis) is not int:
        axis = int_arg("segment_reduce", "axis", axis, None)
    if not data.dtype.is_floating_point:
        raise NotImplementedError(f"segment_reduce(): data must be floating point, got {data.dtype}")
    bounds = lengths if lengths is not None else offsets
    assert bounds is not None
    _check_index_dtype("lengths" if lengths is not None else "offsets", bounds)
    if bounds.device != data.device:
        raise RuntimeError(
            f"segment_reduce(): expected data and {'lengths' if lengths is not None else 'offsets'} on one device, "
            f"got {data.device} and {bounds.device}"
        )
    if data.ndim < bounds.ndim or bounds.ndim == 0:
        raise RuntimeError(
            f"segment_reduce(): expected lengths or offsets of 1 to data.dim() = {data.ndim} dimensions, "
            f"got {bounds.ndim}"
        )
    if not -data.ndim <= axis < data.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-data.ndim}, {data.ndim - 1}], but got {axis})"
        )
    axis %= data.ndim
    if axis != bounds.ndim - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got {axis}.")
    lead = tuple(data.shape[:axis])
    if tuple(bounds.shape[:-1]) != lead:
        raise RuntimeError(
            f"segment_reduce(): expected lengths/offsets of shape {list(lead)} + [segments] (data's dimensions "
            f"before axis {axis}), got {list(bounds.shape)}"
        )
    n = data.shape[axis]
    bounds = bounds.long()
    if lengths is not None:
        if bounds.numel() and bool((bounds < 0).any()):
            raise RuntimeError("lengths contains negative value!")
        ends = bounds.cumsum(-1)
        total = bounds.sum(-1)
        if not unsafe and total.numel() and bool((total != n).any()):
            raise RuntimeError(
                "segment_reduce(): Expected all rows of lengths along axis to sum to data.size(lengths.dim()-1) "
                "when !unsafe."
            )
        starts = ends - bounds
        first = bounds.new_zeros(lead + (1,))
    else:
        if bounds.shape[-1] == 0:
            raise RuntimeError("segment_reduce(): expected offsets of at least one entry (the first boundary)")
        starts, ends = bounds[..., :-1], bounds[..., 1:]
        if bounds.numel() and bool((ends < starts).any()):
            raise RuntimeError("segment_reduce(): expected non-decreasing offsets (a segment of negative length)")
        first = bounds[..., :1]
    if bounds.numel() and (bool((ends > n).any()) or bool((starts < 0).any())):
        raise RuntimeError(f"segment_reduce(): a segment reaches past the {n} entries of data along axis {axis}")
    segments = ends.shape[-1]
    # the segment of each position along axis; positions outside every segment go to an extra slot, dropped
    positions = arange(n, device=data.device).expand(lead + (n,)).contiguous()
    slot = searchsorted(ends.contiguous(), positions, right=True)
    slot = slot.masked_fill(positions < first, segments)
    trail = tuple(data.shape[axis + 1 :])
    index = slot.reshape(slot.shape + (1,) * len(trail)).expand(data.shape)
    how, empty = _REDUCTIONS[reduce]
    shape = lead + (segments + 1,) + trail
    if initial is not None and not isinstance(initial, numbers.Number):
        initial = float(initial)
    if reduce in ("sum", "prod") and initial is not None:
        out = full(shape, initial, dtype=data.dtype, device=data.device).scatter_reduce(axis, index, data, how)
    else:
        out = full(shape, empty, dtype=data.dtype, device=data.device)
        out = out.scatter_reduce(axis, index, data, how, include_self=False)
    out = out.narrow(axis, 0, segments)
    if reduce == "mean":
        counts = (ends - starts).to(data.dtype).reshape(lead + (segments,) + (1,) * len(trail))
        if initial is None:
            return out / counts  # an empty segment: 0 / 0, NaN
        return (out + initial).div(counts).where(counts > 0, out.new_full((), initial))
    if how in ("amax", "amin") and initial is not None:
        # the segment's own extreme takes the whole gradient when it equals initial (PyTorch's)
        keep = out >= initial if how == "amax" else out <= initial
        return out.where(keep, out.new_full((), initial))
    return out
