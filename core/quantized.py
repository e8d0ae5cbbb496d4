"""Quantized tensors and fake quantization, as PyTorch's tensor-level quantization.

A quantized tensor (:class:`QuantizedTensor`) holds integers (an int8, uint8 or int32 tensor on
any device) with the quantization parameters that map them to real numbers:
``real = (q - zero_point) * scale``, one ``scale``/``zero_point`` for the whole tensor
(``ember.per_tensor_affine``) or one per slice along ``axis`` (``ember.per_channel_affine``).
It is not a dense :class:`~ember.Tensor`, as ember's sparse tensors are not: it answers PyTorch's
quantized-tensor methods (``int_repr``, ``q_scale``, ``q_zero_point``, ``q_per_channel_scales``,
``dequantize`` ...), prints as PyTorch prints it, and takes the view operations of the integers.

The numbers are PyTorch's (CPU), bit for bit:

* ``quantize_per_tensor`` to ``quint8``/``qint8`` rounds ``x * inv_scale + zero_point`` computed
  with one rounding to float32 (FBGEMM's fused multiply-add), half to even; to ``qint32``, and
  ``quantize_per_channel``, it rounds ``float32(x * inv_scale) + zero_point`` (two float32 roundings);
  to ``quint4x2``/``quint2x4`` it rounds ``x * inv_scale`` and adds the zero point after;
  ``inv_scale = 1 / float32(scale)`` in float32. Then the result is clamped to the type's range.
* ``dequantize`` gives ``float32(q - zero_point) * float32(scale)`` per tensor, and
  ``float32((q - zero_point) * scale)`` with the float64 scales per channel.
* ``fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine`` (integer zero points)
  round ``x * inv_scale`` first and add the zero point after, clamp to ``[quant_min, quant_max]``
  and give ``(q - zero_point) * scale`` in float32; their gradient is the straight-through estimator
  (the incoming gradient where ``quant_min <= q <= quant_max``, zero elsewhere).
"""

from __future__ import annotations

import builtins as _builtins
import math
import warnings
from typing import Any

import numpy as np

from . import dtypes, printing
from .autograd.function import Function
from .layout import strided
from .named_constant import NamedConstant
from .ops.arithmetic import where
from .ops.creation import zeros_like
from .tensor import Size, Tensor, tensor
from .type_names import type_name

__all__ = [
    "qscheme",
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
    "QuantizedTensor",
    "quantize_per_tensor",
    "quantize_per_channel",
    "quantize_per_tensor_dynamic",
    "dequantize",
    "fake_quantize_per_tensor_affine",
    "fake_quantize_per_channel_affine",
    "choose_qparams_optimized",
    "fused_moving_avg_obs_fake_quant",
    "_fake_quantize_learnable_per_tensor_affine",
    "_fake_quantize_learnable_per_channel_affine",
]


class qscheme(NamedConstant):  # noqa: N801 - mirrors torch.qscheme
    """A quantization scheme: how a quantized tensor's scale and zero point apply to its elements.

    One object per scheme (``ember.per_tensor_affine``, ``ember.per_channel_affine``,
    ``ember.per_tensor_symmetric``, ``ember.per_channel_symmetric``,
    ``ember.per_channel_affine_float_qparams``), so schemes compare with ``is`` and ``==``.

    Example::

        >>> ember.per_tensor_affine
        ember.per_tensor_affine
        >>> ember.quantize_per_tensor(ember.tensor([1.0]), 0.1, 0, ember.qint8).qscheme()
        ember.per_tensor_affine
    """

    __slots__ = ()


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")

#: quantized dtype -> (the dtype that holds its integers, its smallest and largest value)
_STORAGE = {
    dtypes.qint8: (dtypes.int8, -128, 127),
    dtypes.quint8: (dtypes.uint8, 0, 255),
    dtypes.qint32: (dtypes.int32, -(2**31), 2**31 - 1),
    dtypes.quint4x2: (dtypes.uint8, 0, 15),
    dtypes.quint2x4: (dtypes.uint8, 0, 3),
}
_warned = [False]


def _deprecation_warning() -> None:
    """PyTorch 2.13's warning (once per process) that the quantized tensor types are deprecated."""
    if not _warned[0]:
        _warned[0] = True
        warnings.warn(
            "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor creation functions "
            "that produce tensors with dtype torch.quint8, torch.qint8, and torch.qint32 are deprecated and will be "
            "removed in a future PyTorch release.",
            UserWarning,
            stacklevel=3,
        )


def _scalar_name(d: dtypes.dtype) -> str:
    return dtypes.TORCH_SCALAR_NAMES.get(d.name, d.name)


def _has_float64(t: Tensor) -> bool:
    return bool(getattr(t._backend, "supports_float64", True))


def _inv_scale(scale: float) -> float:
    """``1.0f / float32(scale)`` as PyTorch's kernels compute it, as a Python float."""
    with np.errstate(divide="ignore", over="ignore"):
        return _builtins.float(np.float32(1.0) / np.float32(scale))


def _fused_affine(x32: Tensor, inv: Any, zero_point: Any) -> Tensor:
    """``float32(x * inv + zero_point)`` rounded once (a fused multiply-add in float32): the product of
    two float32 numbers is exact in float64, so the sum there rounds (almost always) as one FMA.
    ``inv`` and ``zero_point`` are numbers or tensors broadcasting against ``x32``. Without float64 on
    the device, two float32 roundings."""
    if _has_float64(x32):
        inv64 = inv.double() if isinstance(inv, Tensor) else inv
        zp64 = zero_point.double() if isinstance(zero_point, Tensor) else zero_point
        return (x32.double() * inv64 + zp64).float()
    return x32 * inv + zero_point


def _clamp_to_int(values: Tensor, qmin: int, qmax: int, nan: int | None = None) -> Tensor:
    """The integral float ``values`` clamped to ``[qmin, qmax]`` as int64 (beyond int32's range first
    clamped in float, so that no conversion overflows; NaN becomes ``nan``, by default ``qmin``)."""
    bounded = values.clamp(-(2.0**31), 2.0**31)
    bounded = bounded.masked_fill(bounded != bounded, qmin if nan is None else nan)
    return bounded.to(dtypes.int64).clamp(qmin, qmax)


