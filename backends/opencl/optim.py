"""Fused one-launch optimizer steps (SGD with momentum/Nesterov/weight decay, Adam/AdamW with
AMSGrad) on OpenCL. The element arithmetic is ``ember/kernels/fused/{sgd,adam}.h``, the same
source the CuPy backend compiles; arrays that are not whole contiguous buffers of one
floating dtype take the portable kernels."""

from __future__ import annotations

from importlib import resources

import numpy as np

from ember.kernels.optim import _bias_corrections

from .array import empty
from .namespace import astype
from .runtime import cl_type

__all__ = ["OpenCLOptimKernels", "fused_bodies"]


def fused_bodies():
    """The shared C bodies of the fused optimizer steps, for OpenCL (``EMBER_FN`` = inline)."""
    folder = resources.files("ember.kernels").joinpath("fused")
    return "#define EMBER_FN inline\n" + "".join(folder.joinpath(f).read_text() for f in ("sgd.h", "adam.h"))


def _fusable(param, grad, *state):
    """float32/float64 whole contiguous buffers of one dtype on one device (``None`` state
    skipped; the gradient may be any view of the parameter's shape, see :func:`_dense`);
    float16 takes the portable kernels (computed in float32 element-wise)."""
    if param.dtype.name not in ("float32", "float64") or grad.dtype != param.dtype or grad.shape != param.shape:
        return False
    return (
        all(
            a is None or (a.dtype == param.dtype and a.device is param.device and a.offset == 0 and a.is_contiguous)
            for a in (param, *state)
        )
        and grad.device is param.device
    )


def _dense(grad):
    """``grad`` as a whole contiguous buffer (a copy of a view such as a transposed weight gradient)."""
    return grad if grad.offset == 0 and grad.is_contiguous else astype(grad, grad.dtype, copy=True)


def _kernel(device, dtype, name):
    t = cl_type(dtype)
    return device.kernel(("optim", t), "optim.cl", name, {"T": t}, prelude=fused_bodies)


class OpenCLOptimKernels:
    """Overrides of :class:`ember.kernels.optim.OptimKernels`: each step is one launch."""

    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize):
        if not _fusable(param, grad, momentum_buffer):
            return super().sgd_step(
                param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize
            )
        device, scalar, n, grad = param.device, param.dtype.type, param.size, _dense(grad)
        if momentum == 0:
            device.launch(_kernel(device, param.dtype, "sgd"), n, np.int64(n), param.buffer, grad.buffer,
                          scalar(-lr), scalar(weight_decay), np.int32(maximize))  # fmt: skip
            return momentum_buffer
        first = momentum_buffer is None
        buf = empty(param.shape, param.dtype, device) if first else momentum_buffer
        device.launch(
            _kernel(device, param.dtype, "sgd_momentum"), n, np.int64(n), param.buffer, buf.buffer, grad.buffer,
            scalar(-lr), scalar(momentum), scalar(1 - dampening), scalar(weight_decay), np.int32(maximize),
            np.int32(nesterov), np.int32(first),
        )  # fmt: skip
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
                param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                maximize, decoupled_weight_decay,
            )  # fmt: skip
        device, scalar, n, grad = param.device, param.dtype.type, param.size, _dense(grad)
        step_size, bias_correction2_sqrt = _bias_corrections(step, lr, beta1, beta2)
        amsgrad = max_exp_avg_sq is not None
        device.launch(
            _kernel(device, param.dtype, "adam"), n, np.int64(n), param.buffer, exp_avg.buffer, exp_avg_sq.buffer,
            (max_exp_avg_sq if amsgrad else exp_avg_sq).buffer, grad.buffer, scalar(1 - lr * weight_decay),
            scalar(weight_decay), scalar(1 - beta1), scalar(beta2), scalar(1 - beta2), scalar(bias_correction2_sqrt),
            scalar(eps), scalar(-step_size), np.int32(maximize), np.int32(decoupled_weight_decay), np.int32(amsgrad),
        )  # fmt: skip
