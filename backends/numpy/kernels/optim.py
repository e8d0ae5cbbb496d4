"""NumPy overrides of the optimizer kernels: ufuncs writing into the parameter and its
buffers (``out=``), with at most two scratch arrays per step.

The portable kernels compute each new value into a fresh array and copy it back; these
make one pass per operation and no copies. A contiguous parameter larger than :data:`BLOCK`
elements is stepped a block at a time, so that the step's passes meet in the cache rather than
in memory, and its blocks are split over the intra-op threads (MLP 784-1024-1024-10 SGD step
with momentum, one thread: the 1024x1024 float32 update took 1.5 ms over whole arrays, 0.6 ms
by blocks; PyTorch: about 1.0 ms). The arithmetic is the portable kernels' operation by
operation, so both give the same values. Zero-dimensional parameters go through the portable
kernels (NumPy scalars cannot be written in place).

The SGD step is written once (:func:`_sgd_update`) in multiply-adds, ``x * scale + y`` rounded
twice. Where oneDNN is installed and ``ember.backends.mkldnn.enabled``, a C-contiguous float32
parameter of at least :data:`~ember.backends.numpy.onednn.multiply_add.MIN_ELEMENTS` elements
runs them whole on oneDNN's OpenMP team (the same roundings: the same values bit for bit),
else as NumPy ufuncs by blocks. On two threads NumPy's blocks gain little from ember's pool,
whose thread fights the team's spinning one for the core after a oneDNN product.
"""

from __future__ import annotations

import functools

import numpy as np

from ember.kernels.optim import adam_kernel, sgd_kernel, sgd_step_in_16_bits
from ember.threads import get_num_threads

from ..onednn import multiply_add
from ..parallel import after_openmp_team, openmp_team_spinning, parallel_range

__all__ = ["NumpyOptimKernels"]


def _gradient(param, grad, weight_decay, maximize):
    """``(g, owned)``: ``-grad if maximize else grad``, plus ``weight_decay * param``;
    ``owned`` tells whether ``g`` is a fresh array (``grad`` itself is never written).
    """
    if weight_decay != 0:
        g = np.multiply(param, weight_decay)
        (np.subtract if maximize else np.add)(g, grad, out=g)
        return g, True
    if maximize:
        return np.negative(grad), True
    return grad, False


#: elements per block of a blocked step: a block of the parameter, gradient, buffer and one
#: scratch array stay in the L2 cache across the step's passes
BLOCK = 1 << 16


def _sgd_update(param, grad, buf, first, h, multiply_add):
    """One SGD step on same-shaped ``param``, ``grad`` (read only) and ``buf`` (None without momentum;
    ``first``: filled with the gradient rather than updated), all written in place, as the portable
    kernel computes it, operation by operation. ``multiply_add(x, scale, y, out)`` computes
    ``x * scale + y`` with two roundings (the product, then the sum) into ``out`` (``x``, ``y``, or
    None for a fresh array) and returns it."""
    g = np.negative(grad) if h.maximize else grad
    if h.weight_decay != 0:
        g = multiply_add(param, h.weight_decay, g, None)
    if h.momentum != 0:
        if first:
            np.copyto(buf, g)
        else:
            multiply_add(buf, h.momentum, g if h.dampening == 0 else np.multiply(g, 1 - h.dampening), buf)
        g = multiply_add(buf, h.momentum, g, None) if h.nesterov else buf
    multiply_add(g, -h.lr, param, param)


def _ufunc_multiply_add(x, scale, y, out, scratch=None):
    """``multiply_add`` of :func:`_sgd_update` as two ufuncs; ``scratch`` (the arrays' shape, or None: a
    fresh array) takes the product when ``out`` is ``y``."""
    if out is y:
        return np.add(y, np.multiply(x, scale, out=scratch), out=out)
    out = np.multiply(x, scale, out=out)
    return np.add(out, y, out=out)


