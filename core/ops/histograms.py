"""Histograms with their bin edges: ``histogram`` (one dimension) and ``histogramdd`` (the rows of an
``(..., D)`` tensor as ``D``-dimensional points), as PyTorch computes them.

Each point's bin is found by :func:`ember.bucketize` against the actual edges (a point on an
inner edge belongs to the bin to its right, one on the rightmost edge to the last bin, points
outside or NaN to none), and the weights are summed into the bins by ``index_add_``, so every
backend runs it; equal-width edges come from :func:`ember.linspace`, as PyTorch's do.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence

from .. import dtypes
from ..meta_errors import refuse_meta
from ..return_types import _return_type
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .creation import linspace, ones, zeros
from .out_argument import write_out
from .sequences import bucketize

__all__ = ["histogram", "histogramdd"]

histogram_result = _return_type("histogram", ("hist", "bin_edges"))
histogramdd_result = _return_type("histogramdd", ("hist", "bin_edges"))


def _outer_edges(points: Tensor, dims: int, range: Sequence[float] | None) -> list[tuple[float, float]]:
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(
                f"torch.histogramdd: for a {dims}-dimensional histogram range should have {2 * dims} elements, "
                f"but got {len(range)}"
            )
        pairs = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    elif points.shape[0] == 0:
        pairs = [(0.0, 1.0)] * dims  # PyTorch's edges for no points
    else:  # the data's extent: one host read, as PyTorch's
        low, high = points.detach().amin(0).tolist(), points.detach().amax(0).tolist()
        pairs = list(zip(low, high))
    out = []
    for d, (low, high) in enumerate(pairs):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{low:g}, {high:g}] is not finite")
        if low > high:
            raise RuntimeError(
                f"torch.histogramdd: min should not exceed max, but got min {low:g} max {high:g} for dimension {d}"
            )
        out.append((low - 0.5, high + 0.5) if low == high else (low, high))
    return out


def _histogramdd(
    op: str,
    input: Tensor,
    bins: int | Sequence[int] | Sequence[Tensor],
    range: Sequence[float] | None,
    weight: Tensor | None,
    density: bool,
) -> tuple[Tensor, list[Tensor]]:
    if input.dtype not in (dtypes.float32, dtypes.float64):  # PyTorch's kernel: float and double only
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    refuse_meta(op, input)  # the bins and the counts in them come from the values
    dims = input.shape[-1]
    points = input.reshape(-1, dims)
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided it should have the same shape as the input tensor "
            f"excluding its innermost dimension, but got input with shape {list(input.shape)} and weight with "
            f"shape {list(weight.shape)}"
        )
    if isinstance(bins, int):
        bins = [bins] * dims
    if len(bins) != dims:  # PyTorch's two messages: bin counts, or the edges of each dimension
        if not all(isinstance(b, Tensor) for b in bins):
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
        raise RuntimeError(
            f"torch.histogramdd: expected {dims} sequences of bin edges for a {dims}-dimensional histogram but got "
            f"{len(bins)}"
        )
    if all(isinstance(b, Tensor) for b in bins):
        edges = [b.to(dtype=input.dtype, device=input.device) for b in bins]  # type: ignore[union-attr]
        for d, e in enumerate(edges):
            if e.numel() == 0:
                raise RuntimeError(
                    "torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in the bins "
                    f"tensor for dimension {d}"
                )
    else:
        for d, b in enumerate(bins):
            if int(b) <= 0:  # type: ignore[arg-type]
                raise RuntimeError(f"{op}(): bins must be > 0, but got {b} for dimension {d}")
        outer = _outer_edges(points, dims, range)
        edges = [
            linspace(low, high, int(b) + 1, dtype=input.dtype, device=input.device)  # type: ignore[arg-type]
            for (low, high), b in zip(outer, bins)
        ]
    counts = [e.numel() - 1 for e in edges]
    flat = zeros(points.shape[0], dtype=dtypes.int64, device=input.device)
    inside = ones(points.shape[0], dtype=input.dtype, device=input.device)
    for d, e in enumerate(edges):
        x = points[:, d]
        index = bucketize(x.detach(), e, right=True) - 1
        index = index.clamp(max=builtins.max(counts[d] - 1, 0))  # the rightmost edge closes the last bin
        inside = inside * ((x >= e[0]) & (x <= e[-1])).to(input.dtype)
        flat = flat * counts[d] + index.clamp(min=0)
    values = inside if weight is None else weight.reshape(-1).to(input.dtype) * inside
    size = math.prod(counts)
    hist = (
        zeros(size, dtype=input.dtype, device=input.device).index_add(0, flat, values)
        if size
        else zeros(0, dtype=input.dtype, device=input.device)
    )
    hist = hist.reshape(counts)
    if density:
        volume = ones((), dtype=input.dtype, device=input.device)
        for d, e in enumerate(edges):
            shape = [1] * dims
            shape[d] = counts[d]
            volume = volume * (e[1:] - e[:-1]).reshape(shape)
        hist = hist / (hist.sum() * volume)
    return hist, edges


def histogram(
    input: Tensor,
    bins: int | Tensor,
    *,
    range: tuple[float, float] | None = None,
    weight: Tensor | None = None,
    density: bool = False,
    out: tuple[Tensor, Tensor] | None = None,
):
    r"""A histogram of the values of ``input``, with its bin edges.

    Args:
        input (Tensor): the values (any shape; floating point).
        bins (int or Tensor): the number of equal-width bins, or the increasing bin edges.
        range (tuple of float, optional): the leftmost and rightmost edges of equal-width bins.
            Default: the minimum and maximum of ``input``.
        weight (Tensor, optional): a weight per value, of ``input``'s shape. Default: 1 each.
        density (bool, optional): divide by the total and the bin widths, so that the histogram
            integrates to 1. Default: ``False``.
        out (tuple of Tensors, optional): ``(hist, bin_edges)`` of ``input``'s dtype, each resized to its result's shape. Default: ``None``.

    Returns:
        A named tuple ``(hist, bin_edges)``.

    Example::

        >>> ember.histogram(ember.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0),
        ...                 weight=ember.tensor([1.0, 2.0, 4.0]))
        ember.return_types.histogram(
        hist=tensor([0., 5., 2., 0.]),
        bin_edges=tensor([0.0000, 0.7500, 1.5000, 2.2500, 3.0000]))
    """
    if out is not None:
        return write_out(
            "histogram", histogram(input, bins, range=range, weight=weight, density=density), out, exact_dtype=True
        )
    hist, edges = _histogramdd(
        "torch.histogram",
        input.reshape(-1, 1),
        [bins],  # type: ignore[list-item]
        None if range is None else list(range),
        None if weight is None else weight.reshape(-1),
        density,
    )
    return histogram_result(hist, edges[0])


def histogramdd(
    input: Tensor,
    bins: int | Sequence[int] | Sequence[Tensor],
    *,
    range: Sequence[float] | None = None,
    weight: Tensor | None = None,
    density: bool = False,
):
    r"""A ``D``-dimensional histogram of the points in the rows of ``input``, with its bin edges.

    Args:
        input (Tensor): the points, shape :math:`(*, D)` (floating point).
        bins (int, sequence of int or sequence of Tensor): the number of equal-width bins (for
            every dimension, or per dimension), or the increasing bin edges per dimension.
        range (sequence of float, optional): ``[left_0, right_0, ..., left_{D-1}, right_{D-1}]``,
            the outer edges of equal-width bins. Default: the extent of the points.
        weight (Tensor, optional): a weight per point, shape :math:`(*)`. Default: 1 each.
        density (bool, optional): divide by the total and the bin volumes. Default: ``False``.

    Returns:
        A named tuple ``(hist, bin_edges)``, ``bin_edges`` a tuple of ``D`` tensors.

    Example::

        >>> ember.histogramdd(ember.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]]), bins=[3, 3]).hist
        tensor([[0., 1., 0.],
                [1., 0., 0.],
                [1., 0., 1.]])
    """
    if input.ndim < 2:  # a row per point
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    hist, edges = _histogramdd("torch.histogramdd", input, bins, range, weight, density)
    return histogramdd_result(hist, tuple(edges))
