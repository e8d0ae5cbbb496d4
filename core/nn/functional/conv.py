"""Functional convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``.

The three autograd Functions below are the three faces of one bilinear map (the
convolution, its adjoint in the input, its adjoint in the weight); each one's backward is
made of the other two, so derivatives of any order come for free. The convolution's bias
is added inside its kernel's fresh output (``conv_bias``) and its gradient summed from the
output gradient in :class:`_Conv`'s backward; the transposed convolutions add theirs with a
tensor op.
"""

from __future__ import annotations

import collections.abc
import functools
import itertools
import warnings

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd.function import Function
from ...cpu.isa import onednn_takes_float16
from ...kernels.conv import conv_output_shape
from ...ops.dtype_support import not_implemented
from ...ops.linalg import addmm
from ...ops.movement import cat
from ...ops.operands import check_same_device, named_node, require_tensors
from ...ops.reduced_precision import narrow_on_cpu, opmath
from ...tensor import Tensor
from ..common_types import _size_1_t, _size_2_t, _size_3_t
from .conv_integer import integer_conv, integer_conv_transpose
from .spatial_layout import in_input_format

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc"]


def _ntuple(n, name="_ntuple"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")


def _expand(op, name, value, n):
    """``value`` (an int or a sequence of n ints) as an n-tuple of ints, checked."""
    out = _ntuple(n)(value)
    if isinstance(value, str) or not all(isinstance(v, int) and not isinstance(v, bool) for v in out):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {value!r}")
    if len(out) == 1:  # one value in a list serves every dimension, as PyTorch's expand_param_if_needed
        out = out * n
    if len(out) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values, got {value!r}")
    return out


def _run_kernel(ctx, kernel, a, b, *args):
    """Shared forward of the three Functions: save ``a``, ``b`` and the hyperparameters (the last four
    of ``args``: stride, padding, dilation, groups) for backward; return the backend kernel's
    ``kernel(a, b, *args)`` as a tensor."""
    ctx.save_for_backward(a, b)
    ctx.args = args[-4:]
    return a._make(getattr(a._backend.kernels, kernel)(a._data, b._data, *args))


def _conjugated(saved):
    """The saved operands of a convolution (linear in each), conjugated where complex: the
    conjugate Wirtinger gradient of one operand is the real formula with the other conjugated."""
    return tuple(t.conj() for t in saved)


class _Conv(Function):
    """``conv(x, weight)``, plus ``bias`` (per output channel, or None) added inside the kernel's output."""

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        if bias is None:
            return _run_kernel(ctx, "conv", x, weight, stride, padding, dilation, groups)
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        kernels = x._backend.kernels
        # a 16-bit convolution's bias added before its one rounding (by the kernel itself where it rounds once)
        if kernels.NARROW_PRODUCTS_IN_FLOAT32 and x.dtype not in kernels.CONV_ROUNDED_ONCE:
            return x._make(opmath(x, lambda *a: kernels.conv_bias(*a, *ctx.args), x._data, weight._data, bias._data))
        return x._make(kernels.conv_bias(x._data, weight._data, bias._data, *ctx.args))

    @staticmethod
    def backward(ctx, grad):
        x, weight = _conjugated(ctx.saved_tensors)
        if narrow_on_cpu(x):  # the 16-bit kernels follow the layout: the gradient laid out as the operands
            grad = in_input_format(grad, x, weight)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = _ConvBackwardInput.apply(grad, weight, tuple(x.shape), *ctx.args)
        if ctx.needs_input_grad[1]:
            gw = _ConvBackwardWeight.apply(x, grad, tuple(weight.shape), *ctx.args)
        if ctx.needs_input_grad[2]:
            gb = grad.sum((0,) + tuple(range(2, grad.ndim)))
        gx, gw = _gradients_in_layout(x, weight, gx, gw)
        return gx, gw, gb, None, None, None, None


def _gradients_in_layout(x, weight, gx, gw):
    """The gradients ``gx`` and ``gw`` (either may be None) of a convolution of ``x`` and ``weight`` laid out as
    PyTorch's: channels-last where an operand is (one with a size-1 dimension, one channel, is contiguous too),
    unless its kernel follows no layout (:func:`_follows_layout`)."""
    backend = x._backend
    if not _follows_layout(x) or (backend.is_row_major(x._data) and backend.is_row_major(weight._data)):
        return gx, gw
    return (None if gx is None else in_input_format(gx, x, weight)), (
        None if gw is None else in_input_format(gw, x, weight)
    )


class _ConvBackwardInput(Function):
    """``conv_backward_input(grad, weight)``: the transposed convolution."""

    @staticmethod
    def forward(ctx, grad, weight, input_shape, stride, padding, dilation, groups):
        return _run_kernel(ctx, "conv_backward_input", grad, weight, input_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, gg):
        grad, weight = _conjugated(ctx.saved_tensors)
        d_grad = d_weight = None
        if ctx.needs_input_grad[0]:
            d_grad = _Conv.apply(gg, weight, None, *ctx.args)
            # an output_padding of at least the stride leaves trailing rows no input position reached
            d_grad = d_grad[(..., *(slice(0, n) for n in grad.shape[2:]))]
        if ctx.needs_input_grad[1]:
            d_weight = _ConvBackwardWeight.apply(gg, grad, tuple(weight.shape), *ctx.args)
        return d_grad, d_weight, None, None, None, None, None


class _ConvTranspose(Function):
    """``conv_transpose(x, weight)``, plus ``bias`` (per output channel, or None) added inside the kernel's
    output (``Kernels.conv_transpose``); the gradients as :class:`_ConvBackwardInput`'s, its node named as
    PyTorch's convolution."""

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, output_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        b = None if bias is None else bias._data
        return x._make(x._backend.kernels.conv_transpose(x._data, weight._data, b, output_shape, *ctx.args))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        if narrow_on_cpu(x):  # the 16-bit kernels follow the layout: the gradient laid out as the operands
            grad = in_input_format(grad, x, weight)
        d_x, d_weight = _gradients_in_layout(x, weight, *_ConvBackwardInput.backward(ctx, grad)[:2])
        d_bias = grad.sum((0,) + tuple(range(2, grad.ndim))) if ctx.needs_input_grad[2] else None
        return d_x, d_weight, d_bias, None, None, None, None, None


class _ConvBackwardWeight(Function):
    """``conv_backward_weight(x, grad)``: the weight gradient of a convolution."""

    @staticmethod
    def forward(ctx, x, grad, weight_shape, stride, padding, dilation, groups):
        if _summed_by_sample(x, grad, weight_shape, stride, padding, dilation):
            ctx.save_for_backward(x, grad)
            ctx.args = (stride, padding, dilation, groups)
            return x._make(_weight_grad_by_sample(x, grad, weight_shape, *ctx.args))
        return _run_kernel(ctx, "conv_backward_weight", x, grad, weight_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, gw):
        x, grad = _conjugated(ctx.saved_tensors)
        d_x = d_grad = None
        if ctx.needs_input_grad[0]:
            d_x = _ConvBackwardInput.apply(grad, gw, tuple(x.shape), *ctx.args)
        if ctx.needs_input_grad[1]:
            d_grad = _Conv.apply(x, gw, None, *ctx.args)
            # a transposed convolution's (x its output): an output_padding of at least the stride leaves
            # trailing rows that no position of its input reached
            d_grad = d_grad[(..., *(slice(0, n) for n in grad.shape[2:]))]
        return d_x, d_grad, None, None, None, None, None


def _summed_by_sample(x, grad, weight_shape, stride, padding, dilation):
    """Whether a 16-bit weight gradient on a CPU device is summed sample by sample (see
    :func:`_weight_grad_by_sample`): float16's, and that of a dtype the kernels round once themselves
    (oneDNN's bfloat16) where PyTorch leaves oneDNN for its im2col kernels, a transposed convolution
    whose ``output_padding`` reaches its stride: its output (``x`` here) is longer than the convolution
    of it gives back (``grad``)."""
    if not narrow_on_cpu(x) or x.shape[0] < 2:
        return False
    if x.dtype not in x._backend.kernels.CONV_ROUNDED_ONCE:
        return True
    padded = [size + lo + hi for size, (lo, hi) in zip(x.shape[2:], padding)]
    return conv_output_shape(padded, weight_shape[2:], stride, dilation) != tuple(grad.shape[2:])


def _weight_grad_by_sample(x, grad, weight_shape, *args):
    """The weight gradient of a 16-bit convolution on a CPU device as PyTorch's float16 kernels
    (im2col and a GEMM per sample, transposed ones too) sum it: each sample's product in float32,
    added into the 16-bit gradient, which is rounded after every sample (summing the batch in
    float32 and rounding once put a third of float16 weight gradients a unit or more off)."""
    kernels, xp = x._backend.kernels, x._backend.xp
    narrow, wide = x._data.dtype, x._backend.native_dtype(dtypes.float32)
    total = None
    for n in range(x.shape[0]):
        part = kernels.conv_backward_weight(
            xp.astype(x._data[n : n + 1], wide), xp.astype(grad._data[n : n + 1], wide), weight_shape, *args
        )
        total = xp.astype(part if total is None else xp.astype(total, wide) + part, narrow)
    return total


def _fmt(values, sep=" x "):
    return sep.join(str(v) for v in values)


def _check_weight_dims(op, nd, input, weight, padding=None):
    require_tensors(op, ("input", "weight"), input, weight)
    if weight.ndim != nd + 2 and padding == "same" and 3 <= weight.ndim != input.ndim:
        # PyTorch's padding='same' path convolves in the weight's dims, and checks the input against them
        raise RuntimeError(
            f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight{list(weight.shape)}, "
            f"but got {input.ndim}-dimensional input of size {list(input.shape)} instead"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {nd + 2}-dimensional, but got weight of size {list(weight.shape)} instead"
        )


def _check_operands(op, nd, input, weight, bias):
    _check_weight_dims(op, nd, input, weight)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}"
        )
    tensors = (input, weight) if bias is None else (input, weight, bias)
    check_same_device(op, *tensors)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"{op}: Input type ({input.dtype}) and {name} type ({t.dtype}) should be the same")
    if not input.dtype.is_floating_point:
        transposed = op.startswith("conv_transpose")  # PyTorch's transposed kernels take int64 only
        # (complex transposed convolutions PyTorch computes, as the others)
        if input.dtype is dtypes.bool or transposed and input.dtype is not dtypes.int64 and not input.dtype.is_complex:
            not_implemented(
                f"slow_conv{'_transpose' if transposed else ''}{max(nd, 2)}d{'_out' if transposed else ''}_cpu",
                input.dtype,
            )


