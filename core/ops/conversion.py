"""Moving and casting: ``to``, ``type``, ``float()``/``double()``/..., ``cpu``/``cuda``, ``clone``, ``copy_``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .. import dtypes
from ..autograd import function as autograd_function
from ..autograd import tangents
from ..autograd.function import NOT_A_TENSOR, Function, connect_rebase_view
from ..autograd.grad_mode import grad_state
from ..autograd.view_history import as_strided_node, check_view_writable, current_replay
from ..device import device as _device
from ..layout import check_memory_format, format_order, preserve_format, suggest_memory_format
from ..tensor import Tensor, _new, dtype_arg, host_array, placement, writable_data
from ..type_names import type_name
from .creation import CLASSLESS_TYPE_NAMES, LEGACY_TYPES, legacy_type
from .movement import broadcast_shapes, format_copy, row_major
from .operands import bool_arg_error, sum_to, tensor_input
from .overlap import check_no_internal_overlap, check_no_partial_overlap

if TYPE_CHECKING:
    from ..types import Device

__all__ = ["clone", "to"]


class _Cast(Function):
    _backward_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dt, memory_format=None):
        ctx.source = x.dtype
        backend = x._backend
        if ctx.source.is_complex and not dt.is_complex and dt is not dtypes.bool:
            x = _discarding_imaginary_parts(x)
        elif ctx.source is dtypes.float64 and dt in _HALF_TYPES:  # rounded through float32, as PyTorch's cast
            x = x._make(backend.xp.astype(x._data, backend.native_dtype(dtypes.float32)))
        return x._make(format_copy(x, backend.native_dtype(dt), memory_format))

    @staticmethod
    def backward(ctx, grad):
        if grad.dtype.is_complex and not ctx.source.is_complex:  # the real part's gradient, silently
            grad = grad.real
        return grad.to(ctx.source), None, None


#: the 16-bit floating types, which PyTorch reaches from float64 through float32 (two roundings)
_HALF_TYPES = (dtypes.float16, dtypes.bfloat16)


def _discarding_imaginary_parts(x):
    """The real part of the complex ``x``, with PyTorch's warning that a cast to a real type drops the rest."""
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=5)
    return x.real


class _Move(Function):
    _backward_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dev, backend, non_blocking):
        ctx.source = x._device
        backend.native_dtype(x.dtype)  # a TypeError naming the dtype where the target does not hold it
        data, source = x._data, x._backend
        # the copy keeps the order of the dimensions in memory (PyTorch's preserve_format: a transposed or
        # channels-last tensor stays so): the elements travel in that order and are permuted back
        order = None if source.is_contiguous(data) else format_order(tuple(data.shape), source.strides(data), None)
        if order is not None:
            data = source.xp.permute_dims(data, order)
        elif not source.is_contiguous(data):  # not dense (expanded, stepped): row-major, as PyTorch's copy
            data = row_major(source, data)
        if backend is source:
            data = backend.transfer(data, dev.index)
        elif non_blocking:  # asynchronous from pinned host memory (Tensor.pin_memory)
            data = backend.from_host_async(source.to_host(data), dev.index)
        else:
            data = backend.from_host(source.to_host(data), dev.index)
        if order is not None:
            data = backend.xp.permute_dims(data, tuple(order.index(d) for d in range(len(order))))
        return _new(data, backend, dev)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.source), None, None, None


class _Clone(Function):
    @staticmethod
    def forward(ctx, x, memory_format=None):
        return x._make(format_copy(x, x._data.dtype, memory_format))

    @staticmethod
    def backward(ctx, grad):
        return grad, None


@tensor_input
def clone(input: Tensor, *, memory_format: object = None) -> Tensor:
    """A copy with its own storage (recorded by autograd).

    Args:
        input (Tensor): the input tensor.
        memory_format (ember.memory_format, optional): the layout of the copy, see
            :class:`ember.memory_format`. Default: ``ember.preserve_format``, ``input``'s strides
            where they are dense.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> y = ember.clone(x)
        >>> y[0] = 5.0
        >>> x
        tensor([1., 2.])
    """
    check_memory_format(memory_format, input.ndim, "clone")
    return _Clone.apply(input, memory_format)


