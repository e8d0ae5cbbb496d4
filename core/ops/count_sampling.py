"""PyTorch's top-level samplers of counts, ``poisson`` and ``binomial``, of Gamma variates,
``_standard_gamma``, and of Dirichlet variates, ``_sample_dirichlet``: the samplers behind
:class:`ember.distributions.Poisson`, :class:`ember.distributions.Binomial`,
:class:`ember.distributions.Gamma` and :class:`ember.distributions.Dirichlet`.

:mod:`ember` imports this module on the first access to one of these names, so that ``import
ember`` does not load ``ember.distributions``.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..distributions import _sampling
from ..random import Generator
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .drawn_from import drawn_from
from .movement import broadcast_tensors
from .operands import require_tensors

__all__ = ["poisson", "binomial", "_standard_gamma", "_sample_dirichlet"]


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
    require_tensors("poisson", ("input",), input)
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
    require_tensors("binomial", ("count", "prob"), count, prob)
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
    require_tensors("_standard_gamma", ("input",), input)
    _floating_only("gamma_cpu", input)
    return _sampling.reparameterized_gamma(input, generator)


class _SampleDirichlet(Function):
    """A Dirichlet draw recorded without a derivative, as PyTorch's (its backward raises)."""

    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx: Any, samples: Tensor, input: Tensor) -> Tensor:
        return samples.detach()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> None:
        raise RuntimeError("derivative for aten::_sample_dirichlet is not implemented")


def _sample_dirichlet(input: Tensor, generator: Generator | None = None) -> Tensor:
    r"""A Dirichlet sample per row of the last dimension of ``input``, whose elements are its concentrations
    (the sampler of :class:`ember.distributions.Dirichlet`): Gamma(concentration, 1) draws, divided by
    their sum, each kept in [the dtype's smallest normal number, the largest number below 1].

    .. math::
        \text{out}_{..., i} = \frac{g_{..., i}}{\sum_j g_{..., j}}, \quad g_{..., i} \sim \text{Gamma}(\text{input}_{..., i}, 1)

    A result drawn from an ``input`` that requires grad requires grad too, but has no derivative (as
    PyTorch's): :meth:`Dirichlet.rsample <ember.distributions.Dirichlet.rsample>` is the differentiable
    draw.

    Args:
        input (Tensor): the positive concentrations (float32 or float64).
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> x = ember._sample_dirichlet(ember.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]))
        >>> x.shape, bool(((x.sum(-1) - 1).abs() < 1e-6).all())
        (ember.Size([2, 3]), True)
    """
    require_tensors("_sample_dirichlet", ("input",), input)
    _floating_only("dirichlet", input)
    samples = _sampling.dirichlet(input, generator)
    if grad_state.enabled and input.requires_grad:
        return _SampleDirichlet.apply(samples, input)
    return samples
