"""CuPy overrides of the portable NN kernels: cuDNN convolution (im2col + cuBLAS as the fallback),
one launch per activation forward or backward (threshold/ReLU, tanh, sigmoid, GELU: ``cu/activation.cu``)
and per dropout (a counter-based Philox mask: ``cu/dropout.cu``),
one-kernel (or one-pass) forms of softmax/log-softmax (``cu/softmax.cu``), the NLL loss
(``cu/nll.cu``), batch-norm statistics, backward and running-statistics update
(``cu/batch_norm.cu``), max and average pooling (``cu/max_pool.cu``, ``cu/avg_pool.cu``), the
LSTM gate math and padded LSTM layers (``cu/lstm.cu``), fused optimizer steps (SGD,
Adam) and cuDNN's fused attention (``cudnn_attention.py``). Each falls back to the portable
kernel for the cases it does not cover (other dtypes, axes or layouts).

cuDNN is used as ``ember.backends.cudnn`` says: ``enabled``, ``allow_tf32``, ``deterministic``."""

from __future__ import annotations

import cupy
import numpy as np

from ember.backend import native_dtype_name
from ember.backends import cudnn as cudnn_flags
from ember.kernels import Kernels
from ember.kernels.accumulation import InPlaceAccumulationKernels
from ember.kernels.conv import conv_output_shape
from ember.kernels.optim import adam_kernel, fused_source, sgd_kernel

from . import cudnn_attention, cudnn_conv
from .linalg import CupyLinalgKernels
from .source import BLOCK, function, launch_size

__all__ = ["CupyKernels"]


_FUSED_TYPES = ("float32", "float64")

# Optimizer steps: one kernel per parameter; the element arithmetic is ember/kernels/fused/*.h,
# the source the OpenCL backend compiles too (the portable kernels' arithmetic op by op); the
# parameter and its buffers are outputs read and written in place.
_FUSED = fused_source("__device__ inline")

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


