"""A whole LSTM layer through oneDNN's LSTM primitives, forward and backward.

PyTorch's CPU LSTM runs each layer and direction through these primitives (``mkldnn_rnn_layer``),
and so does this plan: the same library computes the same values (float32, 35 steps of 16 x 256,
one thread: forward, input, state, weight and bias gradients equal to PyTorch's bit for bit).
The time loop, the gate activations and the gradient products all run inside oneDNN, on its
OpenMP team of ``ember.get_num_threads()`` threads, instead of a Python loop of NumPy calls per
step.

Shapes follow :meth:`~ember.backends.numpy.kernels.rnn.NumpyRnnKernels.rnn_layer`'s: ``x`` is
``(steps * batch, input)`` rows, time-major; ``h0`` and ``c0`` ``(batch, hidden)``; ``w_ih``
``(4 hidden, input)`` and ``w_hh`` ``(4 hidden, hidden)`` with PyTorch's gate order ``i, f, g, o``
(oneDNN's too); ``bias`` ``(4 hidden,)``, the sum of PyTorch's two. The weights stay in PyTorch's
layout in the caller's arrays and are reordered into the primitive's at each call; every array
is C-contiguous, results included (the caller allocates them), of the plan's dtype: float32, or
bfloat16 as PyTorch runs a bfloat16 LSTM (an autocast region's): the forward's operands and
results, the bias too (PyTorch adds its two in bfloat16), all bfloat16, and the backward's
gradients, given and computed, float32 (its ``mkldnn_rnn_layer_backward``). The bfloat16 forward
of oneDNN 3.2 (the ``onednn`` extra) gives PyTorch's (oneDNN 3.12) values bit for bit.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ember.strides import contiguous_strides

from .memory import any_desc, strided_desc
from .primitive import Layout, PlanCache, Step

__all__ = ["LstmPlan", "plan"]

_FORWARD_TRAINING, _BACKWARD = 64, 128  # dnnl_prop_kind_t
_LEFT_TO_RIGHT, _RIGHT_TO_LEFT = 1, 2  # dnnl_rnn_direction_t
_OVERWRITE_WEIGHT_GRADS = 1  # dnnl_rnn_flags_diff_weights_overwrite: written, not added to
_SRC_LAYER, _SRC_ITER, _SRC_ITER_C = 1, 2, 3
_DST_LAYER, _DST_ITER, _DST_ITER_C = 17, 18, 19
_WEIGHTS_LAYER, _WEIGHTS_ITER, _BIAS, _WORKSPACE = 33, 34, 41, 64
_DIFF = 128  # an argument's gradient: its index plus this
#: the forward's inputs and outputs, in the order of the primitive descriptor's arguments (and of
#: :meth:`LstmPlan.backward`'s ``saved``, then the workspace)
_INPUTS = (_SRC_LAYER, _SRC_ITER, _SRC_ITER_C, _WEIGHTS_LAYER, _WEIGHTS_ITER, _BIAS)
_OUTPUTS = (_DST_LAYER, _DST_ITER, _DST_ITER_C)
_F32 = np.dtype(np.float32)


class LstmPlan:
    """The primitives of one LSTM layer geometry on one OpenMP thread count; the backward is built
    on first use. A plan serves one call at a time, which its lock enforces.

    Args:
        steps, batch, input_size, hidden (int): the layer's geometry.
        reverse (bool): run from the last time step to the first.
        dtype (numpy.dtype): the forward's operands, float32 or bfloat16 (see the module docstring).
    """

    def __init__(self, lib, steps, batch, input_size, hidden, reverse, dtype=_F32):
        self.lib, self.lock = lib, threading.Lock()
        self.shapes = _layouts(steps, batch, input_size, hidden, dtype)
        #: the layouts of the gradients: float32 whatever the forward's dtype
        self.grad_shapes = _layouts(steps, batch, input_size, hidden, _F32)
        self.direction = _RIGHT_TO_LEFT if reverse else _LEFT_TO_RIGHT
        outputs = {arg: self.shapes[arg] for arg in _OUTPUTS}
        outputs[_WORKSPACE] = None  # in the layout the primitive chose
        self._forward = Step(lib, self._descriptor(), {arg: self.shapes[arg] for arg in _INPUTS}, outputs)
        self.workspace_bytes = self._forward.size(_WORKSPACE)
        self._backward = None

    def _descriptor(self, backward=False):
        """The forward's primitive descriptor, or with ``backward`` the backward's (with the forward's as
        hint): ``any`` weights and weight gradients (oneDNN takes no other layout for training), plain
        layouts elsewhere."""
        lib, descriptor = self.lib, ctypes.c_void_p()
        descs = _descs(lib, self.shapes)
        operands = _operands(descs)
        if backward:
            grad_descs = _descs(lib, self.grad_shapes)
            create = "dnnl_lstm_backward_primitive_desc_create"
            status = lib.dnnl_lstm_backward_primitive_desc_create(
                ctypes.byref(descriptor), lib.engine, _BACKWARD, self.direction, *operands, *_operands(grad_descs),
                _OVERWRITE_WEIGHT_GRADS, self._forward.descriptor, None,
            )  # fmt: skip
            for desc in grad_descs.values():
                lib.dnnl_memory_desc_destroy(desc)
        else:
            create = "dnnl_lstm_forward_primitive_desc_create"
            status = lib.dnnl_lstm_forward_primitive_desc_create(
                ctypes.byref(descriptor), lib.engine, _FORWARD_TRAINING, self.direction, *operands, 0, None
            )
        for desc in descs.values():
            lib.dnnl_memory_desc_destroy(desc)
        lib.check(status, create)
        return descriptor

    def workspace(self):
        """A new workspace: what :meth:`forward` leaves for :meth:`backward` (the gates of every step)."""
        return np.empty(self.workspace_bytes, dtype=np.uint8)

    def forward(self, x, h0, c0, w_ih, w_hh, bias, out, h_n, c_n, workspace):
        """Run the layer: write every step's hidden state into ``out`` ``(steps * batch, hidden)``, the
        last states into ``h_n`` and ``c_n``, and what the backward needs into ``workspace``."""
        arrays = dict(zip(_INPUTS + _OUTPUTS + (_WORKSPACE,), (x, h0, c0, w_ih, w_hh, bias, out, h_n, c_n, workspace)))
        with self.lock:
            self._forward(arrays)

    def backward(self, saved, grads, results):
        """Back-propagate through the layer.

        Args:
            saved (tuple): the arrays of the forward, ``(x, h0, c0, w_ih, w_hh, bias, out, h_n, c_n,
                workspace)``.
            grads (tuple): the gradients of ``out``, ``h_n`` and ``c_n``.
            results (tuple): written: the gradients of ``x``, ``h0``, ``c0``, ``w_ih``, ``w_hh`` and
                ``bias``.
        """
        grad_args = tuple(arg + _DIFF for arg in _OUTPUTS)
        result_args = tuple(arg + _DIFF for arg in _INPUTS)
        arrays = dict(zip(_INPUTS + _OUTPUTS + (_WORKSPACE,) + grad_args + result_args, saved + grads + results))
        with self.lock:
            if self._backward is None:
                inputs = {arg: self.shapes[arg] for arg in _INPUTS + _OUTPUTS}
                inputs[_WORKSPACE] = None
                inputs.update((arg, self.grad_shapes[arg - _DIFF]) for arg in grad_args)
                outputs = {arg: self.grad_shapes[arg - _DIFF] for arg in result_args}
                self._backward = Step(self.lib, self._descriptor(backward=True), inputs, outputs)
            self._backward(arrays)

    def __del__(self):
        if getattr(self, "_forward", None) is not None:  # (not after a failed __init__)
            self.release()

    def release(self):
        """Free the plan's oneDNN objects (the plan is unusable after; a second call does nothing)."""
        with self.lock:
            for step in (self._backward, self._forward):
                if step is not None:
                    step.release()
            self._forward = self._backward = None


