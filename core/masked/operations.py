"""The masked reductions and normalizations of ``ember.masked`` (PyTorch's ``torch.masked``), on
strided tensors.

Each function takes a boolean ``mask`` (broadcastable to the input, of no more dimensions; any
dtype is read as ``mask != 0``; None: every element) and computes the plain operation with the
masked-out elements replaced by the operation's identity (:func:`_identity`: ``0`` for a sum,
``1`` for a product, ``-inf`` or the integer type's minimum for a maximum, ...), as PyTorch's
``torch.masked`` does. Where every element of a reduced slice is masked out, the result is the
identity (sum, prod, amax, amin, logsumexp, norm) or ``nan`` (mean, median, var, std).
Gradients reach the masked-in elements only.

An input may also be a :class:`~ember.masked.MaskedTensor` (as in PyTorch): its own mask then
chooses the elements (a ``mask`` argument still counts the elements of ``mean``, ``var`` and
``std``), the result is a plain tensor, and the gradient reaches every element of its data, as
PyTorch's ``Combine`` passes it.
"""

from __future__ import annotations

import math
import sys

from ..autograd.function import Function
from ..dtypes import bool as _bool
from ..dtypes import float32, int64, uint8
from ..ops.arithmetic import maximum, where
from ..ops.creation import ones
from ..typeinfo import iinfo

__all__ = [
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cumprod",
    "cumsum",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "mean",
    "median",
    "norm",
    "normalize",
    "prod",
    "softmax",
    "softmin",
    "std",
    "sum",
    "var",
]

#: the integer types whose sums and products PyTorch's masked ops accumulate in int64
_WIDENED_TO_INT64 = {"uint8", "bool", "int8", "int16", "int32"}


def _reduced_dims(dim, ndim):
    """``dim`` (an int, a sequence, None or ``()``: every dimension) as a sorted tuple of
    non-negative dimensions, with PyTorch's errors for a repeated or out-of-range one."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input, mask):
    """``mask`` broadcast to ``input``'s shape, as bool."""
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError(
                "_input_mask expected broadcastable mask (got mask dimensionality higher than of the input)"
            )
        mask = mask.clone().broadcast_to(input.shape)
    return mask.to(dtype=_bool)


def _identity(op, input, ord=2.0):
    """The 0-d tensor that leaves reduction ``op`` of ``input``'s elements unchanged (NotImplementedError
    where there is none for its dtype, as in PyTorch)."""
    dtype = input.dtype
    integer = not (dtype.is_floating_point or dtype.is_complex) and (dtype.is_signed or dtype is uint8)
    value = None
    if op in ("sum", "cumsum"):
        value = 0
    elif op in ("prod", "cumprod"):
        value = 1
    elif op in ("amax", "argmax", "logaddexp", "logsumexp"):
        if dtype.is_floating_point or (op == "logsumexp" and dtype.is_complex):
            value = -math.inf
        elif integer or dtype.is_complex:  # (complex: iinfo's TypeError, as PyTorch's)
            value = iinfo(dtype).min
    elif op in ("amin", "argmin"):
        if dtype.is_floating_point:
            value = math.inf
        elif integer or dtype.is_complex:  # (complex: iinfo's TypeError, as PyTorch's)
            value = iinfo(dtype).max
    elif op == "norm":
        value = math.inf if ord == -math.inf else 0
    elif op == "median" and dtype.is_floating_point:
        value = math.nan
    if value is None:
        raise NotImplementedError(f"identity of {op} on {dtype} input")
    return input.new_full((), value)


def _is_masked_tensor(input):
    """Whether ``input`` is a MaskedTensor (its module, which imports this one, is not imported here)."""
    module = sys.modules.get(f"{__package__}.maskedtensor")
    return module is not None and isinstance(input, module.MaskedTensor)


class _Combine(Function):
    """A MaskedTensor's data with its masked-out elements replaced by ``fill``: the gradient reaches
    every element of the data, as a MaskedTensor of the data's ``mask`` (PyTorch's ``Combine``)."""

    @staticmethod
    def forward(ctx, data, mask, fill):
        ctx.mask = mask
        return where(mask, data, fill)

    @staticmethod
    def backward(ctx, grad):
        module = sys.modules[f"{__package__}.maskedtensor"]
        return module.MaskedTensor(module._data(grad), ctx.mask), None, None


