"""CuPy overrides of the portable NN kernels: cuDNN convolution (im2col + cuBLAS as the fallback),
fused kernels for the LSTM gate math (``cu/lstm.cu``) and for the optimizer steps (SGD, Adam).

cuDNN is used as ``ember.backends.cudnn`` says: ``enabled``, ``allow_tf32``, ``deterministic``."""

from __future__ import annotations

import cupy
import numpy as np

from ember.backends import cudnn as cudnn_flags
from ember.kernels import Kernels
from ember.kernels.conv import conv_output_shape
from ember.kernels.optim import _bias_corrections

from . import cudnn_conv
from .source import launch_size, module

__all__ = ["CupyKernels"]


_FUSED_TYPES = ("float32", "float64")

# Optimizer steps: one kernel per parameter, the portable kernels' arithmetic (ember.kernels.optim)
# operation by operation; the parameter and its buffers are outputs read and written in place.
_SGD = cupy.ElementwiseKernel(
    "T grad, T neg_lr, T weight_decay, int32 maximize",
    "T param",
    """
    T g = maximize ? -grad : grad;
    if (weight_decay != 0) g = g + param * weight_decay;
    param = param + g * neg_lr;
    """,
    "ember_sgd_step",
)

_SGD_MOMENTUM = cupy.ElementwiseKernel(
    "T grad, T neg_lr, T momentum, T alpha, T weight_decay, int32 maximize, int32 nesterov, int32 first",
    "T param, T buf",
    """
    T g = maximize ? -grad : grad;
    if (weight_decay != 0) g = g + param * weight_decay;
    if (first) buf = g;
    else buf = buf * momentum + g * alpha;
    param = param + (nesterov ? g + buf * momentum : buf) * neg_lr;
    """,
    "ember_sgd_momentum_step",
)

_ADAM_IN = (
    "T grad, T decay, T weight_decay, T w1, T beta2, T w2, T bc2_sqrt, T eps, T neg_step_size, "
    "int32 maximize, int32 decoupled"
)
_ADAM_MOMENTS = """
    T g = maximize ? -grad : grad;
    if (weight_decay != 0) {
        if (decoupled) param = param * decay;
        else g = g + param * weight_decay;
    }
    exp_avg = exp_avg + (g - exp_avg) * w1;
    exp_avg_sq = exp_avg_sq * beta2 + g * g * w2;
"""
_ADAM_UPDATE = "param = param + exp_avg / (sqrt(second) / bc2_sqrt + eps) * neg_step_size;"

_ADAM = cupy.ElementwiseKernel(
    _ADAM_IN,
    "T param, T exp_avg, T exp_avg_sq",
    _ADAM_MOMENTS + "const T second = exp_avg_sq;\n" + _ADAM_UPDATE,
    "ember_adam_step",
)

_ADAM_AMSGRAD = cupy.ElementwiseKernel(
    _ADAM_IN,
    "T param, T exp_avg, T exp_avg_sq, T max_exp_avg_sq",
    _ADAM_MOMENTS
    + """
    const T m = max_exp_avg_sq;
    max_exp_avg_sq = (m > exp_avg_sq || m != m) ? m : exp_avg_sq;  // NaN-propagating maximum
    const T second = max_exp_avg_sq;
    """
    + _ADAM_UPDATE,
    "ember_adam_amsgrad_step",
)


def _fusable(*arrays):
    """Whether the fused kernels take these arrays: float32/float64, one dtype (``None`` skipped)."""
    dtype = arrays[0].dtype
    return dtype.name in _FUSED_TYPES and all(a is None or a.dtype == dtype for a in arrays)


def _symmetric(padding):
    """Per-dim padding when every ``(before, after)`` pair is equal, else None."""
    if all(lo == hi for lo, hi in padding):
        return tuple(lo for lo, _ in padding)
    return None


def _as_2d(shape):
    """Shapes of a 1-D convolution seen as a 2-D one with a unit height."""
    return tuple(shape[:2]) + (1,) + tuple(shape[2:])


def _lstm_kernel(name, dtype):
    return module("lstm.cu", f"{name}<float>", f"{name}<double>").get_function(f"{name}<{_C_TYPES[dtype.name]}>")


_C_TYPES = {"float32": "float", "float64": "double"}


