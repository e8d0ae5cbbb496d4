"""Writing into a view of a copy: ``select_scatter``, ``slice_scatter``, ``diagonal_scatter`` (the
input with one slice, strided slice or diagonal replaced by ``src``), and ``put_``/``put``
(elements addressed by their index in the flattened tensor).

Each writes through the view of a clone, so autograd's view-tracking gives the gradients: ``src``
receives the gradient of the region, the input the gradient everywhere else.
"""

from __future__ import annotations

from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .indexing import flat_index_error
from .operands import dim_or_axis, named_node
from .view_copies import _slice

__all__ = ["select_scatter", "slice_scatter", "diagonal_scatter", "put"]


def _scatter_into(input: Tensor, region: Tensor, src: Tensor) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"expected src to be a Tensor, not {type(src).__name__}")
    if tuple(src.shape) != tuple(region.shape):
        raise RuntimeError(
            "expected src to have a size equal to the slice of self. "
            f"src size = {list(src.shape)}, slice size = {list(region.shape)}"
        )
    region.copy_(src)
    return input


@dim_or_axis
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``.

    Args:
        input (Tensor): the input tensor.
        src (Tensor): the values to embed, of the selected slice's shape.
        dim (int): the dimension to select along.
        index (int): the index to select.

    Example::

        >>> ember.select_scatter(ember.zeros(2, 2), ember.ones(2), 0, 0)
        tensor([[1., 1.],
                [0., 0.]])
    """
    out = input.clone()
    return named_node(_scatter_into(out, out.select(dim, index), src), "SelectScatterBackward0")


@dim_or_axis
def slice_scatter(
    input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src``.

    Args:
        input (Tensor): the input tensor.
        src (Tensor): the values to embed, of the slice's shape.
        dim (int, optional): the dimension to slice. Default: ``0``.
        start (int, optional): the first index of the slice. Default: ``None`` (the start).
        end (int, optional): the index past the slice. Default: ``None`` (the end).
        step (int, optional): the step between indices. Default: ``1``.

    Example::

        >>> ember.slice_scatter(ember.zeros(2, 4), ember.ones(2, 2), dim=1, start=0, step=2)
        tensor([[1., 0., 1., 0.],
                [1., 0., 1., 0.]])
    """
    out = input.clone()
    return named_node(_scatter_into(out, _slice(out, dim, start, end, step), src), "SliceScatterBackward0")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with the diagonal ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``.

    Args:
        input (Tensor): the input tensor, at least 2-dimensional.
        src (Tensor): the values to embed, of the diagonal's shape.
        offset (int, optional): which diagonal: 0 the main one, > 0 above it, < 0 below. Default: ``0``.
        dim1 (int, optional): the first dimension of the matrices. Default: ``0``.
        dim2 (int, optional): the second dimension of the matrices. Default: ``1``.

    Example::

        >>> ember.diagonal_scatter(ember.zeros(2, 2), ember.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    out = input.clone()
    return named_node(_scatter_into(out, out.diagonal(offset, dim1, dim2), src), "DiagonalScatterBackward0")


def _row_major(t: Tensor) -> bool:
    """Whether ``t``'s strides are row-major (read from its strides: OpenCL's ``is_contiguous`` says
    True for a transposed view)."""
    expected = 1
    for size, stride in zip(reversed(t.shape), reversed(t.stride())):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Writes ``source`` into this tensor at the positions ``index`` of its flattened form (row-major,
    negative indices counted from the end); with ``accumulate``, adds instead, repeated indices summing.

    Args:
        index (LongTensor): the flat indices.
        source (Tensor): the values, as many as ``index`` has.
        accumulate (bool, optional): add instead of writing. Default: ``False``.

    Example::

        >>> x = ember.zeros(2, 2)
        >>> x.put_(ember.tensor([0, 3, 3]), ember.tensor([1.0, 2.0, 3.0]), accumulate=True)
        tensor([[1., 0.],
                [0., 5.]])
    """
    if not isinstance(index, Tensor) or index.dtype.name != "int64":
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {got}")
    if source.dtype is not self.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got "
            f"self.dtype = {_TORCH_NAMES[self.dtype.name]} and source.dtype = {_TORCH_NAMES[source.dtype.name]}"
        )
    if index.numel() != source.numel():
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, "
            f"but got source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    before = self._grad_fn
    try:
        if _row_major(self):
            self.view(-1).index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
        else:
            flat = self.contiguous().view(-1)
            flat.index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
            self.copy_(flat.view(self.shape))
    except IndexError as error:  # PyTorch's words for a flat index outside [-n, n)
        raise flat_index_error(self, index) from error
    # PyTorch's one node, when this write recorded one (a view's node stays a view's)
    return self if self._grad_fn is before or self._base is not None else named_node(self, "PutBackward0")


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """The out-of-place form of :meth:`Tensor.put_`: a copy of ``input`` with ``source`` written at
    the flat positions ``index``.

    Args:
        input (Tensor): the input tensor.
        index (LongTensor): the flat indices.
        source (Tensor): the values, as many as ``index`` has.
        accumulate (bool, optional): add instead of writing. Default: ``False``.

    Example::

        >>> ember.put(ember.zeros(2, 2), ember.tensor([-1]), ember.tensor([9.0]))
        tensor([[0., 0.],
                [0., 9.]])
    """
    return put_(input.clone(), index, source, accumulate)
