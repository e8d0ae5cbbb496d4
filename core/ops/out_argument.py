"""PyTorch's ``out=`` argument: an op writes its result into a given tensor and returns that tensor.

An op that takes ``out`` computes its result as usual and, only when ``out`` is given, hands it to
:func:`write_out` (one ``is None`` test on the common path). The checks are PyTorch's:

- autograd: while grad mode is on, no argument (``out`` included) may require grad;
- device: ``out`` must be on the result's device;
- dtype: the result must be castable to ``out``'s dtype (``can_cast``), or, for the ops whose
  PyTorch kernels insist on it (``exact_dtype``: matmul, gather, sort, ...), equal to it;
- shape: an ``out`` of another shape is given new storage of the result's shape, with PyTorch's
  deprecation warning when it held elements. As PyTorch's reallocation, this detaches ``out``
  from its base: views of the old ``out`` (and the tensor it viewed) no longer see the result.

The write itself is an in-place write: ``out``'s version counter is bumped and an ``out`` that
aliases an input gets what the in-place op would give. An ``out`` whose elements alias each other,
that (for the ops that pass their ``inputs``) shares part of an input's memory, or that (for the ops
that pass operands ``apart``) shares any memory with such an operand, is refused as PyTorch refuses it.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import dtypes
from ..autograd import function as autograd_function
from ..autograd.grad_mode import grad_state
from ..autograd.tangents import tangent_of
from ..tensor import Tensor, writable_data
from ..type_names import type_name
from .dtype_support import C_NAMES, TORCH_NAMES
from .overlap import check_no_internal_overlap, check_no_overlap, check_no_partial_overlap

__all__: list[str] = []

OUT_ARG = "out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``."


# PyTorch's own messages for an out= of another dtype, where an op checks it itself (``write_out``'s
# ``exact_dtype``; ``want`` and ``got`` are ScalarType names)
#: structured reductions that keep the input's dtype (amax, amin)
SAME_DTYPE_OUT = (
    "Expected the dtype for input and out to match, but got {want} for input's dtype and {got} for out's dtype."
)
#: ops that check their out as an argument (complex, polar)
SCALAR_TYPE_OUT = "Expected object of scalar type {want} but got scalar type {got} for argument 'out'"
#: unary ops whose out must have the result's dtype (abs of a real input, conj_physical)
FOUND_DTYPE_OUT = "Found dtype {got} but expected {want}"


def creation_placement(op: str, dtype: Any, device: Any, out: Tensor) -> tuple[dtypes.dtype, Any]:
    """The dtype and device a creation op (``zeros``, ``arange``, ``randn``, ...) makes its values in when
    given ``out``: ``out``'s own, unless ``dtype`` names another dtype, which PyTorch refuses (a ``device``
    other than ``out``'s is refused by :func:`write_out`)."""
    check_out_type(op, out)
    if dtype is not None and dtypes.as_dtype(dtype) is not out.dtype:
        raise RuntimeError(
            f"dtype {TORCH_NAMES[dtypes.as_dtype(dtype)]} does not match dtype of out parameter "
            f"({TORCH_NAMES[out.dtype]})"
        )
    return out.dtype, out.device if device is None else device


def reduced_operands(input: Tensor, dim: Any, keepdim: bool) -> tuple[Tensor, ...]:
    """The ``inputs`` of :func:`write_out` for ``max``/``min``/``median``/``mode``/``aminmax``: PyTorch's
    kernels along one ``dim`` refuse an ``out`` that shares part of ``input``'s memory, compared with ``dim``
    kept (an ``out`` that is the very elements of ``input``, ``dim`` of size 1, is accepted with
    ``keepdim=False`` too); over all elements (``dim`` not an int) they do not compare."""
    if not isinstance(dim, int):
        return ()
    return (input if keepdim else input.squeeze(dim),)


