"""Tensors built from others by a fixed pattern: ``diagflat``, ``block_diag``, ``combinations``,
``vander``, ``unravel_index``; and the trapezoid rule (``trapezoid``, ``trapz``,
``cumulative_trapezoid``). Composed from ember's differentiable ops."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from .. import dtypes
from ..amp.state import suspended as _amp_suspended
from ..meta_errors import refuse_meta
from ..tensor import Tensor
from .creation import tensor, zeros
from .dtype_support import FLOAT8, not_implemented
from .matrix import diag
from .movement import cat, stack
from .operands import bool_arg_error, dim_or_axis, numpy_names, tensor_input, tensor_input_checked, wrap_dim

__all__ = [
    "diagflat", "block_diag", "combinations", "vander", "unravel_index", "trapezoid", "trapz",
    "cumulative_trapezoid", "unique_consecutive",
]  # fmt: skip


@tensor_input
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A 2-D tensor with the flattened ``input`` on its ``offset``-th diagonal.

    Args:
        input (Tensor): the input tensor.
        offset (int): the diagonal (0: main, positive: above). Default: ``0``.

    Example::

        >>> ember.diagflat(ember.tensor([[1, 2], [3, 4]]))
        tensor([[1, 0, 0, 0],
                [0, 2, 0, 0],
                [0, 0, 3, 0],
                [0, 0, 0, 4]])
    """
    return diag(input.reshape(-1), offset)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix of the given tensors (0-d and 1-d ones taken as one row).

    Args:
        *tensors (Tensor): 0-, 1- or 2-dimensional tensors.

    Example::

        >>> ember.block_diag(ember.tensor([[1, 2]]), ember.tensor(3))
        tensor([[1, 2, 0],
                [0, 0, 3]])
    """
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t.ndim} dimensions"
            )
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    if not blocks:
        return zeros(1, 0)
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = dtypes.promote_types(dtype, b.dtype)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        right = width - left - b.shape[1]
        pieces = [
            b.new_zeros((b.shape[0], left), dtype=dtype),
            b.to(dtype),
            b.new_zeros((b.shape[0], right), dtype=dtype),
        ]
        with _amp_suspended():  # inner steps, not the user's cat
            rows.append(cat(pieces, 1))
        left += b.shape[1]
    with _amp_suspended():
        return cat(rows, 0)


@tensor_input_checked
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of a 1-D tensor, one per row (as ``itertools``).

    Args:
        input (Tensor): a 1-D tensor.
        r (int): the number of elements per combination. Default: ``2``.
        with_replacement (bool): allow an element to repeat. Default: ``False``.

    Example::

        >>> ember.combinations(ember.tensor([1, 2, 3]))
        tensor([[1, 2],
                [1, 3],
                [2, 3]])
    """
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    # no combination: an empty (0, r) selection, recorded by autograd as PyTorch's is
    index = (
        tensor(rows, dtype=dtypes.int64, device=input.device) if rows else input.new_zeros((0, r), dtype=dtypes.int64)
    )
    return input[index]


@tensor_input
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803 - torch's name
    """The Vandermonde matrix of a 1-D tensor: column ``j`` is ``x ** (N - 1 - j)`` (``x ** j`` if ``increasing``).

    Args:
        x (Tensor): a 1-D tensor.
        N (int, optional): the number of columns. Default: ``len(x)``.
        increasing (bool): powers increase from left to right. Default: ``False``.

    Example::

        >>> ember.vander(ember.tensor([1, 2, 3]), 3)
        tensor([[1, 1, 1],
                [4, 2, 1],
                [9, 3, 1]])
    """
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    base = x if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype is dtypes.int64 else x.to(dtypes.int64)
    if n == 0:
        return base.new_empty((x.shape[0], 0))
    columns = [base.new_ones(x.shape)]
    for _ in range(n - 1):
        columns.append(columns[-1] * base)
    if not increasing:
        columns.reverse()
    with _amp_suspended():  # an inner step, not the user's stack (autocast would refuse 16-bit columns of another type)
        return stack(columns, 1)


