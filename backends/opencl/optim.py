"""Fused one-launch optimizer steps (SGD with momentum/Nesterov/weight decay, Adam/AdamW with
AMSGrad) on OpenCL. The element arithmetic is ``ember/kernels/fused/{sgd,adam}.h``, the same
source the CuPy backend compiles; arrays that are not whole contiguous buffers of one
floating dtype take the portable kernels."""

from __future__ import annotations

import functools

import numpy as np

from ember.backend import native_dtype_name
from ember.kernels.optim import adam_kernel, fused_source, sgd_kernel

from .array import empty
from .namespace import astype
from .runtime import cl_type

__all__ = ["OpenCLOptimKernels"]


def _fusable(param, grad, *state):
    """float32/float64 whole contiguous buffers of one dtype on one device (``None`` state
    skipped; the gradient may be any view of the parameter's shape, see :func:`_dense`);
    float16 takes the portable kernels (computed in float32 element-wise)."""
    if (
        native_dtype_name(param.dtype) not in ("float32", "float64")
        or grad.dtype != param.dtype
        or grad.shape != param.shape
    ):
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


_FUSED = functools.partial(fused_source, "inline")  # read when a program is first built


def _kernel(device, dtype, name):
    t = cl_type(dtype)
    return device.kernel(("optim", t), "optim.cl", name, {"T": t}, prelude=_FUSED)


def _scalars(dtype, scalars, flags):
    """A fused step's ``(scalars, flags)`` as kernel arguments: ``dtype`` numbers, then int32 flags."""
    return (*map(dtype.type, scalars), *map(np.int32, flags))


class OpenCLOptimKernels:
    """Overrides of :class:`ember.kernels.optim.OptimKernels`: each step is one launch."""

    @sgd_kernel
    def sgd_step(self, param, grad, momentum_buffer, h):
        if not _fusable(param, grad, momentum_buffer):
            return super().sgd_step(param, grad, momentum_buffer, *h)
        device, n, grad = param.device, param.size, _dense(grad)
        args = _scalars(param.dtype, *h.fused_args())
        if h.momentum == 0:
            device.launch(_kernel(device, param.dtype, "sgd"), n, np.int64(n), param.buffer, grad.buffer, *args)
            return momentum_buffer
        first = momentum_buffer is None
        buf = empty(param.shape, param.dtype, device) if first else momentum_buffer
        kernel = _kernel(device, param.dtype, "sgd_momentum")
        device.launch(kernel, n, np.int64(n), param.buffer, buf.buffer, grad.buffer, *args, np.int32(first))
        return buf

    @adam_kernel
    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
        if not _fusable(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *h)
        device, n, grad = param.device, param.size, _dense(grad)
        amsgrad = max_exp_avg_sq is not None
        device.launch(
            _kernel(device, param.dtype, "adam"), n, np.int64(n), param.buffer, exp_avg.buffer, exp_avg_sq.buffer,
            (max_exp_avg_sq if amsgrad else exp_avg_sq).buffer, grad.buffer, *_scalars(param.dtype, *h.fused_args()),
            np.int32(amsgrad),
        )  # fmt: skip
