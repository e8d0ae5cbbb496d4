"""Making tensors: zeros, ones, full, arange, linspace, eye, random sampling, ``*_like``, legacy types."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np

from .. import dtypes
from ..device import default_device, set_default_device
from ..device import device as _device
from ..layout import (
    check_memory_format,
    contiguous_format,
    format_strides,
    layout,
    may_keep_other_strides,
    preserve_format,
)
from ..random import check_probabilities, native_generator
from ..strides import ordered_strides
from ..tensor import (
    Size,
    Tensor,
    _new,
    copy_to_tensor,
    dtype_arg,
    is_number,
    placement,
    require_grad_of_new,
    requires_grad_flag,
    size_arg,
    tensor,
    warn_copy_construct,
)
from ..type_names import type_name
from ..typeinfo import iinfo
from ..unstrided import is_strided
from .comparison import _TORCH_NAMES
from .creation_options import check_layout, layout_options
from .drawn_from import drawn_from
from .dtype_support import C_NAMES, FLOAT8, TORCH_NAMES, UNSIGNED_WIDE, check_random_bound, not_implemented
from .movement import broadcast_shapes
from .operands import fill_value_for, invalid_combination, tensor_input
from .out_argument import creation_placement, write_out

if TYPE_CHECKING:
    from ..random import Generator
    from ..types import Device, Number, _dtype
    from ..types import _size as _size_t

    class _SizeFactory(Protocol):
        """``zeros``/``ones``/``empty``: the size as ints, one sequence, or ``size=``."""

        __name__: str

        def __call__(
            self,
            *args: int | _size_t,
            size: _size_t = ...,
            dtype: _dtype | None = None,
            device: Device = None,
            requires_grad: bool = False,
            out: Tensor | None = None,
        ) -> Tensor: ...

    class _LikeFactory(Protocol):
        """``zeros_like``/``ones_like``/``empty_like``."""

        def __call__(
            self,
            input: Tensor,
            *,
            dtype: _dtype | None = None,
            device: Device = None,
            requires_grad: bool = False,
            memory_format: object = None,
        ) -> Tensor: ...


__all__ = [
    "zeros", "ones", "full", "empty", "arange", "range", "linspace", "logspace", "eye",
    "zeros_like", "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "randperm",
    "rand_like", "randn_like", "randint_like", "normal", "bernoulli", "multinomial",
    "default_device", "set_default_device", "get_default_device",
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor",
]  # fmt: skip


def get_default_device() -> _device:
    """The device of the tensors created without ``device=`` (see :func:`set_default_device`).

    As in PyTorch, a default set without index is reported as the device such a tensor gets
    (``"cuda"`` as ``cuda:0``, the current CUDA device; ``"cpu"`` as ``cpu``), one set with an
    index as it was given (``"cpu:0"``).

    Example::

        >>> ember.get_default_device()
        device(type='cpu')
    """
    dev = default_device()
    return dev if dev.index is not None else placement(dev)[1]


def _size(size, op="tensor factory", negative=None):
    """The shape ``size`` names, checked in the words of ``op``; ``negative``, where given, is the message of
    a negative size (PyTorch's ``zeros`` checks its sizes before it allocates, in words of its own)."""
    if len(size) == 1 and not isinstance(size[0], numbers.Integral) and getattr(size[0], "ndim", None) != 0:
        size = size[0]  # one sequence of sizes; a 0-d integer tensor or array is one size, as in PyTorch
    try:
        shape = tuple(size_arg(op, s, i) for i, s in enumerate(size))
    except TypeError:
        if hasattr(size, "__iter__"):
            raise
        raise TypeError(f"{op}(): argument 'size' (position 1) must be tuple of ints, not {type_name(size)}") from None
    for s in shape:
        if s < 0:
            raise RuntimeError(negative or f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


_NO_SIZE: Any = object()


def _sizes(name, args, size, negative=None):
    """The shape given either as positional ints/one sequence (``args``) or as ``size=`` (PyTorch's two forms);
    ``negative`` as :func:`_size` takes it."""
    if size is _NO_SIZE:
        return _size(args, name, negative)
    if args:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if isinstance(size, int) or not hasattr(size, "__iter__"):
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type_name(size)}")
    return _size(tuple(size), name, negative)


def _place(dtype, device, default=None, op="tensor factory"):
    backend, dev = placement(device)
    dt = dtype_arg(op, dtype) if dtype is not None else (default or dtypes.get_default_dtype())
    return backend, dev, dt


def _finish(data, backend, dev, requires_grad):
    t = _new(data, backend, dev)
    return require_grad_of_new(t) if requires_grad_flag("tensor factory", requires_grad, none_is_false=True) else t


@layout_options(pin_memory=True)
def full(
    size: _size_t,
    fill_value: Number | Tensor,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``.

    The dtype defaults to that of the scalar (bool, int64 or the default float).

    Args:
        size (list or tuple of ints): the shape of the result.
        fill_value (Number): the value to fill with.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.full((2, 3), 1.5)
        tensor([[1.5000, 1.5000, 1.5000],
                [1.5000, 1.5000, 1.5000]])
        >>> ember.full((2,), True)
        tensor([True, True])
    """
    if out is not None:
        dt, dev = creation_placement("full", dtype, device, out)
        return write_out("full", full(size, fill_value, dtype=dt, device=dev), out, warn_resize=False)
    shape = _size((size,) if isinstance(size, int) or not hasattr(size, "__iter__") else tuple(size), "full")
    if not (is_number(fill_value) or isinstance(fill_value, Tensor) and fill_value.ndim == 0):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type_name(fill_value)}")
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    backend, dev, dt = _place(dtype, device, op="full")
    fill_value = fill_value_for(fill_value, dt)
    with backend.device_context(dev.index):
        data = backend.xp.full(shape, fill_value, dtype=backend.native_dtype(dt))
    result = _finish(data, backend, dev, requires_grad)
    return result


def _filled(name: str, value: str, negative: str | None = None) -> _SizeFactory:
    """The factory ``name`` of tensors filled with ``value``; ``negative``: its message for a negative size."""

    def make(
        *args: int | _size_t,
        size: _size_t = _NO_SIZE,
        dtype: _dtype | None = None,
        device: Device = None,
        requires_grad: bool = False,
        out: Tensor | None = None,
    ) -> Tensor:
        if out is not None:
            dt, dev = creation_placement(name, dtype, device, out)
            return write_out(name, make(*args, size=size, dtype=dt, device=dev), out, warn_resize=False)
        shape = _sizes(name, args, size, negative)
        backend, dev, dt = _place(dtype, device, op=name)
        with backend.device_context(dev.index):
            data = getattr(backend.xp, name)(shape, dtype=backend.native_dtype(dt))
        result = _finish(data, backend, dev, requires_grad)
        return result

    make.__name__ = make.__qualname__ = name  # what Python names in its own errors
    make.__doc__ = (
        f"A tensor of the given size filled with {value} (default dtype float32).\n\n"
        f"The size is given as ints, one sequence, or the keyword ``size=``.\n\n"
        f"Example::\n\n    >>> ember.{name}(2, 3).shape\n    ember.Size([2, 3])\n"
        f"    >>> ember.{name}(size=(2, 3)).shape\n    ember.Size([2, 3])\n"
    )
    return make


# PyTorch's zeros checks its sizes before it allocates, in words of its own
zeros = layout_options(pin_memory=True)(_filled("zeros", "zeros", "zeros: Dimension size must be non-negative."))
ones = layout_options(pin_memory=True)(_filled("ones", "ones"))
_empty_row_major = _filled("empty", "uninitialised values")


@layout_options(pin_memory=True)
def empty(
    *args: int | _size_t,
    size: _size_t = _NO_SIZE,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    memory_format: object = None,
) -> Tensor:
    """A tensor of the given size filled with uninitialised values (default dtype float32).

    The size is given as ints, one sequence, or the keyword ``size=``.

    Args:
        dtype (ember.dtype, optional): the data type. Default: :func:`ember.get_default_dtype`.
        device (ember.device or str, optional): the device; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to give the shape; resized and returned. Default: ``None``.
        memory_format (ember.memory_format, optional): the layout, ``ember.contiguous_format`` or a
            channels-last format (see :class:`ember.memory_format`). Default: ``ember.contiguous_format``.

    Example::

        >>> ember.empty(2, 3).shape
        ember.Size([2, 3])
        >>> ember.empty(1, 3, 2, 2, memory_format=ember.channels_last).stride()
        (12, 1, 6, 3)
    """
    if memory_format is None or memory_format is contiguous_format:
        return _empty_row_major(*args, size=size, dtype=dtype, device=device, requires_grad=requires_grad, out=out)
    shape = _sizes("empty", args, size)
    check_memory_format(memory_format, len(shape), "empty")
    if memory_format is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    flat = _empty_row_major(math.prod(shape), dtype=dtype, device=device, requires_grad=requires_grad)
    return seen_strided(flat, shape, ordered_strides(shape, memory_format.order))  # type: ignore[attr-defined]


# -- docstrings of the generated ``*_like`` functions and ``new_*`` methods: name -> (summary, args, example, output)
_LIKE_ARGS = """input (Tensor): the tensor whose shape (and, by default, dtype and device) to take.
    dtype (ember.dtype, optional): the data type of the result; ``input``'s when ``None``.
    device (ember.device or str, optional): the device of the result; ``input``'s when ``None``.
    requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
    memory_format (ember.memory_format): the layout of the result. Default: ``ember.preserve_format``, ``input``'s strides where they are dense."""
_NEW_ARGS = """size (int...): the shape of the result, as several ints or one sequence.
    dtype (ember.dtype, optional): the data type of the result; this tensor's when ``None``.
    device (ember.device or str, optional): the device of the result; this tensor's when ``None``.
    requires_grad (bool): whether autograd records operations on the result. Default: ``False``."""
_GENERATED_DOCS = {
    "zeros_like": (
        "A tensor of zeros with the shape, dtype and device of ``input``.",
        _LIKE_ARGS,
        "ember.zeros_like(ember.tensor([[1, 2], [3, 4]]))",
        "tensor([[0, 0],\n        [0, 0]])",
    ),
    "ones_like": (
        "A tensor of ones with the shape, dtype and device of ``input``.",
        _LIKE_ARGS,
        "ember.ones_like(ember.tensor([1.5, 2.5]))",
        "tensor([1., 1.])",
    ),
    "empty_like": (
        "An uninitialized tensor with the shape, dtype and device of ``input``.",
        _LIKE_ARGS,
        "ember.empty_like(ember.zeros(2, 3)).shape",
        "ember.Size([2, 3])",
    ),
    "new_zeros": (
        "A tensor of zeros of shape ``size``, with this tensor's dtype and device unless given.",
        _NEW_ARGS,
        "ember.tensor([1, 2], dtype=ember.int32).new_zeros(2, 3)",
        "tensor([[0, 0, 0],\n        [0, 0, 0]], dtype=ember.int32)",
    ),
    "new_ones": (
        "A tensor of ones of shape ``size``, with this tensor's dtype and device unless given.",
        _NEW_ARGS,
        "ember.tensor([1.0], dtype=ember.float64).new_ones((2,))",
        "tensor([1., 1.], dtype=ember.float64)",
    ),
    "new_empty": (
        "An uninitialized tensor of shape ``size``, with this tensor's dtype and device unless given.",
        _NEW_ARGS,
        "ember.tensor([1.0]).new_empty(2, 3).shape",
        "ember.Size([2, 3])",
    ),
}


def _generated_doc(name):
    """The PyTorch-form docstring of the generated function or method ``name``."""
    summary, args, example, output = _GENERATED_DOCS[name]
    output = output.replace("\n", "\n    ")
    return f"{summary}\n\nArgs:\n    {args}\n\nExample::\n\n    >>> {example}\n    {output}\n"


def laid_out_like(input: Tensor, memory_format: object, op: str, make: Callable[[tuple[int, ...]], Tensor]) -> Tensor:
    """A new tensor of ``input``'s shape made by ``make(shape)``, laid out as PyTorch lays out the
    result of ``op`` (a ``*_like`` factory) with ``memory_format``: ``preserve_format`` (the
    default) keeps a transposed or channels-last ``input``'s strides (see :class:`ember.memory_format`).
    Such a result is ``make`` of the flat size seen with those strides, so that a random fill runs in
    memory order as PyTorch's does."""
    if not isinstance(getattr(input, "layout", None), layout):  # a tensor, dense or sparse
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    check_memory_format(memory_format, input.ndim, op)
    shape = input.shape
    if not is_strided(input):  # a sparse tensor has no strides: a row-major dense result
        return make(shape)
    if (
        (memory_format is None or memory_format is preserve_format)
        and input._backend.is_contiguous(input._data)
        and not may_keep_other_strides(shape)
    ):
        return make(shape)
    strides = format_strides(tuple(shape), input.stride(), memory_format)
    if strides is None:
        return make(shape)
    return seen_strided(make((math.prod(shape),)), tuple(shape), strides)


def seen_strided(flat: Tensor, shape: tuple[int, ...], strides: tuple[int, ...]) -> Tensor:
    """The fresh 1-D tensor ``flat``'s memory as a new tensor of ``shape`` and ``strides`` (which stay
    within it), with ``flat``'s ``requires_grad``: a tensor of its own, no view of ``flat``."""
    data = flat._backend.as_strided(flat._data, shape, strides, 0)
    return _finish(data, flat._backend, flat._device, flat.requires_grad)


def _like(fn: _SizeFactory) -> _LikeFactory:
    def make(
        input: Tensor,
        *,
        dtype: _dtype | None = None,
        device: Device = None,
        requires_grad: bool = False,
        memory_format: object = None,
    ) -> Tensor:
        if (
            make.__name__ in ("zeros_like", "empty_like")
            and hasattr(input, "_nnz")
            and input.layout.name == "sparse_coo"
        ):
            return _sparse_zeros_like(input, dtype, device, requires_grad)
        return laid_out_like(
            input,
            memory_format,
            make.__name__,
            lambda shape: fn(
                shape,
                dtype=dtype or input.dtype,
                device=device if device is not None else input.device,
                requires_grad=requires_grad,
            ),
        )

    make.__name__ = make.__qualname__ = fn.__name__ + "_like"
    make.__doc__ = _generated_doc(make.__name__)
    return make


def _sparse_zeros_like(input: Any, dtype: Any, device: Any, requires_grad: bool) -> Any:
    """``zeros_like``/``empty_like`` of a sparse COO tensor: an empty one of its size and numbers of
    sparse and dense dimensions (PyTorch's result)."""
    values = input._vals.new_zeros((0,) + tuple(input._vals.shape[1:]), dtype=dtype or input.dtype)
    indices = input._idx.new_zeros((input.sparse_dim(), 0))
    if device is not None:
        values, indices = values.to(device), indices.to(device)
    result = type(input)(indices, values, input.shape, True)
    return result.requires_grad_() if requires_grad else result


zeros_like = layout_options(pin_memory=False)(_like(zeros))
ones_like = layout_options(pin_memory=False)(_like(ones))
empty_like = layout_options(pin_memory=False)(_like(empty))


@layout_options(pin_memory=False)
def full_like(
    input: Tensor,
    fill_value: Number | Tensor,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    memory_format: object = None,
) -> Tensor:
    """``full`` with the shape, dtype and device of ``input``.

    Args:
        input (Tensor): the tensor whose shape (and, by default, dtype and device) to take.
        fill_value (Number): the value to fill with.
        dtype (ember.dtype, optional): the data type of the result; ``input``'s when ``None``.
        device (ember.device or str, optional): the device of the result; ``input``'s when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        memory_format (ember.memory_format): the layout of the result. Default: ``ember.preserve_format``,
            ``input``'s strides where they are dense.

    Example::

        >>> ember.full_like(ember.tensor([1, 2, 3]), 7)
        tensor([7, 7, 7])
    """
    return laid_out_like(
        input,
        memory_format,
        "full_like",
        lambda shape: full(
            shape,
            fill_value,
            dtype=dtype or input.dtype,
            device=device if device is not None else input.device,
            requires_grad=requires_grad,
        ),
    )


def _shaped_as_out(result: Tensor, out: Tensor) -> Tensor:
    """The 1-D ``result`` of a range op (``arange``, ``linspace``, ...) in the shape of an ``out`` of as
    many elements: PyTorch resizes such an ``out`` only when the count differs, so ``arange(4,
    out=empty(2, 2))`` keeps the shape (2, 2), filled in row-major order."""
    if isinstance(out, Tensor) and out.numel() == result.numel() and out.shape != result.shape:
        return result.reshape(out.shape)
    return result


@layout_options(pin_memory=True)
def arange(
    start: Number | Tensor | None = None,
    end: Number | Tensor | None = None,
    step: Number | Tensor = 1,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) spaced by ``step``.

    The dtype is int64 when all arguments are integers, else the default float.

    Args:
        start (Number): the first value (or ``end``, from 0, when ``end`` is omitted). Default: ``0``
            when ``end`` is given.
        end (Number, optional): the end of the range, excluded.
        step (Number): the gap between consecutive values. Default: ``1``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.arange(5)
        tensor([0, 1, 2, 3, 4])
        >>> ember.arange(1, 4)
        tensor([1, 2, 3])
        >>> ember.arange(0.0, 1.0, 0.25)
        tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if out is not None:
        dt, dev = creation_placement("arange", dtype, device, out)
        return write_out(
            "arange", _shaped_as_out(arange(start, end, step, dtype=dt, device=dev), out), out, warn_resize=False
        )
    if end is None:
        if start is None:
            raise TypeError("arange() missing 1 required positional argument: 'end'")
        start, end = 0, start
    elif start is None:
        start = 0
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    for value in values:  # as PyTorch converts a Python int into its int64 scalar
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            if abs(value) >= 2**64:
                raise OverflowError("int too big to convert")
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
    if step == 0 or step != step:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, numbers.Integral) for v in values) else dtypes.get_default_dtype()
    backend, dev, dt = _place(dtype, device)
    if dt is dtypes.bool or dt.is_complex or dt in dtypes.limited_dtypes:
        not_implemented("arange_cpu", dt)
    first, last, gap = (start, end, step) if dt.is_floating_point else (int(start), int(end), int(step))
    if dt is dtypes.int64:  # counted exactly from the truncated bounds, as PyTorch
        if gap == 0:  # the step truncated first (0.5 is 0)
            raise ValueError("step must be nonzero")
        count = (last - first + gap - (1 if gap > 0 else -1)) // gap
    else:  # counted in float64 from the bounds as given, as PyTorch (also for the narrower integers)
        count = max(math.ceil((end - start) / step), 0)
    with backend.device_context(dev.index):
        xp = backend.xp
        if dt.is_floating_point and backend.supports_float64:
            index = xp.arange(count, dtype=backend.native_dtype(dtypes.float64))
            data = xp.astype(index * step + start, backend.native_dtype(dt))
        elif dt.is_floating_point:  # no float64 on this backend: computed in dt
            data = xp.arange(start, end, step, dtype=backend.native_dtype(dt))
        elif dt is dtypes.int64:
            data = xp.arange(first, first + count * gap, gap, dtype=backend.native_dtype(dt))
        else:  # start + i * step, both truncated, counted in int64 and wrapped into the narrower type, as
            # PyTorch (uint8 from -3 starts at 253; int32 from 0.9 by 1.1 gives 0, 1, 2; a step of 0.5 repeats 0)
            index = xp.arange(count, dtype=backend.native_dtype(dtypes.int64))
            data = xp.astype(index * gap + first, backend.native_dtype(dt))
    result = _finish(data, backend, dev, requires_grad)
    return result


