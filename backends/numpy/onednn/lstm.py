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
is C-contiguous float32, results included (the caller allocates them).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from .memory import any_desc, array_desc
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


class LstmPlan:
    """The primitives of one LSTM layer geometry on one OpenMP thread count; the backward is built
    on first use. A plan serves one call at a time, which its lock enforces.

    Args:
        steps, batch, input_size, hidden (int): the layer's geometry.
        reverse (bool): run from the last time step to the first.
    """

    def __init__(self, lib, steps, batch, input_size, hidden, reverse):
        self.lib, self.lock = lib, threading.Lock()
        state = (1, 1, batch, hidden)  # (layers, directions, batch, channels)
        self.shapes = {
            _SRC_LAYER: (steps, batch, input_size),
            _SRC_ITER: state,
            _SRC_ITER_C: state,
            # PyTorch's (4 hidden, channels) weights as oneDNN's (layers, directions, channels, gates, hidden)
            _WEIGHTS_LAYER: _gate_major(input_size, hidden),
            _WEIGHTS_ITER: _gate_major(hidden, hidden),
            _BIAS: (1, 1, 4, hidden),
            _DST_LAYER: (steps, batch, hidden),
            _DST_ITER: state,
            _DST_ITER_C: state,
        }
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
        lib, descriptor, shapes = self.lib, ctypes.c_void_p(), self.shapes
        descs = {
            arg: any_desc(lib, shape.shape) if isinstance(shape, Layout) else array_desc(lib, shape)
            for arg, shape in shapes.items()
        }
        # the weights, then none for the peephole and projection weights, then the bias and the outputs
        operands = [descs[arg] for arg in _INPUTS[:-1]] + [None, None] + [descs[arg] for arg in (_BIAS, *_OUTPUTS)]
        if backward:
            create = "dnnl_lstm_backward_primitive_desc_create"
            status = lib.dnnl_lstm_backward_primitive_desc_create(
                ctypes.byref(descriptor), lib.engine, _BACKWARD, self.direction, *operands, *operands,
                _OVERWRITE_WEIGHT_GRADS, self._forward.descriptor, None,
            )  # fmt: skip
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
                inputs.update((arg, self.shapes[arg - _DIFF]) for arg in grad_args)
                outputs = {arg: self.shapes[arg - _DIFF] for arg in result_args}
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


def _gate_major(channels, hidden):
    """PyTorch's C-contiguous ``(4 hidden, channels)`` weight as oneDNN's ``(1, 1, channels, 4, hidden)``."""
    size = 4 * hidden * channels
    return Layout((1, 1, channels, 4, hidden), (size, size, 1, hidden * channels, channels))


#: the plans of the most recent geometries and thread counts; the key's last item is the thread count
_cache = PlanCache(lambda lib, *key: LstmPlan(lib, *key[:-1]), threads=lambda key: key[-1], limit=16)


def plan(steps, batch, input_size, hidden, reverse, threads):
    """The cached :class:`LstmPlan` of a geometry on ``threads`` OpenMP threads (a primitive runs on
    the thread count it was built with), or None when oneDNN is not loaded or has no implementation."""
    return _cache.get((steps, batch, input_size, hidden, reverse, threads))