def _parse_to(args, kwargs):
    """``(device, dtype, non_blocking, copy)`` of a ``to`` call, as PyTorch's overloads
    ``to(device, dtype, non_blocking, copy)``, ``to(dtype, non_blocking, copy)`` and
    ``to(tensor, non_blocking, copy)`` read them: the positional flags follow the target, in that
    order. ``copy`` is None when not given (``Module.to`` refuses it). A ``memory_format`` keyword
    is checked to be an :class:`ember.memory_format` and otherwise left to the caller."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    if dt is not None:
        dt = dtype_arg("to", dt)  # a dtype or a Python type, never a name
    flags = [kwargs.pop("non_blocking", None), kwargs.pop("copy", None)]
    for name, flag in zip(("non_blocking", "copy"), flags):
        if flag is not None and flag is not True and flag is not False:  # PyTorch's parser takes a bool only
            raise bool_arg_error("to", name, flag)
    check_memory_format(kwargs.pop("memory_format", None), None, "to")
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    given = targets = 0
    keywords = dev is not None or dt is not None
    for arg in args:
        if isinstance(arg, bool):
            if given == 2 or flags[given] is not None:
                raise TypeError(
                    "to() received an invalid combination of arguments: positional flags are "
                    f"(non_blocking, copy), got {len([a for a in args if isinstance(a, bool)])} of them "
                    f"with keywords {[n for n, f in zip(('non_blocking', 'copy'), flags) if f is not None]}"
                )
            flags[given] = arg
            given += 1
        elif isinstance(arg, (Tensor, dtypes.dtype)):
            # a dtype may follow a positional device (to(device, dtype)); to(dtype) and to(other) take no
            # other device or dtype
            follows_device = isinstance(arg, dtypes.dtype) and not targets and dt is None
            if keywords or ((dev is not None or dt is not None) and not follows_device):
                raise TypeError(
                    f"to() received an invalid combination of arguments: a {type(arg).__name__} target beside "
                    f"device={dev!r}, dtype={dt!r}"
                )
            targets += isinstance(arg, Tensor)
            dev, dt = (arg.device, arg.dtype) if isinstance(arg, Tensor) else (dev, arg)
        elif isinstance(arg, (str, _device, int)):
            if dev is not None or dt is not None or targets:  # the device comes first, and once
                raise TypeError(
                    f"to() received an invalid combination of arguments: a device {arg!r} beside "
                    f"device={dev!r}, dtype={dt!r}"
                )
            dev = arg
        elif arg is None:
            continue
        else:
            dt = dtype_arg("to", arg)  # a NumPy dtype neither (PyTorch's TypeError)
    dev = _device(dev) if dev is not None else None
    return dev, (dtypes.as_dtype(dt) if dt is not None else None), bool(flags[0]), flags[1]


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """This tensor on another device and/or of another dtype (``self`` if nothing changes).

    Accepts ``to(device, dtype, non_blocking, copy)``, ``to(dtype, non_blocking, copy)`` and
    ``to(other_tensor, non_blocking, copy)``, each argument also by keyword. ``non_blocking``: from
    pinned memory (see :meth:`pin_memory`), a copy to the accelerator then runs asynchronously on
    the current stream. ``copy``: a new tensor even when nothing changes.

    Args:
        *args (ember.device, str, ember.dtype or Tensor): the target device and/or dtype, or a tensor whose device and
            dtype to take.
        memory_format (ember.memory_format, optional): the layout of a copy, see
            :class:`ember.memory_format`; a tensor that PyTorch finds laid out so
            (:func:`ember.layout.suggest_memory_format`) is not copied for it.
            Default: ``ember.preserve_format``.

    Example::

        >>> x = ember.tensor([1.5, 2.5])
        >>> x.to(ember.float64)
        tensor([1.5000, 2.5000], dtype=ember.float64)
        >>> x.to('cpu', ember.int64)
        tensor([1, 2])
        >>> x.to(ember.tensor([1], dtype=ember.int32))
        tensor([1, 2], dtype=ember.int32)
        >>> x.to(ember.float32) is x
        True
    """
    if not kwargs and len(args) == 1 and type(args[0]) is dtypes.dtype:  # the common to(dtype)
        dt = args[0]
        return self if dt is self.dtype else _Cast.apply(self, dt)
    dev, dt, non_blocking, copy = _parse_to(args, dict(kwargs))
    memory_format = kwargs.get("memory_format")
    check_memory_format(memory_format, self.ndim, "to")
    if memory_format is preserve_format:
        memory_format = None
    out = self
    if dev is not None and dev != self._device:
        # PyTorch compares the device as named, an accelerator's without index taken as the current
        # one: "cuda" keeps a tensor on the current CUDA device, "cpu:0" copies a CPU tensor
        backend, target = placement(dev)
        if dev.index is not None or target != self._device:
            out = _Move.apply(out, target, backend, non_blocking)
    if dt is not None and dt is not out.dtype:
        out = _Cast.apply(out, dt, memory_format)
    elif memory_format is not None and suggest_memory_format(out.shape, out.stride()) is not memory_format:
        out = _Clone.apply(out, memory_format)
    if copy and out is self:
        out = clone(self, memory_format=memory_format)
    return out


# -- docstrings of the cast methods: dtype name -> (method name, output of the example)
_GENERATED_DOCS = {
    "float32": ("float", "tensor([0.0000, 1.5000, 2.0000])"),
    "float64": ("double", "tensor([0.0000, 1.5000, 2.0000], dtype=ember.float64)"),
    "float16": ("half", "tensor([0.0000, 1.5000, 2.0000], dtype=ember.float16)"),
    "bfloat16": ("bfloat16", "tensor([0.0000, 1.5000, 2.0000], dtype=ember.bfloat16)"),
    "int64": ("long", "tensor([0, 1, 2])"),
    "int32": ("int", "tensor([0, 1, 2], dtype=ember.int32)"),
    "int16": ("short", "tensor([0, 1, 2], dtype=ember.int16)"),
    "int8": ("char", "tensor([0, 1, 2], dtype=ember.int8)"),
    "uint8": ("byte", "tensor([0, 1, 2], dtype=ember.uint8)"),
    "bool": ("bool", "tensor([False,  True,  True])"),
    "complex64": ("cfloat", "tensor([0.0000+0.j, 1.5000+0.j, 2.0000+0.j])"),
    "complex128": ("cdouble", "tensor([0.0000+0.j, 1.5000+0.j, 2.0000+0.j], dtype=ember.complex128)"),
}


def _generated_doc(dt):
    """The docstring of the cast method to ``dt``, with an example from ``_GENERATED_DOCS``."""
    method, output = _GENERATED_DOCS[dt.name]
    return (
        f"This tensor cast to ``ember.{dt.name}``, as ``self.to(ember.{dt.name})`` (``self`` when it already is).\n\n"
        "Args:\n    memory_format (ember.memory_format, optional): the layout of a copy, as in :meth:`to`.\n\n"
        f"Example::\n\n    >>> ember.tensor([0.0, 1.5, 2.0], dtype=ember.float64).{method}()\n    {output}\n"
    )


def _cast_method(dt):
    def method(self, memory_format=None):
        return to(self, dt) if memory_format is None else to(self, dt, memory_format=memory_format)

    method.__name__ = dt.name
    method.__qualname__ = _GENERATED_DOCS[dt.name][0]  # the method's name, which Python names in its own errors
    method.__doc__ = _generated_doc(dt)
    return method


def cpu(self: Tensor, memory_format: object = None) -> Tensor:
    """This tensor on the CPU.

    Args:
        memory_format (ember.memory_format, optional): checked as PyTorch checks it (see
            :class:`ember.memory_format`); the values keep ember's row-major order.

    Example::

        >>> ember.tensor([1.0, 2.0]).cpu().device
        device(type='cpu')
    """
    if memory_format is not None:
        check_memory_format(memory_format, self.ndim, "cpu")
    return to(self, "cpu")


def cuda(self: Tensor, device: Device = None, non_blocking: bool = False, memory_format: object = None) -> Tensor:
    """This tensor on CUDA device ``device`` (default: the current CUDA device, 0).

    Args:
        device (int, str or ember.device, optional): the CUDA device; the current one (0) when ``None``.
        non_blocking (bool): from pinned memory (:meth:`pin_memory`), copy asynchronously on the current
            stream; otherwise the copy completes before returning. Default: ``False``.
        memory_format (ember.memory_format, optional): checked as for :meth:`cpu`.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> y = x.cuda() if ember.cuda.is_available() else x
        >>> y.device.type in ('cuda', 'cpu')
        True
    """
    if device is None:
        dev = _device("cuda")
    elif isinstance(device, int):
        dev = _device("cuda", device)
    else:
        dev = _device(device)
    if dev.type != "cuda":
        raise RuntimeError(f"Invalid device, must be cuda device, got {dev}")
    if memory_format is not None:
        check_memory_format(memory_format, self.ndim, "cuda")
    return to(self, dev, non_blocking=non_blocking)


# the complex, wide unsigned and float8 types have names (``x.type()``) but no classes, as in PyTorch
_NAMES = {t._legacy_dtype: name for name, t in LEGACY_TYPES.items()} | {
    d: name for name, d in CLASSLESS_TYPE_NAMES.items()
}


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """With no argument, the type name (``'ember.FloatTensor'``); otherwise cast to that type.

    Accepts a dtype, a legacy type class (``ember.DoubleTensor``) or its name, with the
    ``torch.``/``ember.`` prefix and ``cuda.`` for CUDA types.

    Args:
        dtype (ember.dtype, str or type, optional): the type to cast to; with none, the type name is returned.
        non_blocking (bool): accepted for PyTorch compatibility; copies complete before returning. Default: ``False``.

    Example::

        >>> x = ember.tensor([1.5, 2.5])
        >>> x.type()
        'ember.FloatTensor'
        >>> x.type(ember.int64)
        tensor([1, 2])
        >>> x.type('ember.DoubleTensor')
        tensor([1.5000, 2.5000], dtype=ember.float64)
    """
    if dtype is None:
        prefix = "ember.cuda." if self._device.type == "cuda" else "ember."
        return prefix + _NAMES[self.dtype]
    if isinstance(dtype, dtypes.dtype):
        return to(self, dtype)
    legacy, cuda_type = legacy_type(dtype)
    if cuda_type:
        return to(self, "cuda" if self._device.type != "cuda" else self._device, legacy)
    return to(self, "cpu", legacy) if self._device.type == "cuda" else to(self, legacy)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor cast to ``other``'s type.

    Args:
        other (Tensor): the tensor whose dtype to take.

    Example::

        >>> ember.tensor([1.5, 2.5]).type_as(ember.tensor([1]))
        tensor([1, 2])
    """
    return to(self, other.dtype)