def _check_groups(op, groups, input, weight, bias, transposed):
    c = input.shape[1]
    if transposed:
        if weight.numel() == 0 and all(weight.shape[2:]):  # PyTorch's kernels refuse it (a zero-size kernel: below)
            raise RuntimeError(f"{op}: non-empty weight tensor expected, but got: {list(weight.shape)}")
        if weight.shape[0] != c:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
                f"to have {weight.shape[0]} channels, but got {c} channels instead"
            )
        if c % groups:
            raise RuntimeError(f"{op}: input channels ({c}) must be divisible by groups ({groups})")
        out_channels = weight.shape[1] * groups
    else:
        if weight.shape[0] < groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                f"but got weight of size {list(weight.shape)} instead"
            )
        if weight.shape[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                f"but got weight of size {list(weight.shape)} instead"
            )
        if weight.shape[1] * groups != c:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
                f"to have {weight.shape[1] * groups} channels, but got {c} channels instead"
            )
        out_channels = weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"Given {'transposed=1, ' if transposed else ''}weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )


def _check_positive_groups(op, groups):
    """Refuse a non-positive ``groups``: PyTorch's first check of a convolution's arguments."""
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported")


def _operands(op, nd, input, weight, bias, groups, transposed):
    """The checked operands (in autocast's lower dtype where it is on; ``input`` with a batch
    dimension) and whether ``input`` had a batch dimension."""
    _check_positive_groups(op, groups)
    if _amp.active:
        input, weight, bias = cast_inputs(op, input, weight, bias)
    _check_operands(op, nd, input, weight, bias)
    batched = input.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)
    _check_groups(op, groups, input, weight, bias, transposed)
    if not all(weight.shape[2:]):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got {list(weight.shape[2:])}")
    return input, weight, bias, batched


