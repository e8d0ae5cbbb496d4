"""The gamma distribution, as ``torch.distributions.Gamma``."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from ..autograd.function import Function
from ..ops.special import digamma, lgamma
from ..tensor import Tensor
from . import constraints
from ._gammainc import gammainc
from ._sampling import reparameterized_gamma
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma"]


class _GammaCdf(Function):
    """``P(a, x)``, differentiable in ``x`` (its derivative the standard gamma density, itself
    differentiable); as PyTorch's ``gammainc``, differentiating in ``a`` raises, and only then."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(a, x)
        return gammainc(a, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor]:
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        return None, grad * ((a - 1) * x.log() - x - lgamma(a)).exp()


class Gamma(ExponentialFamily):
    r"""The gamma distribution with shape ``concentration`` and inverse scale ``rate``:
    :math:`p(x) = \frac{\beta^\alpha}{\Gamma(\alpha)} x^{\alpha-1} e^{-\beta x}`.

    ``rsample`` carries gradients to both parameters (implicit reparameterization for
    ``concentration``, as PyTorch's).

    Args:
        concentration (float or Tensor): shape parameter, positive.
        rate (float or Tensor): rate (inverse scale), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Gamma
        >>> m = Gamma(ember.tensor([2.0]), ember.tensor([3.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-0.8028])
        >>> m.mean
        tensor([0.6667])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        batch_shape = ember.Size() if scalar else self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        return self._expanded(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self) -> ember.Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> ember.Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> ember.Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        value = reparameterized_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        # clamped in place through a detached alias, as PyTorch does: the draw keeps the quotient's
        # gradient (DivBackward0) where it underflowed to 0 and was lifted to ``tiny``
        value.detach().clamp_(min=ember.finfo(value.dtype).tiny)
        return value

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (
            ember.xlogy(self.concentration, self.rate)
            + ember.xlogy(self.concentration - 1, value)
            - self.rate * value
            - lgamma(self.concentration)
        )

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return _GammaCdf.apply(*ember.broadcast_tensors(self.concentration, self.rate * value))

    def entropy(self) -> ember.Tensor:
        return (
            self.concentration
            - self.rate.log()
            + lgamma(self.concentration)
            + (1.0 - self.concentration) * digamma(self.concentration)
        )

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        x, y = natural_params
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