def _layouts(steps, batch, input_size, hidden, dtype):
    """The caller's layout of each argument of a layer's primitives, of ``dtype``."""
    state = (1, 1, batch, hidden)  # (layers, directions, batch, channels)
    plain = {
        _SRC_LAYER: (steps, batch, input_size),
        _SRC_ITER: state,
        _SRC_ITER_C: state,
        _BIAS: (1, 1, 4, hidden),
        _DST_LAYER: (steps, batch, hidden),
        _DST_ITER: state,
        _DST_ITER_C: state,
    }
    layouts = {arg: Layout(shape, contiguous_strides(shape), dtype) for arg, shape in plain.items()}
    # PyTorch's (4 hidden, channels) weights as oneDNN's (layers, directions, channels, gates, hidden)
    layouts[_WEIGHTS_LAYER] = _gate_major(input_size, hidden, dtype)
    layouts[_WEIGHTS_ITER] = _gate_major(hidden, hidden, dtype)
    return layouts


def _descs(lib, layouts):
    """The primitive's descriptors of ``layouts``: ``any`` for the weights (oneDNN takes no other
    layout for training), the caller's elsewhere (the caller destroys them)."""
    return {
        arg: any_desc(lib, layout.shape, layout.dtype)
        if arg in (_WEIGHTS_LAYER, _WEIGHTS_ITER)
        else strided_desc(lib, layout.shape, layout.strides, layout.dtype)
        for arg, layout in layouts.items()
    }


def _operands(descs):
    """The weights, then none for the peephole and projection weights, then the bias and the outputs."""
    return [descs[arg] for arg in _INPUTS[:-1]] + [None, None] + [descs[arg] for arg in (_BIAS, *_OUTPUTS)]


def _gate_major(channels, hidden, dtype=_F32):
    """PyTorch's C-contiguous ``(4 hidden, channels)`` weight as oneDNN's ``(1, 1, channels, 4, hidden)``."""
    size = 4 * hidden * channels
    return Layout((1, 1, channels, 4, hidden), (size, size, 1, hidden * channels, channels), dtype)


#: the plans of the most recent geometries and dtypes, and thread counts; the key's last item is the thread count
_cache = PlanCache(lambda lib, *key: LstmPlan(lib, *key[:-1]), threads=lambda key: key[-1], limit=16)


def plan(steps, batch, input_size, hidden, reverse, threads, dtype=_F32):
    """The cached :class:`LstmPlan` of a geometry and dtype (float32 or bfloat16) on ``threads`` OpenMP
    threads (a primitive runs on the thread count it was built with), or None when oneDNN is not loaded
    or has no implementation."""
    return _cache.get((steps, batch, input_size, hidden, reverse, np.dtype(dtype), threads))