def check_out_type(op: str, out: object) -> None:
    """Refuse an ``out`` that is not a Tensor, as PyTorch's argument parser does."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type_name(out)}")


def write_out(
    op: str,
    result: Any,
    out: Any,
    *,
    exact_dtype: bool | str = False,
    warn_resize: bool = True,
    grad_checked: bool = False,
    cast_error: type[Exception] = RuntimeError,
    inputs: tuple[Any, ...] = (),
    apart: tuple[Any, ...] = (),
) -> Any:
    """Write ``result``, the value op ``op`` computed, into ``out`` and return ``out``.

    An op with several results (``max(dim)``, ``sort``, ``topk``) passes its named tuple and a tuple of as many
    ``out`` tensors, and gets the named tuple of those tensors back.

    Args:
        op (str): the op's name, for the messages.
        result (Tensor): what the op computed.
        out (Tensor): the tensor given as ``out=``.
        exact_dtype (bool or str): require ``out`` to have ``result``'s dtype instead of one it casts to; a
            string is the message of the op's own check in PyTorch, formatted with ``want`` and ``got``, the
            ScalarType names of ``result``'s and ``out``'s dtypes. Default: ``False``.
        warn_resize (bool): warn when ``out`` held elements and gets another shape (creation ops
            resize silently). Default: ``True``.
        cast_error (type): the error for a dtype ``out`` cannot hold (``cat`` and ``stack`` raise
            ``TypeError``). Default: ``RuntimeError``.
        grad_checked (bool): the autograd check was done on all of a tuple's results. Default: ``False``.
        inputs (tuple): the op's operands, where PyTorch refuses an ``out`` that shares part of their memory
            (its element-wise and indexing ops); numbers among them are skipped. Default: ``()``.
        apart (tuple): the op's operands whose memory ``out`` may not share at all, not even as the very elements
            it writes (the ops that read elements in another order than they write them: ``stack``, ``cross``, the
            ``source`` and ``index`` of ``index_add``); numbers and ``None`` among them are skipped. Default: ``()``.

    An op with several results checks each ``out`` tensor against ``inputs`` and ``apart``.
    """
    if isinstance(result, tuple):
        return _write_outs(op, result, out, exact_dtype, inputs, apart)
    check_out_type(op, out)
    if autograd_function.tangent_rule is not None and tangent_of(result) is not None:
        raise NotImplementedError(
            f"Trying to use forward AD with {op}_out that does not support it because it is an out= function"
        )
    if not grad_checked and grad_state.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    if result._device != out._device:
        raise RuntimeError(
            f"{op}(): Expected all tensors to be on the same device, but found at least two devices, "
            f"{result._device} and {out._device}!"
        )
    if exact_dtype:
        if result.dtype is not out.dtype and isinstance(exact_dtype, str):
            raise RuntimeError(exact_dtype.format(want=TORCH_NAMES[result.dtype], got=TORCH_NAMES[out.dtype]))
        if result.dtype is not out.dtype:
            want, got = (
                C_NAMES.get(d, TORCH_NAMES.get(d, d.name)) for d in (result.dtype, out.dtype)
            )  # "float", "double"
            raise RuntimeError(f"{op}(): Expected out tensor to have dtype {want}, but got {got} instead")
    elif result.dtype._category > out.dtype._category:
        raise cast_error(
            f"result type {TORCH_NAMES[result.dtype]} can't be cast to the desired output type {TORCH_NAMES[out.dtype]}"
        )
    check_no_internal_overlap(out)  # the out as given, before any resize (PyTorch's order)
    for operand in inputs:
        if isinstance(operand, Tensor):
            check_no_partial_overlap(out, operand)
    for operand in apart:
        if isinstance(operand, Tensor):
            check_no_overlap(out, operand)
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        if warn_resize and out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, which does "
                f"not match the required output shape {list(shape)}. This behavior is deprecated, and in a future "
                "PyTorch release outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        _reallocate(out, shape)
    data = result._data
    if data.dtype != out._data.dtype:
        data = out._backend.xp.astype(data, out._data.dtype)
    writable_data(out)[...] = data  # the result is computed already: an out aliasing an input reads it whole
    out._version_counter.value += 1
    return out


def _write_outs(
    op: str, results: tuple, outs: Any, exact_dtype: bool | str, inputs: tuple[Any, ...], apart: tuple[Any, ...]
) -> tuple:
    """:func:`write_out` for an op with several results: ``outs`` holds one tensor per result."""
    if not isinstance(outs, (tuple, list)) or len(outs) != len(results):
        raise TypeError(f"{op}(): argument 'out' must be tuple of {len(results)} Tensors, not {type_name(outs)}")
    for out in outs:
        check_out_type(op, out)
    if grad_state.enabled and any(t._requires_grad for t in (*results, *outs)):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    written = [
        write_out(op, result, out, exact_dtype=exact_dtype, grad_checked=True, inputs=inputs, apart=apart)
        for result, out in zip(results, outs)
    ]
    return type(results)(*written) if hasattr(results, "_fields") else tuple(written)


def _reallocate(out: Tensor, shape: tuple[int, ...]) -> None:
    """Give ``out`` fresh storage of ``shape`` (PyTorch's ``resize_`` of an output), leaving any view relation."""
    with out._backend.device_context(out._device.index):
        out._data = out._backend.xp.empty(shape, dtype=out._data.dtype)
    out._base = None
    out._view_replay = None
    out._view_version = None  # no longer a view: no history to refresh from a base
