"""Convolutions through oneDNN's primitives: forward, input gradient and weight gradient.

PyTorch's CPU convolutions are these primitives (``mkldnn_convolution``): each lets oneDNN choose
its operands' layouts (blocked, e.g. ``nChw16c``), and the call reorders the NumPy arrays into
them and its result back. One :class:`ConvolutionPlan` per geometry holds the steps
(:class:`~.primitive.Step`: primitives, memory and reorders); :func:`plan` caches them (a
:class:`~.primitive.PlanCache` of the most recent geometries). A plan serves one call at a time
(its memory objects point at that call's arrays), which its lock enforces.

Shapes follow PyTorch's: ``x`` is ``(N, C, *spatial)``, ``weight`` ``(O, C / groups, *kernel)``,
``padding`` a ``(low, high)`` pair per spatial dimension, every array (results included: the
caller allocates them) C-contiguous float32.
"""

from __future__ import annotations

import ctypes
import threading

from .memory import any_desc, array_desc
from .primitive import PlanCache, Step

__all__ = ["ConvolutionPlan", "plan"]

_FORWARD_TRAINING, _DIRECT = 64, 1  # dnnl_forward_training, dnnl_convolution_direct
_ARG_SRC, _ARG_DST, _ARG_WEIGHTS, _ARG_BIAS = 1, 17, 33, 41
_ARG_DIFF_SRC, _ARG_DIFF_DST, _ARG_DIFF_WEIGHTS = 129, 145, 161


