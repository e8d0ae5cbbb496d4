"""NumPy overrides of the optimizer kernels: ufuncs writing into the parameter and its
buffers (``out=``), with at most two scratch arrays per step.

The portable kernels compute each new value into a fresh array and copy it back; these
make one pass per operation and no copies. A contiguous parameter larger than :data:`BLOCK`
elements is stepped a block at a time, so that the step's passes meet in the cache rather than
in memory, and its blocks are split over the intra-op threads (MLP 784-1024-1024-10 SGD step
with momentum, one thread: the 1024x1024 float32 update took 1.5 ms over whole arrays, 0.6 ms
by blocks; PyTorch: about 1.0 ms). The arithmetic is PyTorch's single-tensor steps', operation
by operation, as the portable kernels compute it: ``add`` with ``alpha``, ``lerp_`` and
``addcmul_`` are fused multiply-adds (:func:`.arithmetic.fused_multiply_add`, one rounding), so
both give PyTorch's values. Zero-dimensional parameters go through the portable kernels (NumPy
scalars cannot be written in place).

The SGD step is written once (:func:`_sgd_update`). Where oneDNN is installed and
``ember.backends.mkldnn.enabled``, a C-contiguous float32 parameter of at least
:data:`~ember.backends.numpy.onednn.multiply_add.MIN_ELEMENTS` elements runs its momentum update
(``buf * momentum + g``, two roundings) on oneDNN's OpenMP team, else as NumPy ufuncs by blocks. On
two threads NumPy's blocks gain little from ember's pool, whose thread fights the team's spinning
one for the core after a oneDNN product.
"""

from __future__ import annotations

import functools

import numpy as np

from ember.kernels.optim import adam_kernel, sgd_kernel, sgd_step_in_16_bits
from ember.threads import get_num_threads

from ..onednn import multiply_add
from ..parallel import after_openmp_team, openmp_team_spinning, parallel_range
from .arithmetic import fused_multiply_add

__all__ = ["NumpyOptimKernels"]


#: elements per block of a blocked step: a block of the parameter, gradient, buffer and one
#: scratch array stay in the L2 cache across the step's passes
BLOCK = 1 << 16


def _sgd_update(param, grad, buf, first, h, multiply_add, fused):
    """One SGD step on same-shaped ``param``, ``grad`` (read only) and ``buf`` (None without momentum;
    ``first``: filled with the gradient rather than updated), all written in place, as PyTorch's
    single-tensor SGD computes it, operation by operation. ``multiply_add(x, scale, y, out)`` computes
    ``x * scale + y`` with two roundings (the product, then the sum: ``buf.mul_(momentum).add_(g)``),
    ``fused(x, scale, y, out)`` with one (``add`` with ``alpha``: a fused multiply-add), into ``out``
    (``x``, ``y``, or None for a fresh array), and return it."""
    g = np.negative(grad) if h.maximize else grad
    if h.weight_decay != 0:
        g = fused(param, h.weight_decay, g, None)  # grad.add(param, alpha=weight_decay)
    if h.momentum != 0:
        if first:
            np.copyto(buf, g)
        elif h.dampening == 0:
            multiply_add(buf, h.momentum, g, buf)
        else:  # buf.mul_(momentum).add_(g, alpha=1 - dampening)
            fused(g, 1 - h.dampening, np.multiply(buf, h.momentum, out=buf), buf)
        g = fused(buf, h.momentum, g, None) if h.nesterov else buf  # grad.add(buf, alpha=momentum)
    fused(g, -h.lr, param, param)  # param.add_(grad, alpha=-lr)


def _fused_on(kernels, serial):
    """The ``fused`` of :func:`_sgd_update`: the compiled loops (on the calling thread with ``serial``),
    else the kernel table's portable ``fused_multiply_add`` (float32 through float64, where the
    product is exact; float64 with two roundings), copied into ``out``."""

    def fused(x, scale, y, out):
        result = fused_multiply_add(x, scale, y, out, serial=serial)
        if result is not None:
            return result
        result = kernels.fused_multiply_add(x, scale, y)
        if out is None:
            return result
        np.copyto(out, result)
        return out

    return fused


def _ufunc_multiply_add(x, scale, y, out, scratch=None):
    """``multiply_add`` of :func:`_sgd_update` as two ufuncs; ``scratch`` (the arrays' shape, or None: a
    fresh array) takes the product when ``out`` is ``y``."""
    if out is y:
        return np.add(y, np.multiply(x, scale, out=scratch), out=out)
    out = np.multiply(x, scale, out=out)
    return np.add(out, y, out=out)


def _onednn_sgd(kernels, param, grad, buf, first, h):
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
        flat = param.reshape(-1), grad.reshape(-1), None if buf is None else buf.reshape(-1)
        _sgd_update(*flat, first, h, on_team, _fused_on(kernels, False))
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
        if param.size >= multiply_add.MIN_ELEMENTS and _onednn_sgd(self, param, grad, buf, first, h):
            return buf
        arrays = (param, grad) if buf is None else (param, grad, buf)
        if param.size <= BLOCK or not all(a.flags.c_contiguous for a in arrays):
            _sgd_update(param, grad, buf, first, h, _ufunc_multiply_add, _fused_on(self, False))
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
                    _fused_on(self, True),
                )

        parallel_range(-(-param.size // BLOCK), run, param.size)
        return buf

    @adam_kernel
    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
        if param.ndim == 0 or param.dtype.itemsize == 2:  # 16-bit: the portable kernel's PyTorch rounding
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *h)
        lr, beta1, beta2, eps, weight_decay = h.lr, h.beta1, h.beta2, h.eps, h.weight_decay  # step: bias_corrections()
        maximize, decoupled = h.maximize, h.decoupled_weight_decay
        fused = _fused_on(self, False)
        g = np.negative(grad) if maximize else grad
        if weight_decay != 0:
            if decoupled:
                np.multiply(param, 1 - lr * weight_decay, out=param)
            else:  # grad.add(param, alpha=weight_decay)
                g = fused(param, weight_decay, g, None)
        # exp_avg.lerp_(g, 1 - beta1): one fused multiply-add from the nearer end, as PyTorch's lerp
        weight = param.dtype.type(1 - beta1)
        scratch = np.subtract(g, exp_avg)
        if abs(weight) < 0.5:
            fused(scratch, weight, exp_avg, exp_avg)
        else:
            np.copyto(exp_avg, fused(scratch, weight - 1, g, None))
        # exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2): the sum fused with the product by g
        np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
        fused(np.multiply(g, 1 - beta2, out=scratch), g, exp_avg_sq, exp_avg_sq)
        second = exp_avg_sq
        if max_exp_avg_sq is not None:
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second = max_exp_avg_sq
        step_size, bias_correction2_sqrt = h.bias_corrections()
        np.sqrt(second, out=scratch)
        np.divide(scratch, bias_correction2_sqrt, out=scratch)
        np.add(scratch, eps, out=scratch)
        # param.addcdiv_(exp_avg, denom, value=-step_size): (value * exp_avg) / denom, added
        np.divide(np.multiply(exp_avg, -step_size), scratch, out=scratch)
        np.add(param, scratch, out=param)
