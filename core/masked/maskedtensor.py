"""``ember.masked.MaskedTensor``: PyTorch's ``torch.masked.MaskedTensor``, a tensor whose elements a boolean
mask marks as specified or not. Element-wise ops compute on the data and keep the mask, reductions see only
the specified elements (through :mod:`ember.masked.operations`), and the result of a reduction is specified
wherever any element it reduced was.

Example::

    >>> data = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> mask = ember.tensor([[True, False, True], [False, False, True]])
    >>> mt = ember.masked.masked_tensor(data, mask)
    >>> mt.sum(1)
    MaskedTensor(
      [  4.0000,   6.0000]
    )
    >>> (mt * 2).to_tensor(0.0)
    tensor([[ 2.,  0.,  6.],
            [ 0.,  0., 12.]])
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import dtypes
from ..autograd.engine import grad as vector_jacobian_product
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..layout import strided
from ..ops.arithmetic import one_operand_error, where
from ..ops.operands import sum_to
from ..overrides import DisableTorchFunctionSubclass, resolve_name
from ..tensor import Tensor
from . import operations

__all__ = ["MaskedTensor", "as_masked_tensor", "is_masked_tensor", "masked_tensor"]

_PROTOTYPE = (
    "The PyTorch API of MaskedTensors is in prototype stage and will change in the near future. Please open a "
    "Github issue for features requests and see our documentation on the torch.masked module for further "
    "information about the project."
)
_SUPPORTED = frozenset(
    (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.bool, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
)

# PyTorch's MaskedTensor operations, by the name its handler sees (``x.exp()`` and ``ember.exp(x)``: "exp")
_UNARY = frozenset(
    "abs absolute acos arccos acosh arccosh angle asin arcsin asinh arcsinh atan arctan atanh arctanh bitwise_not "
    "ceil clamp clip conj_physical cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac lgamma "
    "log log10 log1p log2 logit i0 isnan nan_to_num neg negative positive pow rad2deg reciprocal round rsqrt "
    "sigmoid sign sgn signbit sin sinc sinh sqrt square tan tanh trunc __pow__".split()
)
_UNARY_INPLACE = frozenset(
    f"{name}_" for name in _UNARY - {"angle", "positive", "signbit", "isnan"} if not name.startswith("__")
) | {"__ipow__"}
_BINARY = frozenset(
    "add atan2 arctan2 bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift div divide "
    "floor_divide fmod logaddexp logaddexp2 mul multiply nextafter remainder sub subtract true_divide eq ne le ge "
    "greater greater_equal gt less_equal lt less maximum minimum fmax fmin not_equal __eq__ __floordiv__ "
    "__rtruediv__ __rfloordiv__ __and__ __or__ __xor__ __lshift__ __rshift__".split()
)
_BINARY_INPLACE = frozenset(
    f"{name}_"
    for name in _BINARY - {"logaddexp", "logaddexp2", "fmin", "minimum", "maximum", "fmax"}
    if not name.startswith("__")
)
_REDUCTIONS = frozenset(("sum", "mean", "amin", "amax", "argmin", "argmax", "prod", "all", "var", "std"))
# applied to the data and the mask alike
_PASSTHROUGH = frozenset(
    "__getitem__ select transpose t split view reshape expand unsqueeze unfold cat concat concatenate stack".split()
)
# a new MaskedTensor of the data so transformed, with the mask
_DATA_ONLY = frozenset("clone detach contiguous to double float half int long short bool char byte".split())
# what the tensor's metadata answers (run on the MaskedTensor itself, as a plain tensor)
_METADATA = frozenset(
    "shape dtype device ndim is_leaf layout requires_grad grad grad_fn is_cuda is_meta is_cpu is_sparse "
    "is_quantized itemsize size dim numel nelement ndimension stride __len__ element_size is_floating_point retain_grad "
    "is_complex is_contiguous requires_grad_ storage_offset".split()
)
_SCALARS = frozenset(("item", "__float__", "__int__", "__bool__", "__index__"))


def is_masked_tensor(obj: Any, /) -> bool:
    r"""Whether ``obj`` is a :class:`MaskedTensor`, as ``torch.masked.is_masked_tensor``.

    Example::

        >>> ember.masked.is_masked_tensor(ember.masked.masked_tensor(ember.ones(2), ember.tensor([True, False])))
        True
    """
    return isinstance(obj, MaskedTensor)


class MaskedTensor(Tensor):
    r"""A tensor with a boolean mask of the same size: the elements where it is ``False`` are unspecified.

    Construct it with :func:`masked_tensor`. Element-wise unary and binary ops compute on the data and keep
    the mask (a binary op of two MaskedTensors needs equal masks); the reductions ``sum``, ``mean``, ``amin``,
    ``amax``, ``argmin``, ``argmax``, ``prod``, ``all``, ``var`` and ``std`` reduce the specified elements
    only, through :mod:`ember.masked.operations` (whose functions take MaskedTensors too); ``norm`` refuses
    its arguments with PyTorch's TypeError; ``where`` picks the data and the masks; indexing, ``view``,
    ``transpose``, ``cat``, ``stack`` and the like apply to the data and the mask alike. Each MaskedTensor
    made gives PyTorch's prototype ``UserWarning``.

    Gradients flow through MaskedTensors as in PyTorch: the ``grad`` of a MaskedTensor is a MaskedTensor
    whose data holds the gradient of every element, the unspecified ones too (a reduction passes its
    gradient to the unspecified elements as if they held the reduction's identity), and whose mask is the
    MaskedTensor's (``where`` specifies the elements it picked). In-place ops are recorded; on a leaf that
    requires grad they are refused.

    Args:
        data (Tensor): the values, of dtype float16/32/64, bool or int8/16/32/64 (copied).
        mask (Tensor): a bool tensor of ``data``'s size; ``True`` marks the specified elements (copied).
        requires_grad (bool): the MaskedTensor's ``requires_grad`` (a leaf). Default: ``False``.

    Raises:
        TypeError: ``data`` or ``mask`` is not a tensor, the mask is not bool, the dtype is not supported.
        ValueError: the sizes of ``data`` and ``mask`` differ.

    Example::

        >>> mt = ember.masked.MaskedTensor(ember.tensor([1, 2, 3]), ember.tensor([True, False, True]))
        >>> mt
        MaskedTensor(
          [1,       --, 3]
        )
        >>> mt.sum()
        MaskedTensor(4, True)
    """

    def __new__(cls, data: Tensor, mask: Tensor, requires_grad: bool = False) -> MaskedTensor:
        if isinstance(data, MaskedTensor) or not isinstance(data, Tensor):
            raise TypeError("data must be a Tensor")
        if isinstance(mask, MaskedTensor) or not isinstance(mask, Tensor):
            raise TypeError("mask must be a Tensor")
        warnings.warn(_PROTOTYPE, UserWarning, stacklevel=2)
        if data.requires_grad:
            warnings.warn(
                "It is not recommended to create a MaskedTensor with a tensor that requires_grad. "
                "To avoid this, you can use data.detach().clone()",
                UserWarning,
                stacklevel=2,
            )
        with DisableTorchFunctionSubclass():
            self = data.detach().as_subclass(cls)  # its size, dtype and device are the data's
            self.requires_grad_(requires_grad)
        return self  # type: ignore[return-value]

    def __init__(self, data: Tensor, mask: Tensor, requires_grad: bool = False) -> None:
        if data.layout != mask.layout:
            raise TypeError("data and mask must have the same layout.")
        with DisableTorchFunctionSubclass():
            self._masked_data = data.clone()
            self._masked_mask = mask.clone()
        self._validate_members()

    def _validate_members(self) -> None:
        data, mask = self._masked_data, self._masked_mask
        if data.layout is not strided:
            raise TypeError(f"data layout of {data.layout} is not supported.")
        if mask.dtype is not dtypes.bool:
            raise TypeError("mask must have dtype bool.")
        if data.dtype not in _SUPPORTED:
            raise TypeError(f"{data.dtype} is not supported in MaskedTensor.")
        if data.dim() != mask.dim():
            raise ValueError("data.dim() must equal mask.dim()")
        if data.size() != mask.size():
            raise ValueError("data.size() must equal mask.size()")

    def _set_data_mask(self, data: Tensor, mask: Tensor) -> None:
        self._masked_data, self._masked_mask = data, mask
        self._validate_members()

    def get_data(self) -> Tensor:
        """The data, the unspecified elements' values included (a tensor without the mask); differentiable:
        its gradient reaches this MaskedTensor as a MaskedTensor of its mask."""
        return _GetData.apply(self)

    def get_mask(self) -> Tensor:
        """The mask: ``True`` where an element is specified."""
        return self._masked_mask

    def to_tensor(self, value: Any) -> Tensor:
        """A plain tensor of the data with ``value`` in the unspecified elements.

        Args:
            value (Number): the value of the unspecified elements.
        """
        return self.get_data().masked_fill(~self.get_mask(), value)

    def is_sparse_coo(self) -> bool:
        """Whether the data is a sparse COO tensor (never, in ember)."""
        return False

    def is_sparse_csr(self) -> bool:
        """Whether the data is a sparse CSR tensor (never, in ember)."""
        return False

    def __repr__(self) -> str:
        formatter = "{0:8.4f}"
        if self.dim() == 0:
            specified = self.get_mask().item()
            return (
                f"MaskedTensor({_formatted(self._masked_data.item(), formatter) if specified else '--'}, {specified})"
            )
        lines = _masked_str(self._masked_data, self.get_mask(), formatter).split("\n")
        return "MaskedTensor(\n" + "\n".join("  " + line for line in lines) + "\n)"

    __str__ = __repr__

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        name = _name(func)
        if name in _METADATA or (name == "type" and not args[1:] and not kwargs):  # type(): the type's name
            with DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        if name == "backward":  # the gradients flow as MaskedTensors: the handlers stay on
            return getattr(func, "_ember_wrapped", func)(*args, **kwargs)
        if name == "conj":  # of a real tensor (the only ones a MaskedTensor holds): itself, as PyTorch's
            return args[0]
        if name == "where":
            return _where(args, kwargs)
        if name in _UNARY or name in _UNARY_INPLACE:
            return _unary(func, args, kwargs, inplace=name in _UNARY_INPLACE)
        if name in _BINARY or name in _BINARY_INPLACE:
            return _binary(func, args, kwargs, inplace=name in _BINARY_INPLACE)
        if name in _REDUCTIONS:
            return _reduce(name, *args, **kwargs)
        if name == "norm":
            return _norm(*args, **kwargs)
        if name in _PASSTHROUGH:
            return _passed_through(name, func, args, kwargs)
        if name == "detach":
            return MaskedTensor(func(args[0]._masked_data), args[0].get_mask())
        if name in _DATA_ONLY or name == "type":  # a differentiable copy, as PyTorch's
            return as_masked_tensor(func(args[0].get_data(), *args[1:], **kwargs), args[0].get_mask())
        if name in _SCALARS:
            return func(args[0]._masked_data, *args[1:], **kwargs)
        if name == "softmax":
            return _softmax(*args, **kwargs)
        if name in ("tolist", "numpy"):  # PyTorch's refusal for a tensor subclass
            ending = ", got MaskedTensor" if name == "tolist" else "."
            raise RuntimeError(f".{name}() is not supported for tensor subclasses{ending}")
        warnings.warn(
            f"{name} is not implemented in __torch_dispatch__ for MaskedTensor.\n"
            "If you would like this operator to be supported, please file an issue for a feature request at "
            "https://github.com/pytorch/maskedtensor/issues with a minimal reproducible code snippet.\n"
            "In the case that the semantics for the operator are not trivial, it would be appreciated "
            "to also include a proposal for the semantics.",
            stacklevel=3,
        )
        return NotImplemented


def masked_tensor(data: Tensor, mask: Tensor, requires_grad: bool = False) -> MaskedTensor:
    r"""A :class:`MaskedTensor` of (a copy of) ``data`` and ``mask``, as ``torch.masked.masked_tensor``.

    Args:
        data (Tensor): the values.
        mask (Tensor): a bool tensor of ``data``'s size, ``True`` where an element is specified.
        requires_grad (bool): the result's ``requires_grad``. Default: ``False``.

    Example::

        >>> ember.masked.masked_tensor(ember.tensor([1.0, 2.0]), ember.tensor([False, True])).amax()
        MaskedTensor(  2.0000, True)
    """
    return MaskedTensor(data, mask, requires_grad)


def as_masked_tensor(data: Tensor, mask: Tensor) -> MaskedTensor:
    r"""A :class:`MaskedTensor` of ``data`` and ``mask``, as ``torch.masked.as_masked_tensor``: differentiable
    (the result keeps ``data``'s autograd history; ``data`` receives the data of its gradient).

    Example::

        >>> ember.masked.as_masked_tensor(ember.tensor([1.0, 2.0]), ember.tensor([True, True])).mean()
        MaskedTensor(  1.5000, True)
    """
    return _Constructor.apply(data, mask)


class _Constructor(Function):
    """:func:`as_masked_tensor`'s MaskedTensor of a tensor that may have a history (PyTorch's
    ``MaskedTensor._from_values``): the MaskedTensor's gradient flows back to the tensor as it is, a leaf's
    ``grad`` or the gradient that the backward formulas of its history compute on (with tensor ops, which
    this class's handler sees: the gradient of an element-wise op, a view or a reduction stays a MaskedTensor,
    as in PyTorch)."""

    @staticmethod
    def forward(ctx: Any, data: Tensor, mask: Tensor) -> MaskedTensor:
        return MaskedTensor(data, mask)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return grad, None


class _GetData(Function):
    """:meth:`MaskedTensor.get_data`: the gradient of the data flows back as a MaskedTensor of the mask (where
    ``read`` is True: the elements an op of the data reads)."""

    @staticmethod
    def forward(ctx: Any, input: MaskedTensor, read: Tensor | None = None) -> Tensor:
        ctx.mask = input.get_mask() if read is None else input.get_mask() & read
        return input._masked_data.detach()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return (grad if is_masked_tensor(grad) else MaskedTensor(grad, ctx.mask)), None


class _Where(Function):
    """``where(condition, input, other)`` of MaskedTensors (a plain tensor operand counts as wholly specified):
    the result's mask is picked from the operands' masks as its data is. The gradient of each operand is the
    whole gradient's data, specified where the condition picked that operand (PyTorch's ``_MaskedWhere``); a plain
    operand receives it as from :func:`as_masked_tensor`."""

    @staticmethod
    def forward(ctx: Any, condition: Tensor, input: Any, other: Any) -> MaskedTensor:
        ctx.mark_non_differentiable(condition)
        ctx.save_for_backward(condition)
        data = where(condition, _data(input), _data(other))
        return MaskedTensor(data, where(condition, _whole_mask(input), _whole_mask(other)))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        (condition,) = ctx.saved_tensors
        data, mask = _data(grad), _whole_mask(grad)
        unspecified = mask.new_zeros(())
        input_grad = MaskedTensor(data, where(condition, mask, unspecified))
        other_grad = MaskedTensor(data, where(condition, unspecified, mask))
        return None, input_grad, other_grad


def _name(func: Any) -> str:
    """The name of the op a handler sees: ``"exp"`` for ``Tensor.exp`` and ``ember.exp``, ``"shape"`` for the
    getter of ``Tensor.shape``."""
    name = getattr(func, "__name__", "")
    if name == "__get__":
        return (resolve_name(func) or "").rsplit(".", 2)[-2]
    return name


def _where(args: Any, kwargs: dict) -> MaskedTensor:
    input, other = _where_operands(*args, **kwargs)
    if (input is None) != (other is None):
        raise one_operand_error(args, kwargs)
    if len(args) != 3:
        raise ValueError(f"__torch_function__, torch.where: len(args) must be 3 but got {len(args)}")
    if kwargs:
        raise ValueError(f"__torch_function__, torch.where: len(kwargs) must be 0 but got {len(kwargs)}")
    return _Where.apply(*args)


def _where_operands(condition: Any, input: Any = None, other: Any = None, **kwargs: Any) -> tuple:
    """``where``'s ``input`` and ``other``, None where not given."""
    return input, other


