"""Observers: modules that watch the tensors passing through them and compute quantization parameters
(``scale``, ``zero_point``) from what they saw, as ``torch.ao.quantization.observer``.

``calculate_qparams`` gives PyTorch's numbers bit for bit: float32 scales (clamped below by ``eps``),
integer zero points, the symmetric, reduced-range and customized-range variants.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from ... import dtypes
from ...nn.modules.module import Module
from ...ops.arithmetic import div, where
from ...ops.creation import arange, linspace, ones, ones_like, zeros
from ...ops.sequences import bucketize
from ...ops.slicing_joining import bincount
from ...ops.statistics import histc
from ...quantized import (
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
)
from ...tensor import Tensor, tensor
from ...typeinfo import iinfo

__all__ = [
    "ObserverBase",
    "UniformQuantizationObserverBase",
    "MinMaxObserver",
    "MovingAverageMinMaxObserver",
    "PerChannelMinMaxObserver",
    "MovingAveragePerChannelMinMaxObserver",
    "HistogramObserver",
    "FixedQParamsObserver",
    "PlaceholderObserver",
    "NoopObserver",
    "default_observer",
    "default_weight_observer",
    "default_per_channel_weight_observer",
    "weight_observer_range_neg_127_to_127",
    "per_channel_weight_observer_range_neg_127_to_127",
    "default_float_qparams_observer",
    "default_dynamic_quant_observer",
    "default_placeholder_observer",
    "default_histogram_observer",
    "default_fixed_qparams_range_neg1to1_observer",
    "default_fixed_qparams_range_0to1_observer",
    "default_symmetric_fixed_qparams_observer",
    "default_affine_fixed_qparams_observer",
    "check_min_max_valid",
    "calculate_qmin_qmax",
]

_EPS = 1.1920928955078125e-07  # float32's machine epsilon, PyTorch's default ``eps``
_ALLOWED_DTYPES = (
    dtypes.qint8,
    dtypes.quint8,
    dtypes.quint4x2,
    dtypes.qint32,
    dtypes.int8,
    dtypes.uint8,
    dtypes.int16,
    dtypes.int32,
    dtypes.float8_e5m2,
    dtypes.float8_e4m3fn,
    dtypes.uint16,
)


class _PartialWrapper:
    """A constructor with some arguments bound (``Observer.with_args(...)``), as PyTorch's: calling it
    makes a new instance each time; ``with_args`` binds more."""

    def __init__(self, p: functools.partial) -> None:
        self.p = p
        self.callable_args: dict[str, Any] = {}

    def __call__(self, *args: Any, **keywords: Any) -> Any:
        return self.p(*args, **{k: v() for k, v in self.callable_args.items()}, **keywords)

    def __repr__(self) -> str:
        return self.p.__repr__() + self.callable_args.__repr__()

    def with_args(self, **kwargs: Any) -> _PartialWrapper:
        return _with_args(self, **kwargs)

    def with_callable_args(self, **kwargs: Any) -> _PartialWrapper:
        result = _PartialWrapper(p=self.p)
        result.callable_args = {**self.callable_args, **kwargs}
        return result


def _with_args(cls_or_self: Any, **kwargs: Any) -> _PartialWrapper:
    """The class (or bound constructor) with ``kwargs`` bound: each call makes a new instance.

    Example::

        >>> from ember.ao.quantization import MinMaxObserver
        >>> make = MinMaxObserver.with_args(dtype=ember.qint8)
        >>> make().dtype, make() is make()
        (ember.qint8, False)
    """
    return _PartialWrapper(functools.partial(cls_or_self, **kwargs))


def _with_callable_args(cls_or_self: Any, **kwargs: Any) -> _PartialWrapper:
    result = _PartialWrapper(p=functools.partial(cls_or_self))
    return result.with_callable_args(**kwargs)


def _is_per_tensor(qscheme: Any) -> bool:
    return qscheme in (per_tensor_affine, per_tensor_symmetric)


def _is_per_channel(qscheme: Any) -> bool:
    return qscheme in (per_channel_affine, per_channel_affine_float_qparams, per_channel_symmetric)


def _is_symmetric(qscheme: Any) -> bool:
    return qscheme in (per_tensor_symmetric, per_channel_symmetric)


def _is_float_qparams(qscheme: Any) -> bool:
    return qscheme is per_channel_affine_float_qparams


def check_min_max_valid(min_val: Tensor, max_val: Tensor) -> bool:
    """False (with PyTorch's warning) before any tensor was observed; an AssertionError where a minimum
    exceeds its maximum."""
    if min_val.numel() == 0 or max_val.numel() == 0:
        warnings.warn("must run observer before calling calculate_qparams. Returning default values.", stacklevel=3)
        return False
    if min_val.dim() == 0 or max_val.dim() == 0:
        if min_val.item() == float("inf") and max_val.item() == float("-inf"):
            warnings.warn("must run observer before calling calculate_qparams. Returning default values.", stacklevel=3)
            return False
        if bool((min_val > max_val).all()):
            raise AssertionError(f"min {min_val} should be less than max {max_val}")
    elif bool((min_val > max_val).any()):
        raise AssertionError(f"min {min_val} should be less than max {max_val}")
    return True


def _validate_qmin_qmax(quant_min: int, quant_max: int) -> None:
    if not quant_min <= 0 <= quant_max:
        raise AssertionError("Used-specified quantization range must include 0.")
    if quant_min >= quant_max:
        raise AssertionError("qmin must be strictly less than qmax for user-specified quantization range.")


def calculate_qmin_qmax(
    quant_min: int | None, quant_max: int | None, has_customized_qrange: bool, dtype: Any, reduce_range: bool
) -> tuple[int, int]:
    """The quantized range an observer uses: the customized ``[quant_min, quant_max]`` (halved by
    ``reduce_range``), or the 8-bit (7-bit with ``reduce_range``) range of ``dtype``, as PyTorch.

    Example::

        >>> from ember.ao.quantization.observer import calculate_qmin_qmax
        >>> calculate_qmin_qmax(None, None, False, ember.quint8, True)
        (0, 127)
    """
    if has_customized_qrange:
        qrange_len = quant_max - quant_min + 1  # type: ignore[operator]
        if dtype in (dtypes.qint8, dtypes.int8):
            if not 0 < qrange_len <= 256:
                raise AssertionError(
                    "quantization range should be positive and not exceed the maximum bit range (=256)."
                )
        elif dtype in (dtypes.qint32, dtypes.int32):
            if not 0 < qrange_len <= 2**32:
                raise AssertionError(
                    "quantization range should be positive and not exceed the maximum bit range (=4294967296)."
                )
        if reduce_range:
            quant_min, quant_max = quant_min // 2, quant_max // 2  # type: ignore[operator]
        return quant_min, quant_max  # type: ignore[return-value]
    if dtype in (dtypes.qint8, dtypes.int8):
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype in (dtypes.quint8, dtypes.uint8):
        return (0, 127) if reduce_range else (0, 255)
    if dtype in (dtypes.qint32, dtypes.int32):
        return -(2**31), 2**31 - 1
    if dtype is dtypes.uint16:
        return 0, 2**16 - 1
    if dtype is dtypes.int16:
        return -(2**15), 2**15 - 1
    return 0, 15


class ObserverBase(Module):
    """The base of the observers: ``forward`` records statistics of the tensor it passes on unchanged,
    ``calculate_qparams`` turns them into quantization parameters.

    Args:
        dtype: the quantized dtype the parameters are for.
        is_dynamic (bool): a placeholder for dynamic quantization. Default: ``False``.
    """

    def __init__(self, dtype: Any, is_dynamic: bool = False) -> None:
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    def forward(self, x: Any) -> Any:
        raise NotImplementedError

    def calculate_qparams(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    with_args = classmethod(_with_args)
    with_callable_args = classmethod(_with_callable_args)


class UniformQuantizationObserverBase(ObserverBase):
    """The base of the observers of uniform (affine or symmetric) quantization: the range, the
    scheme, ``eps`` (a float32 buffer of one element), and the shared ``_calculate_qparams``.

    Args:
        dtype: ``ember.quint8`` (default), ``ember.qint8``, ``ember.qint32``, ``ember.quint4x2`` or an
            integer dtype.
        qscheme: one of the per-tensor or per-channel schemes.
        reduce_range (bool): one bit fewer (deprecated in PyTorch for ``quant_min``/``quant_max``).
        quant_min (int, optional), quant_max (int, optional): a customized quantized range.
        eps (float): the smallest scale. Default: float32's machine epsilon.
    """

    _version = 3

    def __init__(
        self,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_tensor_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        factory_kwargs: dict | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        factory_kwargs = dict(factory_kwargs or {})
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.qscheme = qscheme
        if reduce_range:
            warnings.warn(
                "Please use quant_min and quant_max to specify the range for observers. "
                "reduce_range will be deprecated in a future release of PyTorch.",
                stacklevel=2,
            )
        self.reduce_range = reduce_range
        self.register_buffer("eps", tensor([eps], **factory_kwargs))
        if qscheme not in (
            per_tensor_affine,
            per_tensor_symmetric,
            per_channel_affine,
            per_channel_symmetric,
            per_channel_affine_float_qparams,
        ):
            raise AssertionError(
                "Default Observer only works for per_tensor_affine, per_tensor_symmetric, "
                "per_channel_affine, per_channel_symmetric and per_channel_float_qparams quantization scheme"
            )
        if dtype not in _ALLOWED_DTYPES:
            raise AssertionError(f"Default Observer only works for {_ALLOWED_DTYPES} data type")
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            _validate_qmin_qmax(quant_min, quant_max)  # type: ignore[arg-type]
        self.quant_min, self.quant_max = calculate_qmin_qmax(
            quant_min, quant_max, self.has_customized_qrange, dtype, reduce_range
        )

    def _calculate_qparams(self, min_val: Tensor, max_val: Tensor) -> tuple[Tensor, Tensor]:
        """The scales (float32) and zero points (int64; int32 for the affine schemes; float32 for
        ``per_channel_affine_float_qparams``) for the ranges ``[min_val, max_val]``, per tensor or per channel,
        as PyTorch computes them (in float32, the scale clamped below by ``eps``)."""
        device = min_val.device
        if not check_min_max_valid(min_val, max_val):
            return tensor([1.0], device=device), tensor([0], device=device)
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = min_val.minimum(zeros(min_val.shape, dtype=min_val.dtype, device=device))
        max_val_pos = max_val.maximum(zeros(max_val.shape, dtype=max_val.dtype, device=device))
        zero_point = zeros(min_val_neg.shape, dtype=dtypes.int64, device=device)
        eps = self.eps.to(min_val.device)
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            max_val_pos = (-min_val_neg).maximum(max_val_pos)
            scale = max_val_pos / (float(quant_max - quant_min) / 2)
            scale = scale.maximum(eps) if scale.dim() else scale.reshape(1).maximum(eps)
            if self.dtype in (dtypes.quint8, dtypes.uint8):
                mid = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = zero_point.new_full(zero_point.shape, mid)
            elif self.dtype is dtypes.uint16:
                zero_point = zero_point.new_full(zero_point.shape, 2**15)
        elif self.qscheme is per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = where(scale > eps, scale, ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = (max_val_pos - min_val_neg) / float(quant_max - quant_min)
            scale = scale.maximum(eps) if scale.dim() else scale.reshape(1).maximum(eps)
            zero_point = quant_min - (min_val_neg / scale).round().to(dtypes.int32)
            zero_point = zero_point.clamp(quant_min, quant_max)
        if scale.dim() == 0:
            scale = scale.reshape(1)
        if zero_point.dim() == 0:
            zero_point = zero_point.reshape(1)
        return scale, zero_point

    def reset_min_max_vals(self) -> None:
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


class MinMaxObserver(UniformQuantizationObserverBase):
    """Records the running minimum and maximum of the tensors it sees, and computes per-tensor
    quantization parameters from them:

    .. math::
        s = (x_\\text{max} - x_\\text{min}) / (Q_\\text{max} - Q_\\text{min}), \\quad
        z = Q_\\text{min} - \\text{round}(x_\\text{min} / s)

    (symmetric: :math:`s = 2 \\max(|x_\\text{min}|, x_\\text{max}) / (Q_\\text{max} - Q_\\text{min})`,
    :math:`z` 0, or 128 for ``quint8``), the range first widened to include 0 and the scale at least ``eps``.

    Args: as :class:`UniformQuantizationObserverBase` (``qscheme`` per tensor only).

    Example::

        >>> from ember.ao.quantization import MinMaxObserver
        >>> obs = MinMaxObserver()
        >>> _ = obs(ember.tensor([-1.0, 0.0, 2.0]))
        >>> scale, zero_point = obs.calculate_qparams()
        >>> zero_point
        tensor([85], dtype=ember.int32)
    """

    def __init__(
        self,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_tensor_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        factory_kwargs: dict | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if not _is_per_tensor(qscheme):
            raise NotImplementedError(
                "MinMaxObserver's qscheme only support torch.per_tensor_symmetric and torch.per_tensor_affine."
            )
        super().__init__(
            dtype=dtype,
            qscheme=qscheme,
            reduce_range=reduce_range,
            quant_min=quant_min,
            quant_max=quant_max,
            factory_kwargs=factory_kwargs,
            eps=eps,
            is_dynamic=is_dynamic,
            **kwargs,
        )
        factory_kwargs = dict(factory_kwargs or {})
        self.register_buffer("min_val", tensor(float("inf"), **factory_kwargs))
        self.register_buffer("max_val", tensor(float("-inf"), **factory_kwargs))
        if self.qscheme is per_tensor_symmetric and self.reduce_range and self.dtype is dtypes.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def forward(self, x_orig: Tensor) -> Tensor:
        """Record the running minimum and maximum of ``x_orig``; return it unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        lo, hi = x.aminmax()
        self.min_val.copy_(lo.minimum(self.min_val))
        self.max_val.copy_(hi.maximum(self.max_val))
        return x_orig

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """The scale and zero point (one-element tensors) for the range seen so far."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self) -> None:
        """Forget the range seen so far."""
        self.min_val.copy_(tensor(float("inf")))
        self.max_val.copy_(tensor(float("-inf")))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """As :class:`MinMaxObserver`, with moving averages of the minimum and maximum:
    :math:`x_\\text{min} \\leftarrow x_\\text{min} + c\\,(\\min(X) - x_\\text{min})` (the first tensor's own
    on the first call), :math:`c` the ``averaging_constant``.

    Args:
        averaging_constant (float): :math:`c`. Default: 0.01.
        others: as :class:`MinMaxObserver`.

    Example::

        >>> from ember.ao.quantization import MovingAverageMinMaxObserver
        >>> obs = MovingAverageMinMaxObserver(averaging_constant=0.5)
        >>> _ = obs(ember.tensor([0.0, 2.0])); _ = obs(ember.tensor([0.0, 4.0]))
        >>> obs.max_val
        tensor(3.)
    """

    def __init__(
        self,
        averaging_constant: float = 0.01,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_tensor_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if not _is_per_tensor(qscheme):
            raise NotImplementedError(
                "MovingAverageMinMaxObserver's qscheme only support torch.per_tensor_symmetric and "
                f"torch.per_tensor_affine. but got: {qscheme}"
            )
        self.averaging_constant = averaging_constant
        if is_dynamic and averaging_constant != 1:
            raise NotImplementedError(
                "MovingAverageMinMaxObserver doesn't support dynamic quantization for "
                f"averaging constant of {averaging_constant}"
            )
        super().__init__(
            dtype=dtype,
            qscheme=qscheme,
            reduce_range=reduce_range,
            quant_min=quant_min,
            quant_max=quant_max,
            eps=eps,
            is_dynamic=is_dynamic,
            **kwargs,
        )
        self.averaging_constant = averaging_constant

    def forward(self, x_orig: Tensor) -> Tensor:
        """Update the moving averages of the minimum and maximum with ``x_orig``'s; return it unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_val, max_val = self.min_val, self.max_val
        if min_val.item() == float("inf") and max_val.item() == float("-inf"):
            min_val, max_val = x.aminmax()
        else:
            lo, hi = x.aminmax()
            min_val = min_val + self.averaging_constant * (lo - min_val)
            max_val = max_val + self.averaging_constant * (hi - max_val)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig


def _channels_first(x: Tensor, ch_axis: int) -> Tensor:
    """``x`` with ``ch_axis`` swapped to the front and the rest flattened: ``(channels, -1)``."""
    order = list(range(x.dim()))
    order[ch_axis] = 0
    order[0] = ch_axis
    return x.permute(order).flatten(1)


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """As :class:`MinMaxObserver`, per channel: the running minimum and maximum of each slice along
    ``ch_axis``, and one scale and zero point each.

    Args:
        ch_axis (int): the channel dimension. Default: 0.
        others: as :class:`UniformQuantizationObserverBase` (``qscheme`` per channel only; default
            ``ember.per_channel_affine``).

    Example::

        >>> from ember.ao.quantization import PerChannelMinMaxObserver
        >>> obs = PerChannelMinMaxObserver(dtype=ember.qint8, qscheme=ember.per_channel_symmetric)
        >>> _ = obs(ember.tensor([[-1.0, 0.5], [2.0, 0.25]]))
        >>> obs.calculate_qparams()[1]
        tensor([0, 0])
    """

    def __init__(
        self,
        ch_axis: int = 0,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_channel_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        factory_kwargs: dict | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if not _is_per_channel(qscheme):
            raise NotImplementedError(
                "PerChannelMinMaxObserver's qscheme only support torch.per_channel_symmetric, "
                "torch.per_channel_affine and torch.per_channel_affine_float_qparams."
            )
        if is_dynamic:
            raise NotImplementedError("PerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(
            dtype=dtype,
            qscheme=qscheme,
            reduce_range=reduce_range,
            quant_min=quant_min,
            quant_max=quant_max,
            factory_kwargs=factory_kwargs,
            eps=eps,
            is_dynamic=is_dynamic,
            **kwargs,
        )
        factory_kwargs = dict(factory_kwargs or {})
        self.ch_axis = ch_axis
        self.register_buffer("min_val", tensor([], **factory_kwargs))
        self.register_buffer("max_val", tensor([], **factory_kwargs))
        if self.qscheme is per_channel_symmetric and self.reduce_range and self.dtype is dtypes.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def _store(self, min_val: Tensor, max_val: Tensor) -> None:
        self.min_val.resize_(min_val.shape)
        self.max_val.resize_(max_val.shape)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)

    def forward(self, x_orig: Tensor) -> Tensor:
        """Record each channel's running minimum and maximum; return ``x_orig`` unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        y = _channels_first(x_orig.detach(), self.ch_axis).to(self.min_val.dtype)
        lo, hi = y.aminmax(dim=1)
        if self.min_val.numel() and self.max_val.numel():
            lo, hi = lo.minimum(self.min_val), hi.maximum(self.max_val)
        self._store(lo, hi)
        return x_orig

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """The per-channel scales and zero points for the ranges seen so far."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        for name in ("min_val", "max_val"):  # their sizes follow the checkpoint's channels
            key = prefix + name
            if key in state_dict:
                getattr(self, name).resize_(state_dict[key].shape)
            elif strict:
                missing_keys.append(key)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs
        )

    def reset_min_max_vals(self) -> None:
        """Forget the ranges seen so far."""
        self.min_val = tensor([], device=self.min_val.device)
        self.max_val = tensor([], device=self.max_val.device)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """As :class:`PerChannelMinMaxObserver`, with moving averages of each channel's minimum and maximum
    (as :class:`MovingAverageMinMaxObserver`).

    Args:
        averaging_constant (float): the weight of the newest tensor's range. Default: 0.01.
        others: as :class:`PerChannelMinMaxObserver`.

    Example::

        >>> from ember.ao.quantization import MovingAveragePerChannelMinMaxObserver
        >>> obs = MovingAveragePerChannelMinMaxObserver(averaging_constant=0.5)
        >>> _ = obs(ember.tensor([[0.0, 2.0]])); _ = obs(ember.tensor([[0.0, 4.0]]))
        >>> obs.max_val
        tensor([3.])
    """

    def __init__(
        self,
        averaging_constant: float = 0.01,
        ch_axis: int = 0,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_channel_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if not _is_per_channel(qscheme):
            raise NotImplementedError(
                "MovingAveragePerChannelMinMaxObserver's qscheme only support torch.per_channel_symmetric, "
                "torch.per_channel_affine and torch.per_channel_affine_float_qparams."
            )
        if is_dynamic:
            raise NotImplementedError("MovingAveragePerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(
            ch_axis=ch_axis,
            dtype=dtype,
            qscheme=qscheme,
            reduce_range=reduce_range,
            quant_min=quant_min,
            quant_max=quant_max,
            eps=eps,
            is_dynamic=is_dynamic,
            **kwargs,
        )
        self.averaging_constant = averaging_constant

    def forward(self, x_orig: Tensor) -> Tensor:
        """Update each channel's moving averages; return ``x_orig`` unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        y = _channels_first(x_orig.detach().to(self.min_val.dtype), self.ch_axis)
        lo, hi = y.aminmax(dim=1)
        if self.min_val.numel() and self.max_val.numel():
            lo = self.min_val + self.averaging_constant * (lo - self.min_val)
            hi = self.max_val + self.averaging_constant * (hi - self.max_val)
        self._store(lo, hi)
        return x_orig


class HistogramObserver(UniformQuantizationObserverBase):
    """Keeps a running histogram (``bins`` bins between the running minimum and maximum) of the tensors
    it sees; ``calculate_qparams`` narrows the range by PyTorch's search for the least L2 quantization
    error over the histogram (dropping outliers), then computes the qparams as :class:`MinMaxObserver`.

    When a tensor widens the range, the old histogram is spread over the new bins by upsampling each
    bin 16 times (its mass split evenly) and reassigning the pieces by their midpoints. Infinite values
    are ignored, with a warning.

    Args:
        bins (int): the number of bins. Default: 2048.
        others: as :class:`MinMaxObserver` (per-tensor schemes only).

    Example::

        >>> from ember.ao.quantization import HistogramObserver
        >>> obs = HistogramObserver(bins=16)
        >>> _ = obs(ember.arange(10.0))
        >>> obs.histogram.sum().item(), obs.calculate_qparams()[1]
        (10.0, tensor([0], dtype=ember.int32))
    """

    def __init__(
        self,
        bins: int = 2048,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_tensor_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        factory_kwargs: dict | None = None,
        eps: float = _EPS,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if not _is_per_tensor(qscheme):
            raise NotImplementedError(
                "HistogramObserver's qscheme only support torch.per_tensor_symmetric and torch.per_tensor_affine."
            )
        if is_dynamic:
            raise NotImplementedError("HistogramObserver doesn't support dynamic quantization")
        super().__init__(
            dtype=dtype,
            qscheme=qscheme,
            reduce_range=reduce_range,
            quant_min=quant_min,
            quant_max=quant_max,
            factory_kwargs=factory_kwargs,
            eps=eps,
            is_dynamic=is_dynamic,
            **kwargs,
        )
        factory_kwargs = dict(factory_kwargs or {})
        self.bins = bins
        self.register_buffer("histogram", zeros(bins, **factory_kwargs))
        self.register_buffer("min_val", tensor(float("inf"), **factory_kwargs))
        self.register_buffer("max_val", tensor(float("-inf"), **factory_kwargs))
        self.dst_nbins = 2 ** iinfo(dtype).bits
        self.upsample_rate = 16  # each old bin split this many times when the range widens

    # -- the error of a candidate range ----------------------------------------------------------
    @staticmethod
    def _get_norm(delta_begin: Tensor, delta_end: Tensor, density: Tensor) -> Tensor:
        """``density`` times the integral of x^2 from ``delta_begin`` to ``delta_end``."""
        cubes = delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin
        return density * (cubes / 3)

    def _compute_quantization_error(self, next_start_bin: int, next_end_bin: int) -> float:
        """The L2 error of quantizing the histogram's mass to ``dst_nbins`` levels spread over the source
        bins ``next_start_bin`` to ``next_end_bin`` (each bin's mass taken as uniform over it)."""
        bin_width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst_width = bin_width * (next_end_bin - next_start_bin + 1) / self.dst_nbins
        if dst_width == 0.0:
            return 0.0
        device = self.histogram.device
        src_begin = (arange(self.bins, device=device) - next_start_bin) * bin_width
        src_end = src_begin + bin_width
        top = self.dst_nbins - 1
        dst_of_begin = div(src_begin, dst_width, rounding_mode="floor").clamp(0, top)
        dst_of_end = div(src_end, dst_width, rounding_mode="floor").clamp(0, top)
        density = self.histogram / bin_width
        half = dst_width / 2
        # the part of each source bin in the destination bin where it begins ...
        norm = zeros(self.bins, device=device)
        norm = norm + self._get_norm(
            src_begin - (dst_of_begin + 0.5) * dst_width, ones(self.bins, device=device) * half, density
        )
        # ... the whole destination bins it covers ...
        norm = norm + (dst_of_end - dst_of_begin - 1) * self._get_norm(tensor(-half), tensor(half), density)
        # ... and the part in the destination bin where it ends
        norm = norm + self._get_norm(tensor(-half), src_end - (dst_of_end * dst_width + half), density)
        return norm.sum().item()

    def _non_linear_param_search(self) -> tuple[Tensor, Tensor]:
        """Narrow ``[min_val, max_val]``: move whichever end drops more bins per 1e-5 of the mass, while
        the quantization error does not grow (caffe2's NormMinimization search)."""
        if self.histogram.shape[0] != self.bins:
            raise AssertionError("bins mismatch")
        bin_width = (self.max_val - self.min_val) / self.bins
        total = self.histogram.sum().item()
        cumulative = self.histogram.cumsum(0).tolist()
        step = 1e-5
        alpha, beta = 0.0, 1.0
        start_bin, end_bin = 0, self.bins - 1
        norm_min = float("inf")
        while alpha < beta:
            next_alpha, next_beta = alpha + step, beta - step
            left, right = start_bin, end_bin
            while left < end_bin and cumulative[left] < next_alpha * total:
                left += 1
            while right > start_bin and cumulative[right] > next_beta * total:
                right -= 1
            next_start, next_end = start_bin, end_bin
            if left - start_bin > end_bin - right:
                next_start, alpha = left, next_alpha
            else:
                next_end, beta = right, next_beta
            if next_start == start_bin and next_end == end_bin:
                continue
            norm = self._compute_quantization_error(next_start, next_end)
            if norm > norm_min:
                break
            norm_min, start_bin, end_bin = norm, next_start, next_end
        return self.min_val + bin_width * start_bin, self.min_val + bin_width * (end_bin + 1)

    # -- the running histogram ---------------------------------------------------------------------
    def _upscale_histogram(
        self, histogram: Tensor, orig_min: Tensor, orig_max: Tensor, update_min: Tensor, update_max: Tensor
    ) -> Tensor:
        """``histogram`` over ``[orig_min, orig_max]`` moved onto ``bins`` bins over ``[update_min,
        update_max]``: each bin split into ``upsample_rate`` equal parts placed by their midpoints."""
        rate = self.upsample_rate
        pieces = histogram.repeat_interleave(rate) / rate
        piece_width = (orig_max - orig_min) / (self.bins * rate)
        midpoints = linspace(orig_min, orig_max, self.bins * rate + 1, device=orig_min.device)[:-1] + 0.5 * piece_width
        boundaries = linspace(update_min, update_max, self.bins + 1, device=update_min.device)
        assigned = (bucketize(midpoints, boundaries, right=True) - 1).clamp(0, self.bins - 1)
        return bincount(assigned, weights=pieces, minlength=self.bins)

    def _combine_histograms(
        self,
        orig_hist: Tensor,
        orig_min: Tensor,
        orig_max: Tensor,
        update_hist: Tensor,
        update_min: Tensor,
        update_max: Tensor,
    ) -> Tensor:
        if bool(update_min == orig_min) and bool(update_max == orig_max):
            return orig_hist + update_hist
        if bool(orig_min == orig_max):  # all the old mass at one point
            moved = histc(orig_min, bins=self.bins, min=update_min, max=update_max) * orig_hist.sum()
            return moved + update_hist
        if bool(update_min > orig_min):
            raise AssertionError("update_min must be <= orig_min")
        if bool(update_max < orig_max):
            raise AssertionError("update_max must be >= orig_max")
        return update_hist + self._upscale_histogram(orig_hist, orig_min, orig_max, update_min, update_max)

    def _set(self, name: str, value: Tensor) -> None:
        buffer = getattr(self, name)
        buffer.detach_().resize_(value.shape)
        buffer.copy_(value)

    def reset_histogram(self, x: Tensor, min_val: Tensor, max_val: Tensor) -> None:
        """Start the histogram afresh from ``x`` over ``[min_val, max_val]``."""
        self._set("min_val", min_val)
        self._set("max_val", max_val)
        if min_val.numel() != 1 or max_val.numel() != 1:
            raise AssertionError("histogram min/max values must be scalar.")
        self._set("histogram", histc(x, self.bins, min=min_val, max=max_val))

    def forward(self, x_orig: Tensor) -> Tensor:
        """Add ``x_orig``'s values to the histogram (widening its range if needed); return it unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        x_min, x_max = x.aminmax()
        if x_min.item() == float("-inf") or x_max.item() == float("inf"):
            warnings.warn("torch.inf detected in input tensor, ignoring input", stacklevel=2)
            x = x[x.abs() != float("inf")]
            if x.numel() == 0:
                return x_orig
            x_min, x_max = x.aminmax()
        current_min, current_max = self.min_val, self.max_val
        if current_min.item() == float("inf") or current_max.item() == float("-inf"):
            self.reset_histogram(x, x_min, x_max)
            return x_orig
        new_min, new_max = current_min.minimum(x_min).detach(), current_max.maximum(x_max).detach()
        update = histc(x, self.bins, min=new_min, max=new_max).to(self.histogram.device)
        if bool(new_min == current_min) and bool(new_max == current_max):
            self._set("histogram", self.histogram + update)
            return x_orig
        combined = self._combine_histograms(self.histogram, current_min, current_max, update, new_min, new_max)
        self._set("histogram", combined)
        self._set("min_val", new_min)
        self._set("max_val", new_max)
        return x_orig

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """The scale and zero point of the searched range (1.0 and 0, with a warning, before any input)."""
        if self.min_val.item() == float("inf") and self.max_val.item() == float("-inf"):
            warnings.warn(
                "must run observer before calling calculate_qparams. Returning default scale and zero point ",
                stacklevel=2,
            )
            return tensor([1.0], device=self.min_val.device), tensor([0], device=self.min_val.device)
        if self.bins != len(self.histogram):
            raise AssertionError(
                "The number of bins in histogram should be equal to the number of bins "
                "supplied while making this observer"
            )
        return self._calculate_qparams(*self._non_linear_param_search())

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class FixedQParamsObserver(ObserverBase):
    """An observer whose quantization parameters are fixed (for the bounded activations: sigmoid,
    tanh); it records nothing. Per tensor only.

    Args:
        scale (float): the fixed scale (a float32 buffer).
        zero_point (int): the fixed zero point (an int32 buffer).
        dtype, qscheme, quant_min, quant_max: as :class:`MinMaxObserver` (range 0..255 by default).

    Example::

        >>> from ember.ao.quantization import FixedQParamsObserver
        >>> FixedQParamsObserver(scale=1.0 / 256.0, zero_point=0).calculate_qparams()
        (tensor([0.0039]), tensor([0], dtype=ember.int32))
    """

    def __init__(
        self,
        scale: float,
        zero_point: int,
        dtype: Any = dtypes.quint8,
        qscheme: Any = per_tensor_affine,
        quant_min: int = 0,
        quant_max: int = 255,
        is_dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        if is_dynamic:
            raise NotImplementedError("FixedQParamsObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.quant_min, self.quant_max = quant_min, quant_max
        self.register_buffer("scale", tensor([scale], dtype=dtypes.float32))
        self.register_buffer("zero_point", tensor([zero_point], dtype=dtypes.int32))
        self.qscheme = qscheme

    def forward(self, X: Tensor) -> Tensor:
        return X

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        return self.scale, self.zero_point


class PlaceholderObserver(ObserverBase):
    """An observer that records nothing: it only carries the ``dtype`` (and ``is_dynamic``) it was made
    with; ``calculate_qparams`` raises.

    Example::

        >>> from ember.ao.quantization import PlaceholderObserver
        >>> PlaceholderObserver(dtype=ember.float16)
        PlaceholderObserver(dtype=ember.float16, is_dynamic=False)
    """

    def __init__(
        self,
        dtype: Any = dtypes.float32,
        custom_op_name: str = "",
        compute_dtype: Any = None,
        quant_min: int | None = None,
        quant_max: int | None = None,
        qscheme: Any = None,
        eps: float | None = None,
        is_dynamic: bool = False,
    ) -> None:
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        if qscheme is None:
            qscheme = per_tensor_affine
        if eps is None:
            eps = _EPS
        self.quant_min, self.quant_max, self.qscheme, self.eps = quant_min, quant_max, qscheme, eps
        self.custom_op = custom_op_name
        if compute_dtype:
            is_dynamic = True
            warnings.warn(
                "Please use `is_dynamic` instead of `compute_dtype`. `compute_dtype` will be deprecated in a future "
                "release of PyTorch.",
                stacklevel=2,
            )
            self.is_dynamic = is_dynamic

    def forward(self, x: Tensor) -> Tensor:
        return x

    def extra_repr(self) -> str:
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self) -> Any:
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")  # noqa: TRY002


class NoopObserver(ObserverBase):
    """An observer that does nothing (for float16 activations); ``calculate_qparams`` raises."""

    def __init__(self, dtype: Any = dtypes.float16, custom_op_name: str = "") -> None:
        super().__init__(dtype=dtype)
        self.dtype = dtype
        self.custom_op = custom_op_name

    def forward(self, x: Tensor) -> Tensor:
        return x

    def calculate_qparams(self) -> Any:
        raise Exception("calculate_qparams should not be called for NoopObserver")  # noqa: TRY002


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
default_weight_observer = MinMaxObserver.with_args(dtype=dtypes.qint8, qscheme=per_tensor_symmetric)
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=per_tensor_symmetric, quant_min=-127, quant_max=127, eps=2**-12
)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=per_channel_symmetric
)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=per_channel_symmetric, quant_min=-127, quant_max=127, eps=2**-12
)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=dtypes.quint8, quant_min=0, quant_max=255, is_dynamic=True
)
default_fixed_qparams_range_neg1to1_observer = FixedQParamsObserver.with_args(
    scale=2.0 / 256.0, zero_point=128, dtype=dtypes.quint8, quant_min=0, quant_max=255
)
default_fixed_qparams_range_0to1_observer = FixedQParamsObserver.with_args(
    scale=1.0 / 256.0, zero_point=0, dtype=dtypes.quint8, quant_min=0, quant_max=255
)
default_symmetric_fixed_qparams_observer = default_fixed_qparams_range_neg1to1_observer
default_affine_fixed_qparams_observer = default_fixed_qparams_range_0to1_observer
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.quint8, qscheme=per_channel_affine_float_qparams, ch_axis=0
)