def _float_input(op: str, input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input.dtype is not dtypes.float32:
        raise RuntimeError(f"Quantize only works on Float Tensor, got {_scalar_name(input.dtype)}")
    return input.detach()


def _quantized_dtype(dtype: Any) -> dtypes.dtype:
    d = dtypes.as_dtype(dtype)
    if d not in _STORAGE:
        raise RuntimeError(f"ScalarType {_scalar_name(d)} is not supported in new_qtensor.")
    return d


class QuantizedTensor:
    """A quantized tensor: integers and the scale and zero point(s) that make them real numbers.

    Build with :func:`ember.quantize_per_tensor` or :func:`ember.quantize_per_channel`. It holds
    the integers as a dense tensor of the underlying type (``int8`` for ``qint8``, ``uint8`` for
    ``quint8``, ``quint4x2`` and ``quint2x4``, ``int32`` for ``qint32``; one value per element).
    """

    is_quantized = True
    is_sparse = False
    layout = strided
    requires_grad = False
    grad = None
    grad_fn = None
    is_leaf = True

    def __init__(
        self,
        ints: Tensor,
        dtype: dtypes.dtype,
        scheme: qscheme,
        scale: float | Tensor,
        zero_point: int | Tensor,
        axis: int | None = None,
    ) -> None:
        self._ints = ints
        self._qdtype = dtype
        self._qscheme = scheme
        self._scale = scale  # a Python float per tensor; float64 scales per channel
        self._zero_point = zero_point  # a Python int per tensor; int64 zero points per channel
        self._axis = axis

    # -- identity ------------------------------------------------------------------------------
    @property
    def dtype(self) -> dtypes.dtype:
        return self._qdtype

    @property
    def shape(self) -> Size:
        return self._ints.shape

    def size(self, dim: int | None = None) -> Any:
        return self._ints.size() if dim is None else self._ints.size(dim)

    def dim(self) -> int:
        return self._ints.dim()

    @property
    def ndim(self) -> int:
        return self._ints.ndim

    def numel(self) -> int:
        return self._ints.numel()

    nelement = numel

    def __len__(self) -> int:
        return len(self._ints)

    @property
    def device(self) -> Any:
        return self._ints.device

    @property
    def is_cuda(self) -> bool:
        return self._ints.device.type == "cuda"

    def stride(self, dim: int | None = None) -> Any:
        return self._ints.stride() if dim is None else self._ints.stride(dim)

    def is_contiguous(self, *args: Any, **kwargs: Any) -> bool:
        return self._ints.is_contiguous(*args, **kwargs)

    def element_size(self) -> int:
        return self._qdtype.itemsize

    def is_floating_point(self) -> bool:
        return False

    def is_complex(self) -> bool:
        return False

    # -- the quantization parameters ------------------------------------------------------------
    def qscheme(self) -> qscheme:
        """The quantization scheme (``ember.per_tensor_affine`` or ``ember.per_channel_affine``)."""
        return self._qscheme

    def _per_tensor(self, op: str) -> None:
        if self._qscheme is not per_tensor_affine:
            raise RuntimeError(
                f"{op}: expected a per-tensor quantized tensor (quantizer->qscheme() == kPerTensorAffine), "
                f"got {self._qscheme}"
            )

    def _per_channel(self, op: str) -> None:
        if self._qscheme is per_tensor_affine:
            raise RuntimeError(
                f"{op}: expected a per-channel quantized tensor (quantizer->qscheme() == kPerChannelAffine || "
                f"quantizer->qscheme() == kPerChannelAffineFloatQParams), got {self._qscheme}"
            )

    def q_scale(self) -> float:
        """The scale of a per-tensor quantized tensor (a Python float, as given)."""
        self._per_tensor("q_scale")
        return self._scale  # type: ignore[return-value]

    def q_zero_point(self) -> int:
        """The zero point of a per-tensor quantized tensor (a Python int)."""
        self._per_tensor("q_zero_point")
        return self._zero_point  # type: ignore[return-value]

    def q_per_channel_scales(self) -> Tensor:
        """The float64 scales of a per-channel quantized tensor, one per slice along its axis."""
        self._per_channel("q_per_channel_scales")
        return self._scale.clone()  # type: ignore[union-attr]

    def q_per_channel_zero_points(self) -> Tensor:
        """The int64 zero points of a per-channel quantized tensor."""
        self._per_channel("q_per_channel_zero_points")
        return self._zero_point.clone()  # type: ignore[union-attr]

    def q_per_channel_axis(self) -> int:
        """The dimension along which a per-channel quantized tensor's parameters vary."""
        self._per_channel("q_per_channel_axis")
        return self._axis  # type: ignore[return-value]

    # -- values ---------------------------------------------------------------------------------
    def int_repr(self) -> Tensor:
        """The integers as a dense tensor of the underlying type (a copy). ``quint4x2`` and
        ``quint2x4`` give their packed bytes (two or four values a byte, the first in the low bits), as
        PyTorch does."""
        ints = self._ints
        per_byte = {dtypes.quint4x2: 2, dtypes.quint2x4: 4}.get(self._qdtype)
        if per_byte is None:
            return ints.contiguous().clone()
        bits = 8 // per_byte
        flat = ints.reshape(-1).to(dtypes.int64)
        pad = (-flat.numel()) % per_byte
        if pad:
            flat = _cat_zeros(flat, pad)
        grouped = flat.reshape(-1, per_byte)
        packed = grouped[:, 0]
        for i in range(1, per_byte):
            packed = packed + grouped[:, i] * (1 << (bits * i))
        if ints.dim() == 0:
            return packed.reshape(()).to(dtypes.uint8)
        return packed.to(dtypes.uint8)

    def dequantize(self) -> Tensor:
        """The real numbers, float32: ``(q - zero_point) * scale``, as PyTorch computes them."""
        ints = self._ints.to(dtypes.int64)
        if self._qscheme is per_tensor_affine:
            return (ints - self._zero_point).float() * _builtins.float(np.float32(self._scale))
        shape = [1] * ints.dim()
        shape[self._axis] = -1  # type: ignore[index]
        zp = self._zero_point.reshape(shape)  # type: ignore[union-attr]
        scales = self._scale.reshape(shape)  # type: ignore[union-attr]
        if not _has_float64(ints):
            return (ints - zp).float() * scales.float()
        if self._qscheme is per_channel_affine_float_qparams:  # all in float32
            return (ints.float() - zp.float()) * scales.float()
        return ((ints - zp).double() * scales).float()

    # -- copies, devices and views --------------------------------------------------------------
    def _with(self, ints: Tensor, axis: int | None = None) -> QuantizedTensor:
        return QuantizedTensor(
            ints, self._qdtype, self._qscheme, self._scale, self._zero_point, self._axis if axis is None else axis
        )

    def clone(self, *, memory_format: Any = None) -> QuantizedTensor:
        return self._with(self._ints.clone())

    def detach(self) -> QuantizedTensor:
        return self

    def contiguous(self, *args: Any, **kwargs: Any) -> QuantizedTensor:
        return self._with(self._ints.contiguous(*args, **kwargs))

    def to(self, *args: Any, **kwargs: Any) -> QuantizedTensor:
        """Move to another device (the dtype stays: PyTorch converts a quantized tensor to no other)."""
        target = kwargs.pop("device", None)
        for a in args:
            if isinstance(a, dtypes.dtype):
                if a is not self._qdtype:
                    raise RuntimeError(f"to: a quantized tensor converts to no other dtype (got {a})")
            elif a is not None:
                target = a
        if target is None:
            return self
        moved = self._ints.to(target)
        if self._qscheme is per_tensor_affine:
            return QuantizedTensor(moved, self._qdtype, self._qscheme, self._scale, self._zero_point)
        scale, zp = self._scale.to(target), self._zero_point.to(target)  # type: ignore[union-attr]
        return QuantizedTensor(moved, self._qdtype, self._qscheme, scale, zp, self._axis)

    def cpu(self) -> QuantizedTensor:
        return self.to("cpu")

    def _view_op(self, name: str, *args: Any, **kwargs: Any) -> QuantizedTensor:
        if self._qscheme is not per_tensor_affine:
            raise RuntimeError(f"{name}: ember takes views of per-tensor quantized tensors only, got {self._qscheme}")
        return self._with(getattr(self._ints, name)(*args, **kwargs))

    def view(self, *shape: Any) -> QuantizedTensor:
        return self._view_op("view", *shape)

    def reshape(self, *shape: Any) -> QuantizedTensor:
        return self._view_op("reshape", *shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> QuantizedTensor:
        return self._view_op("flatten", start_dim, end_dim)

    def squeeze(self, *dim: Any) -> QuantizedTensor:
        return self._view_op("squeeze", *dim)

    def unsqueeze(self, dim: int) -> QuantizedTensor:
        if self._qscheme is per_tensor_affine:
            return self._view_op("unsqueeze", dim)
        ints = self._ints.unsqueeze(dim)
        d = dim % ints.dim()
        return self._with(ints, self._axis + 1 if d <= self._axis else self._axis)  # type: ignore[operator]

    def _strided_op(self, name: str, *args: Any) -> QuantizedTensor:
        if self._qscheme is not per_tensor_affine:  # PyTorch's refusal
            raise RuntimeError(f"{name}: Setting strides is possible only on uniformly quantized tensor")
        return self._with(getattr(self._ints, name)(*args))

    def transpose(self, dim0: int, dim1: int) -> QuantizedTensor:
        return self._strided_op("transpose", dim0, dim1)

    def t(self) -> QuantizedTensor:
        return self._strided_op("t")

    def permute(self, *dims: Any) -> QuantizedTensor:
        return self._strided_op("permute", *dims)

    def __getitem__(self, index: Any) -> QuantizedTensor:
        if self._qscheme is not per_tensor_affine and isinstance(index, int) and self._axis:
            return self._with(self._ints[index], self._axis - 1)  # type: ignore[operator]
        return self._view_op("__getitem__", index)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """Elementwise equality of the real values (a bool tensor), as PyTorch's quantized ``eq``."""
        return self.dequantize() == (other.dequantize() if isinstance(other, QuantizedTensor) else other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self.dequantize() != (other.dequantize() if isinstance(other, QuantizedTensor) else other)

    __hash__ = object.__hash__

    def equal(self, other: Any) -> bool:
        """True if ``other`` is a quantized tensor with the same scheme, parameters, dtype, shape and integers
        (PyTorch's ``torch.equal`` of quantized tensors)."""
        if not isinstance(other, QuantizedTensor) or other._qdtype is not self._qdtype:
            return False
        if other._qscheme is not self._qscheme or tuple(other.shape) != tuple(self.shape):
            return False
        if self._qscheme is per_tensor_affine:
            same = (self._scale, self._zero_point) == (other._scale, other._zero_point)
        else:
            same = (
                self._axis == other._axis
                and bool((self._scale == other._scale).all())  # type: ignore[union-attr]
                and bool((self._zero_point == other._zero_point).all())  # type: ignore[union-attr]
            )
        return same and bool((self._ints == other._ints).all())

    def tolist(self) -> Any:
        raise RuntimeError("load_scalar: invalid type (tolist of a quantized tensor: dequantize() it first)")

    def numpy(self) -> Any:
        raise TypeError(f"Got unsupported ScalarType {_scalar_name(self._qdtype)}")

    def __repr__(self) -> str:
        return printing.quantized_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        if self._qscheme is per_tensor_affine:
            return (
                _rebuild_per_tensor,
                (self._ints.cpu().numpy(), self._qdtype.name, self._scale, self._zero_point, str(self.device)),
            )
        return (
            _rebuild_per_channel,
            (
                self._ints.cpu().numpy(),
                self._qdtype.name,
                self._scale.cpu().numpy(),  # type: ignore[union-attr]
                self._zero_point.cpu().numpy(),  # type: ignore[union-attr]
                self._axis,
                self._qscheme.name,
                str(self.device),
            ),
        )


def _rebuild_per_tensor(ints: Any, name: str, scale: float, zero_point: int, device: str) -> QuantizedTensor:
    return QuantizedTensor(tensor(ints, device=device), dtypes.as_dtype(name), per_tensor_affine, scale, zero_point)


def _rebuild_per_channel(
    ints: Any, name: str, scales: Any, zero_points: Any, axis: int, scheme: str, device: str
) -> QuantizedTensor:
    return QuantizedTensor(
        tensor(ints, device=device),
        dtypes.as_dtype(name),
        globals()[scheme],
        tensor(scales, device=device),
        tensor(zero_points, device=device),
        axis,
    )


def _cat_zeros(flat: Tensor, count: int) -> Tensor:
    from .ops.movement import cat

    return cat([flat, flat.new_zeros((count,))])


def _number(value: Any, kind: type, op: str, what: str) -> Any:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"a Tensor with {value.numel()} elements cannot be converted to Scalar ({op}: {what})")
        return kind(value.item())
    if kind is _builtins.int and not isinstance(value, (_builtins.int, np.integer)):
        raise TypeError(f"{op}(): argument '{what}' must be int or a one-element Tensor, not {type_name(value)}")
    return kind(value)


def quantize_per_tensor(input: Any, scale: Any, zero_point: Any, dtype: dtypes.dtype) -> Any:
    """Quantize a float tensor with one scale and zero point: ``clamp(round(input / scale) + zero_point)``.

    Args:
        input (Tensor or list of Tensor): float32 tensor(s) to quantize.
        scale (float or Tensor): the scale (with a list of tensors, a tensor of one scale each).
        zero_point (int or Tensor): the zero point, within the range of ``dtype``.
        dtype (ember.dtype): ``ember.quint8``, ``ember.qint8``, ``ember.qint32`` or ``ember.quint4x2``.

    Returns:
        QuantizedTensor (a list of them for a list of tensors).

    Example::

        >>> q = ember.quantize_per_tensor(ember.tensor([-1.0, 0.0, 1.0, 2.0]), 0.1, 10, ember.quint8)
        >>> q.int_repr()
        tensor([ 0, 10, 20, 30], dtype=ember.uint8)
        >>> q.dequantize()
        tensor([-1.,  0.,  1.,  2.])
    """
    if isinstance(input, (list, tuple)):
        scales = [_builtins.float(s) for s in (scale.tolist() if isinstance(scale, Tensor) else scale)]
        zps = [_builtins.int(z) for z in (zero_point.tolist() if isinstance(zero_point, Tensor) else zero_point)]
        if not (len(scales) == len(zps) == len(input)):
            raise RuntimeError(
                f"quantize_per_tensor: {len(input)} tensors need as many scales and zero points, "
                f"got {len(scales)} and {len(zps)}"
            )
        return [quantize_per_tensor(t, s, z, dtype) for t, s, z in zip(input, scales, zps, strict=True)]
    x = _float_input("quantize_per_tensor", input)
    d = _quantized_dtype(dtype)
    scale = _number(scale, _builtins.float, "quantize_per_tensor", "scale")
    zero_point = _number(zero_point, _builtins.int, "quantize_per_tensor", "zero_point")
    _deprecation_warning()
    storage, qmin, qmax = _STORAGE[d]
    if zero_point > qmax:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is above upper bound.")
    if zero_point < qmin:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is below lower bound.")
    inv = _inv_scale(scale)
    if d is dtypes.qint32:  # PyTorch's own loop: two float32 roundings, the zero point added in float32
        values = (x * inv + _builtins.float(np.float32(zero_point))).round()
    elif d in (dtypes.quint4x2, dtypes.quint2x4):  # quantize_val: rounded, then the zero point added
        values = (x * inv).round() + zero_point
        values = values.masked_fill(~(values.abs() < 2.0**63), qmin)  # int64's conversion of inf and NaN
    else:  # FBGEMM: one fused multiply-add (and NaN saturates to the top)
        values = _fused_affine(x, inv, zero_point).round()
        return QuantizedTensor(
            _clamp_to_int(values, qmin, qmax, nan=qmax).to(storage), d, per_tensor_affine, scale, zero_point
        )
    ints = _clamp_to_int(values, qmin, qmax).to(storage)
    return QuantizedTensor(ints, d, per_tensor_affine, scale, zero_point)


def _channel_params(op: str, x: Tensor, scales: Any, zero_points: Any, axis: int) -> tuple[Tensor, Tensor, int]:
    if not isinstance(scales, Tensor) or not isinstance(zero_points, Tensor):
        raise TypeError(f"{op}: scales and zero_points must be tensors")
    if scales.dim() != 1 or zero_points.dim() != 1:
        raise RuntimeError(f"{op}: scales and zero_points must be 1-D tensors")
    if not 0 <= axis < x.dim():  # PyTorch takes no negative axis here
        raise RuntimeError(
            f"Channel axis out of range in per channel affine quantization. Got: {axis}Expected: [0, {x.dim()})"
        )
    if scales.numel() != zero_points.numel():
        raise RuntimeError("number of elements in scales and zero_points must match")
    if scales.numel() != x.shape[axis]:
        raise RuntimeError(f"length of scales must equal to channel, expected {x.shape[axis]} got, {scales.numel()}")
    return scales, zero_points, axis


def quantize_per_channel(input: Tensor, scales: Tensor, zero_points: Tensor, axis: int, dtype: dtypes.dtype) -> Any:
    """Quantize a float tensor with one scale and zero point per slice along ``axis``.

    Args:
        input (Tensor): the float32 tensor to quantize.
        scales (Tensor): 1-D, one scale per slice (kept as float64).
        zero_points (Tensor): 1-D integers, one zero point per slice (kept as int64).
        axis (int): the dimension the parameters vary along.
        dtype (ember.dtype): ``ember.quint8``, ``ember.qint8`` or ``ember.qint32``.

    Example::

        >>> x = ember.tensor([[-1.0, 0.0], [1.0, 2.0]])
        >>> q = ember.quantize_per_channel(x, ember.tensor([0.1, 0.01]), ember.tensor([10, 0]), 0, ember.quint8)
        >>> q.int_repr()
        tensor([[  0,  10],
                [100, 200]], dtype=ember.uint8)
        >>> q.dequantize()
        tensor([[-1.,  0.],
                [ 1.,  2.]])
    """
    if isinstance(input, Tensor) and input.dtype is not dtypes.float32:
        raise RuntimeError(
            f"quantize_tensor_per_channel_affine expects a Float Tensor, got {_scalar_name(input.dtype)}"
        )
    x = _float_input("quantize_per_channel", input)
    d = _quantized_dtype(dtype)
    scales, zero_points, axis = _channel_params("quantize_per_channel", x, scales, zero_points, axis)
    _deprecation_warning()
    storage, qmin, qmax = _STORAGE[d]
    if zero_points.numel():
        highest, lowest = zero_points.max().item(), zero_points.min().item()
        if highest > qmax:
            raise RuntimeError(f"quantize_tensor_per_channel_affine zero_point {highest} is above upper bound.")
        if lowest < qmin:
            raise RuntimeError(f"quantize_tensor_per_channel_affine zero_point {lowest} is below lower bound.")
    float_qparams = zero_points.dtype.is_floating_point  # PyTorch's per_channel_affine_float_qparams
    zp = zero_points.float() if float_qparams else zero_points.to(dtypes.int64)
    shape = [1] * x.dim()
    shape[axis] = -1
    inv = (1.0 / scales.float()).reshape(shape)
    values = (x * inv + zp.float().reshape(shape)).round()
    ints = _clamp_to_int(values, qmin, qmax, nan=qmin if d is dtypes.qint32 else 0).to(storage)  # NaN as PyTorch
    kept = scales.double() if _has_float64(scales) else scales.float()
    scheme = per_channel_affine_float_qparams if float_qparams else per_channel_affine
    return QuantizedTensor(ints, d, scheme, kept.detach().clone(), zp.detach().clone(), axis)


def _choose_qparams(
    lo: float, hi: float, qmin: int, qmax: int, reduce_range: bool = False, preserve_sparsity: bool = False
) -> tuple[float, int]:
    """PyTorch's (and FBGEMM's) ``ChooseQuantizationParams``: the scale (a float64 number) and the nudged
    integer zero point that map ``[min(lo, 0), max(hi, 0)]`` onto ``[qmin, qmax]``, with its float32 and
    float64 steps. ``preserve_sparsity`` (the symmetric schemes) centres the range on zero first and the
    zero point in the middle of ``[qmin, qmax]``."""
    f = np.float32
    lo, hi = f(lo), f(hi)
    if not lo <= hi:
        raise RuntimeError("In ChooseQuantizationParams, min should be less than or equal to max")
    if reduce_range:  # C's division, toward zero
        qmin, qmax = _builtins.int(qmin / 2), _builtins.int(qmax / 2)
    if lo < 0 and hi > 0 and preserve_sparsity:
        sym_min = -((qmax - qmin) // 2 + 1)
        sym_max = (qmax - qmin) // 2
        with np.errstate(all="ignore"):
            max_scale = _builtins.float(_builtins.max(abs(f(lo / f(sym_min))), abs(f(hi / f(sym_max)))))
        lo, hi = f(max_scale * sym_min), f(max_scale * sym_max)
    lo, hi = _builtins.min(lo, f(0.0)), _builtins.max(hi, f(0.0))
    if not qmin < qmax:
        raise RuntimeError("In ChooseQuantizationParams, qmin should be less than qmax")
    scale = (_builtins.float(hi) - _builtins.float(lo)) / (qmax - qmin)
    with np.errstate(all="ignore"):
        if f(scale) == 0.0 or math.isinf(f(1.0) / f(scale)):
            scale = 0.1
    small = f(6.1e-5)
    if scale < small:
        org = f(scale)
        scale = _builtins.float(small)
        if lo == 0.0:
            hi = f(small * f(qmax - qmin))
        elif hi == 0.0:
            lo = f(-small * f(qmax - qmin))
        else:
            amplifier = f(small / org)
            lo, hi = f(lo * amplifier), f(hi * amplifier)
    lo64, hi64 = _builtins.float(lo), _builtins.float(hi)
    from_min = qmin - lo64 / scale
    from_max = qmax - hi64 / scale
    from_min_error = abs(qmin) - abs(lo64 / scale)
    from_max_error = abs(qmax) - abs(hi64 / scale)
    initial = from_min if from_min_error < from_max_error else from_max
    if lo < 0 and hi > 0 and preserve_sparsity:
        initial = (qmin + qmax) / 2
    if initial < qmin:
        zp = qmin
    elif initial > qmax:
        zp = qmax
    else:
        zp = _builtins.int(np.rint(initial))
    return scale, zp


def quantize_per_tensor_dynamic(input: Tensor, dtype: dtypes.dtype, reduce_range: bool) -> QuantizedTensor:
    """Quantize with a scale and zero point chosen from ``input``'s own minimum and maximum.

    Args:
        input (Tensor): the float32 tensor.
        dtype (ember.dtype): ``ember.quint8`` or ``ember.qint8``.
        reduce_range (bool): use half the type's range (7 bits), as for FBGEMM's kernels.

    Example::

        >>> q = ember.quantize_per_tensor_dynamic(ember.tensor([0.0, 0.5, 1.0]), ember.quint8, False)
        >>> q.q_zero_point(), round(q.q_scale() * 255, 6)
        (0, 1.0)
    """
    x = _float_input("quantize_per_tensor_dynamic", input)
    d = dtypes.as_dtype(dtype)
    if d not in (dtypes.quint8, dtypes.qint8):
        raise RuntimeError(f"dtype {_scalar_name(d)}not supported")
    _, qmin, qmax = _STORAGE[d]
    if x.numel():
        lo, hi = _builtins.float(x.min().item()), _builtins.float(x.max().item())
    else:
        lo = hi = 0.0
    scale, zp = _choose_qparams(lo, hi, qmin, qmax, reduce_range)
    return quantize_per_tensor(x, scale, zp, d)


def dequantize(input: Any) -> Any:
    """The real numbers of a quantized tensor (float32); a list of them for a list; a dense tensor as float32.

    Example::

        >>> ember.dequantize(ember.quantize_per_tensor(ember.tensor([0.25, 0.5]), 0.25, 0, ember.qint8))
        tensor([0.2500, 0.5000])
    """
    if isinstance(input, (list, tuple)):
        return [dequantize(t) for t in input]
    return input.dequantize()


# -- fake quantization ---------------------------------------------------------------------------


def _refuse_grad(kernel: str, **qparams: Any) -> None:
    """PyTorch's refusal of a scale or zero point that requires grad (only the learnable variants
    differentiate them)."""
    from .autograd.grad_mode import is_grad_enabled

    for name, value in qparams.items():
        if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"The function '{kernel}' is not differentiable with respect to argument '{name}'. "
                "This input cannot have requires_grad True."
            )


def _check_range(quant_min: int, quant_max: int) -> None:
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or equal to `quant_max`.")


def _fake_input(op: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if not input.dtype.is_floating_point or input.dtype in dtypes.float8_dtypes:
        raise NotImplementedError(
            f'"fake_quantize_tensor_cachemask_kernel_type_handling" not implemented for '
            f"'{_scalar_name(input.dtype)}' ({op})"
        )
    return input


def _fake_values(
    x: Tensor, inv: Any, zp: Any, scale: Any, quant_min: int, quant_max: int, float_zp: Any, per_channel: bool = False
):
    """The fake-quantized ``x`` and the straight-through mask (True where the rounded value lies
    within ``[quant_min, quant_max]``), PyTorch's CPU kernels' arithmetic. Per channel, a value whose
    rounded integer does not fit int64 (inf, NaN) converts as x86 converts it, to int64's minimum (so to
    ``quant_min``); per tensor the clamp is in floating point, NaN going to ``quant_min``."""
    wide = x.dtype is dtypes.float64
    xs = x if wide or x.dtype is dtypes.float32 else x.float()
    if float_zp:
        # ``lrintf(zero_point + x * inv_scale)``, which the compiler contracts into one fused multiply-add
        if wide:  # in float64, then rounded to float32 for ``lrintf``
            q = (x * inv.double() + zp.double()).float().round()
        elif float_zp == "half":
            q = (xs * inv + zp).round()
        else:
            q = _fused_affine(xs, inv, zp).round()
        q = q.masked_fill(~(q.abs() < 2.0**63), -(2.0**63))
        mask = (q >= quant_min) & (q <= quant_max)
        clamped = q.clamp(quant_min, quant_max)
        if _has_float64(xs):
            out = ((clamped.double() - zp.double()) * scale.double()).float()
        else:
            out = (clamped - zp) * scale
        return out.to(x.dtype), mask
    if wide:
        inv64 = inv.double() if isinstance(inv, Tensor) else inv
        r = (xs * inv64).round()
    else:
        r = (xs * inv).round()
    q = r + zp  # the zero point added after rounding, as an integer
    if per_channel:
        q = q.masked_fill(~(q.abs() < 2.0**63), -(2.0**63))
    mask = (q >= quant_min) & (q <= quant_max)
    clamped = q.clamp(quant_min, quant_max).masked_fill(q != q, quant_min)
    out = (clamped - zp).float() * scale
    return out.to(x.dtype), mask


class _FakeQuantize(Function):
    """Fake quantization with the straight-through gradient: ``grad * mask``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, params: tuple) -> Tensor:
        out, mask = _fake_values(x, *params)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (mask,) = ctx.saved_tensors
        return grad * mask.to(grad.dtype), None


# the gradient nodes under PyTorch's names (``grad_fn=<FakeQuantizePerTensorAffineCachemaskBackward0>``)
class FakeQuantizePerTensorAffineCachemask(_FakeQuantize):
    """``fake_quantize_per_tensor_affine`` with a Python scale and zero point."""


class FakeQuantizePerTensorAffineCachemaskTensorQparams(_FakeQuantize):
    """``fake_quantize_per_tensor_affine`` with tensor scale and zero point."""


class FakeQuantizePerChannelAffineCachemask(_FakeQuantize):
    """``fake_quantize_per_channel_affine``."""


def fake_quantize_per_tensor_affine(
    input: Tensor, scale: float | Tensor, zero_point: int | Tensor, quant_min: int, quant_max: int
) -> Tensor:
    """Quantize and dequantize ``input`` in one step, staying in floating point:

    .. math::
        \\text{out} = (\\min(\\max(\\text{round}(x / \\text{scale}) + \\text{zero\\_point},
        \\text{quant\\_min}), \\text{quant\\_max}) - \\text{zero\\_point}) \\times \\text{scale}

    The gradient is the straight-through estimator: the incoming gradient where the rounded value
    lies in ``[quant_min, quant_max]``, zero elsewhere.

    Args:
        input (Tensor): a floating tensor (float32, float64, float16 or bfloat16).
        scale (float or Tensor): the scale (a float32 one-element tensor in the tensor form).
        zero_point (int or Tensor): the zero point (an int32 one-element tensor in the tensor form).
        quant_min (int): the smallest quantized value.
        quant_max (int): the largest quantized value.

    Returns:
        Tensor: of ``input``'s dtype and shape.

    Example::

        >>> ember.fake_quantize_per_tensor_affine(ember.tensor([0.0, 0.26, 0.9, 5.0]), 0.25, 0, 0, 3)
        tensor([0.0000, 0.2500, 0.7500, 0.7500])
    """
    op = "fake_quantize_per_tensor_affine"
    x = _fake_input(op, input)
    _refuse_grad("_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", scale=scale, zero_point=zero_point)
    scale_f = _number(scale, _builtins.float, op, "scale")
    zp = _number(zero_point, _builtins.int, op, "zero_point")
    _check_range(quant_min, quant_max)
    if not quant_min <= zp <= quant_max:
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")
    scale32 = _builtins.float(np.float32(scale_f))
    params = (_inv_scale(scale_f), zp, scale32, quant_min, quant_max, False)
    tensor_qparams = isinstance(scale, Tensor) or isinstance(zero_point, Tensor)
    node = FakeQuantizePerTensorAffineCachemaskTensorQparams if tensor_qparams else FakeQuantizePerTensorAffineCachemask
    return node.apply(x, params)


class FakeQuantizeLearnablePerTensorAffine(Function):
    """Fake quantization with a learnable scale and zero point (LSQ), PyTorch's CPU kernel: the forward
    rounds the zero point, the backward takes ``int(zero_point + 0.5)`` and rounds ``x / scale + zero_point``;
    the scale's and zero point's gradients are the sums of their per-element gradients (ember's float32 sum,
    whose order of additions is not PyTorch's: the last bits can differ)."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, scale: Tensor, zero_point: Tensor, quant_min: int, quant_max: int, grad_factor: float
    ) -> Tensor:
        f = np.float32
        scale_f = _builtins.float(f(scale.reshape(-1)[0].item()))
        zp_f = f(zero_point.reshape(-1)[0].item())
        zp = _builtins.int(_builtins.min(_builtins.max(f(np.rint(zp_f)), f(quant_min)), f(quant_max)))
        ctx.save_for_backward(x, scale, zero_point)
        ctx.qrange = (quant_min, quant_max, grad_factor)
        out, _ = _fake_values(x, _inv_scale(scale_f), zp, _builtins.float(f(scale_f)), quant_min, quant_max, False)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        x, scale, zero_point = ctx.saved_tensors
        quant_min, quant_max, grad_factor = ctx.qrange
        f = np.float32
        scale_f = _builtins.float(f(scale.reshape(-1)[0].item()))
        inv = _inv_scale(scale_f)
        zp_f = f(f(zero_point.reshape(-1)[0].item()) + f(0.5))
        zp = _builtins.int(_builtins.min(_builtins.max(zp_f, f(quant_min)), f(quant_max)))
        zp_f = _builtins.float(zp)
        dx, d_scale, d_zp = _learnable_grads(x, grad, scale_f, inv, zp_f, quant_min, quant_max, grad_factor)
        return (
            dx,
            d_scale.sum().reshape(1).to(scale.dtype),
            d_zp.sum().reshape(1).to(zero_point.dtype),
            None,
            None,
            None,
        )


def _fake_quantize_learnable_per_tensor_affine(
    input: Tensor, scale: Tensor, zero_point: Tensor, quant_min: int, quant_max: int, grad_factor: float = 1.0
) -> Tensor:
    """Fake quantization whose ``scale`` and ``zero_point`` (one-element tensors) are learned (LSQ,
    PyTorch's ``torch._fake_quantize_learnable_per_tensor_affine``): the forward is
    :func:`fake_quantize_per_tensor_affine` with the rounded, clamped zero point; the backward gives
    ``input`` the straight-through gradient, and ``scale``/``zero_point`` the learned-step-size gradients
    (times ``grad_factor``) summed over the elements.

    Example::

        >>> x = ember.tensor([0.31, -0.72, 0.05], requires_grad=True)
        >>> s, z = ember.tensor([0.1], requires_grad=True), ember.tensor([2.6], requires_grad=True)
        >>> y = ember._fake_quantize_learnable_per_tensor_affine(x, s, z, 0, 20, 1.0)
        >>> y.detach()
        tensor([ 0.3000, -0.3000,  0.0000])
        >>> y.sum().backward()
        >>> s.grad, z.grad
        (tensor([-2.6000]), tensor([-0.1000]))
    """
    _check_range(quant_min, quant_max)
    _fake_input("_fake_quantize_learnable_per_tensor_affine", input)
    return FakeQuantizeLearnablePerTensorAffine.apply(input, scale, zero_point, quant_min, quant_max, grad_factor)


def _learnable_grads(x, grad, scale, inv, zp, quant_min, quant_max, grad_factor):
    """PyTorch's per-element gradients of learnable fake quantization: the input's straight-through one,
    and the scale's and zero point's (LSQ), with the zero point added before rounding."""
    xf, g = x.detach().float(), grad.float()
    q = _fused_affine(xf, inv, zp).round()
    q = q.masked_fill(~(q.abs() < 2.0**63), -(2.0**63))
    inside = (q >= quant_min) & (q <= quant_max)
    fake = (q.clamp(quant_min, quant_max) - zp) * scale
    d_in = g * (fake - xf) * inv * grad_factor
    below = (g * (quant_min - zp)) * grad_factor
    above = (g * (quant_max - zp)) * grad_factor
    d_scale = where(inside, d_in, where(q < quant_min, below, above))
    d_zp = where(inside, zeros_like(g), (g * -1.0) * scale * grad_factor)
    return grad * inside.to(grad.dtype), d_scale, d_zp


class FakeQuantizeLearnablePerChannelAffine(Function):
    """Learnable per-channel fake quantization (LSQ), PyTorch's CPU kernel: the zero points rounded and
    clamped in both passes; the scales' and zero points' gradients summed over all but ``axis``."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, axis, quant_min, quant_max, grad_factor):
        rounded = zero_point.detach().float().round().clamp(quant_min, quant_max)
        ctx.save_for_backward(x, scale, zero_point)
        ctx.params = (axis, quant_min, quant_max, grad_factor)
        with_grad_off = scale.detach().float()
        return fake_quantize_per_channel_affine(
            x.detach(), with_grad_off, rounded.to(dtypes.int32), axis, quant_min, quant_max
        )

    @staticmethod
    def backward(ctx, grad):
        x, scale, zero_point = ctx.saved_tensors
        axis, quant_min, quant_max, grad_factor = ctx.params
        shape = [1] * x.dim()
        shape[axis] = -1
        s32 = scale.detach().float().reshape(shape)
        zp = zero_point.detach().float().round().clamp(quant_min, quant_max).reshape(shape)
        dx, d_scale, d_zp = _learnable_grads(x, grad, s32, 1.0 / s32, zp, quant_min, quant_max, grad_factor)
        others = [d for d in range(x.dim()) if d != axis]
        if others:
            d_scale, d_zp = d_scale.sum(others), d_zp.sum(others)
        return dx, d_scale.reshape(-1).to(scale.dtype), d_zp.reshape(-1).to(zero_point.dtype), None, None, None, None


def _fake_quantize_learnable_per_channel_affine(
    input: Tensor,
    scale: Tensor,
    zero_point: Tensor,
    axis: int,
    quant_min: int,
    quant_max: int,
    grad_factor: float = 1.0,
) -> Tensor:
    """Per-channel fake quantization with learnable scales and zero points (LSQ, PyTorch's
    ``torch._fake_quantize_learnable_per_channel_affine``): the forward is
    :func:`fake_quantize_per_channel_affine` with the rounded, clamped zero points; the backward gives
    ``input`` the straight-through gradient and the scales/zero points their learned-step-size gradients
    (times ``grad_factor``) summed over every dimension but ``axis``.

    Example::

        >>> x = ember.tensor([[0.31, -0.72], [-6.0, 0.25]], requires_grad=True)
        >>> s, z = ember.tensor([0.1, 0.2], requires_grad=True), ember.tensor([2.6, 1.5], requires_grad=True)
        >>> y = ember._fake_quantize_learnable_per_channel_affine(x, s, z, 0, 0, 20, 1.0)
        >>> y.detach()
        tensor([[ 0.3000, -0.3000],
                [-0.4000,  0.2000]])
        >>> y.sum().backward()
        >>> z.grad
        tensor([-0.1000, -0.2000])
    """
    _check_range(quant_min, quant_max)
    _fake_input("_fake_quantize_learnable_per_channel_affine", input)
    return FakeQuantizeLearnablePerChannelAffine.apply(
        input, scale, zero_point, axis, quant_min, quant_max, grad_factor
    )


def fake_quantize_per_channel_affine(
    input: Tensor, scale: Tensor, zero_point: Tensor, axis: int, quant_min: int, quant_max: int
) -> Tensor:
    """Fake quantization with one scale and zero point per slice of ``input`` along ``axis``:

    .. math::
        \\text{out} = (\\min(\\max(\\text{round}(x / \\text{scale}_c) + \\text{zero\\_point}_c,
        \\text{quant\\_min}), \\text{quant\\_max}) - \\text{zero\\_point}_c) \\times \\text{scale}_c

    With floating zero points the zero point is added before rounding (``round(x / scale + zero_point)``).
    The gradient is the straight-through estimator, as :func:`fake_quantize_per_tensor_affine`'s.

    Args:
        input (Tensor): a floating tensor.
        scale (Tensor): 1-D float32 (or bfloat16) scales, one per slice.
        zero_point (Tensor): 1-D int32, float32 or float16 zero points.
        axis (int): the dimension the parameters vary along.
        quant_min (int): the smallest quantized value.
        quant_max (int): the largest quantized value.

    Example::

        >>> x = ember.tensor([[0.3, -0.3], [0.3, -0.3]])
        >>> ember.fake_quantize_per_channel_affine(
        ...     x, ember.tensor([0.1, 0.25]), ember.tensor([0, 0], dtype=ember.int32), 0, -128, 127)
        tensor([[ 0.3000, -0.3000],
                [ 0.2500, -0.2500]])
    """
    op = "fake_quantize_per_channel_affine"
    x = _fake_input(op, input)
    if not isinstance(scale, Tensor) or not isinstance(zero_point, Tensor):
        raise TypeError(f"{op}: scale and zero_point must be tensors")
    _refuse_grad("fake_quantize_per_channel_affine_cachemask", scale=scale, zero_point=zero_point)
    if scale.dtype not in (dtypes.float32, dtypes.bfloat16):
        raise RuntimeError(f"Scale must be Float or BFloat16, found {_scalar_name(scale.dtype)}")
    if zero_point.dtype not in (dtypes.int32, dtypes.float32, dtypes.float16):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found {_scalar_name(zero_point.dtype)}")
    if scale.dim() != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.dim() != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.numel() != zero_point.numel():
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    n = x.dim()
    if not -n <= axis < _builtins.max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {axis})")
    if scale.numel() != x.shape[axis]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input tensor")
    if axis < 0:  # PyTorch wraps it to size the channels, then refuses it
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    _check_range(quant_min, quant_max)
    float_zp = zero_point.dtype.is_floating_point
    if not float_zp and zero_point.numel():  # PyTorch checks no floating zero point's range
        if zero_point.min().item() < quant_min or zero_point.max().item() > quant_max:
            raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")
    shape = [1] * n
    shape[axis] = -1
    s32 = scale.detach().float().reshape(shape)
    inv = 1.0 / s32
    zp = zero_point.detach().reshape(shape)
    zp = zp.float() if float_zp else zp.to(dtypes.int64)
    if zero_point.dtype is dtypes.float16:
        float_zp = "half"  # the half zero point converted on its own: two float32 roundings, no fused multiply-add
    return FakeQuantizePerChannelAffineCachemask.apply(x, (inv, zp, s32, quant_min, quant_max, float_zp, True))


def fused_moving_avg_obs_fake_quant(
    input: Tensor,
    observer_on: Tensor,
    fake_quant_on: Tensor,
    running_min: Tensor,
    running_max: Tensor,
    scale: Tensor,
    zero_point: Tensor,
    averaging_const: float,
    quant_min: int,
    quant_max: int,
    ch_axis: int,
    per_row_fake_quant: bool = False,
    symmetric_quant: bool = False,
) -> Tensor:
    """Observe and fake-quantize in one step, as PyTorch's fused kernel (``FusedMovingAvgObsFakeQuantize``):

    1. while ``observer_on[0]``: ``running_min``/``running_max`` (updated in place) move towards ``input``'s
       minimum and maximum, ``running + averaging_const * (current - running)`` in float32 (per row along
       axis 0 with ``per_row_fake_quant``), or take them where the running value is infinite;
    2. while ``fake_quant_on[0]``: ``scale``/``zero_point`` (in place) are chosen from the running range by
       ``ChooseQuantizationParams`` (``symmetric_quant``: centred on zero), and ``input`` is fake-quantized
       with them (:func:`fake_quantize_per_tensor_affine` or, per row, :func:`fake_quantize_per_channel_affine`);
       otherwise a copy of ``input`` is returned.

    Args:
        input (Tensor): float32 values.
        observer_on (Tensor), fake_quant_on (Tensor): one-element switches.
        running_min (Tensor), running_max (Tensor): float32 running range (per row: empty at first).
        scale (Tensor), zero_point (Tensor): float32 and int32 qparams, written in place.
        averaging_const (float): the weight of the newest range.
        quant_min (int), quant_max (int): the quantized range.
        ch_axis (int): the channel dimension (0 only) with ``per_row_fake_quant``.
        per_row_fake_quant (bool): per channel along ``ch_axis``. Default: ``False``.
        symmetric_quant (bool): symmetric qparams. Default: ``False``.

    Example::

        >>> lo, hi = ember.tensor(float("inf")), ember.tensor(float("-inf"))
        >>> scale, zp = ember.tensor([1.0]), ember.tensor([0], dtype=ember.int32)
        >>> on = ember.tensor([1])
        >>> ember.fused_moving_avg_obs_fake_quant(ember.tensor([0.0, 0.5, 1.0]), on, on, lo, hi, scale, zp, 0.01, 0, 255, 0)
        tensor([0.0000, 0.4980, 1.0000])
        >>> zp
        tensor([0], dtype=ember.int32)
    """
    if input.numel() == 0:
        return input.clone()
    observe = _builtins.int(observer_on.reshape(-1)[0].item()) != 0
    c = _builtins.float(np.float32(averaging_const))
    if per_row_fake_quant:
        if input.dim() == 2:
            rows = input
        else:
            order = list(range(input.dim()))
            order[ch_axis], order[0] = 0, ch_axis
            rows = input.permute(order).flatten(1)
        size = input.shape[ch_axis]
        if running_min.numel() == 0:
            for buffer, value in ((running_min, float("inf")), (running_max, float("-inf"))):
                buffer.resize_((size,))
                buffer.fill_(value)
            scale.resize_((size,))
            zero_point.resize_((size,))
        if observe:
            if ch_axis != 0:
                raise RuntimeError(
                    "Per-channel FakeQuant in fused_moving_avg_obs_fake_quant is only supported on axis == 0"
                )
            _moving_average(running_min, running_max, *rows.detach().aminmax(dim=1), c)
    elif observe:
        _moving_average(running_min, running_max, *input.detach().aminmax(), c)
    if _builtins.int(fake_quant_on.reshape(-1)[0].item()) == 0:
        return input.clone()
    lows, highs = running_min.reshape(-1).tolist(), running_max.reshape(-1).tolist()
    chosen = [
        _choose_qparams(lo, hi, quant_min, quant_max, preserve_sparsity=symmetric_quant)
        for lo, hi in zip(lows, highs, strict=True)
    ]
    scale.copy_(tensor([s for s, _ in chosen], device=scale.device).reshape(scale.shape))
    zero_point.copy_(
        tensor([z for _, z in chosen], dtype=dtypes.int32, device=zero_point.device).reshape(zero_point.shape)
    )
    if per_row_fake_quant:
        return fake_quantize_per_channel_affine(input, scale, zero_point, ch_axis, quant_min, quant_max)
    return fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max)


def _moving_average(running_min: Tensor, running_max: Tensor, lo: Tensor, hi: Tensor, c: float) -> None:
    """The fused kernel's moving averages, in place: ``running + c * (current - running)`` in float32, or the
    current value where the running one is infinite (nothing seen yet)."""
    for buffer, current in ((running_min, lo), (running_max, hi)):
        current = current.to(buffer.dtype)
        buffer.copy_(where(buffer.isinf(), current, buffer + c * (current - buffer)))


def choose_qparams_optimized(
    input: Tensor, numel: int, n_bins: int, ratio: float, bit_width: int
) -> tuple[Tensor, Tensor]:
    """The ``[min, max]`` range for quantizing ``input``'s first ``numel`` elements to ``bit_width`` bits,
    narrowed by a greedy search for the least L2 quantization error: from the full range, one end moves
    in by one of ``n_bins`` bins at a time (whichever gives the lower error) until ``ratio`` of the bins
    are gone; the best local optimum wins (PyTorch's embedding-bag row quantization, its float32 and
    float16 roundings included).

    Args:
        input (Tensor): float32 values.
        numel (int): how many of them (from the first) to consider.
        n_bins (int): the number of bins the full range is cut into.
        ratio (float): the fraction of the bins the search may drop.
        bit_width (int): the number of bits of the quantized values.

    Returns:
        (Tensor, Tensor): ``(xmax, xmin)``, one-element float32 tensors, in that order, as PyTorch.

    Example::

        >>> hi, lo = ember.choose_qparams_optimized(ember.tensor([0.0, 1.0, 2.0, 3.0]), 4, 200, 0.16, 8)
        >>> hi.item(), lo.item()
        (3.0, 0.0)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"choose_qparams_optimized: expected a Tensor as input, got {type(input).__name__}")
    if numel < 0 or numel > input.numel():
        raise RuntimeError(
            f"numel is out of the bound of input tensor (choose_qparams_optimized: numel {numel}, "
            f"{input.numel()} elements)"
        )
    if input.dtype is not dtypes.float32:
        raise RuntimeError(f"expected scalar type Float but found {_scalar_name(input.dtype)}")
    if input.numel() == 0:
        raise ValueError("input tensor is empty and has no data")
    x = np.ascontiguousarray(input.detach().cpu().numpy().reshape(-1)[:numel], dtype=np.float32)
    lo, hi = _greedy_range(x, n_bins, ratio, bit_width)
    f = dtypes.float32
    return tensor([hi], dtype=f, device=input.device), tensor([lo], dtype=f, device=input.device)


def _l2_loss(x: np.ndarray, lo: np.float32, hi: np.float32, bit_width: int) -> np.float32:
    """The L2 norm of the error of quantizing ``x`` to ``bit_width`` bits over ``[lo, hi]``, in PyTorch's
    float32 arithmetic: ``lo`` and the step rounded to float16, the squares summed in order."""
    f = np.float32
    lo = f(np.float16(lo))
    span = f(hi - lo)
    levels = f((1 << bit_width) - 1)
    step = f(1.0) if span == 0 else f(np.float16(f(span / levels)))
    inv = f(1.0) if step == 0 else f(f(1.0) / step)
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.clip(np.rint(((x - lo).astype(f) * inv).astype(f)), f(0.0), levels).astype(f)
        err = (x - ((q * step).astype(f) + lo).astype(f)).astype(f)
    squares = (err * err).astype(f)
    return f(np.sqrt(np.cumsum(squares, dtype=f)[-1]))


def _greedy_range(x: np.ndarray, n_bins: int, ratio: float, bit_width: int) -> tuple[float, float]:
    """PyTorch's greedy search: from ``[min, max]``, move whichever end lowers the loss more by one
    bin at a time while the range spans more than ``n_bins * (1 - ratio)`` bins; the best range seen at a
    local optimum wins."""
    f = np.float32
    if x.size == 0:
        return 0.0, 0.0
    xmin, xmax = f(x.min()), f(x.max())
    stepsize = f(f(xmax - xmin) / f(n_bins))
    min_bins = _builtins.int(n_bins * (1.0 - _builtins.float(f(ratio))))
    loss = _l2_loss(x, xmin, xmax, bit_width)
    best = cur_loss = loss
    cur_min, cur_max = xmin, xmax
    thr = f(f(min_bins) * stepsize)
    while f(cur_min + thr) < cur_max:
        loss1 = _l2_loss(x, f(cur_min + stepsize), cur_max, bit_width)
        loss2 = _l2_loss(x, cur_min, f(cur_max - stepsize), bit_width)
        if cur_loss < loss1 and cur_loss < loss2 and cur_loss < best:
            best, xmin, xmax = cur_loss, cur_min, cur_max
        if loss1 < loss2:
            cur_min, cur_loss = f(cur_min + stepsize), loss1
        else:
            cur_max, cur_loss = f(cur_max - stepsize), loss2
    return _builtins.float(xmin), _builtins.float(xmax)


#: the quantized-tensor methods a dense Tensor refuses, with what each gives on a quantized tensor
_QUANTIZED_ONLY = {
    "int_repr": "the integers as a dense tensor of the underlying type",
    "q_scale": "the scale of a per-tensor quantized tensor",
    "q_zero_point": "the zero point of a per-tensor quantized tensor",
    "q_per_channel_scales": "the float64 scales of a per-channel quantized tensor",
    "q_per_channel_zero_points": "the zero points of a per-channel quantized tensor",
    "q_per_channel_axis": "the channel axis of a per-channel quantized tensor",
    "qscheme": "the quantization scheme",
}


_EXAMPLE_QUANTIZED = {
    False: "ember.quantize_per_tensor(ember.tensor([0.5, 1.0]), 0.5, 1, ember.quint8)",
    True: "ember.quantize_per_channel(ember.ones(2, 2), ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), 0, ember.qint8)",
}


def _dense_quantized_method(name: str):
    """``Tensor.<name>`` of a dense tensor: PyTorch's NotImplementedError (no quantized kernel for it)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the '{self.device.type.upper()}' backend: "
            f"{name}() needs a quantized tensor, got a dense {_scalar_name(self.dtype)} tensor"
        )

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"""{_QUANTIZED_ONLY[name][0].upper()}{_QUANTIZED_ONLY[name][1:]} (:class:`QuantizedTensor`); a dense
    tensor raises ``NotImplementedError``, as in PyTorch.

    Example::

        >>> q = {_EXAMPLE_QUANTIZED["channel" in name]}
        >>> _ = q.{name}()
        >>> ember.tensor([1.0]).{name}()
        Traceback (most recent call last):
        ...
        NotImplementedError: Could not run 'aten::{name}' with arguments from the 'CPU' backend: ...
    """
    return method


def _is_quantized(self: Tensor) -> bool:
    """True for a quantized tensor (:class:`QuantizedTensor`); ``False`` for a dense one.

    Example::

        >>> ember.tensor([1.0]).is_quantized
        False
        >>> ember.quantize_per_tensor(ember.tensor([1.0]), 0.1, 0, ember.qint8).is_quantized
        True
    """
    return False


def _dense_dequantize(self: Tensor) -> Tensor:
    """A dense tensor's ``dequantize()``: the tensor as float32, as PyTorch.

    Example::

        >>> ember.tensor([1, 2]).dequantize()
        tensor([1., 2.])
    """
    return self.to(dtypes.float32)


#: the quantized-tensor methods every dense Tensor has (they raise, but for ``dequantize``)
TENSOR_METHODS = {
    "is_quantized": property(_is_quantized),
    "dequantize": _dense_dequantize,
    **{name: _dense_quantized_method(name) for name in _QUANTIZED_ONLY},
}