# -- in-place ------------------------------------------------------------------------------
class _Assign(Function):
    """Overwrite ``target`` in place with ``value`` (broadcast and cast to ``target``'s dtype)."""

    _backward_name = "torch::autograd::CopyBackwards"

    @staticmethod
    def forward(ctx, target, value):
        backend = target._backend
        data = value._data
        if data.dtype != target._data.dtype:
            data = backend.xp.astype(data, target._data.dtype)
        writable_data(target)[...] = data
        ctx.value_shape = value.shape
        ctx.value_dtype = value.dtype
        ctx.mark_dirty(target)
        return target

    @staticmethod
    def backward(ctx, grad):
        gv = sum_to(grad, ctx.value_shape).to(ctx.value_dtype) if ctx.needs_input_grad[1] else None
        return None, gv


def zero_overwritten(grad, mark, layout=None):
    """``grad`` with zeros where an in-place write replaced the input: ``mark(mask)`` sets that region of
    ``mask``, a boolean tensor of ``grad``'s shape that starts all ``False`` (laid out in memory as
    ``layout`` says, :func:`_storage_layout`, where given)."""
    backend = grad._backend
    native = backend.native_dtype(dtypes.bool)
    mask = None if layout is None else _laid_out_as(grad, native, layout)
    if mask is None:
        mask = grad._make(backend.xp.zeros(grad._data.shape, dtype=native))
    else:
        mask._data[...] = False
    mark(mask)
    return grad.masked_fill(mask, 0)


