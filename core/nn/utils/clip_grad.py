"""Gradient clipping: ``clip_grad_norm_`` (``get_total_norm`` then ``clip_grads_with_norm_``) and
``clip_grad_value_``."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import TypeAlias

from ...autograd.grad_mode import no_grad
from ...ops.movement import stack
from ...tensor import Tensor, tensor

#: what the clipping functions take: one tensor or an iterable of them (``model.parameters()``)
_tensors_t: TypeAlias = Tensor | Iterable[Tensor]

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads(parameters: _tensors_t) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: _tensors_t,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    r"""Clip the gradient norm of an iterable of parameters, in place.

    The norm is computed over all gradients together, as if they were concatenated into
    a single vector; every gradient is then scaled by
    :math:`\min(1, \text{max\_norm} / (\text{total\_norm} + 10^{-6}))`.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose gradients are clipped.
        max_norm (float): max norm of the gradients.
        norm_type (float or str): type of the p-norm; ``'inf'`` for the infinity norm. Default: 2.0.
        error_if_nonfinite (bool): raise if the total norm is ``nan``, ``inf`` or ``-inf``. Default: False.
        foreach: accepted for compatibility; ignored.

    Returns:
        Total norm of the gradients (viewed as a single vector), a tensor.

    Example::

        >>> loss = loss_fn(model(input), target)
        >>> loss.backward()
        >>> total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    max_norm = float(max_norm)  # a ValueError for a non-number, before any work (as torch)
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        # read once: ``model.parameters()`` is a generator, and both steps below walk the parameters
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = _grads(parameters)
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(
    parameters: _tensors_t,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    r"""Deprecated alias of :func:`clip_grad_norm_`."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _tensors_t, clip_value: float, foreach: bool | None = None) -> None:
    r"""Clamp the gradients of an iterable of parameters to ``[-clip_value, clip_value]``, in place.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose gradients are clipped.
        clip_value (float): maximum allowed absolute value of the gradients.
        foreach: accepted for compatibility; ignored.
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)


def get_total_norm(
    tensors: _tensors_t, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    r"""The norm of ``tensors`` taken together, as if concatenated into one vector: the
    ``norm_type``-norm of their individual norms.

    Args:
        tensors (Iterable[Tensor] or Tensor): the tensors (usually the gradients).
        norm_type (float or str): the p of the p-norm; ``'inf'`` for the infinity norm. Default: 2.0.
        error_if_nonfinite (bool): raise if the norm is ``nan``, ``inf`` or ``-inf``. Default: False.
        foreach: accepted for compatibility; ignored.

    Returns:
        The total norm, a 0-d tensor on the first tensor's device (``tensor(0.)`` for none).

    Example::

        >>> nn.utils.get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])])
        tensor(5.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    with no_grad():
        if norm_type == math.inf:
            norms = [t.detach().abs().max() for t in tensors]
        else:
            norms = [t.detach().norm(norm_type) for t in tensors]
        first = norms[0].device
        stacked = stack([n.to(first) for n in norms])
        total_norm = stacked.max() if norm_type == math.inf else stacked.norm(norm_type)
    if error_if_nonfinite and not bool(total_norm.isfinite()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total_norm


def clip_grads_with_norm_(
    parameters: _tensors_t, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    r"""Scale the gradients of ``parameters`` in place by
    :math:`\min(1, \text{max\_norm} / (\text{total\_norm} + 10^{-6}))`.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose gradients are scaled.
        max_norm (float): the largest norm allowed.
        total_norm (Tensor): the gradients' total norm (see :func:`get_total_norm`).
        foreach: accepted for compatibility; ignored.

    Example::

        >>> p = nn.Parameter(ember.zeros(2))
        >>> p.grad = ember.tensor([3.0, 4.0])
        >>> nn.utils.clip_grads_with_norm_([p], 1.0, nn.utils.get_total_norm([p.grad]))
        >>> p.grad
        tensor([0.6000, 0.8000])
    """
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        clip_coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef.to(g.device))