def _finish(out, bias, nd, batched):
    """``out`` plus ``bias`` (per channel), without the batch dimension where the input had none."""
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * nd)
    return out if batched else out.squeeze(0)


@functools.cache  # once per process, as PyTorch's TORCH_WARN_ONCE
def _warn_asymmetric_same_padding():
    warnings.warn(
        "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of the input "
        "be created",
        stacklevel=4,  # the caller of conv1d/2d/3d
    )


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    # PyTorch's order: the weight's dims, groups, 'same' with a stride, the signs of padding (for 'same', of its
    # symmetric part, rounded towards zero), stride and dilation, then the other operand checks
    _check_weight_dims(op, nd, input, weight, padding)
    _check_positive_groups(op, groups)
    stride = _expand(op, "stride", stride, nd)
    dilation = _expand(op, "dilation", dilation, nd)
    kernel = tuple(weight.shape[2:])
    if padding == "valid":
        pads = ((0, 0),) * nd
    elif padding == "same":
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = tuple((int(t / 2), t - int(t / 2)) for t in total)
    elif isinstance(padding, str):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = tuple((p, p) for p in _expand(op, "padding", padding, nd))
    if any(lo < 0 for lo, _ in pads):
        raise RuntimeError(f"{op}: negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero")
    input, weight, bias, batched = _operands(op, nd, input, weight, bias, groups, False)
    if input.dtype in dtypes.limited_dtypes:  # PyTorch's CPU convolutions have no uint16/32/64 nor float8
        not_implemented("slow_conv3d_cpu" if nd == 3 else "slow_conv2d_cpu", input.dtype)
    if padding == "same" and any(t % 2 for t in total):
        _warn_asymmetric_same_padding()
    if any(d == 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero")
    padded = [s + lo + hi for s, (lo, hi) in zip(input.shape[2:], pads)]
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_fmt(padded)}). Kernel size: ({_fmt(extent)}). "
            "Kernel size can't be greater than actual input size"
        )
    if input.dtype._category < 2 and input.dtype is not dtypes.int64 and any(d != 1 for d in dilation):
        not_implemented("slow_conv_dilated<>", input.dtype)  # PyTorch's dilated kernel: of the integers, int64 only
    if input.dtype._category < 2:  # PyTorch's integer convolution: exact, in the input's type
        return _finish(integer_conv(input, weight, stride, pads, dilation, groups), bias, nd, batched)
    narrow = _computed_in_float32(input)
    if narrow is not None:
        out = _Conv.apply(input.float(), weight.float(), _float(bias), stride, pads, dilation, groups).to(narrow)
    else:
        out = _Conv.apply(input, weight, bias, stride, pads, dilation, groups)
    return _in_layout(out, input, weight) if batched else out.squeeze(0)