def _storage_layout(t):
    """``t``'s shape, strides, storage offset and storage size: where its elements sit in memory."""
    data, backend = writable_data(t), t._backend
    strides, offset = backend.layout(data)
    return tuple(data.shape), tuple(strides), offset, backend.storage_size(data)


def _laid_out_copy(t, layout):
    """A copy of ``t`` (recorded, for double backward) laid out as :func:`_laid_out_as` says; a plain
    clone where the backend has no strided views."""
    laid = _laid_out_as(t, t._data.dtype, layout)
    return t.clone() if laid is None else laid.copy_(t)


def _laid_out_as(like, native_dtype, layout):
    """A new tensor without history, uninitialised, of ``native_dtype``, whose elements sit at the
    storage positions of ``layout`` (:func:`_storage_layout`), or None where the backend has no strided
    views. A view that reads storage positions (as_strided, unfold, diagonal) then picks from it the
    elements it picks from the tensor with that layout, as PyTorch's CopySlices lays out its gradient."""
    shape, strides, offset, size = layout
    backend = like._backend
    with backend.device_context(like._device.index):
        flat = backend.xp.empty((size,), dtype=native_dtype)
    try:
        return like._make(backend.as_strided(flat, shape, strides, offset))
    except NotImplementedError:
        return None


class _CopySlices(Function):
    """Write ``value`` into the region of ``base`` that a view covers (an in-place op on a view).

    The backward reads that region of the gradient by replaying the view on it, laid out as ``base``
    was: a view of storage positions picks the same elements there as in ``base``.

    When ``value`` is the result of an op on the view's old values, the node wraps that op's node, as
    PyTorch's does (:func:`_wrap_inner`): its inputs are the base's and the op's other ones, and the op's
    gradient of the view's old values fills the region of the base's gradient.
    """

    _backward_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx, base, value, replay, written=False):
        ctx.inner = None  # the node of the op that computed ``value`` from the view, once wrapped
        writable_data(base)  # before the view is made, so that the region aliases what base keeps
        ctx.base_layout = _storage_layout(base)
        region = replay(base)
        ctx.region_changes_dtype = region._data.dtype != base._data.dtype  # view_as_complex, .real, .imag
        if not written:  # else the caller wrote ``value`` there and counted the write
            data = value._data
            if data.dtype != region._data.dtype:  # the region's: a .real/.imag view of a complex base is real
                data = base._backend.xp.astype(data, region._data.dtype)
            region._data[...] = data
            ctx.mark_dirty(base)
        ctx.replay, ctx.value_shape, ctx.value_dtype = replay, value.shape, value.dtype
        return base

    @staticmethod
    def backward(ctx, grad):
        gb = gv = None
        layout = ctx.base_layout
        if _storage_layout(grad) != layout:
            grad = _laid_out_copy(grad, layout)
        if ctx.inner is not None:
            return _backward_through_inner(ctx, grad)
        if ctx.needs_input_grad[0] and ctx.region_changes_dtype:
            # the view may be one part of each element (.real, .imag) or pairs of them (view_as_complex),
            # which a boolean mask cannot mark: PyTorch's way, the written region of a copy of grad set to zero
            gb = _laid_out_copy(grad, layout)
            ctx.replay(gb).zero_()
        elif ctx.needs_input_grad[0]:
            gb = zero_overwritten(grad, lambda mask: ctx.replay(mask)._data.__setitem__(..., True), layout)
        if ctx.needs_input_grad[1]:
            gv = sum_to(ctx.replay(grad), ctx.value_shape).to(ctx.value_dtype)
        return gb, gv, None, None