def _onednn_sgd(param, grad, buf, first, h):
    """:func:`_sgd_update` over whole C-contiguous float32 arrays, its multiply-adds on oneDNN's OpenMP
    team (:mod:`..onednn.multiply_add`: the same roundings); False where that does not take the case:
    small or other arrays, oneDNN missing or off, or more than one thread while the team is not
    spinning from a call just before. A team woken for the step would spin on after it and take a
    core from the pool's kernels that follow (a CNN, whose convolutions split the batch over the
    pool: 2-thread step 1.44x -> 1.53x PyTorch's time with its largest weight stepped on the team)."""
    if not multiply_add.takes(*((param, grad) if buf is None else (param, grad, buf))):
        return False
    threads = get_num_threads()
    if threads > 1 and not openmp_team_spinning():
        return False
    plan = multiply_add.plan(param.size, threads)
    if plan is None:
        return False

    def on_team(x, scale, y, out):
        return plan(x, scale, y, np.empty_like(x) if out is None else out)

    with plan.lib.on_threads(threads):
        _sgd_update(param.reshape(-1), grad.reshape(-1), None if buf is None else buf.reshape(-1), first, h, on_team)
    if threads > 1:
        after_openmp_team()
    return True


class NumpyOptimKernels:
    """Faster NumPy versions of the portable optimizer kernels (see the module docstring)."""

    @sgd_kernel
    def sgd_step(self, param, grad, momentum_buffer, h):
        if param.dtype.itemsize == 2:  # float16/bfloat16: rounded per operation, as PyTorch's CPU SGD
            return sgd_step_in_16_bits(self, param, grad, momentum_buffer, h)
        if param.ndim == 0:
            return super().sgd_step(param, grad, momentum_buffer, *h)
        first = h.momentum != 0 and momentum_buffer is None
        buf = np.empty_like(param) if first else momentum_buffer
        if param.size >= multiply_add.MIN_ELEMENTS and _onednn_sgd(param, grad, buf, first, h):
            return buf
        arrays = (param, grad) if buf is None else (param, grad, buf)
        if param.size <= BLOCK or not all(a.flags.c_contiguous for a in arrays):
            _sgd_update(param, grad, buf, first, h, _ufunc_multiply_add)
            return buf
        flat_p, flat_g = param.reshape(-1), grad.reshape(-1)
        flat_b = None if buf is None else buf.reshape(-1)

        def run(first_block, last_block):
            scratch = np.empty(BLOCK, dtype=param.dtype)  # one per thread, reused by its blocks
            for lo in range(first_block * BLOCK, min(last_block * BLOCK, param.size), BLOCK):
                part = slice(lo, lo + BLOCK)
                _sgd_update(
                    flat_p[part],
                    flat_g[part],
                    None if flat_b is None else flat_b[part],
                    first,
                    h,
                    functools.partial(_ufunc_multiply_add, scratch=scratch[: min(BLOCK, param.size - lo)]),
                )

        parallel_range(-(-param.size // BLOCK), run, param.size)
        return buf

    @adam_kernel
    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
        if param.ndim == 0 or param.dtype.itemsize == 2:  # 16-bit: the portable kernel's PyTorch rounding
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *h)
        _, lr, beta1, beta2, eps, weight_decay, maximize, decoupled = h  # the step: in bias_corrections()
        g, _ = _gradient(param, grad, 0 if decoupled else weight_decay, maximize)
        if decoupled and weight_decay != 0:
            np.multiply(param, 1 - lr * weight_decay, out=param)
        scratch = np.subtract(g, exp_avg)
        np.multiply(scratch, 1 - beta1, out=scratch)
        np.add(exp_avg, scratch, out=exp_avg)
        np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
        np.multiply(g, g, out=scratch)
        np.multiply(scratch, 1 - beta2, out=scratch)
        np.add(exp_avg_sq, scratch, out=exp_avg_sq)
        second = exp_avg_sq
        if max_exp_avg_sq is not None:
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second = max_exp_avg_sq
        step_size, bias_correction2_sqrt = h.bias_corrections()
        np.sqrt(second, out=scratch)
        np.divide(scratch, bias_correction2_sqrt, out=scratch)
        np.add(scratch, eps, out=scratch)
        np.divide(exp_avg, scratch, out=scratch)
        np.multiply(scratch, -step_size, out=scratch)
        np.add(param, scratch, out=param)
