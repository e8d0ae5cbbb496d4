"""Reducing scatters and batched products: ``scatter_reduce``, ``index_reduce``, ``addbmm``.

The reducing scatters compare each index with every target position (a one-hot mask along the
scattered dimension) and reduce with ember's differentiable reductions, so every backend has
them and the gradients are PyTorch's (``amax``/``amin`` share the gradient among tied values,
the input's own value included). Their memory grows as ``index.numel() * input.size(dim)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..dim_errors import called_op
from ..layout import contiguous_format
from ..tensor import Tensor
from ..type_names import type_name
from .arithmetic import where
from .creation import arange
from .dtype_support import TORCH_NAMES, not_implemented
from .indexing import check_index_func_source, check_src_rank
from .linalg import check_added_dtype, scale_by
from .movement import cat
from .operands import bool_arg_error, dim_or_axis, int_arg, named_node, require_tensors, tensor_input, wrap_dim
from .out_argument import write_out

if TYPE_CHECKING:
    from ..types import _dtype

__all__ = ["scatter_reduce", "index_reduce", "addbmm"]

_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _lowest(dtype: _dtype, highest: bool = False) -> float | int | bool:
    if dtype.is_floating_point:
        return math.inf if highest else -math.inf
    if dtype is dtypes.bool:
        return highest
    bits = 8 * dtype.itemsize
    if not dtype.is_signed:
        return (1 << bits) - 1 if highest else 0
    return (1 << (bits - 1)) - 1 if highest else -(1 << (bits - 1))


@tensor_input
@dim_or_axis
def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """``input`` with the values of ``src`` reduced into the positions ``index`` names along ``dim``.

    ``out[i][index[i][j]] = reduce(input[i][index[i][j]], src[i][j], ...)`` for a 2-D ``dim=1`` case;
    positions no index names keep ``input``'s value.

    Args:
        input (Tensor): the tensor scattered into.
        dim (int): the dimension along which to index.
        index (Tensor): int64 indices, no larger than ``src`` in any dimension (nor ``input`` except along ``dim``).
        src (Tensor): the values to scatter, of ``input``'s dtype.
        reduce (str): ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
        include_self (bool): also reduce ``input``'s values at the named positions. Default: ``True``.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0])
        >>> src = ember.tensor([5.0, 7.0, 4.0, 1.0])
        >>> x.scatter_reduce(0, ember.tensor([0, 0, 2, 2]), src, "amax")
        tensor([7., 2., 4.])
        >>> x.scatter_reduce(0, ember.tensor([0, 0, 2, 2]), src, "mean", include_self=False)
        tensor([6.0000, 2.0000, 2.5000])
    """
    return _scatter_reduce(input, dim, index, src, reduce, include_self, 2)


@dim_or_axis
def tensor_scatter_reduce(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """``Tensor.scatter_reduce(dim, index, src, reduce)``: as :func:`scatter_reduce`; a TypeError gives the
    argument's position as a method's.

    Example::

        >>> ember.zeros(2).scatter_reduce(0, ember.tensor([1, 1]), ember.tensor([1.0, 2.0]), "sum")
        tensor([0., 3.])
    """
    return _scatter_reduce(self, dim, index, src, reduce, include_self, 1)


def _scatter_reduce(input, dim, index, src, reduce, include_self, first):
    """:func:`scatter_reduce`, its arguments checked as PyTorch's argument parser checks them, in their order,
    before any value: ``first``, the position of ``dim`` (2 for the function, 1 for the method), numbers them."""
    if type(dim) is not int:
        dim = int_arg(called_op(1) or "scatter_reduce", "dim", dim, first)
    if not (isinstance(index, Tensor) and isinstance(src, Tensor)):
        require_tensors(called_op(1) or "scatter_reduce", ("index", "src"), index, src, first=first + 1)
    if type(reduce) is not str:
        op = called_op(1) or "scatter_reduce"  # (scatter_reduce_ where the in-place method called)
        raise TypeError(f"{op}(): argument 'reduce' (position {first + 3}) must be str, not {type_name(reduce)}")
    if include_self is not True and include_self is not False:
        raise bool_arg_error(called_op(1) or "scatter_reduce", "include_self", include_self)
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if index.dtype is not dtypes.int64 and index.dtype is not dtypes.int32:
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    if not index.numel():  # nothing to scatter, whatever the shapes (as in PyTorch): its row-major result
        return input.clone(memory_format=contiguous_format)
    ndim = max(input.ndim, 1)
    if max(index.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    dim = wrap_dim(dim, ndim)
    if max(src.ndim, 1) != ndim:
        check_src_rank(input, dim, index, src)
    x, idx, s = input.reshape(input.shape or (1,)), index.reshape(index.shape or (1,)), src.reshape(src.shape or (1,))
    for d in range(ndim):
        if idx.shape[d] > s.shape[d] or d != dim and idx.shape[d] > x.shape[d]:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                f"dimension {dim} and to be no larger size than src {list(src.shape)}"
            )
    m = x.shape[dim]
    if idx.numel() and not idx.is_meta and bool(((idx < 0) | (idx >= m)).any()):  # (a meta index has no values)
        value = int(idx[(idx < 0) | (idx >= m)][0])  # the first, as PyTorch names it
        raise RuntimeError(f"scatter_reduce(): index {value} is out of bounds for dimension {dim} with size {m}")
    if x.dtype.is_complex and reduce in ("amax", "amin") or x.dtype is dtypes.bool and reduce == "mean":
        # PyTorch's kernels compare real numbers only, and take no mean of bools
        not_implemented(f"scatter_gather_tensor_cpu_reduce_{reduce}", x.dtype)
    for d in range(ndim):
        s = s.narrow(d, 0, idx.shape[d])
        short = x.shape[d] - idx.shape[d]
        if d != dim and short:  # positions the index does not reach: an index that matches nothing
            idx = cat([idx, idx.new_full((*idx.shape[:d], short, *idx.shape[d + 1 :]), m)], d)
            s = cat([s, s.new_zeros((*s.shape[:d], short, *s.shape[d + 1 :]))], d)
    idx, s, x_last = idx.movedim(dim, -1), s.movedim(dim, -1), x.movedim(dim, -1)
    hit = idx.unsqueeze(-1) == arange(m, device=idx.device)  # (..., n, m)
    count = hit.sum(-2)
    touched = count > 0
    spread = s.unsqueeze(-1)
    if reduce in ("sum", "mean"):
        total = where(hit, spread, spread.new_zeros(())).sum(-2).to(x.dtype)
        if reduce == "sum":
            out = x_last + total if include_self else where(touched, total, x_last)
        else:
            divisor = (count + 1 if include_self else count.clamp_min(1)).to(x.dtype)
            mean = (x_last + total if include_self else total) / divisor
            if not (x.dtype.is_floating_point or x.dtype.is_complex):
                mean = ((x_last + total if include_self else total) // divisor).to(x.dtype)
            out = where(touched, mean, x_last)
    elif reduce == "prod":
        product = where(hit, spread, spread.new_ones(())).prod(-2).to(x.dtype)
        out = x_last * product if include_self else where(touched, product, x_last)
    else:
        fill = spread.new_full((), _lowest(x.dtype, highest=reduce == "amin"))
        candidates = where(hit, spread, fill)
        pick = candidates.amax if reduce == "amax" else candidates.amin
        if include_self:
            both = cat([candidates, x_last.unsqueeze(-2)], -2)
            out = both.amax(-2) if reduce == "amax" else both.amin(-2)
        else:
            out = where(touched, pick(-2), x_last)
    return named_node(out.movedim(-1, dim).reshape(input.shape), "ScatterReduceBackward0")  # PyTorch's one node


@dim_or_axis
def index_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
    out: Tensor | None = None,
) -> Tensor:
    """``input`` with the slices of ``source`` along ``dim`` reduced into the slices ``index`` names.

    Args:
        input (Tensor): the tensor reduced into.
        dim (int): the dimension along which to index.
        index (Tensor): 1-D int64 indices, one per slice of ``source`` along ``dim``.
        source (Tensor): the slices, of ``input``'s dtype.
        reduce (str): ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
        include_self (bool): also reduce ``input``'s values at the named slices. Default: ``True``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.ones(3, 2)
        >>> src = ember.tensor([[2.0, 3.0], [4.0, 5.0]])
        >>> x.index_reduce(0, ember.tensor([0, 0]), src, "prod")
        tensor([[ 8., 15.],
                [ 1.,  1.],
                [ 1.,  1.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "index_reduce",
                index_reduce(input, dim, index, source, reduce, include_self=include_self),
                out,
                exact_dtype=True,
                inputs=(input,),
                apart=(index, source),
            )
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if not isinstance(index, Tensor):
        raise TypeError(f"index_reduce(): argument 'index' (position 3) must be Tensor, not {type_name(index)}")
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {TORCH_NAMES[index.dtype]}")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_reduce(): argument 'source' (position 4) must be Tensor, not {type_name(source)}")
    ndim = max(input.ndim, 1)
    dim = wrap_dim(dim, ndim)
    check_index_func_source("index_reduce", input, dim, index, source)
    flat = index.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    message = f"index {{value}} is out of bounds for dimension {dim} with size {size}"
    index._backend.check_indices("index_reduce_", flat._data, size, None, IndexError, message)
    if input.dtype is dtypes.bool or input.dtype.is_complex:  # kernels compiled for the real numbers only:
        if not include_self:  # the one that fills the named slices first
            not_implemented("index_reduce_func_exclude_input_init", input.dtype)
        if input.ndim <= 1:  # the one of a vector
            not_implemented("index_func_", input.dtype)
        if input.dtype.is_complex and reduce in ("amax", "amin"):  # maximum/minimum, that compare
            not_implemented("maximum_cpu" if reduce == "amax" else "minimum_cpu", input.dtype)
    shape = [1] * ndim
    shape[dim] = -1
    expanded = flat.to(dtypes.int64).reshape(shape).expand(source.shape or (1,))
    result = scatter_reduce(
        input, dim, expanded, source.reshape(source.shape or (1,)), reduce, include_self=include_self
    )
    return named_node(result, "IndexReduceBackward0")


def addbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * sum_i batch1[i] @ batch2[i]``.

    Args:
        input (Tensor): the matrix added (broadcast to the product's shape).
        batch1 (Tensor): a batch of matrices, :math:`(b, n, m)`.
        batch2 (Tensor): a batch of matrices, :math:`(b, m, p)`.
        beta (Number): the factor of ``input`` (0: ``input`` is ignored, NaN included). Default: ``1``.
        alpha (Number): the factor of the summed products. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> b1 = ember.ones(2, 1, 3)
        >>> b2 = ember.ones(2, 3, 2)
        >>> ember.addbmm(ember.zeros(1, 2), b1, b2, alpha=0.5)
        tensor([[3., 3.]])
    """
    if _amp.active and out is None:
        return autocast_call("addbmm", addbmm, input, batch1, batch2, beta=beta, alpha=alpha)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "addbmm",
                addbmm(input, batch1, batch2, beta=beta, alpha=alpha),
                out,
                exact_dtype=True,
                warn_resize=False,
            )
    check_added_dtype("addbmm", input, batch1, batch2)
    if batch1.dtype is dtypes.bool:  # PyTorch sums the products with addmm, which has no bool kernel
        not_implemented("addmm_impl_cpu_", batch1.dtype)
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1.ndim != 3 else "batch2 must be a 3D tensor")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and "
            f"{batch2.shape[1]}x{batch2.shape[2]})"
        )
    product = (batch1 @ batch2).sum(0, dtype=batch1.dtype)  # an integer sum stays in its type, as PyTorch's
    product = scale_by(product, alpha)
    if beta == 0:
        return product
    return scale_by(input, beta) + product
