"""``ember.nested``: nested tensors, batches of tensors whose lengths differ along one dimension, as
PyTorch's ``torch.nested``.

The jagged layout (``layout=ember.jagged``) is the one to compute with: the element-wise operations,
``linear``, ``layer_norm``, ``softmax``, the reductions, ``transpose`` of the ragged dimension and
``scaled_dot_product_attention`` run on it (see :class:`~ember.nested.nested_tensor.NestedTensor`).
The strided layout (PyTorch's default) holds the same components; as PyTorch's on the CPU, it offers
only :meth:`unbind`, indexing, :func:`to_padded_tensor`, conversions and ``chunk``, and refuses the rest.

Example::

    >>> nt = ember.nested.nested_tensor([ember.ones(2, 4), ember.ones(3, 4)], layout=ember.jagged)
    >>> out = nn.Linear(4, 2)(nt)
    >>> out.shape[0], out.shape[2], [t.shape for t in out.unbind()]
    (2, 2, [ember.Size([2, 2]), ember.Size([3, 2])])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..layout import jagged, strided
from ..ops.movement import cat
from ..overrides import check_plain_methods, enable_function_checks
from ..tensor import Tensor, tensor
from ..unstrided import is_strided
from . import _functions
from .nested_tensor import NestedInt, NestedTensor, _Structure

__all__ = [
    "NestedInt",
    "NestedTensor",
    "as_nested_tensor",
    "nested_tensor",
    "nested_tensor_from_jagged",
    "to_padded_tensor",
]


def nested_tensor(
    tensor_list: Sequence[Any],
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> NestedTensor:
    """A nested tensor holding copies of ``tensor_list``'s tensors (or nested lists of numbers): a new
    leaf, with no autograd history.

    Args:
        tensor_list (list of Tensor or of lists): the components, of one number of dimensions, equal in
            every dimension but the first.
        dtype (ember.dtype, optional): the dtype; default: the components'.
        layout (ember.layout, optional): ``ember.jagged`` or ``ember.strided`` (the default, as PyTorch's).
        device (ember.device, optional): the device; default: the components'.
        requires_grad (bool, optional): whether the result records operations. Default: ``False``.
        pin_memory (bool, optional): accepted.

    Example::

        >>> nt = ember.nested.nested_tensor([[1.0, 2.0], [3.0]], layout=ember.jagged)
        >>> nt.to_padded_tensor(0.0)
        tensor([[1., 2.],
                [3., 0.]])
    """
    parts = [t.detach() if is_strided(t) else tensor(t, dtype=dtype, device=device) for t in tensor_list]
    result = _from_parts(parts, dtype, device, layout, "nested_tensor")
    values = result._values if len(parts) > 1 else result._values.clone()  # a copy: cat makes one of several
    result._values = values.detach().requires_grad_(requires_grad)
    return result


def as_nested_tensor(ts: Any, dtype: Any = None, device: Any = None, layout: Any = None) -> NestedTensor:
    """A nested tensor of ``ts`` (a list of tensors, or a tensor whose first dimension is the batch) that
    keeps their autograd history: gradients flow back to them.

    Args:
        ts (list of Tensor, or Tensor): the components.
        dtype (ember.dtype, optional): the dtype; default: the components'.
        device (ember.device, optional): the device; default: the components'.
        layout (ember.layout, optional): ``ember.jagged`` or ``ember.strided`` (the default).

    Example::

        >>> a = ember.ones(2, 3, requires_grad=True)
        >>> nt = ember.nested.as_nested_tensor([a, ember.ones(1, 3)], layout=ember.jagged)
        >>> nt.values().sum().backward()
        >>> a.grad.shape
        ember.Size([2, 3])
    """
    if is_strided(ts):
        if ts.dim() < 2:
            raise RuntimeError(f"as_nested_tensor(): a tensor needs at least 2 dimensions, got {ts.dim()}")
        batch, length = ts.shape[0], ts.shape[1]
        values = ts.to(dtype=dtype or ts.dtype, device=device or ts.device).reshape(batch * length, *ts.shape[2:])
        offsets = [i * length for i in range(batch + 1)]
        return _make(values, offsets, layout)
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"as_nested_tensor(): expected a tensor or a list of tensors, got {type(ts).__name__}")
    return _from_parts(list(ts), dtype, device, layout, "as_nested_tensor")


def nested_tensor_from_jagged(
    values: Tensor,
    offsets: Tensor | None = None,
    lengths: Tensor | None = None,
    jagged_dim: int | None = None,
    min_seqlen: int | None = None,
    max_seqlen: int | None = None,
) -> NestedTensor:
    """A jagged nested tensor over ``values`` (a view, no copy): component ``i`` is
    ``values[offsets[i]:offsets[i + 1]]``.

    Args:
        values (Tensor): the components packed along the first dimension, ``(sum j_i, *inner)``.
        offsets (Tensor): ``B + 1`` increasing int64 offsets, from 0 to ``values.shape[0]``.
        lengths (Tensor, optional): not supported (components with gaps between them).
        jagged_dim (int, optional): the ragged dimension; only 1.
        min_seqlen (int, optional): accepted.
        max_seqlen (int, optional): the length :meth:`~NestedTensor.to_padded_tensor` pads to; without
            it, the values' length, as in PyTorch.

    Example::

        >>> nt = ember.nested.nested_tensor_from_jagged(ember.arange(5.0).reshape(5, 1), ember.tensor([0, 2, 5]))
        >>> [t.flatten().tolist() for t in nt.unbind()]
        [[0.0, 1.0], [2.0, 3.0, 4.0]]
    """
    if offsets is None or lengths is not None:
        raise NotImplementedError("nested_tensor_from_jagged(): ember supports offsets without lengths only")
    if jagged_dim not in (None, 1):
        raise NotImplementedError("nested_tensor_from_jagged(): ember supports jagged_dim=1 only")
    if not is_strided(values) or values.dim() < 1:
        raise RuntimeError("nested_tensor_from_jagged(): values must be a tensor of at least one dimension")
    structure = _Structure(offsets, padded_length=values.shape[0] if max_seqlen is None else max_seqlen)
    host = structure.host
    if host[0] != 0 or host[-1] != values.shape[0] or any(b < a for a, b in zip(host, host[1:])):
        raise RuntimeError(
            f"nested_tensor_from_jagged(): offsets {host} must rise from 0 to the values' length {values.shape[0]}"
        )
    return NestedTensor(values, structure)


def to_padded_tensor(input: NestedTensor, padding: float, output_size: Sequence[int] | None = None) -> Tensor:
    """``input`` as a dense tensor, each component padded with ``padding`` to the longest (see
    :meth:`NestedTensor.to_padded_tensor`).

    Args:
        input (NestedTensor): the nested tensor.
        padding (float): the value of the padding.
        output_size (sequence of int, optional): the shape of the result, at least the padded one.

    Example::

        >>> nt = ember.nested.nested_tensor([[1.0], [2.0, 3.0]], layout=ember.jagged)
        >>> ember.nested.to_padded_tensor(nt, -1.0)
        tensor([[ 1., -1.],
                [ 2.,  3.]])
    """
    if not isinstance(input, NestedTensor):
        raise RuntimeError("to_padded_tensor(): expected a nested tensor")
    return input.to_padded_tensor(padding, output_size)


def _from_parts(parts: list[Any], dtype: Any, device: Any, layout: Any, op: str) -> NestedTensor:
    if not parts:
        raise RuntimeError("Cannot construct a nested tensor from an empty tensor list")
    if not all(is_strided(p) for p in parts):
        raise TypeError(f"{op}(): expected a list of tensors")
    dims = {p.dim() for p in parts}
    if len(dims) != 1:
        raise RuntimeError("When constructing a nested tensor, all tensors in list must have the same dim")
    if dims == {0}:
        raise RuntimeError(f"{op}(): the components must have at least one dimension")
    inner = {tuple(p.shape[1:]) for p in parts}
    if len(inner) != 1:
        raise RuntimeError(
            f"{op}(): the components must agree in every dimension but the first, got shapes "
            f"{[tuple(p.shape) for p in parts]}"
        )
    dtype = dtype or parts[0].dtype
    device = device or parts[0].device
    values = cat([p.to(dtype=dtype, device=device) for p in parts])
    offsets = np.concatenate([[0], np.cumsum([p.shape[0] for p in parts])]).tolist()
    return _make(values, offsets, layout)


def _make(values: Tensor, offsets: list[int], layout: Any) -> NestedTensor:
    layout = strided if layout is None else layout
    if layout not in (strided, jagged):
        raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")
    structure = _Structure(tensor(offsets, device=values.device), offsets)
    cls = NestedTensor if layout is jagged else _StridedNestedTensor
    return cls(values, structure, 1, layout)


class _StridedNestedTensor(NestedTensor):
    """A nested tensor of the strided layout: the same components; as PyTorch's on the CPU, only
    unbind, indexing, padding, conversions and ``chunk`` work."""

    def __repr__(self) -> str:
        rows = ",\n".join("  " + repr(t).replace("\n", "\n  ") for t in self.unbind())
        return f"nested_tensor([\n{rows}\n])"

    def values(self) -> Tensor:
        """The components' elements, one after the other (a flat buffer)."""
        return self._values.reshape(-1)


_STRIDED_OPS = frozenset(
    ("unbind", "to_padded_tensor", "to", "detach", "clone", "contiguous", "float", "double", "half", "bfloat16",
     "cpu", "chunk", "numel", "dim", "size", "requires_grad_", "is_contiguous", "values", "backward")
)  # fmt: skip


def _refuse_on_strided(name: str) -> Any:
    def refuse(self: NestedTensor, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"ember.nested: {name} is not supported on a nested tensor of the strided layout (nor is it on "
            "PyTorch's CPU); make it with layout=ember.jagged"
        )

    return refuse


for _name, _value in list(vars(NestedTensor).items()):
    if callable(_value) and not _name.startswith("_") and _name not in _STRIDED_OPS:
        setattr(_StridedNestedTensor, _name, _refuse_on_strided(_name))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__"):
    setattr(_StridedNestedTensor, _name, _refuse_on_strided(_name.strip("_")))


def _torch_function(cls: type, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    if any(isinstance(a, _StridedNestedTensor) for a in args) and getattr(func, "__name__", "") not in _STRIDED_OPS:
        raise NotImplementedError(
            f"ember.nested: {func.__name__} is not supported on a nested tensor of the strided layout; make it with "
            "layout=ember.jagged"
        )
    return _functions.torch_function(func, args, kwargs or {})


NestedTensor.__torch_function__ = classmethod(_torch_function)  # type: ignore[assignment,method-assign]
# the functions, and a plain tensor's methods, look for a nested tensor (its __torch_function__) from now on
enable_function_checks()
check_plain_methods()
