"""Portable optimizer-step kernels: one parameter's update, written in place.

Unlike the NN kernels, these mutate their array arguments (the parameter and its state
buffers) and return nothing but a newly made buffer: the optimizers in ``ember.optim``
call them under ``no_grad`` with the tensors' native arrays and bump the tensors'
version counters. The portable defaults compute each new value with primitives and write
it back with ``array[...] = value``; backends override them with fused updates (NumPy:
ufuncs with ``out=``; CuPy and OpenCL: one element-wise kernel whose C body is
``fused/{sgd,adam}.h``, see :func:`fused_source`).

Each step's signature is written once, here: the hyperparameters are one object
(:class:`SGDHyper`, :class:`AdamHyper`), and a kernel is written as
``update(self, param, grad, *state, hyper)`` and made the public ``sgd_step``/``adam_step``
by :func:`sgd_kernel`/:func:`adam_kernel`. An override that does not cover a case hands it
back with ``super().adam_step(param, grad, *state, *hyper)``.

The arithmetic follows ``torch.optim`` (``_single_tensor_sgd``, ``_single_tensor_adam``)
operation by operation, so that every backend reproduces the same values.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

from ..dtypes import float32, float64, held_by, narrow_float

__all__ = ["AdamHyper", "OptimKernels", "SGDHyper", "adam_kernel", "fused_source", "sgd_kernel", "sgd_step_in_16_bits"]


class SGDHyper(NamedTuple):
    """The hyperparameters of one SGD step (``optim.SGD``'s group, ``lr`` as a number)."""

    lr: float
    momentum: float
    dampening: float
    nesterov: bool
    weight_decay: float
    maximize: bool

    def fused_args(self):
        """``(scalars, flags)`` of the fused C step after its pointers: ``ember_sgd_step``'s
        without momentum, ``ember_sgd_momentum_step``'s with it (``first`` left to the caller)."""
        if self.momentum == 0:
            return (-self.lr, self.weight_decay), (self.maximize,)
        return (-self.lr, self.momentum, 1 - self.dampening, self.weight_decay), (self.maximize, self.nesterov)


class AdamHyper(NamedTuple):
    """The hyperparameters of one Adam/AdamW step; ``step`` is ``t`` after this step (from 1)."""

    step: float
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    maximize: bool
    decoupled_weight_decay: bool
    #: ``lr / (1 - beta1**step)`` computed by the caller (PyTorch computes it in a tensor lr's dtype), or
    #: ``None``: computed here in double precision from ``lr``
    step_size: float | None = None

    def bias_corrections(self):
        """``(lr / (1 - beta1**step), sqrt(1 - beta2**step))``."""
        step_size = self.lr / (1 - self.beta1**self.step) if self.step_size is None else self.step_size
        return step_size, (1 - self.beta2**self.step) ** 0.5

    def fused_args(self):
        """``(scalars, flags)`` of ``ember_adam_step`` after its pointers and the gradient."""
        step_size, bias_correction2_sqrt = self.bias_corrections()
        lr, beta1, beta2, weight_decay = self.lr, self.beta1, self.beta2, self.weight_decay
        scalars = (1 - lr * weight_decay, weight_decay, 1 - beta1, beta2, 1 - beta2, bias_correction2_sqrt)
        return (*scalars, self.eps, -step_size), (self.maximize, self.decoupled_weight_decay)


def sgd_kernel(update):
    """``sgd_step(param, grad, momentum_buffer, *hyper, **named)`` (hyper: :class:`SGDHyper`'s
    fields) from ``update(self, param, grad, momentum_buffer, hyper)``."""

    def sgd_step(self, param, grad, momentum_buffer, *hyper, **named):
        return update(self, param, grad, momentum_buffer, SGDHyper(*hyper, **named))

    sgd_step.__doc__ = update.__doc__
    return sgd_step


def adam_kernel(update):
    """``adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *hyper, **named)`` (hyper:
    :class:`AdamHyper`'s fields) from ``update(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, hyper)``."""

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *hyper, **named):
        update(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, AdamHyper(*hyper, **named))

    adam_step.__doc__ = update.__doc__
    return adam_step


def fused_source(qualifiers):
    """The shared C bodies of the fused steps (``fused/sgd.h``, ``fused/adam.h``) with ``EMBER_FN``
    defined as ``qualifiers`` (``"__device__ inline"`` for CUDA, ``"inline"`` for OpenCL)."""
    folder = resources.files(__package__).joinpath("fused")
    return f"#define EMBER_FN {qualifiers}\n" + "".join(folder.joinpath(f).read_text() for f in ("sgd.h", "adam.h"))


