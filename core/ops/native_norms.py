"""The normalizations PyTorch exposes at the top level as ATen's ``native_*`` ops, which return the
statistics they normalized with beside the output: ``native_layer_norm`` and ``native_group_norm``
``(output, mean, rstd)``, ``native_batch_norm`` ``(output, save_mean, save_invstd)``. The output is
:mod:`ember.nn.functional`'s; as in PyTorch, group norm's statistics are differentiable, the others' carry
no gradient.

:mod:`ember` imports this module on the first access to one of these names, so that ``import ember``
does not load ``ember.nn``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["native_layer_norm", "native_batch_norm", "native_group_norm"]


def _moments(x: Tensor, dims: tuple[int, ...], eps: float, keepdim: bool) -> tuple[Tensor, Tensor]:
    """The mean of ``x`` over ``dims`` and :math:`1/\\sqrt{\\mathrm{Var} + \\epsilon}` (biased variance)."""
    mean = x.mean(dims, keepdim=keepdim)
    rstd = (x.var(dims, unbiased=False, keepdim=keepdim) + eps).rsqrt()
    return mean, rstd


def native_layer_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None, bias: Tensor | None, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    r""":func:`ember.nn.functional.layer_norm` with its statistics: ``(output, mean, rstd)``, where ``mean``
    and ``rstd`` (:math:`1/\sqrt{\mathrm{Var}[x] + \epsilon}`) have ``input``'s shape with the normalized
    dimensions kept as size 1.

    Example::

        >>> out, mean, rstd = ember.native_layer_norm(ember.tensor([[1.0, 2.0, 3.0]]), [3], None, None, 1e-5)
        >>> out, mean, rstd
        (tensor([[-1.2247,  0.0000,  1.2247]]), tensor([[2.]]), tensor([[1.2247]]))
    """
    out = F.layer_norm(input, list(normalized_shape), weight, bias, eps)
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    with no_grad():  # detached: no tangent in forward mode either, as PyTorch's
        return (out, *_moments(input.detach(), dims, eps, keepdim=True))


def native_batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    r""":func:`ember.nn.functional.batch_norm` (running statistics updated in training, as there) with the
    statistics of the batch: ``(output, save_mean, save_invstd)``, each ``(C,)``, in training; empty outside
    it, as PyTorch returns them.

    Example::

        >>> x = ember.tensor([[1.0], [3.0]])
        >>> ember.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
        (tensor([[-1.0000],
                [ 1.0000]]), tensor([2.]), tensor([1.0000]))
    """
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = input.new_empty((0,))
        return out, empty, empty.clone()
    dims = (0, *range(2, input.ndim))
    with no_grad():  # detached: no tangent in forward mode either, as PyTorch's
        return (out, *_moments(input.detach(), dims, eps, keepdim=False))


def native_group_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    N: int,  # noqa: N803 - PyTorch's names
    C: int,  # noqa: N803
    HxW: int,  # noqa: N803
    group: int,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    r""":func:`ember.nn.functional.group_norm` with its statistics: ``(output, mean, rstd)``, each statistic
    ``(N, group)`` and differentiable. ``N``, ``C`` and ``HxW`` are ``input``'s batch size, channels and the product of its
    other sizes.

    Example::

        >>> x = ember.tensor([[[1.0], [3.0], [5.0], [9.0]]])
        >>> _, mean, rstd = ember.native_group_norm(x, None, None, 1, 4, 1, 2, 0.0)
        >>> mean, rstd
        (tensor([[2., 7.]]), tensor([[1.0000, 0.5000]]))
    """
    out = F.group_norm(input, group, weight, bias, eps)
    per_group = C * HxW // group  # spelt out: -1 is ambiguous for an empty batch
    return (out, *_moments(input.reshape(N, group, per_group), (2,), eps, keepdim=False))