def _wrap_inner(ctx, inner):
    """Make the :class:`_CopySlices` node ``ctx`` wrap ``inner``, the node of the op whose result it wrote,
    computed from the view's old values (its first input): ``ctx``'s inputs become the base's and
    ``inner``'s others, as PyTorch's ``CopySlices`` lists them (``y[0].mul_(w)``: the base's history, then
    ``w``'s). A view that changes the dtype (``.real``) keeps the plain form."""
    if ctx.region_changes_dtype:
        return
    ctx.inner = inner
    ctx._edges = (ctx._edges[0], *inner._edges[1:])
    ctx.needs_input_grad = (ctx.needs_input_grad[0], *inner.needs_input_grad[1:])


def _backward_through_inner(ctx, grad):
    """The backward of a :class:`_CopySlices` that wraps a node (``grad`` laid out as the base): the wrapped
    node's backward on the region's gradient; its gradient of the view's old values fills that region of the
    base's gradient, the others go to its other inputs."""
    ctx.saved_tensors  # noqa: B018 -- refuses a second backward through a freed graph, as PyTorch's
    inner = ctx.inner
    grads = inner._function.backward(inner, ctx.replay(grad))
    if not isinstance(grads, tuple):
        grads = (grads,)
    gb = None
    if ctx.needs_input_grad[0]:
        gb = _laid_out_copy(grad, ctx.base_layout)
        region = ctx.replay(gb)
        if grads[0] is None:
            region.zero_()
        else:
            region.copy_(grads[0])
    return (gb, *grads[1 : len(ctx._edges)])


_VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def check_view_of_leaf_writable(base):
    """Refuse, while recording, an in-place write into a view of a leaf that requires grad (PyTorch's words)."""
    if grad_state.enabled and base._requires_grad and base._grad_fn is None:
        raise RuntimeError(_VIEW_OF_LEAF)


def check_inplace(tensor):
    """Refuse in-place changes to a leaf that requires grad while recording (as PyTorch does)."""
    if grad_state.enabled and tensor.requires_grad and tensor._grad_fn is None:
        if tensor._view_version is not None:  # a view made under no_grad has its own error
            check_view_writable(tensor)
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def rebase_view(target, value, written=False, inner=None, number=False):
    """Record on the base of the view ``target`` that ``value`` was written over the region the view
    covers (PyTorch's ``CopySlices``) and give ``target`` that region's history in the rewritten base.

    Used by an in-place write into a view and, with ``written`` (the write done and counted), by a
    custom Function that marks a view dirty: ``value`` is then the view itself, with the Function's node.
    ``inner`` is the node of the op that computed ``value`` from the view's old values (the node then wraps
    it); ``number`` says that ``value`` stands for a Python number (``fill_``), which is no input of the node.
    """
    base, replay = target._base, current_replay(target)
    if not written:  # a custom Function may write into a view it marks dirty
        check_view_writable(target)
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError(_VIEW_OF_LEAF)
    _CopySlices.apply(base, value, replay, written)
    if inner is not None:
        _wrap_inner(base._grad_fn, inner)
    elif number:
        node = base._grad_fn
        node._edges = (node._edges[0], NOT_A_TENSOR, *node._edges[2:])
    fresh = as_strided_node(replay(base))
    target._grad_fn, target._output_nr, target._requires_grad = fresh._grad_fn, fresh._output_nr, True
    target._view_version = target._version_counter.value
    target._move_retained_grad()
    return target


connect_rebase_view(rebase_view)