def _data(obj: Any) -> Any:
    """The data of a MaskedTensor (with no history), anything else itself."""
    return obj._masked_data if isinstance(obj, MaskedTensor) else obj


def _differentiable_data(obj: Any) -> Any:
    """:meth:`MaskedTensor.get_data` of a MaskedTensor, anything else itself."""
    return obj.get_data() if isinstance(obj, MaskedTensor) else obj


def _mask(obj: Any) -> Any:
    return obj._masked_mask if isinstance(obj, MaskedTensor) else obj


def _whole_mask(obj: Any) -> Tensor:
    """The mask of a MaskedTensor; of a plain tensor, one that specifies every element."""
    return obj.get_mask() if isinstance(obj, MaskedTensor) else obj.new_ones(obj.shape, dtype=dtypes.bool)


def _mapped(args: Any, part: Any) -> list:
    """``args`` with each MaskedTensor (also inside lists and tuples) replaced by ``part`` of it."""
    mapped = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            arg = type(arg)(_mapped(arg, part))
        mapped.append(part(arg))
    return mapped


def _wrapped(data: Any, mask: Any) -> Any:
    if isinstance(data, (list, tuple)):
        return type(data)(_wrapped(d, m) for d, m in zip(data, mask))
    return as_masked_tensor(data, mask)


