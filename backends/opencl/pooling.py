"""OpenCL pooling: max and average pooling in one launch each (values and indices), the
max-pool gradient's scatter-add as one serial pass per plane instead of sorting every index,
and the average-pool gradient as one gathering launch."""

from __future__ import annotations

import math

import numpy as np

from .array import empty
from .conv import window_meta
from .runtime import cl_type

__all__ = ["OpenCLPoolingKernels"]


def _pool_kernel(device, dtype, name):
    t = cl_type(dtype)
    return device.kernel(("pool", t), "pool.cl", name, {"T": t})


class OpenCLPoolingKernels:
    """Max and average pooling and their gradients (N-d up to 3; else the portable kernels)."""

    def max_pool(self, x, kernel, stride, padding, dilation, out_shape):
        if len(kernel) > 3 or x.dtype.kind != "f":
            return super().max_pool(x, kernel, stride, padding, dilation, out_shape)
        device = x.device
        shape = tuple(x.shape[:2]) + tuple(out_shape)
        values = empty(shape, x.dtype, device)
        indices = empty(shape, np.dtype("int64"), device)
        meta = [len(kernel), x.shape[1], x.offset, x.strides[0], x.strides[1]]
        meta += window_meta(kernel, stride, padding, dilation, out_shape, x.shape[2:], x.strides[2:])
        runs = values.size // out_shape[-1] if values.size else 0
        device.launch(_pool_kernel(device, x.dtype, "max_pool"), runs, np.int64(runs), values.buffer,
                      indices.buffer, x.buffer, device.meta(meta))  # fmt: skip
        return values, indices

    def pool_scatter_add(self, values, indices, plane_shape):
        if values.dtype.kind != "f":
            return super().pool_scatter_add(values, indices, plane_shape)
        xp = self.xp
        device = values.device
        n, c = values.shape[0], values.shape[1]
        p, q = math.prod(plane_shape), math.prod(values.shape[2:])
        out = empty((n, c) + tuple(plane_shape), values.dtype, device)
        v = xp.reshape(values, (n * c * q,))
        idx = xp.reshape(xp.astype(indices, np.dtype("int64"), copy=False), (n * c * q,))
        device.launch(_pool_kernel(device, values.dtype, "pool_scatter_add"), n * c, np.int64(n * c), np.int64(p),
                      np.int64(q), out.buffer, v.buffer, np.int64(v.offset), idx.buffer,
                      np.int64(idx.offset))  # fmt: skip
        return out

    def _avg(self, name, out, x, input_shape, kernel, stride, padding, out_shape, count_include_pad, divisor_override):
        device = out.device
        meta = [len(kernel), input_shape[1], x.offset, x.strides[0], x.strides[1]]
        strides = x.strides[2:] if name == "avg_pool" else None
        meta += window_meta(kernel, stride, padding, (1,) * len(kernel), out_shape, input_shape[2:], strides)
        runs = out.size // out.shape[-1] if out.size else 0
        device.launch(_pool_kernel(device, out.dtype, name), runs, np.int64(runs), out.buffer, x.buffer,
                      device.meta(meta), np.int32(bool(count_include_pad)),
                      np.int64(divisor_override or 0))  # fmt: skip
        return out

    def avg_pool(self, x, kernel, stride, padding, out_shape, count_include_pad, divisor_override):
        if len(kernel) > 3 or x.dtype.kind != "f":
            return super().avg_pool(x, kernel, stride, padding, out_shape, count_include_pad, divisor_override)
        out = empty(tuple(x.shape[:2]) + tuple(out_shape), x.dtype, x.device)
        args = (x.shape, kernel, stride, padding, out_shape, count_include_pad, divisor_override)
        return self._avg("avg_pool", out, x, *args)

    def avg_pool_backward(self, grad, input_shape, kernel, stride, padding, count_include_pad, divisor_override):
        if len(kernel) > 3 or grad.dtype.kind != "f":
            return super().avg_pool_backward(
                grad, input_shape, kernel, stride, padding, count_include_pad, divisor_override
            )
        g = self.xp.reshape(grad, tuple(grad.shape))  # contiguous
        dx = empty(tuple(input_shape), grad.dtype, grad.device)
        args = (input_shape, kernel, stride, padding, tuple(grad.shape[2:]), count_include_pad, divisor_override)
        return self._avg("avg_pool_backward", dx, g, *args)
