"""CuPy overrides of the portable NN kernels: cuDNN convolution (im2col + cuBLAS as the fallback),
fused element-wise kernels for the LSTM gate math and for the optimizer steps (SGD, Adam)."""

from __future__ import annotations

from importlib import resources

import cupy

from ember.kernels import Kernels
from ember.kernels.conv import conv_output_shape
from ember.kernels.optim import _bias_corrections

from . import cudnn_conv

__all__ = ["CupyKernels"]


_LSTM_GATES = cupy.ElementwiseKernel(
    "raw T gates, T c, int32 H",
    "T h_new, T c_new, T ig, T fg, T gg, T og, T tanh_c",
    """
    const int row = i / H, col = i % H;
    const T* g = &gates[row * 4 * H + col];
    ig = 1 / (1 + exp(-g[0]));
    fg = 1 / (1 + exp(-g[H]));
    gg = tanh(g[2 * H]);
    og = 1 / (1 + exp(-g[3 * H]));
    c_new = fg * c + ig * gg;
    tanh_c = tanh(c_new);
    h_new = og * tanh_c;
    """,
    "ember_lstm_gates",
)

_LSTM_GATES_BACKWARD = cupy.ElementwiseKernel(
    "T grad_h, T grad_c, T ig, T fg, T gg, T og, T c, T tanh_c, int32 H",
    "raw T grad_gates, T grad_c_prev",
    """
    const int row = i / H, col = i % H;
    T* out = &grad_gates[row * 4 * H + col];
    const T gc = grad_c + grad_h * og * (1 - tanh_c * tanh_c);
    out[0] = gc * gg * ig * (1 - ig);
    out[H] = gc * c * fg * (1 - fg);
    out[2 * H] = gc * ig * (1 - gg * gg);
    out[3 * H] = grad_h * tanh_c * og * (1 - og);
    grad_c_prev = gc * fg;
    """,
    "ember_lstm_gates_backward",
)

_FUSED_TYPES = ("float32", "float64")

# Optimizer steps: one kernel per parameter; the element arithmetic is ember/kernels/fused/*.h,
# the source the OpenCL backend compiles too (the portable kernels' arithmetic op by op); the
# parameter and its buffers are outputs read and written in place.
_FUSED = "#define EMBER_FN __device__ inline\n" + "".join(
    resources.files("ember.kernels").joinpath("fused", f).read_text() for f in ("sgd.h", "adam.h")
)

_SGD = cupy.ElementwiseKernel(
    "T grad, T neg_lr, T weight_decay, int32 maximize",
    "T param",
    "ember_sgd_step(&param, grad, neg_lr, weight_decay, maximize);",
    "ember_sgd_step_kernel",
    preamble=_FUSED,
)

_SGD_MOMENTUM = cupy.ElementwiseKernel(
    "T grad, T neg_lr, T momentum, T alpha, T weight_decay, int32 maximize, int32 nesterov, int32 first",
    "T param, T buf",
    "ember_sgd_momentum_step(&param, &buf, grad, neg_lr, momentum, alpha, weight_decay, maximize, nesterov, first);",
    "ember_sgd_momentum_step_kernel",
    preamble=_FUSED,
)

_ADAM_IN = (
    "T grad, T decay, T weight_decay, T w1, T beta2, T w2, T bc2_sqrt, T eps, T neg_step_size, "
    "int32 maximize, int32 decoupled"
)
_ADAM_ARGS = "grad, decay, weight_decay, w1, beta2, w2, bc2_sqrt, eps, neg_step_size, maximize, decoupled"

_ADAM = cupy.ElementwiseKernel(
    _ADAM_IN,
    "T param, T exp_avg, T exp_avg_sq",
    f"ember_adam_step(&param, &exp_avg, &exp_avg_sq, (T *)0, {_ADAM_ARGS});",
    "ember_adam_step_kernel",
    preamble=_FUSED,
)

_ADAM_AMSGRAD = cupy.ElementwiseKernel(
    _ADAM_IN,
    "T param, T exp_avg, T exp_avg_sq, T max_exp_avg_sq",
    f"ember_adam_step(&param, &exp_avg, &exp_avg_sq, &max_exp_avg_sq, {_ADAM_ARGS});",
    "ember_adam_amsgrad_step_kernel",
    preamble=_FUSED,
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


class CupyKernels(Kernels):
    """The kernel table of the CuPy backend.

    Attributes:
        allow_tf32: let cuDNN use TF32 tensor cores for float32 convolutions (PyTorch's
            ``torch.backends.cudnn.allow_tf32``). Default: False, so that float32 results
            match a strict float32 reference.
    """

    allow_tf32 = False

    def _cudnn(self, kind, arrays, x_shape, w_shape, y_shape, stride, padding, dilation):
        pad = _symmetric(padding)
        if pad is None or len(x_shape) not in (3, 4, 5):
            return None
        if len(x_shape) == 3:
            arrays = {k: cupy.expand_dims(v, 2) for k, v in arrays.items()}
            x_shape, w_shape, y_shape = _as_2d(x_shape), _as_2d(w_shape), _as_2d(y_shape)
            stride, pad, dilation = (1,) + tuple(stride), (0,) + pad, (1,) + tuple(dilation)
            out = cudnn_conv.run(kind, arrays, x_shape, w_shape, y_shape, stride, pad, dilation, self.allow_tf32)
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
            self.allow_tf32,
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
        h_new, c_new, i, f, g, o, tanh_c = _LSTM_GATES(gates, cupy.ascontiguousarray(c), gates.shape[1] // 4)
        return h_new, c_new, (i, f, g, o, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        if grad_h.dtype.name not in _FUSED_TYPES:
            return super().lstm_cell_backward(grad_h, grad_c, saved, w_hh)
        i, f, g, o, c, tanh_c = saved
        hidden = i.shape[1]
        grad_gates = cupy.empty((i.shape[0], 4 * hidden), dtype=grad_h.dtype)
        grad_c_prev = cupy.empty_like(grad_c)
        _LSTM_GATES_BACKWARD(grad_h, grad_c, i, f, g, o, c, tanh_c, hidden, grad_gates, grad_c_prev)
        return grad_gates, grad_gates, grad_gates @ w_hh, grad_c_prev

    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize):
        if not _fusable(param, grad, momentum_buffer):
            return super().sgd_step(
                param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize
            )
        if momentum == 0:
            _SGD(grad, -lr, weight_decay, int(maximize), param)
            return momentum_buffer
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