class OptimKernels:
    """Portable default optimizer kernels, written against ``self.xp`` only."""

    @sgd_kernel
    def sgd_step(self, param, grad, momentum_buffer, h):
        """One SGD step on ``param`` in place (``optim.SGD``).

        .. math::
            g = \\pm\\nabla + \\lambda\\theta, \\quad
            b = \\mu b + (1 - \\tau) g \\ (b = g \\text{ on the first step}), \\quad
            \\theta = \\theta - \\gamma\\,(g + \\mu b \\text{ if nesterov else } b)

        Args:
            param: the parameter, updated in place.
            grad: its gradient (read only).
            momentum_buffer: the momentum buffer, updated in place, or ``None`` on the first
                step (or without momentum).
            lr, momentum, dampening, nesterov, weight_decay, maximize: the fields of
                :class:`SGDHyper`, positional or by name.

        Returns:
            The momentum buffer: ``momentum_buffer`` itself, a new array on the first step
            with momentum, or ``None`` without momentum.
        """
        fused = self.fused_multiply_add  # ``add`` with ``alpha``, as PyTorch's single-tensor SGD calls it
        g = -grad if h.maximize else grad
        if h.weight_decay != 0:
            g = fused(param, h.weight_decay, g)
        buf = momentum_buffer
        if h.momentum != 0:
            if buf is None:
                buf = self.xp.empty(param.shape, dtype=param.dtype)
                buf[...] = g
            else:  # buf.mul_(momentum).add_(g, alpha=1 - dampening)
                buf[...] = fused(g, 1 - h.dampening, buf * h.momentum)
            g = fused(buf, h.momentum, g) if h.nesterov else buf
        param[...] = fused(g, -h.lr, param)
        return buf

    @adam_kernel
    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
        """One Adam (or AdamW) step on ``param`` in place (``optim.Adam``, ``optim.AdamW``).

        .. math::
            m = m + (1 - \\beta_1)(g - m), \\quad
            v = \\beta_2 v + (1 - \\beta_2) g^2, \\quad
            \\theta = \\theta - \\frac{\\gamma}{1 - \\beta_1^t}
                \\frac{m}{\\sqrt{v^{(\\max)}} / \\sqrt{1 - \\beta_2^t} + \\epsilon}

        Weight decay multiplies ``param`` by ``1 - lr * weight_decay`` first when decoupled
        (AdamW), else adds ``weight_decay * param`` to the gradient.

        Args:
            param: the parameter, updated in place.
            grad: its gradient (read only).
            exp_avg, exp_avg_sq: the running averages of the gradient and its square,
                updated in place.
            max_exp_avg_sq: the running maximum of ``exp_avg_sq`` (AMSGrad), updated in
                place, or ``None`` without AMSGrad.
            step, lr, beta1, beta2, eps, weight_decay, maximize, decoupled_weight_decay: the
                fields of :class:`AdamHyper`, positional or by name.
        """
        if param.dtype.itemsize == 2 and self.backend.ember_dtype(param.dtype) in narrow_float:
            return _adam_step_in_16_bits(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h)
        xp, fused = self.xp, self.fused_multiply_add  # PyTorch's single-tensor Adam, operation by operation
        g = -grad if h.maximize else grad
        if h.weight_decay != 0:
            if h.decoupled_weight_decay:
                param[...] = param * (1 - h.lr * h.weight_decay)
            else:  # grad.add(param, alpha=weight_decay)
                g = fused(param, h.weight_decay, g)
        kind = self.backend.ember_dtype(param.dtype)
        weight = held_by(1 - h.beta1, kind)  # exp_avg.lerp_(g, 1 - beta1), from the nearer end
        if abs(weight) < 0.5:
            exp_avg[...] = fused(g - exp_avg, weight, exp_avg)
        else:
            exp_avg[...] = fused(g - exp_avg, held_by(weight - 1, kind), g)
        # exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        exp_avg_sq[...] = fused(g * (1 - h.beta2), g, exp_avg_sq * h.beta2)
        second = exp_avg_sq
        if max_exp_avg_sq is not None:
            max_exp_avg_sq[...] = xp.maximum(max_exp_avg_sq, exp_avg_sq)
            second = max_exp_avg_sq
        step_size, bias_correction2_sqrt = h.bias_corrections()
        denom = xp.sqrt(second) / bias_correction2_sqrt + h.eps
        param[...] = param + exp_avg * -step_size / denom  # param.addcdiv_(exp_avg, denom, value=-step_size)