def _masked_input(op, input, mask, ord=2.0):
    """``input`` with its masked-out elements replaced by ``op``'s identity (``input`` itself without
    a mask); a MaskedTensor ``input`` by its own mask, as a plain tensor (:class:`_Combine`)."""
    if _is_masked_tensor(input):
        data = input.get_data()
        return _Combine.apply(data, input.get_mask(), _identity(op, data, ord))
    if mask is None:
        return input
    return where(_input_mask(input, mask), input, _identity(op, input, ord))


def _widened(dtype, input):
    if dtype is not None:
        return dtype
    return int64 if str(input.dtype).split(".")[-1] in _WIDENED_TO_INT64 else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A001 - PyTorch's name
    """Sum of the masked-in elements of ``input`` over ``dim`` (every dimension when None); a slice
    with no masked-in element sums to 0. Integer and bool inputs of fewer than 64 bits sum into
    int64 unless ``dtype`` says otherwise.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimensions to reduce. Default: all.
        keepdim (bool): keep the reduced dimensions with size 1. Default: ``False``.
        dtype (ember.dtype, optional): the result's dtype.
        mask (Tensor, optional): which elements take part, broadcastable to ``input``.

    Example::

        >>> x = ember.tensor([[-3, -2, -1], [0, 1, 2]])
        >>> mask = ember.tensor([[False, False, False], [True, False, True]])
        >>> ember.masked.sum(x, 1, mask=mask)
        tensor([0, 2])
    """
    dtype = _widened(dtype, input)
    return _masked_input("sum", input, mask).sum(_reduced_dims(dim, input.ndim), keepdim=bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the masked-in elements of ``input`` over ``dim`` (every dimension when None), one
    dimension at a time from the last; a slice with no masked-in element gives 1. Arguments as
    :func:`sum`.

    Example::

        >>> x = ember.tensor([[-3, -2, -1], [0, 1, 2]])
        >>> ember.masked.prod(x, 1, mask=ember.tensor([[False, False, False], [True, False, True]]))
        tensor([1, 0])
    """
    result = _masked_input("prod", input, mask).to(dtype=_widened(dtype, input))
    for d in reversed(_reduced_dims(dim, input.ndim)):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input, dim, *, dtype=None, mask=None):
    """Cumulative sum along ``dim`` with the masked-out elements counted as 0.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
        >>> ember.masked.cumsum(x, 0, mask=ember.tensor([True, False, True, True]))
        tensor([1., 1., 4., 8.])
    """
    dtype = input.dtype if dtype is None else dtype
    return _masked_input("sum", input, mask).cumsum(_reduced_dims(dim, input.ndim)[0], dtype=dtype).to(dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Cumulative product along ``dim`` with the masked-out elements counted as 1.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
        >>> ember.masked.cumprod(x, 0, mask=ember.tensor([True, False, True, True]))
        tensor([ 1.,  1.,  3., 12.])
    """
    dtype = input.dtype if dtype is None else dtype
    return _masked_input("prod", input, mask).cumprod(_reduced_dims(dim, input.ndim)[0], dtype=dtype).to(dtype=dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Maximum of the masked-in elements over ``dim``; a slice with none gives ``-inf`` (the integer
    type's minimum for integers). The result is cast to ``dtype`` (default: ``input``'s).

    Example::

        >>> x = ember.tensor([[-3.0, -2.0, -1.0], [0.0, 1.0, 2.0]])
        >>> ember.masked.amax(x, 1, mask=ember.tensor([[False, False, False], [True, True, False]]))
        tensor([-inf, 1.])
    """
    masked = _masked_input("amax", input, mask)
    result = masked.amax(_reduced_dims(dim, masked.ndim), keepdim=bool(keepdim))
    return result.to(dtype=input.dtype if dtype is None else dtype)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Minimum of the masked-in elements over ``dim``; a slice with none gives ``inf`` (the integer
    type's maximum for integers). Arguments as :func:`amax`.

    Example::

        >>> x = ember.tensor([[-3.0, -2.0, -1.0], [0.0, 1.0, 2.0]])
        >>> ember.masked.amin(x, 1, mask=ember.tensor([[False, False, False], [False, True, True]]))
        tensor([inf, 1.])
    """
    masked = _masked_input("amin", input, mask)
    result = masked.amin(_reduced_dims(dim, masked.ndim), keepdim=bool(keepdim))
    return result.to(dtype=input.dtype if dtype is None else dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the largest masked-in element along ``dim`` (of the flattened input when None),
    cast to ``dtype``, which defaults to ``input``'s dtype, as in PyTorch.

    Example::

        >>> x = ember.tensor([[3.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
        >>> ember.masked.argmax(x, 1, mask=ember.tensor([[False, True, True], [True, True, False]]))
        tensor([1., 1.])
    """
    result = _masked_input("argmax", input, mask).argmax(dim, bool(keepdim))
    return result.to(dtype=input.dtype if dtype is None else dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the smallest masked-in element along ``dim``; arguments as :func:`argmax`.

    Example::

        >>> x = ember.tensor([[3.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
        >>> ember.masked.argmin(x, 1, mask=ember.tensor([[True, True, False], [False, True, True]]))
        tensor([1., 1.])
    """
    result = _masked_input("argmin", input, mask).argmin(dim, bool(keepdim))
    return result.to(dtype=input.dtype if dtype is None else dtype)


def _float_dtype(op, dtype, input):
    if dtype is None:
        dtype, source = input.dtype, "Input"
    else:
        source = "Optional"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(
            f"{op}(): Could not infer output dtype. {source} dtype must be either a floating point or complex "
            f"dtype. Got: {dtype}"
        )
    return dtype


def _count(input, dim, keepdim, mask):
    """How many elements each reduced slice holds (masked-in ones only with a mask), as int64."""
    if mask is None:
        return sum(ones(input.shape, dtype=int64, device=input.device), dim, keepdim=keepdim)
    return mask.sum(dim=dim, keepdim=bool(keepdim))


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the masked-in elements over ``dim``: their sum divided by their count (``nan`` for a
    slice with none). ``input`` (or ``dtype``) must be floating point or complex.

    Example::

        >>> x = ember.tensor([[-3.0, -2.0, -1.0], [0.0, 1.0, 2.0]])
        >>> ember.masked.mean(x, 1, mask=ember.tensor([[False, False, False], [True, False, True]]))
        tensor([nan, 1.])
    """
    dtype = _float_dtype("mean", dtype, input)
    if mask is not None:
        mask = _input_mask(input, mask)
    return sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask) / _count(input, dim, keepdim, mask)


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median of the masked-in elements along one dimension (``nan`` for a slice with none, which an
    integer input refuses with ValueError). Integer inputs are ranked as float32 and the result cast
    back to ``dtype`` (default: ``input``'s).

    Example::

        >>> x = ember.tensor([[3.0, 1.0, 2.0], [5.0, 4.0, 6.0]])
        >>> ember.masked.median(x, 1, mask=ember.tensor([[True, True, False], [True, True, True]]))
        tensor([1., 5.])
    """
    dtype = input.dtype if dtype is None else dtype
    dim = _reduced_dims(dim, input.ndim)[0]
    floating = input.dtype.is_floating_point
    if not floating:
        input = input.to(dtype=float32)
    output = _masked_input("median", input, mask).nanmedian(dim, keepdim).values
    if floating:
        return output
    if bool(output.isnan().any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return output.to(dtype=dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """``log(sum(exp(x)))`` of the masked-in elements over ``dim`` (``-inf`` for a slice with none).

    Example::

        >>> x = ember.tensor([[0.0, 0.0, 5.0], [1.0, 2.0, 3.0]])
        >>> ember.masked.logsumexp(x, 1, mask=ember.tensor([[True, True, False], [False, False, False]]))
        tensor([0.6931,   -inf])
    """
    masked = _masked_input("logsumexp", input, mask)
    result = masked.logsumexp(_reduced_dims(dim, input.ndim), keepdim=keepdim)
    return result.to(dtype=input.dtype if dtype is None else dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """``log(exp(input) + exp(other))`` with the masked-out elements of each operand taken as
    ``-inf`` (``input_mask``, ``other_mask``: broadcastable to their operand; None: every element).

    Example::

        >>> input = ember.tensor([-100.0, -200.0, -300.0])
        >>> other = ember.tensor([-1.0, -2.0, -3.0])
        >>> mask = ember.tensor([True, False, True])
        >>> ember.masked.logaddexp(input, other, input_mask=mask, other_mask=mask)
        tensor([-1., -inf, -3.])
    """
    result = _masked_input("logaddexp", input, input_mask).logaddexp(_masked_input("logaddexp", other, other_mask))
    return result.to(dtype=input.dtype if dtype is None else dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Vector ``ord``-norm of the masked-in elements over ``dim`` (:func:`ember.linalg.vector_norm`);
    the masked-out ones count as 0 (as ``inf`` for ``ord=-inf``).

    Example::

        >>> x = ember.tensor([[3.0, 4.0, 12.0], [1.0, 1.0, 1.0]])
        >>> ember.masked.norm(x, 2.0, 1, mask=ember.tensor([[True, True, False], [False, False, False]]))
        tensor([5., 0.])
    """
    from ..linalg import vector_norm

    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("norm", input, mask, ord)
    return vector_norm(masked, ord, _reduced_dims(dim, input.ndim), bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt):
    """The masked variance (its square root with ``take_sqrt``) of :func:`var` and :func:`std`:
    the squared distances from the masked mean, summed and divided by the count less ``correction``
    (at least 0; ``unbiased``: a correction of 1 or 0)."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    if correction is None:
        correction = 1.0 if unbiased is None or unbiased else 0.0
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point or input.dtype.is_complex else float32
    compute_dtype = dtype if dtype.is_floating_point or dtype.is_complex else float32
    if mask is not None:
        mask = _input_mask(input, mask)
    count = _count(input, dim, True, mask)
    deviation = input - sum(input, dim, keepdim=True, dtype=dtype, mask=mask) / count
    total = sum(deviation * deviation.conj(), dim, keepdim=keepdim, dtype=compute_dtype, mask=mask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        count = count.to(compute_dtype.to_real() if compute_dtype.is_complex else compute_dtype) - float(correction)
        count = count.clamp_min(0)
    output = (total / count).to(dtype=dtype)
    return output.sqrt() if take_sqrt else output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Variance of the masked-in elements over ``dim``, with Bessel's ``correction`` (default 1;
    ``unbiased=False``: 0); ``nan`` for a slice with no more elements than the correction.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 8.0, 0.0]])
        >>> ember.masked.var(x, 1, mask=ember.tensor([[True, True, True], [True, True, False]]))
        tensor([1., 8.])
    """
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Standard deviation of the masked-in elements over ``dim``: the square root of :func:`var`.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 8.0, 0.0]])
        >>> ember.masked.std(x, 1, mask=ember.tensor([[True, True, True], [True, False, True]]))
        tensor([1.0000, 2.8284])
    """
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=True)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the masked-in elements: the masked-out ones get 0 (a slice with
    none masked in gives ``nan``).

    Example::

        >>> x = ember.tensor([[1.0, 1.0, 5.0], [2.0, 3.0, 4.0]])
        >>> ember.masked.softmax(x, 1, mask=ember.tensor([[True, True, False], [False, False, False]]))
        tensor([[0.5000, 0.5000, 0.0000],
                [   nan,    nan,    nan]])
    """
    from ..nn import functional as F

    dtype = input.dtype if dtype is None else dtype
    return F.softmax(_masked_input("amax", input, mask), _reduced_dims(dim, input.ndim)[0], dtype=dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """Log-softmax along ``dim`` over the masked-in elements: the masked-out ones get ``-inf``.

    Example::

        >>> x = ember.tensor([1.0, 1.0, 5.0])
        >>> ember.masked.log_softmax(x, 0, mask=ember.tensor([True, True, False]))
        tensor([-0.6931, -0.6931,    -inf])
    """
    from ..nn import functional as F

    dtype = input.dtype if dtype is None else dtype
    return F.log_softmax(_masked_input("amax", input, mask), _reduced_dims(dim, input.ndim)[0], dtype=dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin along ``dim`` over the masked-in elements: the masked-out ones get 0.

    Example::

        >>> x = ember.tensor([1.0, 1.0, -5.0])
        >>> ember.masked.softmin(x, 0, mask=ember.tensor([True, True, False]))
        tensor([0.5000, 0.5000, 0.0000])
    """
    from ..nn import functional as F

    dtype = input.dtype if dtype is None else dtype
    return F.softmin(_masked_input("amin", input, mask), _reduced_dims(dim, input.ndim)[0], dtype=dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """``input`` divided by the masked ``ord``-norm of its slices along ``dim`` (at least ``eps``);
    the masked-out elements give 0.

    Example::

        >>> x = ember.tensor([3.0, 4.0, 12.0])
        >>> ember.masked.normalize(x, 2.0, 0, mask=ember.tensor([True, True, False]))
        tensor([0.6000, 0.8000, 0.0000])
    """
    dtype = input.dtype if dtype is None else dtype
    norms = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return _masked_input("sum", input, mask) / maximum(norms, norms.new_full((), eps))
