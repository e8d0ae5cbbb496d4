"""PyTorch's ``*_copy`` functions (``view_copy``, ``permute_copy``, ``narrow_copy``, ...): the
result of a view op in fresh contiguous memory, so that writing to it leaves the input alone
(``view_copy`` reshapes, so that it takes any layout, as PyTorch's does);
and the splitting functions PyTorch spells several ways (``split_with_sizes``, ``unsafe_split``,
``unsafe_chunk``, ``unsafe_split_with_sizes``: the ``unsafe_`` forms give views that allow in-place
writes, which ember records through their base). Gradients flow as through the view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..dtypes import dtype as _dtype
from ..layout import contiguous_format
from ..tensor import Tensor
from ..type_names import type_name
from .complex_views import view_as_complex, view_as_real
from .movement import chunk_into_views, split_into_views
from .operands import dim_or_axis, int_list, numpy_names, renamed, tensor_input
from .out_argument import OUT_ARG, write_out

__all__ = [
    "view_copy", "permute_copy", "transpose_copy", "t_copy", "unsqueeze_copy", "squeeze_copy", "expand_copy",
    "select_copy", "slice_copy", "diagonal_copy", "detach_copy", "narrow_copy", "as_strided_copy", "alias_copy",
    "unfold_copy", "view_as_real_copy", "view_as_complex_copy", "unbind_copy",
    "split_copy", "split_with_sizes_copy", "split_with_sizes", "unsafe_split", "unsafe_chunk",
    "unsafe_split_with_sizes",
]  # fmt: skip


def _fresh(view: Tensor) -> Tensor:
    """``view``'s values in memory of their own, contiguous (``clone`` carries the gradient)."""
    return view.clone(memory_format=contiguous_format)


def _view_or_reshape(input: Tensor, size: Any) -> Tensor:
    """``view`` to a dtype, ``reshape`` to a shape, given as one argument (a tuple of ints or a dtype: PyTorch's
    two overloads of ``view_copy``, which takes any layout)."""
    return input.view(size) if isinstance(size, _dtype) else input.reshape(int_list("view_copy", "size", size))


def _slice(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1) -> Tensor:
    dim = dim + input.ndim if dim < 0 else dim
    return input[(slice(None),) * dim + (slice(start, end, step),)]


