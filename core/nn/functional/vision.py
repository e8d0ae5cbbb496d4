"""Functional vision: pixel (un)shuffle, interpolate/upsample, grid_sample and affine_grid.

Interpolation is separable: each spatial axis is resampled by gathering slices along it
(``take_axis``, whose adjoint accumulates) and mixing them with fixed weights, so one code
path serves nearest, linear, bilinear, bicubic and trilinear. ``grid_sample`` gathers the
corner points of every sample location with ``gather_points`` and weights them with
tensor ops on the grid, which gives the gradient with respect to the grid.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ... import dtypes
from ...amp.policy import autocast_call, cast_inputs
from ...amp.state import state as _amp
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...ops.arithmetic import where
from ...ops.creation import linspace
from ...ops.dtype_support import FLOATING_AND_HALF, not_implemented
from ...ops.movement import stack
from ...ops.operands import named_node, read_before_checked, require_tensors, type_name
from ...ops.reduced_precision import computes_in_float32, narrow_on_cpu
from ...tensor import Tensor
from .padding import take_axis
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from .resample_antialias import resample_antialias
from .resample_uint8 import resample_uint8
from .spatial_layout import in_input_format

__all__ = [
    "pixel_shuffle", "pixel_unshuffle", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "grid_sample", "affine_grid", "channel_shuffle", "native_channel_shuffle",
]  # fmt: skip


# -- pixel shuffle -----------------------------------------------------------------------
def _check_shuffle(op, input, factor, name):
    require_tensors(op, ("input",), input)
    if not isinstance(factor, numbers.Integral) or isinstance(factor, bool):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not {type_name(factor)}")
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive factor, but got {factor}")
    if input.dtype in dtypes.limited_dtypes:  # PyTorch's shuffle kernels have no uint16/32/64 nor float8
        not_implemented(op, input.dtype)
    if input.ndim < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with {input.ndim} dimension(s)"
        )


def _new_tensor(result: Tensor) -> Tensor:
    """``result`` as a tensor of its own, in its layout: the shuffles return new tensors in PyTorch, also
    where the rearrangement moves nothing (a factor or group count of 1) and ``result`` is a view of the input."""
    return result.clone() if result._is_view() else result


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    r"""Rearranges ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)``, with ``r`` the ``upscale_factor``.

    Args:
        input (Tensor): the input :math:`(*, C \times r^2, H, W)`.
        upscale_factor (int): the factor :math:`r` to increase the spatial resolution by.

    Shape:
        - Input: :math:`(*, C_{in}, H_{in}, W_{in})`
        - Output: :math:`(*, C_{in} / r^2, H_{in} \times r, W_{in} \times r)`

    Example::

        >>> F.pixel_shuffle(ember.randn(1, 9, 4, 4), 3).size()
        ember.Size([1, 1, 12, 12])
    """
    _check_shuffle("pixel_shuffle", input, upscale_factor, "upscale_factor")
    r = int(upscale_factor)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    b = len(batch)
    x = input.reshape(tuple(batch) + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2))
    out = _new_tensor(in_input_format(x.reshape(tuple(batch) + (c // (r * r), h * r, w * r)), input))
    return named_node(out, "PixelShuffleBackward0")  # PyTorch's one node


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r"""Reverses :func:`pixel_shuffle`: ``(*, C, H r, W r)`` into ``(*, C r^2, H, W)``.

    Args:
        input (Tensor): the input :math:`(*, C, H \times r, W \times r)`.
        downscale_factor (int): the factor :math:`r` to decrease the spatial resolution by.

    Shape:
        - Input: :math:`(*, C_{in}, H_{in}, W_{in})`
        - Output: :math:`(*, C_{in} \times r^2, H_{in} / r, W_{in} / r)`

    Example::

        >>> F.pixel_unshuffle(ember.randn(1, 1, 12, 12), 3).size()
        ember.Size([1, 9, 4, 4])
    """
    _check_shuffle("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    r = int(downscale_factor)
    *batch, c, h, w = input.shape
    for name, dim, size in (("height", -2, h), ("width", -1, w)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input.size({dim})={size} "
                f"is not divisible by {r}"
            )
    b = len(batch)
    x = input.reshape(tuple(batch) + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3))
    out = _new_tensor(in_input_format(x.reshape(tuple(batch) + (c * r * r, h // r, w // r)), input))
    return named_node(out, "PixelUnshuffleBackward0")  # PyTorch's one node


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    r"""Split the channels of :math:`(N, C, *)` into ``groups`` groups and interleave them
    (ShuffleNet's channel shuffle): channel ``g * (C / groups) + k`` moves to ``k * groups + g``.

    Args:
        input (Tensor): :math:`(N, C, *)`, with :math:`C` divisible by ``groups``.
        groups (int): the number of groups.

    Examples::

        >>> F.channel_shuffle(ember.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    require_tensors("channel_shuffle", ("input",), input)
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    shuffled = in_input_format(input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(input.shape), input)
    return named_node(_new_tensor(shuffled), "ChannelShuffleBackward0")  # PyTorch's one node


native_channel_shuffle = channel_shuffle  # PyTorch's name of the same kernel (F.native_channel_shuffle)


# -- interpolate -------------------------------------------------------------------------
#: the spatial dimensions that each interpolating mode takes
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area", "lanczos")
#: ``mode="area"`` is adaptive average pooling to the output size (as in PyTorch)
_AREA: dict[int, Callable[..., Tensor]] = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
_CUBIC_A = -0.75


def _scale(in_size, out_size, align_corners, scale_factor):
    """PyTorch's ``area_pixel_compute_scale``: source step per destination step."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


def _nearest_taps(xp, float32, int64, in_size, out_size, scale_factor, exact, exact_multiples):
    """``floor(dst * scale)`` (``floor((dst + 0.5) * scale)`` when ``exact``); with
    ``exact_multiples``, an output of once or twice the input's size takes ``dst`` or ``dst // 2``
    whatever the scale, as PyTorch's 2-D ``'nearest'`` kernel does (its ``nearest_idx``)."""
    if exact_multiples and out_size in (in_size, 2 * in_size):
        return [(xp.arange(out_size, dtype=int64) // (out_size // in_size), None)]
    scale = xp.asarray(_scale(in_size, out_size, False, scale_factor), dtype=float32)
    dst = xp.arange(out_size, dtype=float32)
    if exact:
        dst = dst + 0.5
    index = xp.minimum(xp.astype(xp.floor(dst * scale), int64), in_size - 1)
    return [(index, None)]


def _linear_taps(xp, dtype, int64, in_size, out_size, scale_factor, align_corners):
    if in_size == out_size:  # a copy whatever the scale, as PyTorch's linear kernels
        return [(xp.arange(out_size, dtype=int64), None)]
    scale = xp.asarray(_scale(in_size, out_size, align_corners, scale_factor), dtype=dtype)
    dst = xp.arange(out_size, dtype=dtype)
    src = dst * scale if align_corners else xp.maximum((dst + 0.5) * scale - 0.5, xp.asarray(0, dtype=dtype))
    index0 = xp.minimum(xp.astype(xp.floor(src), int64), in_size - 1)
    lam = xp.minimum(xp.maximum(src - xp.astype(index0, dtype), xp.asarray(0, dtype=dtype)), xp.asarray(1, dtype=dtype))
    index1 = xp.minimum(index0 + 1, in_size - 1)
    return [(index0, 1 - lam), (index1, lam)]


def _cubic_taps(xp, dtype, int64, in_size, out_size, scale_factor, align_corners):
    scale = xp.asarray(_scale(in_size, out_size, align_corners, scale_factor), dtype=dtype)
    dst = xp.arange(out_size, dtype=dtype)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    floor = xp.floor(src)
    t = src - floor
    base = xp.astype(floor, int64)
    return [(xp.minimum(xp.maximum(base + k - 1, 0), in_size - 1), w) for k, w in enumerate(_cubic_weights(t))]


def _cubic_weights(t):
    """Keys' cubic convolution weights (``A = -0.75``) of the taps at offsets -1, 0, 1, 2 from
    ``floor(src)``, for ``t = src - floor(src)`` (native arrays or tensors: operators only)."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _resample_axis(x, axis, taps):
    """``sum_k take(x, index_k, axis) * weight_k`` (weights broadcast along ``axis``)."""
    view = [1] * x.ndim
    out = None
    for index, weight in taps:
        picked = take_axis(x, index, axis)
        if weight is not None:
            view[axis] = weight.shape[0]
            picked = picked * x._make(x._backend.xp.reshape(weight, tuple(view)))
        out = picked if out is None else out + picked
    return out


def _per_dim(value, dim, what):
    if isinstance(value, (list, tuple)):
        if len(value) != dim:
            raise ValueError(what(value))
        return list(value)
    return [value] * dim


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer: a Python or NumPy int, or a tensor of an integer dtype."""
    if isinstance(value, Tensor):
        return not value.dtype.is_floating_point
    return isinstance(value, numbers.Integral)


def _interpolate_kernel(mode, nd):
    """The PyTorch CPU kernel that refuses an integer input of ``interpolate(mode=mode)`` (``nd`` spatial dims)."""
    if mode == "area":
        return "adaptive_avg_pool3d_cpu" if nd == 3 else "adaptive_avg_pool2d"
    if nd == 2 and mode in ("nearest", "nearest-exact", "bilinear"):
        return f"upsample_{'bilinear' if mode == 'bilinear' else 'nearest'}2d_channels_last"
    return "compute_indices_weights_" + {"bicubic": "cubic", "nearest-exact": "nearest", "trilinear": "linear"}.get(
        mode, mode
    )


def _input_error(input: Tensor, mode: str) -> NotImplementedError:
    return NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
        f"nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
    )


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    r"""Down/up samples the input to the given ``size`` or by the given ``scale_factor``.

    The spatial dimensions of ``(N, C, d1, ..., dK)`` inputs (K = 1, 2, 3) are resampled.
    ``'nearest'`` takes source index ``floor(dst * scale)`` (``'nearest-exact'``
    ``floor((dst + 0.5) * scale)``); the interpolating modes follow PyTorch's source-index
    rule with ``align_corners``.

    Args:
        input (Tensor): the input tensor.
        size (int or Tuple[int]): output spatial size.
        scale_factor (float or Tuple[float]): multiplier for spatial size.
        mode (str): ``'nearest'`` | ``'nearest-exact'`` | ``'linear'`` | ``'bilinear'`` |
            ``'bicubic'`` | ``'trilinear'`` | ``'area'`` | ``'lanczos'`` (Lanczos-3, 4-D inputs,
            ``antialias=True`` and ``align_corners=False`` only). Default: ``'nearest'``
        align_corners (bool, optional): align the centres of the corner pixels of input
            and output (interpolating modes only). Default: ``False``
        recompute_scale_factor (bool, optional): compute the output size from
            ``scale_factor`` and interpolate with the scale implied by the sizes instead of
            the given ``scale_factor``. Default: None
        antialias (bool): low-pass filter while downsampling (``'bilinear'``, ``'bicubic'`` and
            ``'lanczos'`` on 4-D inputs): the filter's support is stretched by the downscale factor and the
            weights of each output are normalised, as in PyTorch (and Pillow with
            ``align_corners=False``); bicubic then uses ``A = -0.5``. Default: ``False``

    Shape:
        - Input: :math:`(N, C, d_1, ..., d_K)`, :math:`K` = 1, 2 or 3
        - Output: :math:`(N, C, s_1, ..., s_K)`, :math:`s_i` = ``size[i]`` or :math:`\lfloor d_i \times` ``scale_factor[i]`` :math:`\rfloor`

    Example::

        >>> F.interpolate(ember.randn(1, 1, 2, 2), scale_factor=2, mode="bilinear").size()
        ember.Size([1, 1, 4, 4])
        >>> spike = ember.tensor([[[[0.0, 0, 0, 9, 0, 0, 0, 0]]]])
        >>> F.interpolate(spike, size=(1, 4), mode="bilinear", antialias=True)  # a triangle 4 pixels wide
        tensor([[[[0.0000, 3.3750, 1.1250, 0.0000]]]])
    """
    args = (size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if antialias and narrow_on_cpu(input):  # validated as PyTorch does, then refused by its dtype
        return _interpolate(input, *args)
    return _interpolate_in_float32(input, *args, weights_dtype=getattr(input, "dtype", None))


def _interpolate(
    input: Tensor,
    size: int | Sequence[int] | None,
    scale_factor: float | Sequence[float] | None,
    mode: str,
    align_corners: bool | None,
    recompute_scale_factor: bool | None,
    antialias: bool,
    weights_dtype: dtypes.dtype | None = None,
) -> Tensor:
    if _amp.active:  # float32 on cuda; as it is on cpu, whatever ops its modes use inside
        args = (input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        return autocast_call("interpolate", interpolate, *args)
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                "trilinear"
            )
    else:
        align_corners = bool(align_corners)
    read_before_checked(input, "dim")  # PyTorch's Python functional: input.dim() after the mode's check
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type_name(input)}")
    dim = input.ndim - 2
    in_sizes = list(input.shape[2:])
    scales: list[Any]
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = _per_dim(
            size,
            dim,
            lambda v: (
                "Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {in_sizes} and output size of {v}. Please provide input tensor in (N, C, d1, d2, "
                "...,dK) format and output size in (o1, o2, ...,oK) format."
            ),
        )
        if not all(_is_integer(s) and not isinstance(s, bool) for s in sizes):
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but got "
                f"size with types {[type(s) for s in sizes]}"
            )
        out_sizes, scales = [int(s) for s in sizes], [None] * dim
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        factors = _per_dim(
            scale_factor,
            dim,
            lambda v: (
                "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {in_sizes} and scale_factor of shape {v}. Please provide input tensor "
                "in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
            ),
        )
        # the kernels take Python numbers; a tensor only serves to compute the sizes (as PyTorch's)
        if not all(isinstance(s, numbers.Real) or (recompute_scale_factor and isinstance(s, Tensor)) for s in factors):
            raise TypeError(
                f"interpolate(): expected scale_factor to be a float or a tuple of floats, but got {scale_factor!r}"
            )
        scales = [float(s) for s in factors]
        out_sizes = [math.floor(float(n) * s) for n, s in zip(in_sizes, scales)]
        if recompute_scale_factor:
            scales = [None] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or input.ndim != 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    # the mode and the input's rank are checked after the sizes, as in PyTorch
    if mode not in _MODES or input.ndim not in (3, 4, 5):
        raise _input_error(input, mode)
    if input.ndim - 2 != _MODE_DIMS.get(mode, input.ndim - 2):
        if mode in ("bicubic", "lanczos"):
            raise _input_error(input, mode)
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
    if mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if any(n <= 0 for n in in_sizes + out_sizes):
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input {tuple(in_sizes)} "
            f"output {tuple(out_sizes)}"
        )
    if antialias:
        if input.dtype is dtypes.uint8:  # PyTorch's integer arithmetic
            return in_input_format(
                resample_uint8(input, out_sizes, scales, mode, bool(align_corners), antialias=True), input
            )
        if input.dtype not in (dtypes.float32, dtypes.float64):
            not_implemented("compute_index_ranges_weights", input.dtype)
        out = in_input_format(resample_antialias(input, out_sizes, scales, mode, bool(align_corners)), input)
        return named_node(out, f"Upsample{mode.title()}2DAaBackward0")  # PyTorch's one node
    if not input.dtype.is_floating_point or input.dtype in dtypes.float8_dtypes:  # PyTorch resamples no float8
        if input.dtype is not dtypes.uint8 or mode in ("linear", "trilinear", "area"):
            not_implemented(_interpolate_kernel(mode, dim), input.dtype)
        if mode in ("bilinear", "bicubic"):  # PyTorch's integer arithmetic
            return in_input_format(resample_uint8(input, out_sizes, scales, mode, bool(align_corners)), input)
        # nearest: a gather of bytes, exact through float32
        return interpolate(input.float(), size, scale_factor, mode, align_corners, recompute_scale_factor).to(
            input.dtype
        )
    if mode == "area":
        return _AREA[dim](input, out_sizes)
    backend = input._backend
    xp, int64 = backend.xp, backend.native_dtype(dtypes.int64)
    out = input
    with backend.device_context(input._device.index):
        for i in range(dim):
            n_in, n_out, s = in_sizes[i], out_sizes[i], scales[i]
            if mode.startswith("nearest"):
                float32 = backend.native_dtype(dtypes.float32)
                exact = mode == "nearest-exact"
                taps = _nearest_taps(xp, float32, int64, n_in, n_out, s, exact, not exact and dim == 2)
            elif mode == "bicubic":
                taps = _cubic_taps(xp, input._data.dtype, int64, n_in, n_out, s, align_corners)
            else:
                taps = _linear_taps(xp, input._data.dtype, int64, n_in, n_out, s, align_corners)
            if weights_dtype is not None and weights_dtype in dtypes.narrow_float and mode == "bicubic":
                # PyTorch's forward keeps a 16-bit input's cubic weights in its type (its backward, and the
                # linear modes, in float32): the values from the rounded weights, the gradient from the others
                narrow, wide = backend.native_dtype(weights_dtype), input._data.dtype
                rounded = [(index, xp.astype(xp.astype(w, narrow), wide)) for index, w in taps]
                resampled = _resample_axis(out.detach(), i + 2, rounded)
                if out.requires_grad and grad_state.enabled:
                    exact = _resample_axis(out, i + 2, taps)
                    resampled = exact + (resampled - exact.detach())
                out = resampled
                continue
            out = _resample_axis(out, i + 2, taps)
    # PyTorch's one node, named by the mode and the count of resampled dimensions (UpsampleBilinear2DBackward0)
    kind = "".join(part.title() for part in mode.split("-"))
    return named_node(in_input_format(out, input), f"Upsample{kind}{dim}DBackward0")


_interpolate.__name__ = "interpolate"  # autocast's policy knows the op by this name
#: interpolate with float16/bfloat16 computed in float32 and rounded back once
_interpolate_in_float32 = computes_in_float32(_interpolate)


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    r"""Upsamples the input (deprecated: use :func:`interpolate`, which this calls).

    Args:
        input (Tensor): the input.
        size (int or tuple, optional): the output spatial size.
        scale_factor (float or tuple, optional): multiplier of the spatial size.
        mode (str): the algorithm, as in :func:`interpolate`. Default: ``'nearest'``
        align_corners (bool, optional): as in :func:`interpolate`. Default: ``None``

    Examples::

        >>> x = ember.tensor([[[1.0, 2.0, 4.0]]])
        >>> F.upsample(x, scale_factor=2)
        tensor([[[1., 1., 2., 2., 4., 4.]]])
        >>> F.upsample(x, size=5, mode='linear', align_corners=True)
        tensor([[[1.0000, 1.5000, 2.0000, 3.0000, 4.0000]]])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | Sequence[float] | None = None
) -> Tensor:
    r"""Upsamples with nearest neighbours (deprecated: ``interpolate(..., mode='nearest')``).

    Args:
        input (Tensor): the input.
        size (int or tuple, optional): the output spatial size.
        scale_factor (int, optional): multiplier of the spatial size.

    Examples::

        >>> x = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> F.upsample_nearest(x, scale_factor=2)
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.],
                  [3., 3., 4., 4.],
                  [3., 3., 4., 4.]]]])
    """
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | Sequence[float] | None = None
) -> Tensor:
    r"""Upsamples 4-D input bilinearly with ``align_corners=True`` (deprecated: use :func:`interpolate`).

    Args:
        input (Tensor): :math:`(N, C, H, W)`.
        size (int or tuple, optional): the output size ``(H_out, W_out)``.
        scale_factor (int or tuple, optional): multiplier of the spatial size.

    Examples::

        >>> x = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> F.upsample_bilinear(x, size=3)
        tensor([[[[1.0000, 1.5000, 2.0000],
                  [2.0000, 2.5000, 3.0000],
                  [3.0000, 3.5000, 4.0000]]]])
    """
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- grid_sample / affine_grid -----------------------------------------------------------
_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


class _GatherPoints(Function):
    """``out[n, c, p] = x[n, c, index[n, p]]`` for ``x`` ``(N, C, L)`` and a native index ``(N, P)``."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.length = index, x.shape[2]
        return x._make(x._backend.kernels.gather_points(x._data, index))

    @staticmethod
    def backward(ctx, grad):
        return _GatherPointsBackward.apply(grad, ctx.index, ctx.length), None