class CupyKernels(Kernels):
    """The kernel table of the CuPy backend."""

    def _cudnn(self, kind, arrays, x_shape, w_shape, y_shape, stride, padding, dilation):
        pad = _symmetric(padding)
        if not cudnn_flags.enabled or pad is None or len(x_shape) not in (3, 4, 5):
            return None
        precision = (cudnn_flags.allow_tf32, cudnn_flags.deterministic)
        if len(x_shape) == 3:
            arrays = {k: cupy.expand_dims(v, 2) for k, v in arrays.items()}
            x_shape, w_shape, y_shape = _as_2d(x_shape), _as_2d(w_shape), _as_2d(y_shape)
            stride, pad, dilation = (1,) + tuple(stride), (0,) + pad, (1,) + tuple(dilation)
            out = cudnn_conv.run(kind, arrays, x_shape, w_shape, y_shape, stride, pad, dilation, precision)
            return None if out is None else cupy.squeeze(out, 2)
        arrays = {k: cupy.ascontiguousarray(v) for k, v in arrays.items()}
        return cudnn_conv.run(
            kind,
            arrays,
            tuple(x_shape),
            tuple(w_shape),
            tuple(y_shape),
            tuple(stride),
            pad,
            tuple(dilation),
            precision,
        )

    def conv(self, x, weight, stride, padding, dilation, groups):
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
        y_shape = (x.shape[0], weight.shape[0]) + conv_output_shape(padded, weight.shape[2:], stride, dilation)
        out = self._cudnn("fprop", {"x": x, "w": weight}, x.shape, weight.shape, y_shape, stride, padding, dilation)
        return out if out is not None else super().conv(x, weight, stride, padding, dilation, groups)

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        out = self._cudnn(
            "dgrad", {"y": grad, "w": weight}, tuple(input_shape), weight.shape, grad.shape, stride, padding, dilation
        )
        if out is not None:
            return out
        return super().conv_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        out = self._cudnn(
            "wgrad", {"x": x, "y": grad}, x.shape, tuple(weight_shape), grad.shape, stride, padding, dilation
        )
        if out is not None:
            return out
        return super().conv_backward_weight(x, grad, weight_shape, stride, padding, dilation, groups)

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        if gx.dtype.name not in _FUSED_TYPES:
            return super().lstm_cell(gx, h, c, w_hh_t, b_hh)
        gates = cupy.ascontiguousarray(gx + self._hidden_product(h, w_hh_t, b_hh))
        c = cupy.ascontiguousarray(c)
        rows, hidden = c.shape
        outputs = [cupy.empty_like(c) for _ in range(7)]  # h, c, i, f, g, o, tanh(c)
        grid, block = launch_size(rows * hidden)
        _lstm_kernel("ember_lstm_gates", c.dtype)(
            grid, block, (gates, c, np.int64(rows * hidden), np.int64(hidden), *outputs)
        )
        h_new, c_new, i, f, g, o, tanh_c = outputs
        return h_new, c_new, (i, f, g, o, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        if grad_h.dtype.name not in _FUSED_TYPES:
            return super().lstm_cell_backward(grad_h, grad_c, saved, w_hh)
        i, f, g, o, c, tanh_c = saved
        rows, hidden = i.shape
        grad_h, grad_c = cupy.ascontiguousarray(grad_h), cupy.ascontiguousarray(grad_c)
        grad_gates = cupy.empty((rows, 4 * hidden), dtype=grad_h.dtype)
        grad_c_prev = cupy.empty_like(grad_c)
        grid, block = launch_size(rows * hidden)
        _lstm_kernel("ember_lstm_gates_backward", grad_h.dtype)(
            grid,
            block,
            (grad_h, grad_c, i, f, g, o, c, tanh_c, np.int64(rows * hidden), np.int64(hidden), grad_gates, grad_c_prev),
        )
        return grad_gates, grad_gates, self.xp.matmul(grad_gates, w_hh), grad_c_prev

    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize):
        if not _fusable(param, grad, momentum_buffer):
            return super().sgd_step(
                param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize
            )
        if momentum == 0:
            _SGD(grad, -lr, weight_decay, int(maximize), param)
            return None
        first = momentum_buffer is None
        buf = cupy.empty_like(param) if first else momentum_buffer
        _SGD_MOMENTUM(
            grad, -lr, momentum, 1 - dampening, weight_decay, int(maximize), int(nesterov), int(first), param, buf
        )
        return buf

    def adam_step(
        self,
        param,
        grad,
        exp_avg,
        exp_avg_sq,
        max_exp_avg_sq,
        step,
        lr,
        beta1,
        beta2,
        eps,
        weight_decay,
        maximize,
        decoupled_weight_decay,
    ):
        if not _fusable(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return super().adam_step(
                param,
                grad,
                exp_avg,
                exp_avg_sq,
                max_exp_avg_sq,
                step,
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                maximize,
                decoupled_weight_decay,
            )
        step_size, bias_correction2_sqrt = _bias_corrections(step, lr, beta1, beta2)
        scalars = (
            1 - lr * weight_decay,
            weight_decay,
            1 - beta1,
            beta2,
            1 - beta2,
            bias_correction2_sqrt,
            eps,
            -step_size,
            int(maximize),
            int(decoupled_weight_decay),
        )
        if max_exp_avg_sq is None:
            _ADAM(grad, *scalars, param, exp_avg, exp_avg_sq)
        else:
            _ADAM_AMSGRAD(grad, *scalars, param, exp_avg, exp_avg_sq, max_exp_avg_sq)