def _narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``input.narrow``, after the checks of PyTorch's ``narrow_copy`` kernel, which differ from ``narrow``'s: a
    ``dim`` past the last is a ``RuntimeError`` (a negative one out of range stays ``narrow``'s ``IndexError``),
    and a negative ``length`` is said to exceed the size."""
    if input.ndim and isinstance(dim, int) and dim >= input.ndim:
        raise RuntimeError(  # PyTorch's words, its unexplained TORCH_CHECK's
            "Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )
    if input.ndim and isinstance(length, int) and length < 0:
        size = input.shape[dim]
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input.narrow(dim, start, length)


def split_with_sizes(
    input: Tensor, split_sizes: Sequence[int], dim: int = 0, *, axis: int | None = None
) -> tuple[Tensor, ...]:
    """Splits ``input`` along ``dim`` into views of the given sizes, which must add up to its size there.

    Args:
        input (Tensor): the tensor to split.
        split_sizes (sequence of int): the sizes of the pieces.
        dim (int, optional): the dimension to split along. Default: ``0``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> [p.shape for p in ember.split_with_sizes(ember.zeros(2, 5), [2, 3], dim=1)]
        [ember.Size([2, 2]), ember.Size([2, 3])]
    """
    if axis is not None:
        dim, _ = numpy_names("split_with_sizes", dim, 0, axis, False, None)
    if isinstance(split_sizes, int) or not all(isinstance(s, int) for s in split_sizes):
        raise TypeError(
            f"split_with_sizes(): argument 'split_sizes' (position 1) must be tuple of ints, not {type_name(split_sizes)}"
        )
    return input.split(list(split_sizes), dim)


_VIEWS: dict[str, tuple[Callable[..., Any], str, str, str]] = {
    # name: (the view, its arguments for the docstring, the example call, the example's output)
    "view_copy": (_view_or_reshape, "size (tuple of ints or ember.dtype): the shape or the dtype of the result.",
                  "ember.view_copy(ember.arange(4.0), (2, 2))", "tensor([[0., 1.],\n        [2., 3.]])"),
    "permute_copy": (lambda x, dims: x.permute(dims), "dims (tuple of int): the new order of the dimensions.",
                     "ember.permute_copy(ember.zeros(2, 3, 4), (2, 0, 1)).shape", "ember.Size([4, 2, 3])"),
    "transpose_copy": (lambda x, dim0, dim1: x.transpose(dim0, dim1), "dim0, dim1 (int): the dimensions to swap.",
                       "ember.transpose_copy(ember.zeros(2, 3), 0, 1).stride()", "(2, 1)"),
    "t_copy": (lambda x: x.t(), "", "ember.t_copy(ember.tensor([[1.0, 2.0]]))", "tensor([[1.],\n        [2.]])"),
    "unsqueeze_copy": (lambda x, dim: x.unsqueeze(dim), "dim (int): where to insert the new dimension.",
                       "ember.unsqueeze_copy(ember.zeros(3), 0).shape", "ember.Size([1, 3])"),
    "squeeze_copy": (lambda x, dim=None: x.squeeze(dim), "dim (int or tuple of int, optional): the size-1 "
                     "dimensions to remove; all of them when omitted.",
                     "ember.squeeze_copy(ember.zeros(1, 3, 1)).shape", "ember.Size([3])"),
    "expand_copy": (lambda x, size, *, implicit=False: x.expand(size), "size (tuple of int): the expanded shape.",
                    "ember.expand_copy(ember.tensor([[1.0], [2.0]]), (2, 2))", "tensor([[1., 1.],\n        [2., 2.]])"),
    "select_copy": (lambda x, dim, index: x.select(dim, index), "dim (int), index (int): the slice to take.",
                    "ember.select_copy(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), 0, 1)", "tensor([3., 4.])"),
    "slice_copy": (_slice, "dim (int), start (int, optional), end (int, optional), step (int): the slice "
                   "``start:end:step`` along ``dim``.",
                   "ember.slice_copy(ember.arange(6.0), 0, 1, None, 2)", "tensor([1., 3., 5.])"),
    "diagonal_copy": (lambda x, offset=0, dim1=0, dim2=1: x.diagonal(offset, dim1, dim2),
                      "offset (int), dim1 (int), dim2 (int): the diagonal to take.",
                      "ember.diagonal_copy(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))", "tensor([1., 4.])"),
    "detach_copy": (lambda x: x.detach(), "", "ember.detach_copy(ember.ones(2, requires_grad=True)).requires_grad",
                    "False"),
    "narrow_copy": (_narrow,
                    "dim (int), start (int), length (int): the ``length`` elements from ``start`` along ``dim``.",
                    "ember.narrow_copy(ember.arange(5.0), 0, 1, 3)", "tensor([1., 2., 3.])"),
    "as_strided_copy": (lambda x, size, stride, storage_offset=None: x.as_strided(size, stride, storage_offset),
                        "size, stride (tuple of int), storage_offset (int, optional): the strided view.",
                        "ember.as_strided_copy(ember.arange(4.0), (2, 2), (1, 1))",
                        "tensor([[0., 1.],\n        [1., 2.]])"),
    "alias_copy": (lambda x: x, "", "ember.alias_copy(ember.arange(3.0))", "tensor([0., 1., 2.])"),
    "unfold_copy": (lambda x, dimension, size, step: x.unfold(dimension, size, step),
                    "dimension (int), size (int), step (int): the windows, as :meth:`Tensor.unfold`.",
                    "ember.unfold_copy(ember.arange(4.0), 0, 2, 2)", "tensor([[0., 1.],\n        [2., 3.]])"),
    "view_as_real_copy": (view_as_real, "",
                          "ember.view_as_real_copy(ember.tensor([1 + 2j]))", "tensor([[1., 2.]])"),
    "view_as_complex_copy": (view_as_complex, "",
                             "ember.view_as_complex_copy(ember.tensor([[1.0, 2.0]]))", "tensor([1.+2.j])"),
}  # fmt: skip

_SPLITS: dict[str, tuple[Callable[..., tuple[Tensor, ...]], str, str, str]] = {
    "unbind_copy": (lambda x, dim=0: x.unbind(dim), "dim (int, optional): the dimension to remove. Default: ``0``.",
                    "ember.unbind_copy(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))",
                    "(tensor([1., 2.]), tensor([3., 4.]))"),
    "split_copy": (lambda x, split_size, dim=0: x.split(split_size, dim),
                   "split_size (int or list of int), dim (int, optional): as :meth:`Tensor.split`.",
                   "ember.split_copy(ember.arange(3.0), 2)", "(tensor([0., 1.]), tensor([2.]))"),
    "split_with_sizes_copy": (split_with_sizes, "split_sizes (list of int), dim (int, optional): as "
                              ":func:`split_with_sizes`.",
                              "ember.split_with_sizes_copy(ember.arange(3.0), [1, 2])",
                              "(tensor([0.]), tensor([1., 2.]))"),
}  # fmt: skip


def _doc(name: str, view: str, args: str, example: str, output: str, takes_out: bool = False) -> str:
    args_block = (
        f"    input (Tensor): the input tensor.\n    {args}\n" if args else "    input (Tensor): the input tensor.\n"
    )
    if takes_out:
        args_block += f"    {OUT_ARG}\n"
    output = output.replace("\n", "\n    ")
    return (
        f"``{view}`` in memory of its own (contiguous): writing to the result leaves ``input`` alone.\n\n"
        f"Args:\n{args_block}\nExample::\n\n    >>> {example}\n    {output}\n"
    )


def _copy_function(name: str, view: Callable[..., Any], args: str, example: str, output: str) -> Callable[..., Tensor]:
    view = renamed(view, name)  # its arity errors name the op ("permute_copy() takes 2 positional arguments ...")

    def function(input: Tensor, *a: Any, out: Tensor | None = None, **k: Any) -> Tensor:
        if out is None and type(input) is not Tensor and getattr(input, "is_sparse", False) and hasattr(input, name):
            return getattr(input, name)(*a, **k)  # a sparse COO tensor's own (narrow_copy: a new sparse tensor)
        if out is not None:
            result = _fresh(view(input, *a, **k))
            return write_out(name, result, out, exact_dtype=True, warn_resize=name != "narrow_copy")  # as torch
        return _fresh(view(input, *a, **k))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _doc(name, name[: -len("_copy")], args, example, output, takes_out=True)
    return tensor_input(function)


def _split_copy_function(
    name: str, split: Callable[..., tuple[Tensor, ...]], args: str, example: str, output: str
) -> Callable[..., tuple[Tensor, ...]]:
    def function(input: Tensor, *a: Any, **k: Any) -> tuple[Tensor, ...]:
        return tuple(_fresh(piece) for piece in split(input, *a, **k))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _doc(name, name[: -len("_copy")], args, example, output)
    return tensor_input(function)


view_copy, permute_copy, transpose_copy, t_copy, unsqueeze_copy, squeeze_copy, expand_copy = (
    _copy_function(n, *_VIEWS[n])
    for n in ("view_copy", "permute_copy", "transpose_copy", "t_copy", "unsqueeze_copy", "squeeze_copy", "expand_copy")
)
select_copy, slice_copy, diagonal_copy, detach_copy, narrow_copy, as_strided_copy = (
    _copy_function(n, *_VIEWS[n])
    for n in ("select_copy", "slice_copy", "diagonal_copy", "detach_copy", "narrow_copy", "as_strided_copy")
)
alias_copy, unfold_copy, view_as_real_copy, view_as_complex_copy = (
    _copy_function(n, *_VIEWS[n]) for n in ("alias_copy", "unfold_copy", "view_as_real_copy", "view_as_complex_copy")
)
unbind_copy, split_copy, split_with_sizes_copy = (
    _split_copy_function(n, *_SPLITS[n]) for n in ("unbind_copy", "split_copy", "split_with_sizes_copy")
)


@dim_or_axis
def unsafe_split(input: Tensor, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """:meth:`Tensor.split` with views that allow in-place writes (PyTorch's form without the view checks).

    Args:
        input (Tensor): the tensor to split.
        split_size (int): the size of each piece (the last may be smaller).
        dim (int, optional): the dimension to split along. Default: ``0``.

    Example::

        >>> ember.unsafe_split(ember.arange(3.0), 2)
        (tensor([0., 1.]), tensor([2.]))
    """
    return split_into_views(input, split_size, dim, unsafe=True)


@dim_or_axis
def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """:meth:`Tensor.chunk` with views that allow in-place writes (PyTorch's form without the view checks).

    Args:
        input (Tensor): the tensor to split.
        chunks (int): the number of pieces.
        dim (int, optional): the dimension to split along. Default: ``0``.

    Example::

        >>> ember.unsafe_chunk(ember.arange(4.0), 2)
        (tensor([0., 1.]), tensor([2., 3.]))
    """
    return chunk_into_views(input, chunks, dim, unsafe=True)


@dim_or_axis
def unsafe_split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """:func:`split_with_sizes` with views that allow in-place writes (PyTorch's form without the view checks).

    Args:
        input (Tensor): the tensor to split.
        split_sizes (sequence of int): the sizes of the pieces.
        dim (int, optional): the dimension to split along. Default: ``0``.

    Example::

        >>> ember.unsafe_split_with_sizes(ember.arange(3.0), [1, 2])
        (tensor([0.]), tensor([1., 2.]))
    """
    return split_into_views(input, split_sizes, dim, unsafe=True)