def _computed_in_float32(input, onednn=True):
    """The 16-bit dtype of ``input`` when its whole convolution (bias, gradients and a transposed
    convolution's overlapping sums included) is computed in float32 and rounded once, as the backend
    says (``Kernels.CONV_IN_FLOAT32``), or, for float16 on a CPU device, as PyTorch's CPU does where it
    runs float16 through oneDNN (:func:`ember.cpu.isa.onednn_takes_float16`; not where ``onednn`` is
    False: a transposed convolution that PyTorch leaves to its im2col kernels); unless the kernels take
    the dtype and round once themselves (``Kernels.CONV_ROUNDED_ONCE``). Else None. On a CPU device with
    ``ember.backends.mkldnn.enabled`` False, None: PyTorch's CPU then runs both 16-bit types through its
    im2col kernels (``torch.backends.mkldnn.enabled = False``), which the 16-bit kernels follow."""
    dtype = input.dtype
    if dtype not in dtypes.narrow_float:  # (the common case: no flag to read)
        return None
    from ...backends import mkldnn  # ember.backends imports ember: resolved on use

    kernels = input._backend.kernels
    if dtype in kernels.CONV_ROUNDED_ONCE or (not mkldnn.enabled and narrow_on_cpu(input)):
        return None
    if dtype in kernels.CONV_IN_FLOAT32:
        return dtype
    on_onednn = onednn and dtype is dtypes.float16 and narrow_on_cpu(input) and onednn_takes_float16()
    return dtype if on_onednn else None