def _masks_match(a: Any, b: Any) -> bool:
    if not (isinstance(a, MaskedTensor) and isinstance(b, MaskedTensor)):
        return True
    mask_a, mask_b = a.get_mask(), b.get_mask()
    return mask_a.dim() == mask_b.dim() and bool((mask_a == mask_b).all())


def _unary(func: Any, args: Any, kwargs: dict, inplace: bool) -> Any:
    if any(isinstance(arg, Tensor) for arg in args[1:]):
        raise TypeError("MaskedTensor unary ops do not support additional Tensor arguments")
    if inplace:
        return _in_place(func, args, kwargs)
    self = args[0]
    return as_masked_tensor(func(self.get_data(), *args[1:], **kwargs), self.get_mask())


def _binary(func: Any, args: Any, kwargs: dict, inplace: bool) -> Any:
    if kwargs:
        raise ValueError("len(kwargs) must equal 0")
    if any(isinstance(arg, Tensor) for arg in args[2:]):
        raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from the lhs and rhs")
    if not _masks_match(*args[:2]):
        raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
    if inplace:
        return _in_place(func, args, kwargs)
    first = args[0]
    mask = (first if isinstance(first, MaskedTensor) else args[1]).get_mask()
    operands = [_MaskedBroadcast.apply(arg, mask) if _broadcast_with_grad(arg, mask) else arg for arg in args[:2]]
    result = func(*_mapped(operands, _differentiable_data), *args[2:])
    return as_masked_tensor(result, mask.expand_as(result))


