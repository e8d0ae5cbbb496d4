"""Order statistics and moments beyond the plain reductions: ``quantile``, ``nanquantile``,
``nanmedian``, ``mode``, ``cov``, ``corrcoef``, ``histc``; composed from sorting, gathering and
arithmetic, so every backend has them and the differentiable ones have PyTorch's gradients."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..return_types import _return_type
from ..tensor import Tensor
from . import complex_views
from ._ties import mode_ties_as_torch
from .arithmetic import where
from .comparison import _TORCH_NAMES
from .creation import arange, zeros
from .dtype_support import not_implemented
from .indexing import _Gather, _ScatterAdd
from .movement import cat
from .operands import (
    DIM_OMITTED,
    bool_arg_error,
    named_node,
    numpy_names,
    tensor_input,
    wrap_dim,
)
from .out_argument import reduced_operands, write_out
from .reduction import _median_of, _with_dim_overloads

__all__ = ["quantile", "nanquantile", "nanmedian", "mode", "cov", "corrcoef", "histc"]

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")
if TYPE_CHECKING:
    # what type checkers see: ``ember.return_types.nanmedian`` and ``mode``, typed

    class nanmedian_result(NamedTuple):
        values: Tensor
        indices: Tensor

    class mode_result(NamedTuple):
        values: Tensor
        indices: Tensor

else:
    nanmedian_result = _return_type("nanmedian", ("values", "indices"))
    mode_result = _return_type("mode", ("values", "indices"))


def _quantile(
    op: str, input: Tensor, q: float | Tensor, dim: int | None, keepdim: bool, interpolation: str, ignore_nan: bool
) -> Tensor:
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, but got {interpolation}"
        )
    if not isinstance(q, Tensor):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        qs = input.new_tensor([float(q)])
    else:
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qs = q.reshape(-1)
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        x, out_shape = input.reshape(-1), [1] * input.ndim if keepdim else []
        dim = 0
    else:
        dim = wrap_dim(dim, input.ndim)
        x = input
        out_shape = [s if i != dim else 1 for i, s in enumerate(input.shape)]
        if not keepdim and input.ndim:
            del out_shape[dim]
    x = x.movedim(dim, -1) if x.ndim else x.reshape(1)
    values = x.sort(-1).values  # NaN sorts last
    n = values.shape[-1]
    nan = values.isnan()
    if ignore_nan:
        count = (~nan).sum(-1, keepdim=True)
        last = (count - 1).clamp_min(0).to(values.dtype)
    else:
        last = values.new_full((*values.shape[:-1], 1), n - 1)
    qs = qs.to(values.device)
    rank = last.unsqueeze(0) * qs.reshape(-1, *([1] * values.ndim))  # (Q, ..., 1)
    if interpolation == "lower":
        rank = rank.floor()
    elif interpolation == "higher":
        rank = rank.ceil()
    elif interpolation == "nearest":
        rank = rank.round()
    low = rank.floor().long().clamp(0, n - 1)
    high = rank.ceil().long().clamp(0, n - 1)
    expanded = values.unsqueeze(0).expand(qs.shape[0], *values.shape)
    below, above = expanded.gather(-1, low), expanded.gather(-1, high)
    if interpolation == "midpoint":
        result = below + (above - below) * 0.5
    else:
        result = below + (above - below) * (rank - low.to(rank.dtype))
    invalid = count.unsqueeze(0) == 0 if ignore_nan else nan.any(-1, keepdim=True).unsqueeze(0)
    result = where(invalid, math.nan, result).squeeze(-1)  # (Q, ...)
    result = result.reshape(qs.shape[0], *out_shape)
    return result[0] if not isinstance(q, Tensor) or q.ndim == 0 else result


def _quantile_call(fn, input, q, dim, keepdim, interpolation, out, axis, keepdims):
    """A call of ``fn`` (:func:`quantile` or :func:`nanquantile`): autocast, NumPy's argument names and
    ``out`` (with autocast off, as PyTorch autocasts the plain overloads only), then the computation."""
    name = fn.__name__
    if _amp.active and out is None:
        return autocast_call(
            name, fn, input, q, dim, keepdim, interpolation=interpolation, axis=axis, keepdims=keepdims
        )
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(name, dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error(name, "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():
            return write_out(name, fn(input, q, dim, keepdim, interpolation=interpolation), out, exact_dtype=True)
    return _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan=fn is nanquantile)


def quantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The ``q``-th quantiles of ``input`` (all of it, or along ``dim``); NaN where a row holds a NaN.

    Args:
        input (Tensor): a float32 or float64 tensor.
        q (float or Tensor): quantiles in [0, 1], a number or a 1-D tensor (its dimension comes first in the output).
        dim (int, optional): the dimension to reduce; the flattened input when omitted.
        keepdim (bool): keep the reduced dimension with size 1. Default: ``False``.
        interpolation (str): between two neighbours: ``'linear'``, ``'lower'``, ``'higher'``, ``'midpoint'``
            or ``'nearest'``. Default: ``'linear'``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0, 4.0]])
        >>> ember.quantile(x, 0.5, dim=1)
        tensor([2.5000])
        >>> ember.quantile(x, ember.tensor([0.0, 1.0]))
        tensor([1., 4.])
    """
    return _quantile_call(quantile, input, q, dim, keepdim, interpolation, out, axis, keepdims)


def nanquantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """:func:`quantile` that ignores NaN values (NaN only where a row is all NaN).

    Args:
        input (Tensor): a float32 or float64 tensor.
        q (float or Tensor): quantiles in [0, 1], a number or a 1-D tensor.
        dim (int, optional): the dimension to reduce; the flattened input when omitted.
        keepdim (bool): keep the reduced dimension with size 1. Default: ``False``.
        interpolation (str): as :func:`quantile`'s. Default: ``'linear'``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.nanquantile(ember.tensor([1.0, float('nan'), 3.0]), 0.5)
        tensor(2.)
    """
    return _quantile_call(nanquantile, input, q, dim, keepdim, interpolation, out, axis, keepdims)


@overload
def nanmedian(input: Tensor) -> Tensor: ...
@overload
def nanmedian(input: Tensor, dim: int, keepdim: bool = False) -> nanmedian_result: ...
@tensor_input
def nanmedian(
    input: Tensor,
    dim: int | None = DIM_OMITTED,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor | nanmedian_result:
    """The lower median of the values that are not NaN (all of them, or along ``dim`` with their indices).

    Args:
        input (Tensor): the input tensor.
        dim (int, optional): the dimension to reduce; with it, ``(values, indices)`` is returned.
        keepdim (bool): keep the reduced dimension with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, float('nan'), 3.0, 2.0]])
        >>> ember.nanmedian(x)
        tensor(2.)
        >>> ember.nanmedian(x, 1)
        ember.return_types.nanmedian(
        values=tensor([2.]),
        indices=tensor([3]))
    """
    return _with_dim_overloads("nanmedian", _nanmedian_of, input, dim, keepdim, out, axis, keepdims)


def _nanmedian_of(name: str, input: Tensor, dim: int | None, keepdim: bool) -> Any:
    return _median_of(name, input, dim, keepdim, _nanmedian_along)


def _nanmedian_along(input: Tensor, dim: int, keepdim: bool) -> nanmedian_result:
    """``nanmedian(input, dim, keepdim)`` of an ``input`` with elements along ``dim``."""
    if input.ndim == 0:
        return nanmedian_result(
            named_node(input.clone(), "NanmedianBackward1"), input.new_zeros((), dtype=dtypes.int64)
        )
    x = input.movedim(dim, -1)
    order = x.argsort(dim=-1, stable=True)  # NaN sorts last
    last = x.ndim - 1  # (positions made here: gathered unchecked, no index check to wait for)
    values = _Gather.apply(x, last, order)
    count = (~values.isnan()).sum(-1, keepdim=True)
    all_nan = x.new_full((), _all_nan_position(x.shape[-1]), dtype=dtypes.int64)
    k = ((count - 1).clamp_min(0) // 2).where(count > 0, all_nan)
    values, indices = _Gather.apply(values, last, k).squeeze(-1), _Gather.apply(order, last, k).squeeze(-1)
    if keepdim:
        values, indices = values.unsqueeze(dim), indices.unsqueeze(dim)
    return nanmedian_result(named_node(values, "NanmedianBackward1"), indices)


def _all_nan_position(n: int) -> int:
    """The index PyTorch's CPU nanmedian gives for a slice of ``n`` NaNs: the element that libstdc++'s
    ``std::nth_element`` leaves first when every comparison is false (no NaN is less than another).

    Each round of its introselect swaps the first element with the middle one, swaps the pairs ``(i, L - i)``
    of the rest inward, and goes on with the first ``ceil(L / 2)`` elements, until at most 3 are left (their
    insertion sort moves nothing). The rounds are undone here for position 0 alone."""
    lengths = []
    while n > 3:
        lengths.append(n)
        n = (n + 1) // 2
    position = 0
    for length in reversed(lengths):
        if 0 < position < length and 2 * position != length:
            position = length - position
        middle = length // 2
        position = middle if position == 0 else 0 if position == middle else position
    return position


_PAIRWISE_MODE_LIMIT = 64  # rows up to this long count equal elements by comparing every pair (fewer ops)


def _longest_run(x: Tensor) -> tuple[Tensor, Tensor]:
    """How often the most frequent value along the last dimension of ``x`` occurs, and the smallest value
    occurring that often, both with the dimension kept. Every NaN counts once (NaN is not equal to NaN);
    where no value repeats, a NaN of the row is the value (the smallest, as ``amin`` reads it).

    Short rows compare every pair (n * n elements, few ops); longer ones count the runs of the sorted row
    (O(n log n): a row of 200,000 elements would have needed 40 GB of comparisons)."""
    if x.shape[-1] <= _PAIRWISE_MODE_LIMIT:
        counts = (x.unsqueeze(-1) == x.unsqueeze(-2)).sum(-1)  # (..., n, n) compared
        best = counts.amax(-1, keepdim=True)
        candidates = where(counts == best, x, x.new_full((), math.inf) if x.dtype.is_floating_point else x.amax())
        return best, candidates.amin(-1, keepdim=True)
    ordered = x.sort(dim=-1, stable=True).values  # ascending, NaN last (stable: no tie order to work out)
    new_run = (ordered[..., 1:] != ordered[..., :-1]).long()
    run = cat([new_run.new_zeros((*x.shape[:-1], 1)), new_run.cumsum(-1)], -1)  # each position's run
    last = x.ndim - 1  # (positions made here: scattered and gathered unchecked, no index check to wait for)
    counts = _ScatterAdd.apply(run.new_zeros(x.shape), last, run, run.new_ones(()).expand(x.shape))  # per run
    best = counts.amax(-1, keepdim=True)
    longest = (counts == best).int().argmax(-1, keepdim=True)  # the first longest run: the smallest value
    value = _Gather.apply(ordered, last, (run == longest).int().argmax(-1, keepdim=True))
    if x.dtype.is_floating_point:
        value = where((best == 1) & x.isnan().any(-1, keepdim=True), x.new_full((), math.nan), value)
    return best, value


@tensor_input
def mode(
    input: Tensor,
    dim: int = -1,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> mode_result:
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the index of
    its last occurrence.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to reduce. Default: ``-1``.
        keepdim (bool): keep the reduced dimension with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.mode(ember.tensor([[3.0, 1.0, 3.0, 1.0], [2.0, 2.0, 7.0, 7.0]]), 1)
        ember.return_types.mode(
        values=tensor([1., 2.]),
        indices=tensor([3, 1]))
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("mode", dim, -1, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("mode", "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = mode(input, dim, keepdim)
            return write_out("mode", result, out, exact_dtype=True, inputs=reduced_operands(input, dim, keepdim))
    dim = wrap_dim(dim, input.ndim)  # an int in range, also for a 0-d input
    if input.ndim == 0:
        return mode_result(named_node(input.clone(), "ModeBackward0"), input.new_zeros((), dtype=dtypes.int64))
    if input.shape[dim] == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
    if input.dtype.is_complex:
        not_implemented("mode_cpu", input.dtype)
    last = dim == input.ndim - 1  # (no movedim to make: the rows lie along the last dimension)
    x = input.detach() if last else input.detach().movedim(dim, -1)
    n = x.shape[-1]
    found = x._backend.kernels.mode_positions(x._data) if n <= _PAIRWISE_MODE_LIMIT else None
    if found is not None:  # the backend's own form of the ops below (the NumPy backend's: a few calls)
        best, index = x._make(found[0]), x._make(found[1])
    else:
        best, value = _longest_run(x)
        positions = arange(n, device=x.device).expand(x.shape)
        hit = x == value
        if x.dtype.is_floating_point:  # a row of NaN only: its mode is NaN (positions of the host's choice)
            hit = hit | (x.isnan() & value.isnan())
        index = where(hit, positions, positions.new_full((), -1)).amax(-1, keepdim=True)
    index = mode_ties_as_torch(x, index, best)
    rows = input if last else input.movedim(dim, -1)
    values = _Gather.apply(rows, rows.ndim - 1, index)  # differentiable; its own positions: unchecked
    values, index = values.squeeze(-1), index.squeeze(-1)
    if keepdim:
        values, index = values.unsqueeze(dim), index.unsqueeze(dim)
    return mode_result(named_node(values, "ModeBackward0"), index)


@tensor_input
def cov(
    input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None
) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in columns).

    Args:
        input (Tensor): a 1-D (one variable) or 2-D tensor of shape (variables, observations).
        correction (int): subtracted from the number of observations (1: Bessel's). Default: ``1``.
        fweights (Tensor, optional): integer frequency of each observation.
        aweights (Tensor, optional): importance weight of each observation.

    Example::

        >>> ember.cov(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    if input.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions"
        )
    if input.dtype is dtypes.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(dtypes.get_default_dtype())
    if isinstance(aweights, Tensor) and aweights.dtype.is_floating_point:  # PyTorch promotes with their type
        x = x.to(dtypes.promote_types(x.dtype, aweights.dtype))
    real = x.real if x.dtype.is_complex else x  # the type of the normalization without weights
    n = x.shape[1]
    weights = None
    if fweights is not None:
        if fweights.ndim > 1:
            raise RuntimeError(
                f"cov(): expected fweights to have one or fewer dimensions but got fweights with {fweights.ndim} dimensions"
            )
        if fweights.dtype.is_floating_point:
            raise RuntimeError(
                f"cov(): expected fweights to have integral dtype but got fweights with {_TORCH_NAMES[fweights.dtype.name]} dtype"
            )
        if fweights.numel() != n:
            raise RuntimeError(
                f"cov(): expected fweights to have the same numel as there are observations in the input but got {fweights.numel()} != {n}"
            )
        if bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        weights = fweights  # integers: the weights keep their own type, as in PyTorch
    if aweights is not None:
        if aweights.ndim > 1:
            raise RuntimeError(
                f"cov(): expected aweights to have one or fewer dimensions but got aweights with {aweights.ndim} dimensions"
            )
        if not aweights.dtype.is_floating_point:
            raise RuntimeError(
                f"cov(): expected aweights to have floating point dtype but got aweights with {_TORCH_NAMES[aweights.dtype.name]} dtype"
            )
        if aweights.numel() != n:
            raise RuntimeError(
                f"cov(): expected aweights to have the same numel as there are observations in the input but got {aweights.numel()} != {n}"
            )
        if bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        weights = aweights if weights is None else weights * aweights
    # PyTorch's order of operations: the sums of weights (and the normalization) in the weights' type
    if weights is None:
        total = real.new_full((), float(n))
        mean = x.sum(1, keepdim=True) / total
        norm = total - correction
    else:
        total = weights.sum()
        mean = (x * weights).sum(1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (weights * aweights).sum() / total
    centred = x - mean
    weighted = centred if weights is None else centred * weights
    result = (centred @ weighted.mH) / norm.clamp_min(0)  # conjugated: complex variables' covariance
    return result.squeeze()  # PyTorch squeezes always: one variable gives a 0-d tensor


@tensor_input
def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of ``input``, clipped to [-1, 1].

    Args:
        input (Tensor): a 1-D or 2-D tensor of shape (variables, observations).

    Example::

        >>> ember.corrcoef(ember.tensor([[0.0, 1.0, 2.0], [4.0, 2.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = (d.real if d.dtype.is_complex else d).sqrt()  # a complex variance has no imaginary part
    c = c / stddev.unsqueeze(1) / stddev.unsqueeze(0)
    if c.dtype.is_complex:  # each part clipped, as PyTorch does
        return complex_views.complex(c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
    return c.clamp(-1, 1)


def _c_float(v: float) -> str:
    """``v`` as C++'s stream prints a double (six significant digits, ``inf``, ``-nan`` with its sign)."""
    if v != v:
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"
    return f"{v:g}"


@tensor_input
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Histogram of ``input``: ``bins`` equal-width bins between ``min`` and ``max`` (the data's range
    when both are 0); elements outside are ignored, ``max`` falls in the last bin.

    Args:
        input (Tensor): a floating tensor.
        bins (int): the number of bins. Default: ``100``.
        min (float): the lower end. Default: ``0``.
        max (float): the upper end. Default: ``0``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("histc", histc(input, bins, min, max), out, exact_dtype=True)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input.detach().reshape(-1)
    if min == max and x.numel():
        low, high = x.amin(), x.amax()
        ends = (float(low.item()), float(high.item()))
    else:
        ends = (float(min), float(max))
        low, high = x.new_full((), ends[0]), x.new_full((), ends[1])
    if not (math.isfinite(ends[0]) and math.isfinite(ends[1])):  # NaN or infinite data (or bounds): PyTorch's error
        raise RuntimeError(f"torch.histc: range of [{_c_float(ends[0])}, {_c_float(ends[1])}] is not finite")
    same = low == high
    low, high = where(same, low - 1, low), where(same, high + 1, high)
    position = ((x - low) * bins / (high - low)).floor().long()
    position = where(x == high, position.new_full((), bins - 1), position)
    inside = (x >= low) & (x <= high)
    index = where(inside, position, position.new_zeros(())).clamp(0, bins - 1)
    return zeros(bins, dtype=x.dtype, device=x.device).scatter_add(0, index, inside.to(x.dtype))