def _float(t):
    return None if t is None else t.float()


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size=None):
    input, weight, bias, batched = _operands(op, nd, input, weight, bias, groups, True)
    if input.dtype in dtypes.limited_dtypes:
        not_implemented(f"slow_conv_transpose{3 if nd == 3 else 2}d_out_cpu", input.dtype)
    stride = _expand(op, "stride", stride, nd)
    padding = _expand(op, "padding", padding, nd)
    dilation = _expand(op, "dilation", dilation, nd)
    output_padding = _expand(op, "output_padding", output_padding, nd)
    kernel = tuple(weight.shape[2:])
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation) or any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: stride and dilation must be positive and padding non-negative")
    if output_size is not None:
        output_padding = _output_padding_for(op, input, output_size, stride, padding, kernel, dilation, nd)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={tuple(output_padding)}, stride={tuple(stride)}, dilation={tuple(dilation)}"
            )
    out_spatial = [
        (i - 1) * s - 2 * p + d * (k - 1) + o + 1
        for i, s, p, d, k, o in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding)
    ]
    if any(o <= 0 for o in out_spatial):
        raise RuntimeError(
            f"Given input size per channel: ({_fmt(input.shape[2:])}). Calculated output size per channel: "
            f"({_fmt(out_spatial)}). Output size is too small"
        )
    if not input.dtype.is_floating_point:  # PyTorch's int64 transposed convolution: exact, in int64
        out = integer_conv_transpose(input, weight, stride, padding, output_padding, dilation, groups)
        return _finish(out, bias, nd, batched)
    input_shape = (input.shape[0], weight.shape[1] * groups) + tuple(out_spatial)
    pads = tuple((p, p) for p in padding)
    # PyTorch's oneDNN path leaves out a transposed convolution whose output_padding reaches its stride
    narrow = _computed_in_float32(input, onednn=all(o < s for o, s in zip(output_padding, stride)))
    if narrow is not None:
        out = _ConvTranspose.apply(
            input.float(), weight.float(), _float(bias), input_shape, stride, pads, dilation, groups
        )
        return (out if batched else out.squeeze(0)).to(narrow)
    out = _ConvTranspose.apply(input, weight, bias, input_shape, stride, pads, dilation, groups)
    return _in_layout(out, input, weight) if batched else out.squeeze(0)


def _in_layout(out, input, weight):
    """A batched convolution's result laid out as PyTorch's (:func:`in_input_format`, or row-major where it
    follows no layout, :func:`_follows_layout`), still made by one node, ConvolutionBackward0 (a channels-last
    input's copy renamed so)."""
    out = in_input_format(out, input, weight) if _follows_layout(input) else out.contiguous()
    return named_node(out, "ConvolutionBackward0")


def _follows_layout(x):
    """Whether PyTorch's CPU convolution of ``x`` lays its result and gradients out as its channels-last operands:
    not a 3-d one in float64, which takes its slow path (``slow_conv3d``, oneDNN has no float64), row-major."""
    return not (x.ndim == 5 and x.dtype is dtypes.float64)


