"""Convolutions through oneDNN's primitives: forward, transposed forward, input gradient and weight gradient,
in float32, bfloat16 or float16.

PyTorch's CPU convolutions are these primitives (``mkldnn_convolution``, and for bfloat16 operands, and
float16 ones on a CPU with AVX512-FP16 or AVX-NE-CONVERT, every convolution it runs): each lets oneDNN choose its operands' layouts (blocked, e.g.
``nChw16c``), and the call reorders the NumPy arrays into them and its result back. One
:class:`ConvolutionPlan` per geometry and dtype holds the steps (:class:`~.primitive.Step`:
primitives, memory and reorders); :func:`plan` caches them (a :class:`~.primitive.PlanCache` of the
most recent geometries). A plan serves one call at a time (its memory objects point at that call's
arrays), which its lock enforces.

Shapes follow PyTorch's: ``x`` is ``(N, C, *spatial)``, ``weight`` ``(O, C / groups, *kernel)``,
``padding`` a ``(low, high)`` pair per spatial dimension, every array (results included: the
caller allocates them) of the plan's dtype and C-contiguous, or, for a plan built
``channels_last``, the activations (input, output and their gradients) laid out channels-last
(``(N, *spatial, C)`` in memory), as PyTorch hands them to oneDNN when an operand is so: the
primitive then reads them as they are, and runs the kernels made for that layout.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ember.strides import contiguous_strides, ordered_strides

from .memory import any_desc, strided_desc
from .primitive import Layout, PlanCache, Step

__all__ = ["ConvolutionPlan", "plan"]

_FORWARD_TRAINING = 64  # dnnl_forward_training
_CONVOLUTION, _DECONVOLUTION = 1, 10  # dnnl_convolution_direct, dnnl_deconvolution_direct
_ARG_SRC, _ARG_DST, _ARG_WEIGHTS, _ARG_BIAS = 1, 17, 33, 41
_ARG_DIFF_SRC, _ARG_DIFF_DST, _ARG_DIFF_WEIGHTS = 129, 145, 161


class ConvolutionPlan:
    """The primitives of one convolution geometry and dtype; each is built on first use.

    Args:
        x_shape, weight_shape (tuple): the input's and the weight's shapes.
        stride, dilation (tuple): per spatial dimension.
        padding (tuple): a ``(low, high)`` pair per spatial dimension.
        groups (int): channel groups.
        dtype (numpy.dtype): the operands' dtype, float32, bfloat16 or float16 (the 16-bit ones accumulated
            in float32, each result rounded once).
        channels_last (bool): the activations are laid out channels-last (see the module docstring).
        threads (int): the OpenMP threads each call runs on.
    """

    def __init__(
        self, lib, x_shape, weight_shape, stride, padding, dilation, groups, dtype, channels_last=False, threads=1
    ):
        self.lib, self.lock, self.threads = lib, threading.Lock(), threads
        self.dtype, self.channels_last = np.dtype(dtype), channels_last
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
        self.hint = self._forward_descriptor(False, False)  # the gradient primitives' hint
        self._steps = {}

    def _layout(self, shape, activation=True):
        """The layout of the caller's array of ``shape``: an activation's channels-last in a
        ``channels_last`` plan, else C-contiguous."""
        if self.channels_last and activation:
            return Layout(shape, ordered_strides(shape, (0, *range(2, len(shape)), 1)), self.dtype)
        return Layout(shape, contiguous_strides(shape), self.dtype)

    def _transposed_weights(self):
        """The weight as the deconvolution primitive reads it, ``(groups,) (C / groups, O / groups, *kernel)``:
        the plan's weight memory with its two channel axes swapped."""
        dims, strides = list(self.w_dims), list(contiguous_strides(self.w_dims))
        axis = len(self.w_dims) - len(self.weight_shape)  # after the groups axis, if any
        for values in (dims, strides):
            values[axis], values[axis + 1] = values[axis + 1], values[axis]
        return Layout(dims, strides, self.dtype)

    def _desc(self, shape):
        """The primitive's descriptor of an operand of ``shape``: a channels-last activation as it is, else the
        layout the primitive chooses."""
        layout = self._layout(shape)
        if layout.strides != contiguous_strides(shape):
            return strided_desc(self.lib, shape, layout.strides, self.dtype)
        return any_desc(self.lib, shape, self.dtype)

    def _forward_descriptor(self, bias, transposed):
        """The (de)convolution forward's primitive descriptor: a transposed one reads the plan's output
        shape and writes its input shape."""
        lib, descriptor = self.lib, ctypes.c_void_p()
        src, dst = (self.y_shape, self.x_shape) if transposed else (self.x_shape, self.y_shape)
        weights = self._transposed_weights().shape if transposed else self.w_dims
        descs = [self._desc(src), any_desc(lib, weights, self.dtype), self._desc(dst)]
        bias_desc = any_desc(lib, dst[1:2], self.dtype) if bias else None
        name = f"dnnl_{'de' if transposed else ''}convolution_forward_primitive_desc_create"
        try:
            lib.check(
                getattr(lib, name)(
                    ctypes.byref(descriptor), lib.engine, _FORWARD_TRAINING,
                    _DECONVOLUTION if transposed else _CONVOLUTION, descs[0], descs[1], bias_desc, descs[2],
                    *self.geometry, None,
                ),
                name,
            )  # fmt: skip
        finally:
            for desc in (*descs, bias_desc):
                if desc is not None:
                    lib.dnnl_memory_desc_destroy(desc)
        return descriptor

    def _gradient_step(self, name, inputs, outputs, extra=()):
        """The step of the gradient primitive that ``lib.<name>`` describes, with this plan's forward as hint."""
        lib, descriptor, create = self.lib, ctypes.c_void_p(), getattr(self.lib, name)
        descs = [self._desc(self.x_shape), any_desc(lib, self.w_dims, self.dtype), self._desc(self.y_shape)]
        args = (ctypes.byref(descriptor), lib.engine, _CONVOLUTION, *descs[:2], *extra, descs[2], *self.geometry)
        try:
            lib.check(create(*args, self.hint, None), name)
        finally:
            for desc in descs:
                lib.dnnl_memory_desc_destroy(desc)
        return Step(lib, descriptor, inputs, outputs)

    def _step(self, key):
        """The step of ``key``, built on first use: ``("forward", bias, transposed)``, ``"input_grad"`` or
        ``"weight_grad"``."""
        step = self._steps.get(key)
        if step is not None:
            return step
        layout, w = self._layout, self._layout(self.w_dims, activation=False)
        if key == "input_grad":
            step = self._gradient_step(
                "dnnl_convolution_backward_data_primitive_desc_create",
                {_ARG_DIFF_DST: layout(self.y_shape), _ARG_WEIGHTS: w},
                {_ARG_DIFF_SRC: layout(self.x_shape)},
            )
        elif key == "weight_grad":
            step = self._gradient_step(
                "dnnl_convolution_backward_weights_primitive_desc_create",
                {_ARG_SRC: layout(self.x_shape), _ARG_DIFF_DST: layout(self.y_shape)},
                {_ARG_DIFF_WEIGHTS: w},
                extra=(None,),  # no bias gradient: the caller sums the output's gradient itself
            )
        else:
            _, bias, transposed = key
            src, dst = (self.y_shape, self.x_shape) if transposed else (self.x_shape, self.y_shape)
            inputs = {_ARG_SRC: layout(src), _ARG_WEIGHTS: self._transposed_weights() if transposed else w}
            if bias:
                inputs[_ARG_BIAS] = layout(dst[1:2], activation=False)
            step = Step(self.lib, self._forward_descriptor(bias, transposed), inputs, {_ARG_DST: layout(dst)})
        self._steps[key] = step
        return step

    def _run(self, key, arrays):
        with self.lock, self.lib.on_threads(self.threads):
            self._step(key)(arrays)

    def forward(self, x, weight, bias, y):
        """Write into ``y`` the convolution of ``x`` with ``weight``, plus ``bias`` unless it is None."""
        arrays = {_ARG_SRC: x, _ARG_WEIGHTS: weight, _ARG_DST: y}
        if bias is not None:
            arrays[_ARG_BIAS] = bias
        self._run(("forward", bias is not None, False), arrays)

    def transposed(self, y, weight, bias, x):
        """Write into ``x`` (of the plan's input shape) the transposed convolution of ``y`` (of its output
        shape) with ``weight``, plus ``bias`` unless it is None, inside the one rounding (oneDNN's
        deconvolution, as PyTorch's ``mkldnn_convolution_transpose``)."""
        arrays = {_ARG_SRC: y, _ARG_WEIGHTS: weight, _ARG_DST: x}
        if bias is not None:
            arrays[_ARG_BIAS] = bias
        self._run(("forward", bias is not None, True), arrays)

    def input_grad(self, grad, weight, dx):
        """Write into ``dx`` the gradient with respect to the input of ``grad`` (the output's gradient)."""
        self._run("input_grad", {_ARG_DIFF_DST: grad, _ARG_WEIGHTS: weight, _ARG_DIFF_SRC: dx})

    def weight_grad(self, x, grad, dw):
        """Write into ``dw`` the gradient with respect to the weight of ``grad`` (the output's gradient)."""
        self._run("weight_grad", {_ARG_SRC: x, _ARG_DIFF_DST: grad, _ARG_DIFF_WEIGHTS: dw})

    def __del__(self):
        if getattr(self, "hint", None) is not None:  # (not after a failed __init__)
            self.release()

    def release(self):
        """Free the plan's oneDNN objects (the plan is unusable after; a second call does nothing)."""
        with self.lock:
            if self.hint is None:
                return
            for step in self._steps.values():
                step.release()
            self.lib.dnnl_primitive_desc_destroy(self.hint)
            self._steps, self.hint = {}, None


#: the plans of the most recent geometries (with dtypes, layouts, slots and thread counts)
_cache = PlanCache(lambda lib, *key: ConvolutionPlan(lib, *key[:8], threads=key[9]), threads=lambda key: key[9])


def plan(x_shape, weight_shape, stride, padding, dilation, groups, dtype, channels_last=False, slot=0, threads=1):
    """The cached :class:`ConvolutionPlan` of a geometry, dtype and layout (built on first use) on ``threads``
    OpenMP threads, or None when oneDNN is not loaded or has no implementation for it. Calls that run at
    the same time (the chunks of a batch split over the threads) take different ``slot`` numbers, and so
    plans of their own."""
    key = (x_shape, weight_shape, stride, padding, dilation, groups, np.dtype(dtype), channels_last, slot, threads)
    return _cache.get(key)