def _passed_through(name: str, func: Any, args: Any, kwargs: dict) -> Any:
    """``func`` (indexing, a view, ``cat``, ...) applied to the data and the masks alike. The gradient of each
    MaskedTensor operand is specified where the op read its elements, and ``expand`` sums the specified elements
    of its gradient only: PyTorch runs the op's backward on the MaskedTensor gradient."""
    masks = func(*_mapped(args, _mask), **kwargs)
    operands = [arg for arg in _flat(args) if isinstance(arg, MaskedTensor)]
    if not (is_grad_enabled() and any(arg.requires_grad for arg in operands)):
        return _wrapped(func(*_mapped(args, _data), **kwargs), masks)
    # which elements of each operand the op reads: the op's vector-Jacobian product of ones, where not 0
    probes = {
        id(arg): arg._masked_data.new_ones(arg.shape, dtype=dtypes.float32, requires_grad=True) for arg in operands
    }
    outputs = _flat([func(*_mapped(args, lambda arg: probes.get(id(arg), arg)), **kwargs)])
    products = vector_jacobian_product(
        outputs, list(probes.values()), [out.new_ones(out.shape) for out in outputs], allow_unused=True
    )
    reads = {key: product is not None and product != 0 for key, product in zip(probes, products)}

    def data(arg: Any) -> Any:
        return _GetData.apply(arg, reads[id(arg)]) if isinstance(arg, MaskedTensor) else arg

    if name == "expand":
        return as_masked_tensor(_MaskedBroadcast.apply(data(args[0]), masks), masks)
    return _wrapped(func(*_mapped(args, data), **kwargs), masks)