def _output_padding_for(op, input, output_size, stride, padding, kernel, dilation, nd):
    """The ``output_padding`` that makes a transposed convolution produce ``output_size``."""
    size = list(output_size)
    if len(size) == nd + 2 or (len(size) == nd + 1 and input.ndim == nd + 1):
        output_size, size = output_size[-nd:], size[-nd:]  # the given sequence's own type, for the message
    if len(size) != nd:
        raise ValueError(f"{op}: output_size must have {nd} or {nd + 2} elements (got {len(list(output_size))})")
    smallest = [
        (input.shape[i + 2] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + 1 for i in range(nd)
    ]
    largest = [low + s - 1 for low, s in zip(smallest, stride)]
    if any(not low <= n <= high for n, low, high in zip(size, smallest, largest)):
        raise ValueError(
            f"requested an output size of {output_size}, but valid sizes range from {smallest} to {largest} "
            f"(for an input of {input.shape[2:]})"
        )
    return tuple(n - low for n, low in zip(size, smallest))


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_1_t = 1,
    padding: _size_1_t | str = 0,
    dilation: _size_1_t = 1,
    groups: int = 1,
) -> Tensor:
    r"""Applies a 1D convolution over an input signal composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, L)` or :math:`(C_{in}, L)`.
        weight: filters of shape :math:`(C_{out}, C_{in} / groups, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: the stride of the convolving kernel, an int or a one-element tuple. Default: 1
        padding: implicit padding on both sides: an int, a one-element tuple, ``'valid'``
            or ``'same'``. Default: 0
        dilation: the spacing between kernel elements. Default: 1
        groups: split input into groups; :math:`C_{in}` must be divisible by it. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, L_{in})` or :math:`(C_{in}, L_{in})`
        - Output: :math:`(N, C_{out}, L_{out})` or :math:`(C_{out}, L_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{dilation} \times (\text{kernel\_size} - 1) - 1}{\text{stride}} + 1 \right\rfloor`

    Example::

        >>> filters = ember.randn(33, 16, 3)
        >>> inputs = ember.randn(20, 16, 50)
        >>> F.conv1d(inputs, filters).shape
        ember.Size([20, 33, 48])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_2_t = 1,
    padding: _size_2_t | str = 0,
    dilation: _size_2_t = 1,
    groups: int = 1,
) -> Tensor:
    r"""Applies a 2D convolution over an input image composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, H, W)` or :math:`(C_{in}, H, W)`.
        weight: filters of shape :math:`(C_{out}, C_{in} / groups, kH, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: an int or a tuple ``(sH, sW)``. Default: 1
        padding: an int, a tuple ``(padH, padW)``, ``'valid'`` or ``'same'``. Default: 0
        dilation: an int or a tuple ``(dH, dW)``. Default: 1
        groups: split input into groups; :math:`C_{in}` must be divisible by it. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, H_{in}, W_{in})` or :math:`(C_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, H_{out}, W_{out})` or :math:`(C_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{dilation} \times (\text{kernel\_size} - 1) - 1}{\text{stride}} + 1 \right\rfloor`

    Example::

        >>> filters = ember.randn(8, 4, 3, 3)
        >>> inputs = ember.randn(1, 4, 5, 5)
        >>> F.conv2d(inputs, filters, padding=1).shape
        ember.Size([1, 8, 5, 5])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_3_t = 1,
    padding: _size_3_t | str = 0,
    dilation: _size_3_t = 1,
    groups: int = 1,
) -> Tensor:
    r"""Applies a 3D convolution over an input image composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, D, H, W)` or :math:`(C_{in}, D, H, W)`.
        weight: filters of shape :math:`(C_{out}, C_{in} / groups, kD, kH, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: an int or a tuple ``(sD, sH, sW)``. Default: 1
        padding: an int, a tuple ``(padD, padH, padW)``, ``'valid'`` or ``'same'``. Default: 0
        dilation: an int or a tuple ``(dD, dH, dW)``. Default: 1
        groups: split input into groups; :math:`C_{in}` must be divisible by it. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, D_{in}, H_{in}, W_{in})` or :math:`(C_{in}, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, D_{out}, H_{out}, W_{out})` or :math:`(C_{out}, D_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{dilation} \times (\text{kernel\_size} - 1) - 1}{\text{stride}} + 1 \right\rfloor`

    Example::

        >>> filters = ember.randn(33, 16, 3, 3, 3)
        >>> inputs = ember.randn(20, 16, 50, 10, 20)
        >>> F.conv3d(inputs, filters).shape
        ember.Size([20, 33, 48, 8, 18])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_1_t = 1,
    padding: _size_1_t = 0,
    output_padding: _size_1_t = 0,
    groups: int = 1,
    dilation: _size_1_t = 1,
) -> Tensor:
    r"""Applies a 1D transposed convolution operator over an input signal composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, L)` or :math:`(C_{in}, L)`.
        weight: filters of shape :math:`(C_{in}, C_{out} / groups, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: an int or a one-element tuple. Default: 1
        padding: ``dilation * (kernel_size - 1) - padding`` zero-padding is added to both
            sides of the input. Default: 0
        output_padding: additional size added to one side of the output. Default: 0
        groups: split input into groups. Default: 1
        dilation: the spacing between kernel elements. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, L_{in})` or :math:`(C_{in}, L_{in})`
        - Output: :math:`(N, C_{out}, L_{out})` or :math:`(C_{out}, L_{out})`, where each spatial size is
          :math:`(\text{in} - 1) \times \text{stride} - 2 \times \text{padding} + \text{dilation} \times (\text{kernel\_size} - 1) + \text{output\_padding} + 1`

    Example::

        >>> inputs = ember.randn(20, 16, 50)
        >>> weights = ember.randn(16, 33, 5)
        >>> F.conv_transpose1d(inputs, weights).shape
        ember.Size([20, 33, 54])
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_2_t = 1,
    padding: _size_2_t = 0,
    output_padding: _size_2_t = 0,
    groups: int = 1,
    dilation: _size_2_t = 1,
) -> Tensor:
    r"""Applies a 2D transposed convolution operator over an input image composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, H, W)` or :math:`(C_{in}, H, W)`.
        weight: filters of shape :math:`(C_{in}, C_{out} / groups, kH, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: an int or a tuple ``(sH, sW)``. Default: 1
        padding: an int or a tuple ``(padH, padW)``. Default: 0
        output_padding: an int or a tuple ``(out_padH, out_padW)``. Default: 0
        groups: split input into groups. Default: 1
        dilation: an int or a tuple ``(dH, dW)``. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, H_{in}, W_{in})` or :math:`(C_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, H_{out}, W_{out})` or :math:`(C_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`(\text{in} - 1) \times \text{stride} - 2 \times \text{padding} + \text{dilation} \times (\text{kernel\_size} - 1) + \text{output\_padding} + 1`

    Example::

        >>> inputs = ember.randn(1, 4, 5, 5)
        >>> weights = ember.randn(4, 8, 3, 3)
        >>> F.conv_transpose2d(inputs, weights, padding=1).shape
        ember.Size([1, 8, 5, 5])
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _size_3_t = 1,
    padding: _size_3_t = 0,
    output_padding: _size_3_t = 0,
    groups: int = 1,
    dilation: _size_3_t = 1,
) -> Tensor:
    r"""Applies a 3D transposed convolution operator over an input image composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C_{in}, D, H, W)` or :math:`(C_{in}, D, H, W)`.
        weight: filters of shape :math:`(C_{in}, C_{out} / groups, kD, kH, kW)`.
        bias: optional bias of shape :math:`(C_{out})`. Default: ``None``.
        stride: an int or a tuple ``(sD, sH, sW)``. Default: 1
        padding: an int or a tuple ``(padD, padH, padW)``. Default: 0
        output_padding: an int or a tuple ``(out_padD, out_padH, out_padW)``. Default: 0
        groups: split input into groups. Default: 1
        dilation: an int or a tuple ``(dD, dH, dW)``. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, D_{in}, H_{in}, W_{in})` or :math:`(C_{in}, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, D_{out}, H_{out}, W_{out})` or :math:`(C_{out}, D_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`(\text{in} - 1) \times \text{stride} - 2 \times \text{padding} + \text{dilation} \times (\text{kernel\_size} - 1) + \text{output\_padding} + 1`

    Example::

        >>> inputs = ember.randn(20, 16, 50, 10, 20)
        >>> weights = ember.randn(16, 33, 3, 3, 3)
        >>> F.conv_transpose3d(inputs, weights).shape
        ember.Size([20, 33, 52, 12, 22])
    """
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    r"""A 1D convolution over time-major input: :math:`(T, B, C_{in})` in, :math:`(T_{out}, B, C_{out})` out
    (fairseq's ``ConvTBC``), with :math:`T_{out} = T + 2 \times \text{pad} - K + 1`.

    Args:
        input (Tensor): :math:`(T, B, C_{in})`, time first.
        weight (Tensor): :math:`(K, C_{in}, C_{out})`, the kernel width first.
        bias (Tensor): :math:`(C_{out})`.
        pad (int): zeros added before and after the time dimension (a negative one crops it). Default: 0

    Examples::

        >>> x, w = ember.ones(5, 2, 3), ember.ones(2, 3, 4)
        >>> F.conv_tbc(x, w, ember.zeros(4), 1).shape
        ember.Size([6, 2, 4])
        >>> F.conv_tbc(x, w, ember.zeros(4))[0, 0]
        tensor([6., 6., 6., 6.])
    """
    require_tensors("conv_tbc", ("input", "weight", "bias"), input, weight, bias)
    if input.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.ndim != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if _amp.active:
        input, weight, bias = cast_inputs("conv_tbc", input, weight, bias)
    steps, batch, width = input.shape[0], input.shape[1], weight.shape[0]
    length = steps + 2 * pad - width + 1
    rows = bias.expand(max(length, 0) * batch, bias.shape[0])
    # as PyTorch: each kernel tap's product added into the rows it reaches, one rounding per tap (addmm)
    for k in range(width):
        first, last = max(0, pad - k), min(length, steps + pad - k)
        if last > first:
            taps = input[first + k - pad : last + k - pad].reshape(-1, input.shape[2])
            reached = addmm(rows[first * batch : last * batch], taps, weight[k])
            rows = cat([rows[: first * batch], reached, rows[last * batch :]])
    return rows.reshape(max(length, 0), batch, bias.shape[0]).contiguous()
