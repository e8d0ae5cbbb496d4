"""PyTorch's top-level samplers of counts, ``poisson`` and ``binomial``, and of Gamma variates,
``_standard_gamma``: the samplers behind :class:`ember.distributions.Poisson`,
:class:`ember.distributions.Binomial` and :class:`ember.distributions.Gamma`.

:mod:`ember` imports this module on the first access to one of these names, so that ``import
ember`` does not load ``ember.distributions``.
"""

from __future__ import annotations

from ..distributions import _sampling
from ..random import Generator
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .drawn_from import drawn_from
from .movement import broadcast_tensors

__all__ = ["poisson", "binomial", "_standard_gamma"]


def _floating_only(op: str, input: Tensor, dtypes: tuple[str, ...] = ("float16", "bfloat16")) -> None:
    """PyTorch's refusal of ``op``'s CPU kernel for a dtype it is not compiled for: every dtype but the
    floating ones, and those of ``dtypes`` among them."""
    if not input.dtype.is_floating_point or input.dtype.name in dtypes:
        raise NotImplementedError(f"\"{op}\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A Poisson sample per element, with the element as its rate.

    .. math::
        \text{out}_i \sim \text{Poisson}(\text{input}_i)

    Args:
        input (Tensor): the non-negative rates (floating point).
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.poisson(ember.full((2000,), 4.0))
        >>> abs(x.mean().item() - 4.0) < 0.2
        True
    """
    _floating_only("poisson_cpu", input, dtypes=())
    if bool((~(input >= 0)).any()):  # NaN too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return drawn_from(_sampling.poisson(input.detach(), generator), input)


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A binomial sample per element: successes in ``count`` trials of probability ``prob``.

    Args:
        count (Tensor): the numbers of trials (floating point, of ``prob``'s shape after broadcasting).
        prob (Tensor): the success probabilities, of ``count``'s dtype.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.binomial(ember.full((2000,), 10.0), ember.full((2000,), 0.3))
        >>> abs(x.mean().item() - 3.0) < 0.2
        True
    """
    for name, value in (("count", count), ("prob", prob)):
        if not value.dtype.is_floating_point:
            raise ValueError(
                f"binomial only supports floating-point dtypes for {name}, got: {_TORCH_NAMES[value.dtype.name]}"
            )
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {_TORCH_NAMES[prob.dtype.name]} but expected {_TORCH_NAMES[count.dtype.name]}")
    _floating_only("binomial_cpu", count)
    count, prob = broadcast_tensors(count.detach(), prob.detach())
    return _sampling.binomial(count, prob.clamp(0, 1), generator)


def _standard_gamma(input: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A Gamma(concentration, 1) sample per element, with the element as its concentration (the sampler
    of :class:`ember.distributions.Gamma`, differentiable with respect to ``input``).

    Args:
        input (Tensor): the concentrations (float32 or float64); a sample is at least the dtype's
            smallest normal number.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember._standard_gamma(ember.full((2000,), 3.0))
        >>> abs(x.mean().item() - 3.0) < 0.2
        True
    """
    _floating_only("gamma_cpu", input)
    return _sampling.reparameterized_gamma(input, generator)