def unravel_index(indices: Tensor, shape: int | Sequence[int]) -> tuple[Tensor, ...]:
    """The coordinates, in a tensor of shape ``shape``, of flat (row-major) ``indices``.

    Args:
        indices (Tensor): integer flat indices.
        shape (int or sequence of int): the shape they index.

    Example::

        >>> ember.unravel_index(ember.tensor([4, 5]), (2, 3))
        (tensor([1, 1]), tensor([1, 2]))
    """
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be integer dtype, but got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype is dtypes.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got ember.{indices.dtype.name}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    coords, rest = [], indices.to(dtypes.int64)
    for size in reversed(shape):
        coords.append(rest % size)
        rest = rest // size
    if not coords:
        return ()
    # views of one (*indices.shape, len(shape)) tensor, as PyTorch's (its _unravel_index, then unbind(-1))
    return stack(coords[::-1], -1).unbind(-1)


def _spacing(op: str, y: Tensor, x: Tensor | None, dx: float | None, dim: int) -> tuple[int, float | Tensor]:
    dim = wrap_dim(dim, y.ndim)
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: both x and dx")
    if x is None:
        return dim, (1.0 if dx is None else dx)
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(
                f"{op}: There must be one `x` value for each sample point, but got {x.shape[0]} and {y.shape[dim]}"
            )
        steps = x[1:] - x[:-1]
        return dim, steps.reshape(-1, *([1] * (y.ndim - 1 - dim)))
    steps = x.narrow(dim, 1, x.shape[dim] - 1) - x.narrow(dim, 0, x.shape[dim] - 1)
    return dim, steps


def _refuse_bool(op: str, y: Tensor, x: Tensor | None) -> None:
    """PyTorch's refusal of bool samples (``x`` named where it is given)."""
    if any(isinstance(t, Tensor) and t.dtype is dtypes.bool for t in (y, x)):
        names = "`y`" if x is None else "`x` or `y`"
        raise RuntimeError(f"{op}: received a bool input for {names}, but bool is not supported")


def _pair_sums(y: Tensor, dim: int) -> Tensor:
    """``y[i] + y[i + 1]`` along ``dim``, in ``y``'s dtype (integers wrap, as in PyTorch)."""
    n = y.shape[dim]
    return y.narrow(dim, 0, n - 1) + y.narrow(dim, 1, n - 1)


@tensor_input
def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1, axis: int | None = None
) -> Tensor:
    """The trapezoid rule along ``dim``: the integral of ``y`` sampled at ``x`` (or every ``dx``).

    Args:
        y (Tensor): the values.
        x (Tensor, optional): the sample points (1-D along ``dim``, or shaped as ``y``).
        dx (float, optional): the spacing when ``x`` is omitted. Default: ``1``.
        dim (int): the dimension to integrate along. Default: ``-1``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
        >>> ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([0.0, 1.0, 3.0]))
        tensor(6.5000)
    """
    if axis is not None:
        dim, _ = numpy_names("trapezoid", dim, -1, axis, False, None)
    _refuse_bool("trapezoid", y, x)
    dim, step = _spacing("trapezoid", y, x, dx, dim)
    if y.shape[dim] == 0:
        return y.sum(dim).to(y.dtype if y.dtype.is_floating_point else dtypes.get_default_dtype())
    # PyTorch's formulas and order of operations (integer sums and products stay in y's dtype)
    if isinstance(step, Tensor):
        return (_pair_sums(y, dim) * step).sum(dim) / 2.0
    return (y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * step


@tensor_input
@dim_or_axis
def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """:func:`trapezoid` (PyTorch's older name).

    Example::

        >>> ember.trapz(ember.tensor([1.0, 2.0, 3.0]), dx=0.5)
        tensor(2.)
    """
    return trapezoid(y, x, dx=dx, dim=dim)


@tensor_input
def cumulative_trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1, axis: int | None = None
) -> Tensor:
    """The running trapezoid rule along ``dim`` (one element fewer than ``y`` along it).

    Args:
        y (Tensor): the values.
        x (Tensor, optional): the sample points (1-D along ``dim``, or shaped as ``y``).
        dx (float, optional): the spacing when ``x`` is omitted. Default: ``1``.
        dim (int): the dimension to integrate along. Default: ``-1``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.cumulative_trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor([1.5000, 4.0000])
    """
    if axis is not None:
        dim, _ = numpy_names("cumulative_trapezoid", dim, -1, axis, False, None)
    _refuse_bool("cumulative_trapezoid", y, x)
    dim, step = _spacing("cumulative_trapezoid", y, x, dx, dim)
    if y.shape[dim] == 0:
        return y.to(y.dtype if y.dtype.is_floating_point else dtypes.get_default_dtype())
    # PyTorch's formulas and order of operations (integer sums and products stay in y's dtype)
    if isinstance(step, Tensor):
        return (_pair_sums(y, dim) * step).cumsum(dim) / 2.0
    return (step / 2.0 * _pair_sums(y, dim)).cumsum(dim)


