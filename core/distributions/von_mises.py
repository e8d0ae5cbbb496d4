"""The von Mises distribution, as ``torch.distributions.VonMises``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["VonMises"]

# Abramowitz and Stegun 9.8.1-9.8.4: I0 and I1 below 3.75 (polynomials in (x/3.75)^2, I1's times x) and
# sqrt(x) e^-x I0, sqrt(x) e^-x I1 above (polynomials in 3.75/x); PyTorch's VonMises uses the same
# approximations (relative error below 2e-7), so its densities are matched to float64 precision.
_BESSEL_SMALL = (
    (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
    (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3),
)
_BESSEL_LARGE = (
    (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
     -0.1647633e-1, 0.392377e-2),
    (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1, -0.2895312e-1,
     0.1787654e-1, -0.420059e-2),
)  # fmt: skip
_BESSEL_SWITCH = 3.75


def _polynomial(y: ember.Tensor, coefficients: tuple[float, ...]) -> ember.Tensor:
    result = ember.full_like(y, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = c + y * result
    return result


def _log_bessel_i(x: ember.Tensor, order: int) -> ember.Tensor:
    """``log I_order(x)`` for ``x > 0`` and order 0 or 1."""
    small = _polynomial((x / _BESSEL_SWITCH).pow(2), _BESSEL_SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _polynomial(_BESSEL_SWITCH / x, _BESSEL_LARGE[order]).log()
    return ember.where(x < _BESSEL_SWITCH, small.log(), large)


def _rejection_sample(loc: ember.Tensor, concentration: ember.Tensor, proposal_r: ember.Tensor) -> ember.Tensor:
    """Best and Fisher's wrapped-Cauchy rejection sampler ("Efficient simulation of the von Mises
    distribution", 1979); every round checks on the host whether any element is still pending. As
    PyTorch's, a later round's acceptance replaces an earlier one (each is a draw of the distribution),
    so the samples are PyTorch's."""
    x = ember.zeros_like(loc)
    done = ember.zeros_like(loc, dtype=ember.bool)
    while not bool(done.all()):
        u1, u2, u3 = ember.rand((3, *loc.shape), dtype=loc.dtype, device=loc.device).unbind(0)
        z = (math.pi * u1).cos()
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        x = ember.where(accept, (u3 - 0.5).sign() * f.acos(), x)
        done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    r"""The circular von Mises distribution: :math:`p(x) = \frac{e^{\kappa \cos(x - \mu)}}{2\pi I_0(\kappa)}`.

    ``loc`` and the values may be any real numbers, read as angles modulo :math:`2\pi`; ``mean`` and
    ``variance`` are the circular ones. Draws are made in float64 where the device has it (as PyTorch's,
    which would otherwise hang for concentrations near ``1e-4``).

    Args:
        loc (float or Tensor): an angle in radians.
        concentration (float or Tensor): concentration parameter (kappa), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import VonMises
        >>> m = VonMises(ember.tensor([1.0]), ember.tensor([2.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-0.6619])
        >>> m.sample((4,)).shape
        ember.Size([4, 1])
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        return self._expanded(VonMises, batch_shape, _instance, ("loc", "concentration"))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (
            self.concentration * (value - self.loc).cos()
            - math.log(2 * math.pi)
            - _log_bessel_i(self.concentration, order=0)
        )

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        with ember.no_grad():
            shape = self._extended_shape(sample_shape)
            dtype = ember.float64 if self.loc._backend.supports_float64 else self.loc.dtype
            kappa = self.concentration.to(dtype).expand(shape)
            tau = 1 + (1 + 4 * kappa.pow(2)).sqrt()
            rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
            proposal_r = ember.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho.pow(2)) / (2 * rho))
            return _rejection_sample(self.loc.to(dtype).expand(shape), kappa, proposal_r).to(self.loc.dtype)

    @property
    def mean(self) -> ember.Tensor:
        return self.loc

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @property
    def variance(self) -> ember.Tensor:
        ratio = _log_bessel_i(self.concentration, order=1) - _log_bessel_i(self.concentration, order=0)
        return 1 - ratio.exp()