class ConvolutionPlan:
    """The primitives of one convolution geometry; the gradient primitives are built on first use.

    Args:
        x_shape, weight_shape (tuple): the input's and the weight's shapes.
        stride, dilation (tuple): per spatial dimension.
        padding (tuple): a ``(low, high)`` pair per spatial dimension.
        groups (int): channel groups.
        threads (int): the OpenMP threads each call runs on.
    """

    def __init__(self, lib, x_shape, weight_shape, stride, padding, dilation, groups, threads=1):
        self.lib, self.lock, self.threads = lib, threading.Lock(), threads
        self.x_shape, self.weight_shape = tuple(x_shape), tuple(weight_shape)
        kernel = weight_shape[2:]
        self.y_shape = (x_shape[0], weight_shape[0]) + tuple(
            (size + lo + hi - d * (k - 1) - 1) // s + 1
            for size, (lo, hi), k, s, d in zip(x_shape[2:], padding, kernel, stride, dilation)
        )
        # grouped weights are (groups, O / groups, C / groups, *kernel): the same memory as (O, C / groups, *kernel)
        self.w_dims = (groups, weight_shape[0] // groups) + tuple(weight_shape[1:]) if groups > 1 else self.weight_shape
        self.geometry = tuple(
            lib.dims(values)
            for values in (stride, [d - 1 for d in dilation], [lo for lo, _ in padding], [hi for _, hi in padding])
        )
        self.hint = self._forward_descriptor(False)  # the gradient primitives' hint
        self._forward, self._input_grad, self._weight_grad = {}, None, None

    def _forward_descriptor(self, bias):
        lib, descriptor = self.lib, ctypes.c_void_p()
        descs = [any_desc(lib, shape) for shape in (self.x_shape, self.w_dims, self.y_shape)]
        bias_desc = array_desc(lib, self.y_shape[1:2]) if bias else None
        lib.check(
            lib.dnnl_convolution_forward_primitive_desc_create(
                ctypes.byref(descriptor), lib.engine, _FORWARD_TRAINING, _DIRECT, descs[0], descs[1], bias_desc,
                descs[2], *self.geometry, None,
            ),
            "dnnl_convolution_forward_primitive_desc_create",
        )  # fmt: skip
        for desc in (*descs, bias_desc):
            if desc is not None:
                lib.dnnl_memory_desc_destroy(desc)
        return descriptor

    def _gradient_step(self, name, inputs, outputs, shapes, extra=()):
        """The step of the gradient primitive that ``lib.<name>`` describes, with this plan's forward as hint."""
        lib, descriptor, create = self.lib, ctypes.c_void_p(), getattr(self.lib, name)
        descs = [any_desc(lib, shape) for shape in shapes]
        args = (ctypes.byref(descriptor), lib.engine, _DIRECT, *descs[:2], *extra, descs[2], *self.geometry)
        lib.check(create(*args, self.hint, None), name)
        for desc in descs:
            lib.dnnl_memory_desc_destroy(desc)
        return Step(lib, descriptor, inputs, outputs)

    def forward(self, x, weight, bias, y):
        """Write into ``y`` the convolution of ``x`` with ``weight``, plus ``bias`` unless it is None."""
        arrays = {_ARG_SRC: x, _ARG_WEIGHTS: weight, _ARG_DST: y}
        if bias is not None:
            arrays[_ARG_BIAS] = bias
        with self.lock, self.lib.on_threads(self.threads):
            step = self._forward.get(bias is not None)
            if step is None:
                inputs = {_ARG_SRC: self.x_shape, _ARG_WEIGHTS: self.w_dims}
                if bias is not None:
                    inputs[_ARG_BIAS] = self.y_shape[1:2]
                step = Step(self.lib, self._forward_descriptor(bias is not None), inputs, {_ARG_DST: self.y_shape})
                self._forward[bias is not None] = step
            step(arrays)

    def input_grad(self, grad, weight, dx):
        """Write into ``dx`` the gradient with respect to the input of ``grad`` (the output's gradient)."""
        with self.lock, self.lib.on_threads(self.threads):
            if self._input_grad is None:
                self._input_grad = self._gradient_step(
                    "dnnl_convolution_backward_data_primitive_desc_create",
                    {_ARG_DIFF_DST: self.y_shape, _ARG_WEIGHTS: self.w_dims},
                    {_ARG_DIFF_SRC: self.x_shape},
                    (self.x_shape, self.w_dims, self.y_shape),
                )
            self._input_grad({_ARG_DIFF_DST: grad, _ARG_WEIGHTS: weight, _ARG_DIFF_SRC: dx})

    def weight_grad(self, x, grad, dw):
        """Write into ``dw`` the gradient with respect to the weight of ``grad`` (the output's gradient)."""
        with self.lock, self.lib.on_threads(self.threads):
            if self._weight_grad is None:
                self._weight_grad = self._gradient_step(
                    "dnnl_convolution_backward_weights_primitive_desc_create",
                    {_ARG_SRC: self.x_shape, _ARG_DIFF_DST: self.y_shape},
                    {_ARG_DIFF_WEIGHTS: self.w_dims},
                    (self.x_shape, self.w_dims, self.y_shape),
                    extra=(None,),  # no bias gradient: the caller sums the output's gradient itself
                )
            self._weight_grad({_ARG_SRC: x, _ARG_DIFF_DST: grad, _ARG_DIFF_WEIGHTS: dw})

    def __del__(self):
        if getattr(self, "hint", None) is not None:  # (not after a failed __init__)
            self.release()

    def release(self):
        """Free the plan's oneDNN objects (the plan is unusable after; a second call does nothing)."""
        with self.lock:
            if self.hint is None:
                return
            for step in (self._input_grad, self._weight_grad, *self._forward.values()):
                if step is not None:
                    step.release()
            self.lib.dnnl_primitive_desc_destroy(self.hint)
            self._forward, self._input_grad, self._weight_grad, self.hint = {}, None, None, None


#: the plans of the most recent geometries (with slots and thread counts)
_cache = PlanCache(lambda lib, *key: ConvolutionPlan(lib, *key[:6], threads=key[7]), threads=lambda key: key[7])


def plan(x_shape, weight_shape, stride, padding, dilation, groups, slot=0, threads=1):
    """The cached :class:`ConvolutionPlan` of a geometry (built on first use) on ``threads`` OpenMP
    threads, or None when oneDNN is not loaded or has no implementation for it. Calls that run at the
    same time (the chunks of a batch split over the threads) take different ``slot`` numbers, and so
    plans of their own."""
    return _cache.get((x_shape, weight_shape, stride, padding, dilation, groups, slot, threads))