def assign_(target, value, *, one_value=False, inner=None, number=False):
    """Write ``value`` into ``target``'s storage, recording the write for autograd.

    When ``target`` is a view, the write is recorded on its base (PyTorch's ``CopySlices``)
    and the view's history is rebuilt from the base's, so gradients reach both. A view whose
    elements alias each other (a broadcast) is refused as PyTorch refuses it, unless the
    write stores ``one_value`` everywhere (``fill_``). ``inner`` and ``number``: see :func:`rebase_view`.
    """
    if target._base is not None and not one_value:
        check_no_internal_overlap(target)
    if value._device is not target._device and value._device != target._device:
        value = value.to(target._device)
    if grad_state.enabled and (target.requires_grad or value._requires_grad):
        check_inplace(target)
        if target._base is None or target._view_replay is None:
            _Assign.apply(target, value)
        else:
            rebase_view(target, value, inner=inner, number=number)
    else:
        data = value._data
        if data.dtype != target._data.dtype:
            data = target._backend.xp.astype(data, target._data.dtype)
        writable_data(target)[...] = data
        target._version_counter.value += 1
    if autograd_function.tangent_rule is not None:
        tangents.write_tangent(target, value)
    return target


def write_result_(target, result, copy):
    """Write ``result``, which an in-place op's out-of-place twin computed from ``copy`` (``target.clone()``
    while recording), into ``target``; ``result``'s node becomes ``target``'s, as in PyTorch, where
    ``x.add_(1)`` has ``AddBackward0`` for ``grad_fn``, its inputs ``x``'s history before the write.

    The node reads ``target``'s old history straight, bypassing ``copy``'s (an identity). Where
    ``result`` is no fresh tensor of ``target``'s dtype, or ``target`` a view (whose write is recorded
    on its base), the write is recorded as a copy (:func:`assign_`).
    """
    node = result._grad_fn
    copied = copy._grad_fn
    if node is None or node is copied or result._base is not None or result.dtype is not target.dtype:
        return assign_(target, result)
    if target._base is not None and target._view_replay is not None:
        # PyTorch's CopySlices wraps the op's node where the op read the view's old values first
        return assign_(target, result, inner=node if node._edges and node._edges[0][0] is copied else None)
    if copied is not None:
        node._edges = tuple(copied._edges[0] if edge[0] is copied else edge for edge in node._edges)
    writable_data(target)[...] = result._data
    target._version_counter.value += 1
    target._grad_fn, target._output_nr, target._requires_grad = node, result._output_nr, True
    target._move_retained_grad()
    if autograd_function.tangent_rule is not None:
        tangents.write_tangent(target, result)
    return target


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, any device or dtype) into this tensor in place.

    Args:
        src (Tensor): the values to copy, broadcast to this tensor's shape and cast to its dtype.
        non_blocking (bool): accepted for PyTorch compatibility; copies complete before returning. Default: ``False``.

    Example::

        >>> x = ember.zeros(2, 2)
        >>> x.copy_(ember.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type_name(src)}")
    if type(src) is not Tensor and getattr(src, "is_sparse", False):
        raise RuntimeError(
            "copy_() between dense and sparse Tensors is not implemented! Found self type = "
            f"{self.type()} and src type = {src.type()}"
        )
    if broadcast_shapes(src.shape, self.shape) != tuple(self.shape):
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(broadcast_shapes(src.shape, self.shape))}"
        )
    check_no_partial_overlap(self, src)
    return assign_(self, src)


def numpy(self: Tensor, *, force: bool = False) -> Any:
    """The values as a NumPy array (sharing memory for CPU tensors).

    ``np.asarray(t)`` and ``np.array(t)`` go through it, as in PyTorch: a tensor off the CPU (``opencl:0``,
    ``cuda:0``) raises the same ``TypeError`` instead of being copied to the host behind the program's back
    (copy it with ``t.cpu()`` or ``t.numpy(force=True)``).

    Args:
        force (bool): copy to the host (detaching, and from any device) instead of raising for tensors that require grad
            or live off the CPU. Default: ``False``.

    Example::

        >>> t = ember.tensor([1.0, 2.0])
        >>> a = t.numpy()
        >>> a
        array([1., 2.], dtype=float32)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 2.])
    """
    if self._requires_grad and grad_state.enabled and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self._device.type != "cpu" and not force:
        raise TypeError(
            f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
            "copy the tensor to host memory first."
        )
    return host_array(self)