@layout_options(pin_memory=True)
def range(  # noqa: A001
    start: Number | Tensor,
    end: Number | Tensor | None = None,
    step: Number | Tensor = 1,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Deprecated ``torch.range``: like :func:`arange` but includes ``end``; float by default.

    Args:
        start (Number): the first value.
        end (Number): the last value, included.
        step (Number): the gap between consecutive values. Default: ``1``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.range(1, 4)
        tensor([1., 2., 3., 4.])
        >>> ember.range(0, 1, 0.5)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if out is not None:
        dt, dev = creation_placement("range", dtype, device, out)
        return write_out(
            "range", _shaped_as_out(range(start, end, step, dtype=dt, device=dev), out), out, warn_resize=False
        )

    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
        "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=3,  # past the layout_options wrapper
    )
    if end is None:
        start, end = 0, start
    dtype = dtype or dtypes.get_default_dtype()
    if dtypes.as_dtype(dtype).is_complex:
        not_implemented("range_cpu", dtypes.as_dtype(dtype))
    if dtypes.as_dtype(dtype).is_floating_point:
        end = end + step / 2
    else:  # PyTorch truncates the bounds of an integer range, then includes end
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
        if (end - start) * step >= 0:  # else arange refuses the bounds, as PyTorch
            end = start + ((end - start) // step + 1) * step
    return arange(
        start,
        end,
        step,
        dtype=dtype,
        device=device,
        requires_grad=requires_grad,
    )


def _spaced_signatures(op):
    """PyTorch's overloads of ``linspace``/``logspace``, as its argument parser lists them."""
    base = ", float base = 10.0" if op == "logspace" else ""
    rest = (
        f"int steps{base}, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
        "torch.device device = None, bool pin_memory = False, bool requires_grad = False"
    )
    ends = (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"), ("Number", "Number"))
    return tuple(f"{s} start, {e} end, {rest}" for s, e in ends)


def _steps(op, steps, args, kwargs):
    """The ``steps`` argument of ``linspace``/``logspace``: a non-negative int or 0-d integer tensor (any other
    fits none of PyTorch's overloads: its TypeError lists the call's ``args`` and the ``kwargs`` given)."""
    if isinstance(steps, Tensor) and steps.ndim == 0 and not (steps.dtype.is_floating_point or steps.dtype.is_complex):
        steps = steps.item()
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        given = {name: value for name, value in kwargs.items() if value is not None and value is not False}
        raise invalid_combination(op, args, given, _spaced_signatures(op))
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


def _spaced_dtype(op, start, end, dtype):
    """The dtype of ``linspace``/``logspace``: ``dtype``, else the default dtype, or its complex type
    where an end is complex (a number or a tensor). A complex end into a real ``dtype`` is PyTorch's
    RuntimeError."""
    complex_ends = any(isinstance(v, complex) or isinstance(v, Tensor) and v.dtype.is_complex for v in (start, end))
    inferred = dtypes.default_complex_dtype() if complex_ends else dtypes.get_default_dtype()
    if dtype is None:
        return inferred
    dt = dtype_arg(op, dtype)
    if complex_ends and not dt.is_complex:
        raise RuntimeError(
            f"torch.{op}(): inferred dtype {C_NAMES[inferred]} can't be safely cast to passed dtype {TORCH_NAMES[dt]}"
        )
    return dt


def _tensor_ends(op, start, end):
    """The ends of ``linspace``/``logspace`` given as tensors, which must be 0-dimensional."""
    ends = {name: v for name, v in (("start", start), ("end", end)) if isinstance(v, Tensor)}
    if any(v.ndim for v in ends.values()):
        got = " and ".join(f"{name} with {v.ndim} dimension(s)" for name, v in ends.items())
        raise RuntimeError(f"{op} only supports 0-dimensional start and end tensors, but got {got}.")
    return list(ends.values())


@layout_options(pin_memory=True)
def linspace(
    start: Number | Tensor,
    end: Number | Tensor,
    steps: int,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end`` inclusive.

    .. math::
        out_i = start + i * (end - start) / (steps - 1)

    Args:
        start (float): the first value.
        end (float): the last value.
        steps (int): the number of values.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
        >>> ember.linspace(-10, 10, steps=3)
        tensor([-10.,   0.,  10.])
    """
    kwargs = {"out": out, "dtype": dtype, "device": device, "requires_grad": requires_grad}
    steps = _steps("linspace", steps, (start, end, steps), kwargs)
    if out is not None:
        dt, dev = creation_placement("linspace", dtype, device, out)
        return write_out(
            "linspace", _shaped_as_out(linspace(start, end, steps, dtype=dt, device=dev), out), out, warn_resize=False
        )
    if any(v.is_meta for v in _tensor_ends("linspace", start, end)):
        device = "meta"  # a meta end makes it a meta op (PyTorch's dispatch), whatever ``device`` says
    # bool ends count as 0 and 1, as in PyTorch (which reads them as numbers)
    start, end = (v.to(dtypes.int64) if isinstance(v, Tensor) and v.dtype is dtypes.bool else v for v in (start, end))
    backend, dev, dt = _place(_spaced_dtype("linspace", start, end, dtype), device)
    if dt in dtypes.limited_dtypes:
        not_implemented("linspace_cpu", dt)
    if dev.type == "meta":  # no values to compute (nor any in meta ends to read)
        return empty(steps, dtype=dt, device=dev, requires_grad=requires_grad)
    if dt is dtypes.bool and steps > 1:
        not_implemented("linspace_cpu", dt)
    if steps == 1:
        first = start.item() if isinstance(start, Tensor) else start  # (a device tensor has no host array)
        host = np.array([first], dtype=np.complex128 if dt.is_complex else np.float64)
    else:
        host = _linspace_values(start, end, steps, dt)
    return _finish(backend.from_host(host.astype(dtypes.host_dtype(dt)), dev.index), backend, dev, requires_grad)


def _linspace_values(start, end, steps, dt):
    """PyTorch's CPU linspace, on the host: ``start + step * i`` for the first half and ``end - step *
    (steps - 1 - i)`` for the rest, with ``step`` and each value rounded as PyTorch rounds them: once
    (a fused multiply-add) in float32 and float64, each operation in float16 and bfloat16, in float64 from
    truncated ends for integers (the cast to the dtype truncates)."""
    i = np.arange(steps, dtype=np.float64)
    first = i < steps // 2
    counts = np.where(first, i, i - (steps - 1))  # the second half counts back from ``end``
    if any(isinstance(v, complex) or (isinstance(v, Tensor) and v.dtype.is_complex) for v in (start, end)):
        step = (end - start) / (steps - 1)
        return np.where(first, start + step * counts, end + step * counts)
    if dt.is_complex:  # real ends: the real parts, computed as in the real type of the same precision
        dt = dtypes.float32 if dt is dtypes.complex64 else dtypes.float64
    if dt in (dtypes.float16, dtypes.bfloat16):
        half, single = dtypes.host_dtype(dt).type, np.float32
        low, high = half(float(start)), half(float(end))
        step = half(single(half(single(high) - single(low))) / single(half(steps - 1)))
        products = (single(step) * counts.astype(half).astype(single)).astype(half)
        return (np.where(first, single(low), single(high)) + products.astype(single)).astype(half)
    if dt is dtypes.float32:  # exact in float64, then the one rounding
        low, high = np.float32(float(start)), np.float32(float(end))
        step = np.float32((high - low) / np.float32(steps - 1))
        return np.float64(step) * counts + np.where(first, np.float64(low), np.float64(high))
    if dt.is_floating_point:
        low, high = float(start), float(end)
    else:
        low, high = _integer_end(start, dt), _integer_end(end, dt)  # PyTorch casts the ends to the dtype first
    step = (high - low) / (steps - 1)
    bases = np.where(first, low, high)
    if all(np.isfinite(v) for v in (low, high, step * 134217729.0)):
        return _fused_multiply_add(np.float64(step), counts, bases)
    return step * counts + bases


def _integer_end(value, dt):
    """The end ``value`` of an integer linspace or logspace converted to ``dt`` as PyTorch converts it
    (truncated, then wrapped into the type: ``-1`` is 255 in uint8), as a float."""
    return float(np.array(int(value)).astype(dtypes.host_dtype(dt)))


def _fused_multiply_add(a, b, c):
    """``a * b + c`` on float64 arrays, rounded once: Dekker's exact product and a two-sum, the
    sum's last rounding the only one (but for halfway cases so rare that they are not seen)."""
    product = a * b
    split = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant for 53-bit significands
    a_big, b_big = a * split, b * split
    a_hi = a_big - (a_big - a)
    b_hi = b_big - (b_big - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    product_error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    total = c + product
    c_part = total - product
    sum_error = (c - c_part) + (product - (total - c_part))
    return total + (sum_error + product_error)


@layout_options(pin_memory=True)
def logspace(
    start: Number | Tensor,
    end: Number | Tensor,
    steps: int,
    base: float = 10.0,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """``base ** linspace(start, end, steps)``.

    .. math::
        out_i = base^{start + i * (end - start) / (steps - 1)}

    Args:
        start (float): the first exponent.
        end (float): the last exponent.
        steps (int): the number of values.
        base (float): the base of the powers. Default: ``10.0``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.logspace(0, 3, 4)
        tensor([   1.,   10.,  100., 1000.])
        >>> ember.logspace(0, 2, 3, base=2)
        tensor([1., 2., 4.])
    """
    kwargs = {"out": out, "dtype": dtype, "device": device, "requires_grad": requires_grad}
    steps = _steps("logspace", steps, (start, end, steps) if base == 10.0 else (start, end, steps, base), kwargs)
    if out is not None:
        dt, dev = creation_placement("logspace", dtype, device, out)
        return write_out(
            "logspace",
            _shaped_as_out(logspace(start, end, steps, base, dtype=dt, device=dev), out),
            out,
            warn_resize=False,
        )
    _tensor_ends("logspace", start, end)
    dt = _spaced_dtype("logspace", start, end, dtype)
    if dt in dtypes.limited_dtypes:
        not_implemented("logspace_cpu", dt)
    if dt is dtypes.bool and steps > 1:
        not_implemented("logspace_cpu", dt)
    if dt.is_complex or dtype is not None and dt.is_floating_point:
        exponent_dtype = dt
    else:  # integer results round base ** float
        exponent_dtype = dtypes.float64
        meta = any(isinstance(v, Tensor) and v.is_meta for v in (start, end))  # no values to convert
        if steps > 1 and not dt.is_floating_point and dt is not dtypes.bool and not meta:  # from the ends in the dtype
            start, end = _integer_end(start, dt), _integer_end(end, dt)
    out = base ** linspace(start, end, steps, dtype=exponent_dtype, device=device)
    out = out.to(dt)
    return require_grad_of_new(out) if requires_grad_flag("logspace()", requires_grad) else out


@layout_options(pin_memory=True)
def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """An ``n x m`` matrix with ones on the diagonal.

    Args:
        n (int): the number of rows.
        m (int, optional): the number of columns; ``n`` when ``None``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> ember.eye(3)
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
        >>> ember.eye(2, 3, dtype=ember.int64)
        tensor([[1, 0, 0],
                [0, 1, 0]])
    """
    if out is not None:
        dt, dev = creation_placement("eye", dtype, device, out)
        return write_out("eye", eye(n, m, dtype=dt, device=dev), out, warn_resize=False)
    m = n if m is None else m
    for name, value in (("n", n), ("m", m)):
        if size_arg("eye", value, name) < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    backend, dev, dt = _place(dtype, device, op="eye")
    if dt in UNSIGNED_WIDE:
        not_implemented("eye", dt)
    with backend.device_context(dev.index):
        data = backend.xp.eye(n, m, dtype=backend.native_dtype(dt))
    return _finish(data, backend, dev, requires_grad)


# -- random --------------------------------------------------------------------------------
def _random(
    sample,
    size,
    generator,
    dtype,
    device,
    requires_grad,
    default=None,
    op="random factory",
    kernel=None,
    sample_part=None,
):
    """``kernel``: PyTorch's name for a sampler that has floating-point instances only (rand, randn);
    ``sample_part``: where complex samples exist, ``sample`` for their real and imaginary parts, each
    sampled on its own (``randn``: with a standard deviation of ``1 / sqrt(2)``, for a variance of 1)."""
    shape = _size(size, op)
    backend, dev, dt = _place(dtype, device, default, op)
    complex_parts = dt.is_complex and sample_part is not None
    if kernel is not None and (not dt.is_floating_point or dt in FLOAT8) and not complex_parts:
        not_implemented(kernel, dt)
    gen = native_generator(generator, backend, dev.index)
    if complex_parts:
        parts = sample_part(gen, (*shape, 2), backend.native_dtype(dt.to_real()))
        data = backend.view_as_complex(parts, backend.native_dtype(dt))
    else:
        data = sample(gen, shape, backend.native_dtype(dt))
    return _finish(data, backend, dev, requires_grad)


@layout_options(pin_memory=True)
def rand(
    *args: int | _size_t,
    size: _size_t = _NO_SIZE,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Samples from the uniform distribution on [0, 1).

    The size is given as ints, one sequence, or the keyword ``size=``.

    Example::

        >>> ember.rand(size=(2, 3)).shape
        ember.Size([2, 3])
    """
    if out is not None:
        dt, dev = creation_placement("rand", dtype, device, out)
        return write_out(
            "rand", rand(*args, size=size, generator=generator, dtype=dt, device=dev), out, warn_resize=False
        )
    return _random(
        lambda g, s, d: g.uniform(s, d),
        _sizes("rand", args, size),
        generator,
        dtype,
        device,
        requires_grad,
        op="rand",
        kernel="check_uniform_bounds",
        sample_part=lambda g, s, d: g.uniform(s, d),
    )


@layout_options(pin_memory=True)
def randn(
    *args: int | _size_t,
    size: _size_t = _NO_SIZE,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Samples from the standard normal distribution.

    The size is given as ints, one sequence, or the keyword ``size=``.

    Example::

        >>> ember.randn(size=[4]).shape
        ember.Size([4])
    """
    if out is not None:
        dt, dev = creation_placement("randn", dtype, device, out)
        return write_out(
            "randn", randn(*args, size=size, generator=generator, dtype=dt, device=dev), out, warn_resize=False
        )
    return _random(
        lambda g, s, d: g.normal(s, d),
        _sizes("randn", args, size),
        generator,
        dtype,
        device,
        requires_grad,
        op="randn",
        kernel="normal_kernel_cpu",
        sample_part=lambda g, s, d: g.normal_scaled(s, d, 0.0, 1.0 / math.sqrt(2.0)),
    )


@overload
def randint(
    high: int,
    size: _size_t,
    /,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor: ...
@overload
def randint(
    high: int,
    /,
    *,
    size: _size_t,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor: ...
@overload
def randint(
    low: int,
    high: int,
    size: _size_t,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor: ...
@overload
def randint(
    *,
    high: int,
    size: _size_t,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor: ...
@layout_options(pin_memory=True)
def randint(
    low: Any = 0,
    high: Any = None,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Integers uniform in ``[low, high)`` (int64 by default).

    Called as ``randint(high, size)``, ``randint(low, high, size)`` or with keywords, as in PyTorch.

    Example::

        >>> ember.randint(10, size=(2, 3)).shape
        ember.Size([2, 3])
        >>> bool(((ember.randint(low=3, high=5, size=(100,)) >= 3)).all())
        True
    """
    if out is not None:
        dt, dev = creation_placement("randint", dtype, device, out)
        return write_out(
            "randint", randint(low, high, size, generator=generator, dtype=dt, device=dev), out, warn_resize=False
        )
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Integral):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type_name(bound)}")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype is not None and dtype_arg("randint", dtype) in FLOAT8:
        not_implemented("random_update_from_to", dtype_arg("randint", dtype))
    check_random_bound("from", low, dtype or dtypes.int64)
    check_random_bound("to - 1", high - 1, dtype or dtypes.int64)
    return _random(
        lambda g, s, d: g.integers(low, high, s, d),
        (tuple(size),),
        generator,
        dtype,
        device,
        requires_grad,
        default=dtypes.int64,
    )


@layout_options(pin_memory=True)
def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """A random permutation of the integers from 0 to ``n - 1`` (int64 by default).

    Args:
        n (int): the number of integers.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        out (Tensor, optional): the tensor to fill, whose dtype and device the result takes; resized and returned. Default: ``None``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.randperm(5)
        tensor([4, 0, 1, 3, 2])
    """
    if out is not None:
        dt, dev = creation_placement("randperm", dtype, device, out)
        return write_out("randperm", randperm(n, generator=generator, dtype=dt, device=dev), out, warn_resize=False)
    (n,) = _size((n,), "randperm")
    if dtype is not None and dtype_arg("randperm", dtype) in dtypes.limited_dtypes:
        not_implemented("randperm", dtype_arg("randperm", dtype))
    _check_permutation_dtype(n, dtype or dtypes.int64)
    backend, dev, _ = _place(dtypes.int64, device, op="randperm")
    with backend.device_context(dev.index):
        order = native_generator(generator, backend, dev.index).permutation(n)
    if order is None:  # the backend has no shuffle of its own: sort random keys
        wide = dtypes.float64 if backend.supports_float64 else None
        order = rand(n, generator=generator, dtype=wide, device=dev).argsort()
    else:
        order = _finish(order, backend, dev, False)
    return order.to(dtype or dtypes.int64)


# the largest n whose permutation a floating dtype holds exactly, as PyTorch words it
_PERMUTATION_LIMITS = {dtypes.float16: (2049, "2049"), dtypes.float32: (2**24 + 1, "2^24+1"), dtypes.float64: (2**53 + 1, "2^53+1")}  # fmt: skip


def _check_permutation_dtype(n: int, dtype: _dtype) -> None:
    """PyTorch's checks that ``randperm(n)`` fits ``dtype``: no bool or complex, an integer dtype holding
    ``n - 1``, a floating one holding every integer up to it."""
    if dtype is dtypes.bool or dtype.is_complex:
        not_implemented("randperm", dtype)
    if not dtype.is_floating_point and n - 1 > iinfo(dtype).max:
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    limit, words = _PERMUTATION_LIMITS.get(dtype, (n, ""))
    if n > limit:
        raise RuntimeError(f"n cannot be greater than {words} for {_TORCH_NAMES[dtype.name]} type.")


def _sampled_like(sample, name, input, generator, dtype, device, requires_grad, memory_format):
    """``sample(shape, generator=, dtype=, device=, requires_grad=)`` with ``input``'s shape, and by
    default its dtype, device and layout: the random ``*_like`` factories."""
    return laid_out_like(
        input,
        memory_format,
        name,
        lambda shape: sample(
            shape,
            generator=generator,
            dtype=dtype or input.dtype,
            device=device or input.device,
            requires_grad=requires_grad,
        ),
    )


@layout_options(pin_memory=False)
def rand_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    memory_format: object = None,
) -> Tensor:
    """:func:`rand` with the shape, dtype and device of ``input``.

    Args:
        input (Tensor): the tensor whose shape (and, by default, dtype and device) to take.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        dtype (ember.dtype, optional): the data type of the result; ``input``'s when ``None``.
        device (ember.device or str, optional): the device of the result; ``input``'s when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        memory_format (ember.memory_format): the layout of the result. Default: ``ember.preserve_format``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.rand_like(ember.zeros(2, 2))
        tensor([[0.4963, 0.7682],
                [0.0885, 0.1320]])
    """
    return _sampled_like(rand, "rand_like", input, generator, dtype, device, requires_grad, memory_format)


@layout_options(pin_memory=False)
def randn_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    memory_format: object = None,
) -> Tensor:
    """:func:`randn` with the shape, dtype and device of ``input``.

    Args:
        input (Tensor): the tensor whose shape (and, by default, dtype and device) to take.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        dtype (ember.dtype, optional): the data type of the result; ``input``'s when ``None``.
        device (ember.device or str, optional): the device of the result; ``input``'s when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        memory_format (ember.memory_format): the layout of the result. Default: ``ember.preserve_format``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.randn_like(ember.zeros(3))
        tensor([ 1.5410, -0.2934, -2.1788])
    """
    return _sampled_like(randn, "randn_like", input, generator, dtype, device, requires_grad, memory_format)


@layout_options(pin_memory=False)
def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    memory_format: object = None,
) -> Tensor:
    """:func:`randint` with the shape, dtype and device of ``input``.

    Args:
        input (Tensor): the tensor whose shape (and, by default, dtype and device) to take.
        low (int): the lowest value (inclusive), or ``high`` when ``high`` is omitted. Default: ``0``.
        high (int, optional): one above the highest value.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        dtype (ember.dtype, optional): the data type of the result; ``input``'s when ``None``.
        device (ember.device or str, optional): the device of the result; ``input``'s when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.
        memory_format (ember.memory_format): the layout of the result. Default: ``ember.preserve_format``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.randint_like(ember.zeros(4), 10)
        tensor([4., 9., 3., 0.])
    """
    if high is None:
        low, high = 0, low
    return _sampled_like(
        lambda shape, **options: randint(low, high, shape, **options),
        "randint_like",
        input,
        generator,
        dtype,
        device,
        requires_grad,
        memory_format,
    )


@tensor_input  # its overloads decide the words of a refused call
def normal(
    mean: Tensor | float,
    std: Tensor | float = 1.0,
    size: _size_t | None = None,
    *,
    generator: Generator | None = None,
    dtype: _dtype | None = None,
    layout: Any = None,
    device: Device = None,
    pin_memory: bool = False,
    requires_grad: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Normal samples with the given (scalar or tensor) ``mean`` and ``std``.

    As PyTorch computes them: ``N(mean, std^2)`` samples for numbers, else ``N(0, std^2)`` samples
    (``N(0, 1)`` ones times ``std`` for a tensor ``std``) plus ``mean``, in the result's dtype.

    Args:
        mean (float or Tensor): the mean of each sample.
        std (float or Tensor): the standard deviation of each sample. Default: ``1.0``.
        size (tuple of ints, optional): the shape of the result when ``mean`` and ``std`` are numbers.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        layout (ember.layout, optional): with numbers, the layout of the result (``ember.strided`` only).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.
        pin_memory (bool): with numbers, put the result in page-locked memory. Default: ``False``.
        requires_grad (bool): with numbers, whether the result requires grad. Default: ``False``.
        out (Tensor, optional): the output tensor, whose dtype the samples are drawn in; resized and
            returned. Default: ``None``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.normal(ember.tensor([0.0, 10.0, 100.0]), 0.1)
        tensor([ 0.1541,  9.9707, 99.7821])
        >>> ember.normal(2.0, 3.0, size=(2,))
        tensor([ 3.7053, -1.2536])
    """
    if isinstance(std, Tensor):
        if not std.is_meta and bool((~(std >= 0)).any()):  # NaN too; a meta tensor has no values to check
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    tensor_mean, tensor_std = isinstance(mean, Tensor), isinstance(std, Tensor)
    if tensor_mean or tensor_std:
        # the shape, layout and placement are the tensors': the overloads of tensors take none of these
        given = {
            "size": size,
            "layout": layout,
            "pin_memory": pin_memory or None,
            "requires_grad": requires_grad or None,
        }
        for name, value in given.items():
            if value is not None:  # no overload takes it: tensor_input lists them
                raise TypeError(f"normal(): {name} given with a tensor")
        like: Any = mean if tensor_mean else std
        shape = like.shape
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            shape = broadcast_shapes(mean.shape, std.shape)
        dtype, device = like.dtype, like.device
    elif size is None:  # no overload takes two numbers without a size: tensor_input lists them
        raise TypeError("normal(): two numbers without a size")
    else:
        check_layout("normal", layout)
        shape = size
    samples = empty(shape, dtype=dtype if out is None else out.dtype, device=device)
    if tensor_std:
        samples.normal_(0.0, 1.0, generator=generator).mul_(std.detach())  # type: ignore[union-attr]
    else:
        samples.normal_(0.0 if tensor_mean else mean, std, generator=generator)  # type: ignore[arg-type]
    if tensor_mean or tensor_std:
        samples.add_(mean.detach() if tensor_mean else mean)  # type: ignore[union-attr]
    if out is None:
        if tensor_mean or tensor_std:
            return drawn_from(samples, mean, std)
        samples = samples.pin_memory() if pin_memory else samples
        return samples.requires_grad_(requires_grad)
    return write_out("normal", samples, out, exact_dtype=True, warn_resize=False)


@tensor_input
def bernoulli(
    input: Tensor, p: float | None = None, *, generator: Generator | None = None, out: Tensor | None = None
) -> Tensor:
    """0/1 samples with probability ``input`` (or ``p``) of being 1, same shape and dtype.

    Args:
        input (Tensor): the probabilities of drawing 1, in ``[0, 1]``.
        p (float, optional): one probability for every element instead of ``input``'s values.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        out (Tensor, optional): the output tensor, of any dtype; resized to ``input``'s shape and
            returned. Default: ``None``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.bernoulli(ember.tensor([0.0, 0.5, 1.0, 0.5]))
        tensor([0., 0., 1., 1.])
    """
    if p is None and not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    check_probabilities("bernoulli", input if p is None else p)
    # as PyTorch: bernoulli_ of a row-major tensor of input's shape (its dtype, or out's), by input's values or by p
    samples = empty(input.shape, dtype=input.dtype if out is None else out.dtype, device=input.device)
    samples.bernoulli_(input.detach() if p is None else p, generator=generator)
    if out is None:
        return drawn_from(samples, input) if p is None else samples
    return write_out("bernoulli", samples, out, exact_dtype=True, warn_resize=False)


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """Sample category indices from each row of non-negative weights ``input``.

    Args:
        input (Tensor): the non-negative weights of the categories, 1-D or one row per distribution.
        num_samples (int): the number of samples per row.
        replacement (bool): whether to draw with replacement. Default: ``False``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> weights = ember.tensor([0.0, 10.0, 3.0, 0.0])
        >>> ember.multinomial(weights, 2)
        tensor([1, 2])
        >>> ember.multinomial(weights, 4, replacement=True)
        tensor([1, 2, 1, 1])
    """
    if out is not None:
        result = multinomial(input, num_samples, replacement, generator=generator)
        message = "multinomial expects Long tensor out, got: {got}"  # PyTorch's own check
        return write_out("multinomial", result, out, exact_dtype=message, warn_resize=False)  # as torch

    # PyTorch's checks, in its order
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {TORCH_NAMES[input.dtype]}"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n > _MAX_CATEGORIES:
        raise RuntimeError("number of categories cannot exceed 2^24")
    probs = input.detach().to(dtypes.float64 if input._backend.supports_float64 else input.dtype)
    rows = probs if probs.ndim == 2 else probs.unsqueeze(0)
    if rows.shape[0] == 0:
        return empty(0, num_samples, dtype=dtypes.int64, device=input.device)
    if not rows.is_meta:  # a meta tensor has no values to check
        _check_weights(rows, replacement and num_samples > 1)
    if replacement and num_samples > 1:  # one sample takes the keys below, as in PyTorch
        from .searching import searchsorted

        # as PyTorch: the running sums in the weights' dtype (float32 for 16-bit ones) over the total,
        # the last one 1; each sample the number of them below a float64 uniform
        running = input.detach().to(dtypes.float32) if input.dtype.itemsize < 4 else input.detach()
        running = (running if running.ndim == 2 else running.unsqueeze(0)).cumsum(-1)
        cdf = running / running[:, -1:]
        cdf[:, -1] = 1
        backend = input._backend
        with backend.device_context(input.device.index):
            native = native_generator(generator, backend, input.device.index)
            found = native.categorical(cdf.contiguous()._data, num_samples)
        if found is not None:
            out = _new(found, backend, input.device)
        else:
            u = rand(rows.shape[0], num_samples, generator=generator, dtype=rows.dtype, device=input.device)
            out = searchsorted(cdf.to(u.dtype), u)
    else:
        # as PyTorch: the weights over exponential samples (in the weights' dtype) are keys whose
        # largest num_samples sample without replacement
        weights = input.detach() if input.ndim == 2 else input.detach().unsqueeze(0)
        keys = weights / empty_like(weights).exponential_(1.0, generator=generator)
        out = keys.argmax(-1, keepdim=True) if num_samples == 1 else keys.topk(num_samples, -1).indices
    out = out.to(dtypes.int64)
    return out if input.ndim == 2 else out.squeeze(0)


_MAX_CATEGORIES = 1 << 24  # PyTorch's limit: the categories' indices are exact in float32


def _check_weights(rows: Tensor, by_running_sums: bool) -> None:
    """PyTorch's checks of multinomial's weights ``rows`` (2-D, at least one row), with its messages: those of
    its sampler by running sums (with replacement, more than one sample), else those of its keys."""
    if rows.shape[-1] == 0:  # PyTorch takes the weights' extremes first
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
        )
    if by_running_sums:
        if not bool(rows.min() >= 0):  # NaN too
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not bool(rows.max().isfinite()):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
    elif bool(((rows < 0) | ~rows.isfinite()).any()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if bool((rows.sum(-1) <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


# -- classic type constructors -------------------------------------------------------------
def legacy_new(cls, args, device=None, dtype=None):
    """``ember.Tensor(...)``/``ember.FloatTensor(...)``/``x.new(...)`` as PyTorch reads their arguments:
    ints (or a ``Size``, or a 0-d integer array) are the size of a new zero-filled tensor, a sequence
    (a tuple too) or an array is data to copy, a tensor is aliased (of ``dtype``, which is the class's,
    ``x``'s or ``None`` for ``ember.Tensor``, else a TypeError), a storage is viewed
    (``Tensor.set_``); any other scalar is PyTorch's TypeError."""
    dt = cls.__dict__.get("_legacy_dtype", dtype)
    if cls.__dict__.get("_legacy_cuda"):
        device = device or "cuda"
    if not args:
        return empty(0, dtype=dt, device=device)
    data = args[0]
    if len(args) > 1 or isinstance(data, Size) or _is_size_number(data):
        return zeros(*args, dtype=dt, device=device)
    if isinstance(data, Tensor):
        if dt is not None and data.dtype is not dt:
            raise TypeError(f"expected a tensor of dtype {dt} (got {data.dtype})")
        return data.to(device=device).view_as(data)
    if callable(getattr(data, "untyped", None)):  # a storage (whose module imports this one)
        return empty(0, dtype=dt, device=data.device).set_(data)
    if is_number(data) or not hasattr(data, "__len__"):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return tensor(data, dtype=dt or dtypes.get_default_dtype(), device=device)


def _is_size_number(value):
    """An int (not a bool) or a 0-d integer NumPy array: one size of a legacy constructor."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iu"
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _legacy_type(name, dt, cuda=False):
    module = "ember.cuda" if cuda else "ember"
    return type(name, (Tensor,), {"_legacy_dtype": dt, "_legacy_cuda": cuda, "__slots__": (), "__module__": module})


FloatTensor = _legacy_type("FloatTensor", dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", dtypes.float16)
LongTensor = _legacy_type("LongTensor", dtypes.int64)
IntTensor = _legacy_type("IntTensor", dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", dtypes.int16)
CharTensor = _legacy_type("CharTensor", dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", dtypes.bool)
BFloat16Tensor = _legacy_type("BFloat16Tensor", dtypes.bfloat16)

LEGACY_TYPES = {
    t.__name__: t
    for t in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        LongTensor,
        IntTensor,
        ShortTensor,
        CharTensor,
        ByteTensor,
        BoolTensor,
        BFloat16Tensor,
    )
}
CUDA_LEGACY_TYPES = {name: _legacy_type(name, t._legacy_dtype, cuda=True) for name, t in LEGACY_TYPES.items()}
#: the type names of the dtypes without a legacy class (``x.type()`` of a complex64 tensor is
#: 'ComplexFloatTensor', of a uint32 one 'UInt32Tensor'): PyTorch's ScalarType name and "Tensor"
CLASSLESS_TYPE_NAMES = {
    f"{dtypes.TORCH_SCALAR_NAMES[d.name]}Tensor": d
    for d in (*dtypes.complex_dtypes, *sorted(dtypes.limited_dtypes, key=str))
}


def legacy_type(spec: Any) -> tuple[dtypes.dtype, bool]:
    """The dtype a legacy tensor type names and whether it is a CUDA type.

    ``spec`` is a type class (``ember.DoubleTensor``, ``ember.cuda.FloatTensor``; ``ember.Tensor``
    names the default dtype) or its name, with the ``torch.`` or ``ember.`` prefix
    (``'torch.cuda.FloatTensor'``). Anything else raises PyTorch's error: ValueError for another
    class or name, TypeError for an object that is neither.
    """
    if spec is Tensor:
        return dtypes.get_default_dtype(), False
    if isinstance(spec, type):
        legacy = spec.__dict__.get("_legacy_dtype")
        if legacy is None:
            raise ValueError(f"invalid type: '{spec.__name__}'")
        return legacy, bool(spec.__dict__.get("_legacy_cuda"))
    if not isinstance(spec, str):
        raise TypeError("dtype must be a type, str, or dtype object")
    name = spec
    cuda_type = ".cuda." in name
    table = CUDA_LEGACY_TYPES if cuda_type else LEGACY_TYPES
    short = name.split(".")[-1]
    if short in CLASSLESS_TYPE_NAMES:
        return CLASSLESS_TYPE_NAMES[short], cuda_type
    if short not in table:
        raise ValueError(f"invalid type: '{name}'")
    return table[short]._legacy_dtype, cuda_type


# -- new_* methods -------------------------------------------------------------------------
def _new_method(fn):
    def method(self, *args, size=_NO_SIZE, dtype=None, device=None, requires_grad=False):
        return fn(
            _sizes(method.__name__, args, size),
            dtype=dtype or self.dtype,
            device=device if device is not None else self._device,
            requires_grad=requires_grad,
        )

    method.__name__ = method.__qualname__ = "new_" + fn.__name__
    method.__doc__ = _generated_doc(method.__name__)
    return layout_options(pin_memory=True)(method)


def _new_full(
    self: Tensor,
    size: _size_t,
    fill_value: Number | Tensor,
    *,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``, with this tensor's dtype and device unless given.

    Args:
        size (list or tuple of ints): the shape of the result.
        fill_value (Number): the value to fill with.
        dtype (ember.dtype, optional): the data type of the result; this tensor's when ``None``.
        device (ember.device or str, optional): the device of the result; this tensor's when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.

    Example::

        >>> x = ember.tensor([1, 2], dtype=ember.int32)
        >>> x.new_full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]], dtype=ember.int32)
    """
    return full(
        size,
        fill_value,
        dtype=dtype or self.dtype,
        device=device if device is not None else self._device,
        requires_grad=requires_grad,
    )


def _new_tensor(
    self: Tensor, data: Any, *, dtype: _dtype | None = None, device: Device = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding ``data`` (copied), with this tensor's dtype and device unless given.

    Args:
        data (array_like): the values: a list, tuple, number, NumPy array or tensor.
        dtype (ember.dtype, optional): the data type of the result; this tensor's when ``None``.
        device (ember.device or str, optional): the device of the result; this tensor's when ``None``.
        requires_grad (bool): whether autograd records operations on the result. Default: ``False``.

    Example::

        >>> x = ember.tensor([1.0], dtype=ember.float64)
        >>> x.new_tensor([1, 2])
        tensor([1., 2.], dtype=ember.float64)
    """
    if isinstance(data, Tensor):
        warn_copy_construct("tensor.new_tensor")
    return copy_to_tensor(data, dtype or self.dtype, device if device is not None else self._device, requires_grad)
