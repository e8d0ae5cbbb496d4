"""PyTorch's top-level samplers of counts, ``poisson`` and ``binomial``: the samplers behind
:class:`ember.distributions.Poisson` and :class:`ember.distributions.Binomial`.

:mod:`ember` imports this module on the first access to one of these names, so that ``import
ember`` does not load ``ember.distributions``.
"""

from __future__ import annotations

from ..distributions import _sampling
from ..random import Generator
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .movement import broadcast_tensors

__all__ = ["poisson", "binomial"]


def _default_generator_only(op: str, generator: Generator | None) -> None:
    if generator is not None:
        raise NotImplementedError(
            f"ember.{op}: sampling from a given generator is not supported; it draws from the default one"
        )


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A Poisson sample per element, with the element as its rate.

    .. math::
        \text{out}_i \sim \text{Poisson}(\text{input}_i)

    Args:
        input (Tensor): the non-negative rates (floating point).
        generator (ember.Generator, optional): only ``None`` (the default generator) is supported.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.poisson(ember.full((2000,), 4.0))
        >>> abs(x.mean().item() - 4.0) < 0.2
        True
    """
    _default_generator_only("poisson", generator)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    if bool((input < 0).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _sampling.poisson(input.detach())


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A binomial sample per element: successes in ``count`` trials of probability ``prob``.

    Args:
        count (Tensor): the numbers of trials (floating point, of ``prob``'s shape after broadcasting).
        prob (Tensor): the success probabilities.
        generator (ember.Generator, optional): only ``None`` (the default generator) is supported.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.binomial(ember.full((2000,), 10.0), ember.full((2000,), 0.3))
        >>> abs(x.mean().item() - 3.0) < 0.2
        True
    """
    _default_generator_only("binomial", generator)
    count, prob = broadcast_tensors(count.detach(), prob.detach())
    return _sampling.binomial(count, prob.clamp(0, 1))