def _flat(values: Any) -> list:
    """``values`` with its lists and tuples (one level down too) spread out."""
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, (list, tuple)) else (value,))
    return flat


def _in_place(func: Any, args: Any, kwargs: dict) -> MaskedTensor:
    """In-place op ``func`` on the data of the MaskedTensor ``args[0]``, recorded in its history where an operand
    requires grad, as PyTorch records it (which refuses it on a leaf that requires grad)."""
    self = args[0]
    if not (is_grad_enabled() and any(isinstance(arg, Tensor) and arg.requires_grad for arg in args)):
        self._set_data_mask(func(*_mapped(args, _data), **kwargs), self.get_mask())
        return self
    if self.is_leaf and self.requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    operands = _mapped(args, _differentiable_data)
    result = as_masked_tensor(func(operands[0].clone(), *operands[1:], **kwargs), self.get_mask())
    self._set_data_mask(result._masked_data, self.get_mask())
    self._grad_fn, self._output_nr, self._requires_grad = result.grad_fn, 0, True  # the op's history, as its own
    return self


def _broadcast_with_grad(arg: Any, mask: Tensor) -> bool:
    """Whether ``arg`` is a plain tensor that requires grad and broadcasts to the shape of a MaskedTensor operand."""
    return type(arg) is not MaskedTensor and isinstance(arg, Tensor) and arg.requires_grad and arg.shape != mask.shape