def _splits(per_channel, channels):
    """Blocks per channel for the per-channel reductions: about 512 blocks in all, each with work."""
    return max(1, min(-(-512 // channels), -(-per_channel // BLOCK)))


def _rows(x, axis):
    """``x`` as C-contiguous (rows, dim) when ``axis`` is its last axis and its dtype is fused, else None."""
    if x.ndim == 0 or axis % x.ndim != x.ndim - 1 or native_dtype_name(x.dtype) not in _FUSED_TYPES or x.size == 0:
        return None
    return cupy.ascontiguousarray(x)


def _fusable(*arrays):
    """Whether the fused kernels take these arrays: float32/float64, one dtype (``None`` skipped)."""
    dtype = arrays[0].dtype
    return native_dtype_name(dtype) in _FUSED_TYPES and all(a is None or a.dtype == dtype for a in arrays)


def _flat(*arrays):
    """Whether the element-wise kernels take these arrays: one shape, C-contiguous, not empty."""
    shape = arrays[0].shape
    return arrays[0].size > 0 and all(a.shape == shape and a.flags.c_contiguous for a in arrays)


def _pointwise(name, dtype, n, args):
    """Launch kernel ``name`` of ``cu/activation.cu`` over ``n`` elements."""
    function("activation.cu", name, dtype)(*launch_size(n), args)


def _symmetric(padding):
    """Per-dim padding when every ``(before, after)`` pair is equal, else None."""
    if all(lo == hi for lo, hi in padding):
        return tuple(lo for lo, _ in padding)
    return None


def _as_2d(shape):
    """Shapes of a 1-D convolution seen as a 2-D one with a unit height."""
    return tuple(shape[:2]) + (1,) + tuple(shape[2:])


class CupyKernels(CupyLinalgKernels, InPlaceAccumulationKernels, Kernels):
    """The kernel table of the CuPy backend."""

    #: cuBLAS's and cuDNN's float16/bfloat16 products accumulate in float32 and round once; the bias
    #: is then added in the 16-bit type (PyTorch adds it in the GEMM's epilogue: its results differ
    #: in the last bit in about a third of the elements). Computing in float32 instead would give up
    #: the tensor cores' 16-bit speed; fusing the bias (cuBLAS's beta = 1, cuDNN's bias epilogue)
    #: awaits a run on a GPU.
    NARROW_PRODUCTS_IN_FLOAT32 = False
    #: cuDNN accumulates 16-bit convolutions in float32 itself
    CONV_IN_FLOAT32 = ()

    def fmod(self, a, b):  # C's fmod, exact (the remainder and floor division derive from it)
        return cupy.fmod(a, b)

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

    # -- fused attention: cuDNN's SDPA (float16/bfloat16, no mask or causal; cudnn_attention.py) --
    def fused_attention_supports(self, q, k, v, mask, is_causal, scale, dropout_p):
        return cudnn_flags.enabled and cudnn_attention.supports(q, k, v, mask, is_causal, scale, dropout_p)

    def fused_attention_forward(self, q, k, v, mask, is_causal, scale):
        return cudnn_attention.forward(q, k, v, is_causal, scale)

    def fused_attention_backward(self, grad, q, k, v, mask, is_causal, scale, out, stats, mask_grad):
        grads = cudnn_attention.backward(grad, q, k, v, is_causal, scale, out, stats)
        if grads is not None:
            return (*grads, None)
        # no backward engine for the case: the portable kernels, from the recomputed probabilities
        bias = None
        if is_causal:
            L, S = q.shape[-2], k.shape[-2]
            bias = cupy.where(cupy.tri(L, S, dtype=bool), 0.0, -cupy.inf).astype(q.dtype)
        _, probs = self.attention_forward(q, k, v, bias, scale, None)
        dq, dk, dv, _ = self.attention_backward(grad, None, q, k, v, probs, scale, None)
        return dq, dk, dv, None

    # -- softmax family ----------------------------------------------------------------------
    def _softmax(self, x, axis, take_log):
        rows = _rows(x, axis)
        if rows is None:
            return None
        y = cupy.empty_like(rows)
        count = rows.size // rows.shape[-1]
        function("softmax.cu", "ember_softmax_forward", rows.dtype)(
            (min(count, 65535),), (BLOCK,), (rows, np.int64(count), np.int64(rows.shape[-1]), np.int32(take_log), y)
        )
        return y

    def _softmax_backward(self, grad, y, axis, take_log):
        rows = _rows(grad, axis)
        if rows is None or y.dtype != grad.dtype:
            return None
        y = cupy.ascontiguousarray(y)
        out = cupy.empty_like(rows)
        count = rows.size // rows.shape[-1]
        function("softmax.cu", "ember_softmax_backward", rows.dtype)(
            (min(count, 65535),),
            (BLOCK,),
            (rows, y, np.int64(count), np.int64(rows.shape[-1]), np.int32(take_log), out),
        )
        return out

    def softmax(self, x, axis):
        out = self._softmax(x, axis, False)
        return super().softmax(x, axis) if out is None else out

    def log_softmax(self, x, axis):
        out = self._softmax(x, axis, True)
        return super().log_softmax(x, axis) if out is None else out

    def softmax_backward(self, grad, y, axis):
        out = self._softmax_backward(grad, y, axis, False)
        return super().softmax_backward(grad, y, axis) if out is None else out

    def log_softmax_backward(self, grad, y, axis):
        out = self._softmax_backward(grad, y, axis, True)
        return super().log_softmax_backward(grad, y, axis) if out is None else out

    # -- NLL loss ------------------------------------------------------------------------------
    def nll_loss(self, x, target, weight, ignore_index):
        if x.ndim != 2 or not _fusable(x, weight):
            return super().nll_loss(x, target, weight, ignore_index)
        x = cupy.ascontiguousarray(x)
        target = cupy.ascontiguousarray(target, dtype=cupy.int64)
        rows, classes = x.shape
        losses, w = cupy.empty(rows, dtype=x.dtype), cupy.empty(rows, dtype=x.dtype)
        if rows:
            has_weight = weight is not None
            weight = cupy.ascontiguousarray(weight) if has_weight else x
            function("nll.cu", "ember_nll_forward", x.dtype)(
                *launch_size(rows),
                (
                    x,
                    target,
                    weight,
                    np.int32(has_weight),
                    np.int64(ignore_index),
                    np.int64(rows),
                    np.int64(classes),
                    losses,
                    w,
                ),
            )
        return losses, w

    def nll_loss_backward(self, coeff, target, weight, ignore_index, num_classes):
        if not _fusable(coeff, weight) or coeff.ndim > 1:
            return super().nll_loss_backward(coeff, target, weight, ignore_index, num_classes)
        target = cupy.ascontiguousarray(target, dtype=cupy.int64)
        rows = target.shape[0]
        coeff_stride = 1 if coeff.ndim else 0  # per-sample coefficients or one for all
        coeff = cupy.ascontiguousarray(coeff).reshape(-1)
        out = cupy.empty((rows, num_classes), dtype=coeff.dtype)
        if out.size:
            has_weight = weight is not None
            weight = cupy.ascontiguousarray(weight) if has_weight else coeff
            function("nll.cu", "ember_nll_backward", coeff.dtype)(
                *launch_size(out.size),
                (
                    coeff,
                    np.int64(coeff_stride),
                    target,
                    weight,
                    np.int32(has_weight),
                    np.int64(ignore_index),
                    np.int64(rows),
                    np.int64(num_classes),
                    out,
                ),
            )
        return out

    # -- batch normalization -----------------------------------------------------------------------
    @staticmethod
    def _per_channel(x, axes):
        """``(N, C, S)`` when ``axes`` are every axis but 1 (batch norm) and the dtype is fused, else None."""
        if x.ndim < 2 or tuple(axes) != (0, *range(2, x.ndim)) or native_dtype_name(x.dtype) not in _FUSED_TYPES:
            return None
        n, c = x.shape[:2]
        s = x.size // (n * c) if n * c else 0
        return (n, c, s) if n * s else None

    def normalize_forward(self, x, axes, eps):
        dims = self._per_channel(x, axes)
        if dims is None:
            return super().normalize_forward(x, axes, eps)
        n, c, s = dims
        x = cupy.ascontiguousarray(x)
        splits = _splits(n * s, c)
        partial = cupy.empty((c, splits, 3), dtype=cupy.float64)
        function("batch_norm.cu", "ember_bn_partial_stats", x.dtype)(
            (splits, c), (BLOCK,), (x, np.int64(n), np.int64(c), np.int64(s), partial)
        )
        mean, var, invstd = (cupy.empty(c, dtype=x.dtype) for _ in range(3))
        function("batch_norm.cu", "ember_bn_finalize", x.dtype)(
            *launch_size(c), (partial, np.int64(c), np.int64(splits), np.float64(eps), mean, var, invstd)
        )
        xhat = cupy.empty_like(x)
        function("batch_norm.cu", "ember_bn_normalize", x.dtype)(
            *launch_size(x.size), (x, mean, invstd, np.int64(x.size), np.int64(c), np.int64(s), xhat)
        )
        shape = (1, c) + (1,) * (x.ndim - 2)
        return xhat, mean.reshape(shape), var.reshape(shape), invstd.reshape(shape)

    def normalize_backward(self, grad, xhat, invstd, axes):
        dims = self._per_channel(grad, axes)
        if dims is None or not _fusable(grad, xhat, invstd):
            return super().normalize_backward(grad, xhat, invstd, axes)
        n, c, s = dims
        grad, xhat, invstd = (cupy.ascontiguousarray(a) for a in (grad, xhat, invstd))
        splits = _splits(n * s, c)
        partial = cupy.empty((c, splits, 2), dtype=cupy.float64)
        function("batch_norm.cu", "ember_bn_partial_grad", grad.dtype)(
            (splits, c), (BLOCK,), (grad, xhat, np.int64(n), np.int64(c), np.int64(s), partial)
        )
        means = cupy.empty((c, 2), dtype=cupy.float64)
        function("batch_norm.cu", "ember_bn_grad_finalize")(
            *launch_size(c), (partial, np.int64(c), np.int64(splits), np.float64(n * s), means)
        )
        out = cupy.empty_like(grad)
        function("batch_norm.cu", "ember_bn_backward", grad.dtype)(
            *launch_size(grad.size), (grad, xhat, invstd, means, np.int64(grad.size), np.int64(c), np.int64(s), out)
        )
        return out

    # -- pooling -------------------------------------------------------------------------------
    def max_pool(self, x, kernel, stride, padding, dilation, out_shape):
        nd = len(kernel)
        if nd not in (1, 2) or native_dtype_name(x.dtype) not in _FUSED_TYPES or x.ndim != nd + 2:
            return super().max_pool(x, kernel, stride, padding, dilation, out_shape)
        one = (1,) if nd == 1 else ()
        (h, w), (kh, kw), (sh, sw) = one + x.shape[2:], one + tuple(kernel), one + tuple(stride)
        (ph, pw), (dh, dw), (oh, ow) = (0,) * (2 - nd) + tuple(padding), one + tuple(dilation), one + tuple(out_shape)
        x = cupy.ascontiguousarray(x)
        planes = x.shape[0] * x.shape[1]
        values = cupy.empty(x.shape[:2] + tuple(out_shape), dtype=x.dtype)
        indices = cupy.empty(values.shape, dtype=cupy.int64)
        if values.size:
            ints = (np.int32(v) for v in (kh, kw, sh, sw, ph, pw, dh, dw))
            function("max_pool.cu", "ember_max_pool2d", x.dtype)(
                *launch_size(values.size),
                (x, np.int64(planes), np.int64(h), np.int64(w), np.int64(oh), np.int64(ow), *ints, values, indices),
            )
        return values, indices

    @staticmethod
    def _lstm_gates(gx, gh, bias, c, h_new):
        """One launch: the gates of ``gx + gh (+ bias)`` and the new state; ``h_new`` is written in place."""
        rows, hidden = c.shape
        c_new, i, f, g, o, tanh_c = cupy.empty((6,) + c.shape, dtype=c.dtype)  # one allocation
        function("lstm.cu", "ember_lstm_gates", c.dtype)(
            *launch_size(rows * hidden),
            (gx, gh, gh if bias is None else bias, np.int32(bias is not None), c, np.int64(rows * hidden))
            + (np.int64(hidden), h_new, c_new, i, f, g, o, tanh_c),
        )
        return c_new, (i, f, g, o, c, tanh_c)

    @staticmethod
    def _lstm_gates_backward(grad_h, grad_out, grad_c, saved, grad_gates):
        """One launch: the gates' gradient (written into ``grad_gates``) and that of the previous cell state."""
        i, f, g, o, c, tanh_c = saved
        rows, hidden = i.shape
        grad_c_prev = cupy.empty_like(grad_c)
        function("lstm.cu", "ember_lstm_gates_backward", grad_h.dtype)(
            *launch_size(rows * hidden),
            (grad_h, grad_h if grad_out is None else grad_out, np.int32(grad_out is not None), grad_c)
            + (i, f, g, o, c, tanh_c, np.int64(rows * hidden), np.int64(hidden), grad_gates, grad_c_prev),
        )
        return grad_c_prev

    def _avg_pool2d(self, name, source, out, kernel, stride, padding, count_include_pad, divisor_override):
        """Launch ``name`` of ``cu/avg_pool.cu``: one thread per element of ``out`` (4-D, PyTorch's divisor rule)."""
        n, c, h, w = out.shape if name.endswith("backward") else source.shape
        oh, ow = source.shape[2:] if name.endswith("backward") else out.shape[2:]
        ints = (np.int32(v) for v in (*kernel, *stride, *padding, bool(count_include_pad)))
        function("avg_pool.cu", name, out.dtype)(
            *launch_size(out.size),
            (source, np.int64(n * c), np.int64(h), np.int64(w), np.int64(oh), np.int64(ow), *ints)
            + (np.int64(divisor_override or 0), out),
        )
        return out

    def avg_pool(self, x, kernel, stride, padding, out_shape, count_include_pad, divisor_override):
        if x.ndim != 4 or not _fusable(x) or x.size == 0:
            return super().avg_pool(x, kernel, stride, padding, out_shape, count_include_pad, divisor_override)
        out = cupy.empty(x.shape[:2] + tuple(out_shape), dtype=x.dtype)
        args = (kernel, stride, padding, count_include_pad, divisor_override)
        return self._avg_pool2d("ember_avg_pool2d", cupy.ascontiguousarray(x), out, *args)

    def avg_pool_backward(self, grad, input_shape, kernel, stride, padding, count_include_pad, divisor_override):
        if grad.ndim != 4 or not _fusable(grad) or grad.size == 0:
            return super().avg_pool_backward(
                grad, input_shape, kernel, stride, padding, count_include_pad, divisor_override
            )
        out = cupy.empty(tuple(input_shape), dtype=grad.dtype)
        args = (kernel, stride, padding, count_include_pad, divisor_override)
        return self._avg_pool2d("ember_avg_pool2d_backward", cupy.ascontiguousarray(grad), out, *args)

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        if native_dtype_name(gx.dtype) not in _FUSED_TYPES:
            return super().lstm_cell(gx, h, c, w_hh_t, b_hh)
        # the kernel adds gx, h @ w_hh^T and b_hh itself: one GEMM and one launch per time step
        c = cupy.ascontiguousarray(c)
        gh = cupy.ascontiguousarray(self.xp.matmul(h, w_hh_t))
        bias = None if b_hh is None else cupy.ascontiguousarray(b_hh)
        h_new = cupy.empty_like(c)
        c_new, saved = self._lstm_gates(cupy.ascontiguousarray(gx), gh, bias, c, h_new)
        return h_new, c_new, saved

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        if native_dtype_name(grad_h.dtype) not in _FUSED_TYPES:
            return super().lstm_cell_backward(grad_h, grad_c, saved, w_hh)
        rows, hidden = saved[0].shape
        grad_gates = cupy.empty((rows, 4 * hidden), dtype=grad_h.dtype)
        grad_h, grad_c = cupy.ascontiguousarray(grad_h), cupy.ascontiguousarray(grad_c)
        grad_c_prev = self._lstm_gates_backward(grad_h, None, grad_c, saved, grad_gates)
        return grad_gates, grad_gates, self.xp.matmul(grad_gates, w_hh), grad_c_prev

    @staticmethod
    def _dense_lstm(mode, x, h0, batch_sizes, w_hr):
        """Whether a layer is an LSTM without projection over a padded batch (every step all rows) of a fused dtype."""
        return (
            mode == "LSTM"
            and w_hr is None
            and native_dtype_name(x.dtype) in _FUSED_TYPES
            and len(batch_sizes) > 0
            and all(size == h0.shape[0] for size in batch_sizes)
        )

    def rnn_layer(self, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity="tanh", w_hr=None):
        """A padded LSTM layer: per time step one GEMM and one gate launch that writes ``h`` into the output."""
        if not self._dense_lstm(mode, x, h0, batch_sizes, w_hr):
            return super().rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity, w_hr)
        xp = self.xp
        batch, hidden = h0.shape
        gx = cupy.ascontiguousarray(xp.matmul(x, w_ih.T))  # every time step's input part at once
        biases = [b for b in (b_ih, b_hh) if b is not None]
        bias = None if not biases else cupy.ascontiguousarray(biases[0] if len(biases) == 1 else b_ih + b_hh)
        out = cupy.empty((x.shape[0], hidden), dtype=x.dtype)
        h, c = cupy.ascontiguousarray(h0), cupy.ascontiguousarray(c0)
        saved = [None] * len(batch_sizes)
        for t in range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes)):
            rows = slice(t * batch, (t + 1) * batch)
            gh = cupy.ascontiguousarray(xp.matmul(h, w_hh.T))
            h = out[rows]
            c, saved[t] = self._lstm_gates(gx[rows], gh, bias, c, h)
        # the state each step started from: the previous step's output rows, h0 for the first step
        h_prev = xp.concat([out[batch:], h0] if reverse else [h0, out[:-batch]], axis=0)
        return out, h.copy(), c, (h_prev, saved, None)

    def _through_time(
        self, mode, grad_out, grad_h_n, grad_c_n, x, w_hh, batch_sizes, reverse, state, nonlinearity, w_hr
    ):
        """The padded LSTM layer's time loop: per time step one gate launch (adding ``grad_out``) and one GEMM."""
        if not self._dense_lstm(mode, x, grad_h_n, batch_sizes, w_hr):
            return super()._through_time(
                mode, grad_out, grad_h_n, grad_c_n, x, w_hh, batch_sizes, reverse, state, nonlinearity, w_hr
            )
        xp = self.xp
        _, saved, _ = state
        batch = grad_h_n.shape[0]
        grad_out = cupy.ascontiguousarray(grad_out)
        grad_gates = cupy.empty((grad_out.shape[0], w_hh.shape[0]), dtype=grad_out.dtype)
        gh, gc = cupy.ascontiguousarray(grad_h_n), cupy.ascontiguousarray(grad_c_n)
        for t in range(len(batch_sizes)) if reverse else range(len(batch_sizes) - 1, -1, -1):
            rows = slice(t * batch, (t + 1) * batch)
            gc = self._lstm_gates_backward(gh, grad_out[rows], gc, saved[t], grad_gates[rows])
            gh = xp.matmul(grad_gates[rows], w_hh)
        return grad_gates, grad_gates, gh, gc, None

    def dropout(self, x, p, generator):
        if not (_fusable(x) and _flat(x)):
            return super().dropout(x, p, generator)
        y, mask = cupy.empty_like(x), cupy.empty_like(x)
        keep_below = np.int64(min(int((1 - p) * 2**32), 2**32))
        function("dropout.cu", "ember_dropout", x.dtype)(
            *launch_size(x.size),
            (x, np.int64(x.size), np.int64(generator.key()), keep_below, x.dtype.type(1 / (1 - p)), y, mask),
        )
        return y, mask

    def running_update(self, running, batch_stat, momentum, scale):
        if not (_fusable(running, batch_stat) and _flat(running, batch_stat)):
            return super().running_update(running, batch_stat, momentum, scale)
        kind = running.dtype.type
        function("batch_norm.cu", "ember_running_update", running.dtype)(
            *launch_size(running.size),
            (running, batch_stat, np.int64(running.size), kind(1 - momentum), kind(momentum * scale)),
        )

    def threshold(self, x, threshold, value):
        if not (_fusable(x) and _flat(x)):
            return super().threshold(x, threshold, value)
        y, keep = cupy.empty_like(x), cupy.empty(x.shape, dtype=np.bool_)
        scalar = x.dtype.type
        _pointwise("ember_threshold", x.dtype, x.size, (x, np.int64(x.size), scalar(threshold), scalar(value), y, keep))
        return y, keep

    def threshold_backward(self, grad, keep):
        if not (_fusable(grad) and keep.dtype == np.bool_ and _flat(grad, keep)):
            return super().threshold_backward(grad, keep)
        out = cupy.empty_like(grad)
        _pointwise("ember_threshold_backward", grad.dtype, grad.size, (grad, keep, np.int64(grad.size), out))
        return out

    def _from_output(self, name, grad, y):
        if not (_fusable(grad, y) and _flat(grad, y)):
            return getattr(super(), name)(grad, y)
        out = cupy.empty_like(grad)
        _pointwise("ember_" + name, grad.dtype, grad.size, (grad, y, np.int64(grad.size), out))
        return out

    def tanh_backward(self, grad, y):
        return self._from_output("tanh_backward", grad, y)

    def sigmoid_backward(self, grad, y):
        return self._from_output("sigmoid_backward", grad, y)

    def gelu(self, x, approximate):
        if not (_fusable(x) and _flat(x)):
            return super().gelu(x, approximate)
        y = cupy.empty_like(x)
        _pointwise("ember_gelu", x.dtype, x.size, (x, np.int64(x.size), np.int32(approximate == "tanh"), y))
        return y

    def gelu_backward(self, grad, x, approximate):
        if not (_fusable(grad, x) and _flat(grad, x)):
            return super().gelu_backward(grad, x, approximate)
        out = cupy.empty_like(grad)
        flag = np.int32(approximate == "tanh")
        _pointwise("ember_gelu_backward", grad.dtype, grad.size, (grad, x, np.int64(grad.size), flag, out))
        return out

    @sgd_kernel
    def sgd_step(self, param, grad, momentum_buffer, h):
        if not _fusable(param, grad, momentum_buffer):
            return super().sgd_step(param, grad, momentum_buffer, *h)
        scalars, flags = h.fused_args()
        if h.momentum == 0:
            _SGD(grad, *scalars, *map(int, flags), param)
            return momentum_buffer
        first = momentum_buffer is None
        buf = cupy.empty_like(param) if first else momentum_buffer
        _SGD_MOMENTUM(grad, *scalars, *map(int, flags), int(first), param, buf)
        return buf

    @adam_kernel
    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
        if not _fusable(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *h)
        scalars, flags = h.fused_args()
        if max_exp_avg_sq is None:
            _ADAM(grad, *scalars, *map(int, flags), param, exp_avg, exp_avg_sq)
        else:
            _ADAM_AMSGRAD(grad, *scalars, *map(int, flags), param, exp_avg, exp_avg_sq, max_exp_avg_sq)