def sgd_step_in_16_bits(kernels, param, grad, momentum_buffer, h):
    """:meth:`OptimKernels.sgd_step` on float16/bfloat16 arrays as PyTorch's single-tensor SGD runs it:
    one tensor operation at a time, each computed in float32 and rounded to the 16-bit type once
    (``buf.mul_(momentum)`` by the unrounded number, ``add``'s ``alpha`` rounded to the type), where
    multiply-adds in the 16-bit type round the product too."""
    xp, backend = kernels.xp, kernels.backend
    narrow, wide = param.dtype, backend.native_dtype(float32)

    def wide_of(a):
        return xp.astype(a, wide)

    def rounded(a):
        return xp.astype(a, narrow)

    def add(a, b, alpha):  # a.add(b, alpha=alpha) of float32 operands, rounded once
        return rounded(a + wide_of(xp.asarray(alpha, dtype=narrow)) * b)

    g = wide_of(grad)
    if h.maximize:
        g = -g
    if h.weight_decay != 0:  # grad.add(param, alpha=weight_decay)
        g = wide_of(add(g, wide_of(param), h.weight_decay))
    buf = momentum_buffer
    if h.momentum != 0:
        if buf is None:  # torch.clone(grad)
            buf = xp.empty(param.shape, dtype=narrow)
            buf[...] = rounded(g)
        else:  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            buf[...] = add(wide_of(rounded(wide_of(buf) * h.momentum)), g, 1 - h.dampening)
        g = wide_of(add(g, wide_of(buf), h.momentum)) if h.nesterov else wide_of(buf)
    param[...] = add(wide_of(param), g, -h.lr)
    return buf


def _adam_step_in_16_bits(kernels, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
    """:meth:`OptimKernels.adam_step` on float16/bfloat16 arrays as PyTorch's single-tensor Adam runs
    it: one tensor operation at a time, each computed in float32 and rounded to the 16-bit type
    once, its Python-number factors unrounded (``mul_(beta2)`` multiplies by 0.999, which bfloat16
    would round to 1) but ``eps`` and ``add``'s ``alpha`` rounded to the type as ``add`` rounds
    them; ``lerp_`` and ``addcmul_`` fuse their last multiply-add (one rounding) as PyTorch's
    vectorized kernels do."""
    xp, backend = kernels.xp, kernels.backend
    narrow, wide = param.dtype, backend.native_dtype(float32)
    exact = backend.native_dtype(float64 if backend.supports_float64 else float32)

    def wide_of(a):
        return xp.astype(a, wide)

    def rounded(a):
        return xp.astype(a, narrow)

    def fused(a, b, c):
        """``a * b + c`` of float32 operands with one rounding to float32 (a multiply-add)."""
        return xp.astype(xp.astype(a, exact) * xp.astype(b, exact) + xp.astype(c, exact), wide)

    def in_type(number):
        return wide_of(xp.asarray(number, dtype=narrow))

    g = wide_of(grad)
    if h.maximize:
        g = -g
    if h.weight_decay != 0:
        if h.decoupled_weight_decay:  # param.mul_(1 - lr * weight_decay)
            param[...] = rounded(wide_of(param) * (1 - h.lr * h.weight_decay))
        else:  # grad.add(param, alpha=weight_decay)
            g = wide_of(rounded(g + in_type(h.weight_decay) * wide_of(param)))
    weight, m = 1 - h.beta1, wide_of(exp_avg)  # exp_avg.lerp_(grad, 1 - beta1), from the nearer end
    if abs(weight) < 0.5:
        exp_avg[...] = rounded(fused(xp.asarray(weight, dtype=wide), g - m, m))
    else:
        exp_avg[...] = rounded(fused(m - g, xp.asarray(1 - weight, dtype=wide), g))
    v = wide_of(rounded(wide_of(exp_avg_sq) * h.beta2))  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    exp_avg_sq[...] = rounded(fused((1 - h.beta2) * g, g, v))
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        max_exp_avg_sq[...] = xp.maximum(max_exp_avg_sq, exp_avg_sq)
        second = max_exp_avg_sq
    step_size, bias_correction2_sqrt = h.bias_corrections()
    denom = wide_of(rounded(xp.sqrt(wide_of(second))))  # (v.sqrt() / bias_correction2_sqrt).add_(eps)
    denom = wide_of(rounded(denom / bias_correction2_sqrt))
    denom = wide_of(rounded(denom + in_type(h.eps)))
    param[...] = rounded(
        wide_of(param) + -step_size * wide_of(exp_avg) / denom
    )  # param.addcdiv_(exp_avg, denom, value=-step_size)