@tensor_input
def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
) -> Tensor | tuple[Tensor, ...]:
    """``input`` with each run of equal consecutive elements (or slices along ``dim``) kept once.

    Args:
        input (Tensor): the input tensor (flattened when ``dim`` is omitted).
        return_inverse (bool): also return, for each element, the index of its run. Default: ``False``.
        return_counts (bool): also return the length of each run. Default: ``False``.
        dim (int, optional): compare whole slices along this dimension.

    Example::

        >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_counts=True)
        (tensor([1, 2, 3, 1, 2]), tensor([2, 2, 1, 2, 1]))
    """
    refuse_meta("unique_consecutive", input)
    for name, flag in (("return_inverse", return_inverse), ("return_counts", return_counts)):
        if flag is not True and flag is not False:
            raise bool_arg_error("unique_consecutive", name, flag)
    if input.dtype.is_complex or input.dtype in FLOAT8:  # PyTorch's unique kernels have neither
        not_implemented("unique", input.dtype)
    if dim is None:
        x, axis = input.reshape(-1), 0
    else:
        axis = wrap_dim(dim, input.ndim)
        x = input
    n = x.shape[axis] if x.ndim else 1
    if n == 0:
        values = x
        inverse = x.new_zeros(input.shape if dim is None else (0,), dtype=dtypes.int64)
        counts = x.new_zeros((0,), dtype=dtypes.int64)
    else:
        moved = x.movedim(axis, 0).reshape(n, -1)
        changed = (moved[1:] != moved[:-1]).any(1)
        starts = cat([changed.new_ones((1,)), changed])
        keep = starts.nonzero().reshape(-1)
        values = x[(slice(None),) * axis + (keep,)]  # an indexed read: PyTorch's takes uint16/32/64 too
        run = starts.to(dtypes.int64).cumsum(0) - 1
        inverse = run.reshape(input.shape) if dim is None else run
        ends = cat([keep[1:], keep.new_full((1,), n)])
        counts = ends - keep
    from .slicing_joining import without_derivative

    out = [without_derivative(input, values, "unique_consecutive", "UniqueConsecutiveBackward0")]
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def fill_diagonal_(input: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all indices equal), in place; a tall matrix
    restarts its diagonal every ``columns + 1`` rows when ``wrap``.

    Args:
        fill_value (Number): the value to write.
        wrap (bool): continue the diagonal below a tall matrix's first square. Default: ``False``.

    Example::

        >>> ember.zeros(3, 3).fill_diagonal_(5.0)
        tensor([[5., 0., 0.],
                [0., 5., 0.],
                [0., 0., 5.]])
    """
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    shape = tuple(input.shape)
    size = min(shape)
    flat_step = sum(math.prod(shape[d + 1 :]) for d in range(len(shape)))
    total = math.prod(shape)
    stop = total if wrap and input.ndim == 2 and shape[0] > shape[1] + 1 else size * flat_step
    positions = list(range(0, min(stop, total), flat_step))
    if input.ndim == 2 and not wrap:
        positions = positions[:size]
    mask = zeros(total, dtype=dtypes.bool, device=input.device)
    mask[tensor(positions, dtype=dtypes.int64, device=input.device)] = True
    return input.masked_fill_(mask.reshape(shape), fill_value)