class _MaskedBroadcast(Function):
    """A plain operand broadcast to a MaskedTensor operand's ``mask``: its gradient sums the specified elements
    only (PyTorch reduces the MaskedTensor gradient by the masked sum)."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, mask: Tensor) -> Tensor:
        ctx.mask, ctx.shape = mask, input.shape
        return input.expand(mask.shape)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return sum_to(_data(grad).masked_fill(~ctx.mask, 0), ctx.shape), None


def _any(mask: Tensor, dim: Any, keepdim: bool) -> Tensor:
    """Whether any element each reduction of ``dim`` reduces is specified (the result's mask)."""
    for d in sorted([dim] if isinstance(dim, int) else dim, reverse=True):
        mask = mask.any(d, keepdim=keepdim)
    return mask


def _reduce(name: str, input: Any, *args: Any, **kwargs: Any) -> MaskedTensor:
    """Reduction ``name`` of the specified elements, by :mod:`ember.masked.operations` (PyTorch's ``torch.masked``)
    on the MaskedTensor itself: specified wherever any element it reduced was."""
    reduction = _all if name == "all" else getattr(operations, name)
    mask = input.get_mask()
    if not args and not kwargs:
        return as_masked_tensor(reduction(input, mask=mask), mask.any())
    dim, keepdim, dtype = _reduce_dim_args(*args, **kwargs)
    result = reduction(input, dim=dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return as_masked_tensor(result, _any(mask, dim, keepdim))


def _all(input: Any, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Any = None) -> Tensor:
    """``all`` over the specified elements (the unspecified ones read as ``True``)."""
    filled = input.get_data().masked_fill(~mask, True)
    return filled.all() if dim is None else filled.all(dim, keepdim=keepdim)


def _norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> MaskedTensor:
    """``norm`` as PyTorch's ``Tensor.norm`` hands it to the reduction: every argument by keyword, which its
    argument parsing refuses (a TypeError for ``p``, as PyTorch's); :func:`ember.masked.norm` takes a
    MaskedTensor."""
    return _reduce("norm", input, p=p, dim=dim, keepdim=keepdim, dtype=dtype)


def _reduce_dim_args(dim: Any, keepdim: bool = False, dtype: Any = None) -> tuple:
    return dim, keepdim, dtype


def _softmax(input: Any, dim: int, dtype: Any = None) -> MaskedTensor:
    """Softmax over the specified elements; no gradient reaches the unspecified ones (PyTorch's
    ``_masked_softmax_backward``), so a slice with none specified gives ``nan`` but a zero gradient."""
    mask = input.get_mask()
    return as_masked_tensor(operations.softmax(input.get_data(), dim, dtype=dtype, mask=mask), mask)


def _formatted(value: Any, formatter: str) -> str:
    """An element's text in a MaskedTensor's: ``formatter`` for a float, ``str`` otherwise."""
    return formatter.format(value) if isinstance(value, float) else str(value)


def _masked_str(data: Tensor, mask: Tensor, formatter: str) -> str:
    """PyTorch's nested-list text of a MaskedTensor: ``--`` for each unspecified element."""
    if data.dim() == 1:
        texts = [_formatted(d.item(), formatter) for d in data]
        hidden = [not m for m in mask.tolist()]
        width = max(8 if h else len(t) for t, h in zip(texts, hidden))
        return "[" + ", ".join("--".rjust(width) if h else t for t, h in zip(texts, hidden)) + "]"
    parts = [_masked_str(d, m, formatter) for d, m in zip(data, mask)]
    parts = ["\n".join("  " + line for line in part.split("\n")) for part in parts]
    return "[\n" + ",\n".join(parts) + "\n]"