class _GatherPointsBackward(Function):
    @staticmethod
    def forward(ctx, grad, index, length):
        ctx.index = index
        return grad._make(grad._backend.kernels.gather_points_backward(grad._data, index, length))

    @staticmethod
    def backward(ctx, grad):
        return _GatherPoints.apply(grad, ctx.index), None, None


def _reflect(coord, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates`` (its scalar 3-D kernel): fold ``coord`` into
    ``[twice_low / 2, twice_high / 2]``."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord.detach() / span).floor()
    return where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _reflect_2d(coord, low, twice_span):
    """The same fold as PyTorch's vectorized 2-D kernel computes it (its rounding, and the gradient
    sign it gives at the fold points): into ``[low, low + twice_span / 2]``."""
    if twice_span == 0:
        return coord * 0
    shifted = coord - low
    flat = where(shifted < 0, -shifted, shifted)
    extra = flat - (flat.detach() / twice_span).trunc() * twice_span
    mirrored = twice_span - extra
    return where(extra > mirrored, mirrored, extra) + low


def _clip(coord, size, planar):
    """``coord`` clamped to ``[0, size - 1]``, its gradient zero on the borders as well as beyond them
    (PyTorch's ``clip_coordinates``; ``clamp`` would pass the gradient at the borders). A NaN coordinate
    goes where PyTorch's kernels put it: to 0 in 2-D (its vectorized min and max), to ``size - 1`` in 3-D
    (``std::min(size - 1, std::max(NaN, 0))``)."""
    inside = (coord > 0) & (coord < size - 1)
    return where(inside, coord, coord.detach().clamp(0, size - 1).nan_to_num(0.0 if planar else size - 1.0))


def _fused_multiply_add(a, scale, offset):
    """``a * scale + offset`` rounded once, as a fused multiply-add rounds it, for a float32 or float64
    ``a`` and a ``scale`` that is a small integer or half-integer (other dtypes round twice)."""
    if a.dtype is dtypes.float32 and a._backend.supports_float64:
        # the product of a float32 by such a scale, and the sum, are exact in float64
        return (a.to(dtypes.float64) * scale + offset).to(dtypes.float32)
    if a.dtype is not dtypes.float64:
        return a * scale + offset
    # Veltkamp's split: hi keeps the upper 26 bits of a, so hi * scale + offset is exact and the
    # last addition is the only rounding
    big = a * 134217729.0
    hi = big - (big - a)
    fused = (hi * scale + offset) + (a - hi) * scale
    return where(big.isfinite(), fused, a * scale + offset)  # an inf (or huge) a: the plain, infinite, result


def _unnormalize(coord, size, align_corners, planar):
    """A grid coordinate in ``[-1, 1]`` as a pixel coordinate along a dimension of ``size``, rounded
    as PyTorch's CPU kernels round it: the 2-D (``planar``) one with a fused multiply-add."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    if planar:
        return _fused_multiply_add(coord + 1, size / 2, -0.5)
    return ((coord + 1) * size - 1) / 2


def _pad_coord(coord, size, padding_mode, align_corners, planar):
    """PyTorch's ``compute_coordinates``: a pixel coordinate moved inside for border and reflection padding."""
    if padding_mode == "reflection":
        if planar:
            coord = _reflect_2d(coord, 0, 2 * (size - 1)) if align_corners else _reflect_2d(coord, -0.5, 2 * size)
        else:
            coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
    return coord if padding_mode == "zeros" else _clip(coord, size, planar)


def _grid_cubic_taps(coord, size, padding_mode, align_corners):
    """The 4 (position, weight) taps of bicubic sampling at the pixel coordinate ``coord`` (PyTorch's
    cubic convolution with ``A = -0.75``); the positions are padded one by one, as PyTorch pads them."""
    a = -0.75
    low = coord.detach().floor()
    t = coord - low

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    return [(_pad_coord(low + (i - 1), size, padding_mode, align_corners, True), w) for i, w in enumerate(weights)]


class _OnesWithZeroGrad(Function):
    """Ones shaped like ``x`` whose gradient to ``x`` is zero: nearest sampling's weight, which keeps the
    grid in the graph (PyTorch gives it a zero gradient rather than none)."""

    @staticmethod
    def forward(ctx, x):
        return x.new_ones(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(grad.shape)


def grid_sample(
    input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: bool | None = None
) -> Tensor:
    r"""Samples ``input`` at the locations in ``grid`` (normalised to ``[-1, 1]``).

    For 4-D ``input`` :math:`(N, C, H_{in}, W_{in})` and ``grid`` :math:`(N, H_{out}, W_{out}, 2)`
    the output is :math:`(N, C, H_{out}, W_{out})`; ``grid[..., 0]`` is the x (width)
    coordinate and ``grid[..., 1]`` the y coordinate. 5-D inputs take a ``(..., 3)`` grid.

    Args:
        input (Tensor): input of shape :math:`(N, C, H_{in}, W_{in})` (or 5-D).
        grid (Tensor): flow field of shape :math:`(N, H_{out}, W_{out}, 2)` (or 5-D with 3).
        mode (str): ``'bilinear'`` | ``'nearest'`` | ``'bicubic'`` (4-D input only). Default: ``'bilinear'``
        padding_mode (str): ``'zeros'`` | ``'border'`` | ``'reflection'``. Default: ``'zeros'``
        align_corners (bool, optional): -1 and 1 are the centres (True) or the outer edges
            (False) of the corner pixels. Default: ``False``

    Gradients flow to both ``input`` and ``grid`` (``'nearest'`` gives the grid a zero gradient).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(N, C, D_{in}, H_{in}, W_{in})`
        - Grid: :math:`(N, H_{out}, W_{out}, 2)` or :math:`(N, D_{out}, H_{out}, W_{out}, 3)`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(N, C, D_{out}, H_{out}, W_{out})`

    Examples::

        >>> img = ember.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])  # (N, C, H, W) = (1, 1, 2, 2)
        >>> grid = ember.tensor([[[[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]]])  # (N, 1, 3, 2): corner, centre, corner
        >>> F.grid_sample(img, grid, align_corners=True)
        tensor([[[[0.0000, 1.5000, 3.0000]]]])
        >>> F.grid_sample(img, grid, mode='nearest', align_corners=True)
        tensor([[[[0., 0., 3.]]]])
        >>> F.grid_sample(img, grid, align_corners=False)  # corners fall on pixel edges, half padding
        tensor([[[[0.0000, 1.5000, 0.7500]]]])
    """
    op = "grid_sampler()"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    require_tensors("grid_sampler", ("input", "grid"), input, grid)  # the op PyTorch's functional calls
    if _amp.active:
        return autocast_call("grid_sampler", grid_sample, input, grid, mode, padding_mode, align_corners)
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(
            f"{op}: expected 4D or 5D input and grid with same number of dimensions, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if input.device != grid.device:
        raise RuntimeError(
            f"{op}: expected input and grid to be on same device, but input is on {input.device} "
            f"and grid is on {grid.device}"
        )
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("grid_sampler_2d_cpu_kernel_impl" if input.ndim == 4 else "grid_sampler3d_cpu", input.dtype)
    if input.dtype is not grid.dtype:
        raise RuntimeError(
            f"{op}: expected input and grid to have same dtype, but input has {input.dtype} and grid has {grid.dtype}"
        )
    dim = input.ndim - 2
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"{op}: expected grid and input to have same batch size, but got input with sizes {list(input.shape)} "
            f"and grid with sizes {list(grid.shape)}"
        )
    if grid.shape[-1] != dim:
        raise RuntimeError(
            f"{op}: expected grid to have size {dim} in last dimension, but got grid with sizes {list(grid.shape)}"
        )
    if mode == "bicubic" and dim != 2:
        raise RuntimeError(f"{op}: bicubic interpolation only supports 4D input")
    if any(s == 0 for s in input.shape[2:]):
        raise RuntimeError(
            f"{op}: expected input to have non-empty spatial dimensions, but input has sizes "
            f"{list(input.shape)} with dimension 2 being empty"
        )
    if mode == "bicubic" and dim == 3:
        raise RuntimeError(f"{op}: bicubic interpolation only supports 4D input")
    n, c = input.shape[:2]
    sizes = input.shape[2:]
    out_shape = grid.shape[1:-1]
    points = grid.reshape(n, math.prod(out_shape), dim)  # (sizes given: an empty batch infers none)
    # grid[..., 0] indexes the last spatial dimension (x = width), grid[..., 1] the one before.
    planar = dim == 2
    coords = [_unnormalize(points[:, :, dim - 1 - j], sizes[j], align_corners, planar) for j in range(dim)]
    flat = input.reshape(n, c, math.prod(sizes))
    strides = [math.prod(sizes[j + 1 :]) for j in range(dim)]
    int64 = dtypes.int64
    corners = []
    for size, coord in zip(sizes, coords):
        if mode == "bicubic":
            corners.append(_grid_cubic_taps(coord, size, padding_mode, align_corners))
            continue
        coord = _pad_coord(coord, size, padding_mode, align_corners, planar)
        if mode == "nearest":
            corners.append([(coord.detach().round(), _OnesWithZeroGrad.apply(coord) if grid.requires_grad else None)])
        else:
            low = coord.detach().floor()
            frac = coord - low
            corners.append([(low, 1 - frac), (low + 1, frac)])
    out: Any = None
    for combo in itertools.product(*corners):
        index: Any
        weight: Any
        valid: Any
        index, weight, valid = None, None, None
        for j, (position, w) in enumerate(combo):
            inside = (position >= 0) & (position <= sizes[j] - 1)  # False for NaN
            valid = inside if valid is None else valid & inside
            term = where(inside, position, 0).to(int64) * strides[j]
            index = term if index is None else index + term
            if w is not None:
                weight = w if weight is None else weight * w
        # a corner outside the input reads 0 (selected, so an inf/NaN grad does not reach the clamped index
        # it was gathered from, as PyTorch skips it); its weight still multiplies grad, as in PyTorch
        value = _GatherPoints.apply(flat, index._data)
        value = where(valid.unsqueeze(1), value, value.new_zeros(()))
        value = value if weight is None else value * weight.unsqueeze(1)
        out = value if out is None else out + value
    return out.reshape((n, c) + tuple(out_shape))


def _base_coords(steps, align_corners, like):
    if steps <= 1:
        return linspace(0, 0, steps, dtype=like.dtype, device=like.device)
    coords = linspace(-1, 1, steps, dtype=like.dtype, device=like.device)
    return coords if align_corners else coords * (steps - 1) / steps  # in this order, as PyTorch rounds


class _AffineGrid(Function):
    """``base @ theta^T`` for the constant coordinates ``base``. As PyTorch's affine_grid_generator, it
    saves no tensor for backward (``base`` is rebuilt from the size, not taken from the graph), so a
    grid can be backpropagated through more than once without ``retain_graph``."""

    @staticmethod
    def forward(ctx, theta, base):
        ctx.base = base
        return base.matmul(theta.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(1, 2).matmul(ctx.base), None


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    r"""Generates a 2-D or 3-D flow field (sampling grid) from a batch of affine matrices ``theta``.

    Args:
        theta (Tensor): input batch of affine matrices with shape (:math:`N \times 2 \times 3`)
            for 2D or (:math:`N \times 3 \times 4`) for 3D.
        size (ember.Size): the target output image size, :math:`(N, C, H, W)` for 2D or
            :math:`(N, C, D, H, W)` for 3D.
        align_corners (bool, optional): see :func:`grid_sample`. Default: ``False``

    Returns:
        output Tensor of size (:math:`N \times H \times W \times 2`) (or
        :math:`N \times D \times H \times W \times 3`).

    Examples::

        >>> theta = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # the identity
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=False)
        tensor([[[[-0.5000, -0.5000],
                  [ 0.5000, -0.5000]],
        <BLANKLINE>
                 [[-0.5000,  0.5000],
                  [ 0.5000,  0.5000]]]])
        >>> theta = ember.tensor([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]])  # a quarter turn
        >>> img = ember.arange(4.0).reshape(1, 1, 2, 2)
        >>> F.grid_sample(img, F.affine_grid(theta, img.shape, align_corners=False), align_corners=False)
        tensor([[[[1., 3.],
                  [0., 2.]]]])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    read_before_checked(theta, "is_floating_point")  # PyTorch's Python functional: theta.is_floating_point() first
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid(): argument 'theta' must be Tensor, not {type_name(theta)}")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if not all(isinstance(s, numbers.Integral) for s in size):  # PyTorch's binding takes only ints
        raise TypeError(f"affine_grid(): argument 'size' must be tuple of ints, got {tuple(size)}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    dim = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (dim, dim + 1):
        raise ValueError(
            f"Expected a batch of {dim}D affine matrices of shape Nx{dim}x{dim + 1} for size {size}. Got {theta.shape}."
        )
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:  # PyTorch's bmm of the base grid by theta refuses it
        raise RuntimeError(
            f"affine_grid: theta holds {theta.shape[0]} matrices, but size asks for a batch of {size[0]}"
        )
    if _amp.active:  # PyTorch's base @ theta is a bmm: built in its dtype from the start
        (theta,) = cast_inputs("bmm", theta)
    spatial = size[2:]
    # base[..., k] is the coordinate of the k-th innermost spatial dimension (x first), then 1.
    axes = []
    for k in range(dim):
        j = dim - 1 - k
        view = [1] * dim
        view[j] = spatial[j]
        axes.append(_base_coords(spatial[j], align_corners, theta).reshape(view).expand(spatial))
    ones = theta.new_ones(spatial)
    base = stack(axes + [ones], dim=-1).reshape(1, -1, dim + 1)
    return _AffineGrid.apply(theta, base).reshape((size[0],) + spatial + (dim,))
