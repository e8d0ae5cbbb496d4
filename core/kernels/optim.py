"""Portable optimizer-step kernels: one parameter's update, written in place.

Unlike the NN kernels, these mutate their array arguments (the parameter and its state
buffers) and return nothing but a newly made buffer: the optimizers in ``ember.optim``
call them under ``no_grad`` with the tensors' native arrays and bump the tensors'
version counters. The portable defaults compute each new value with primitives and write
it back with ``array[...] = value``; backends override them with fused updates (NumPy:
ufuncs with ``out=``; CuPy: one element-wise CUDA kernel).

The arithmetic follows ``torch.optim`` (``_single_tensor_sgd``, ``_single_tensor_adam``)
operation by operation, so that every backend reproduces the same values.
"""

from __future__ import annotations

__all__ = ["OptimKernels"]


class OptimKernels:
    """Portable default optimizer kernels, written against ``self.xp`` only."""

    def _copy_of(self, like, value):
        """A fresh writable array shaped and typed like ``like`` holding ``value``."""
        out = self.xp.empty(like.shape, dtype=like.dtype)
        out[...] = value
        return out

    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, nesterov, weight_decay, maximize):
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
            lr, momentum, dampening, weight_decay (float): the hyperparameters.
            nesterov, maximize (bool): the flags.

        Returns:
            The momentum buffer: ``momentum_buffer`` itself, a new array on the first step
            with momentum, or ``None`` without momentum.
        """
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + param * weight_decay
        buf = momentum_buffer
        if momentum != 0:
            if buf is None:
                buf = self._copy_of(param, g)
            else:
                alpha = 1 - dampening
                buf[...] = buf * momentum + (g if alpha == 1 else g * alpha)
            g = g + buf * momentum if nesterov else buf
        param[...] = param + g * -lr
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
            step (int or float): the step number ``t`` after this step (from 1).
            lr, beta1, beta2, eps, weight_decay (float): the hyperparameters.
            maximize, decoupled_weight_decay (bool): the flags.
        """
        xp = self.xp
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled_weight_decay:
                param[...] = param * (1 - lr * weight_decay)
            else:
                g = g + param * weight_decay
        exp_avg[...] = exp_avg + (g - exp_avg) * (1 - beta1)
        exp_avg_sq[...] = exp_avg_sq * beta2 + g * g * (1 - beta2)
        second = exp_avg_sq
        if max_exp_avg_sq is not None:
            max_exp_avg_sq[...] = xp.maximum(max_exp_avg_sq, exp_avg_sq)
            second = max_exp_avg_sq
        step_size, bias_correction2_sqrt = _bias_corrections(step, lr, beta1, beta2)
        denom = xp.sqrt(second) / bias_correction2_sqrt + eps
        param[...] = param + exp_avg / denom * -step_size


def _bias_corrections(step, lr, beta1, beta2):
    """Adam's ``(lr / (1 - beta1**step), sqrt(1 - beta2**step))``."""
    return lr / (1 - beta1**step), (1 - beta2**step) ** 0.5
