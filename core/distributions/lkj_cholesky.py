"""The LKJ distribution of correlation-matrix Cholesky factors, as ``torch.distributions.LKJCholesky``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ..ops.special import lgamma, mvlgamma
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    r"""The LKJ distribution over the lower Cholesky factors :math:`L` of ``dim x dim`` correlation matrices:
    :math:`p(L) \propto |L L^T|^{\eta - 1} = \prod_{i=2}^{D} L_{ii}^{2(\eta - 1) + D - i}` for concentration
    :math:`\eta` (Lewandowski, Kurowicka and Joe, 2009). Samples are drawn by the onion method, rows of
    Beta-distributed squared norms in uniformly random directions.

    PyTorch 2.13's sampler draws row :math:`k \ge 2`'s squared norm from :math:`B(k/2 + 1/2, \cdot)` rather
    than the onion method's :math:`B(k/2, \cdot)`, so that its correlations beyond the second row are not
    LKJ-distributed (their variances come out too large); ember's follow the LKJ marginals
    :math:`(r + 1)/2 \sim B(\eta - 1 + D/2, \eta - 1 + D/2)`. The densities are the same.

    Args:
        dim (int): the dimension of the matrices, at least 2.
        concentration (float or Tensor): concentration (eta), positive. Default: ``1.0`` (uniform over
            correlation matrices).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import LKJCholesky
        >>> m = LKJCholesky(3, 0.5)
        >>> L = m.sample()
        >>> L.shape, bool(((L @ L.mT).diagonal() - 1).abs().max() < 1e-5)
        (ember.Size([3, 3]), True)
        >>> m.log_prob(ember.eye(3))
        tensor(-2.5310)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # the onion method: row k's squared norm below the diagonal is Beta(k / 2, concentration + (dim - 1 - k) / 2)
        # (row 0 has none; its Beta is a placeholder)
        rows = ember.arange(self.dim, dtype=self.concentration.dtype, device=self.concentration.device)
        rows = rows.clamp(min=1)
        marginal = self.concentration + 0.5 * (self.dim - 1)
        self._beta = Beta(rows / 2, marginal.unsqueeze(-1) - rows / 2)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        new = self._expanded(LKJCholesky, batch_shape, _instance, ("concentration",))
        new.dim = self.dim
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        return new

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            u = ember.randn(shape, dtype=y.dtype, device=y.device).tril(-1)
            first_row = ember.arange(self.dim, device=y.device).unsqueeze(-1) == 0
            norm = ember.where(first_row, ember.ones_like(u), u.norm(dim=-1, keepdim=True))
            w = y.sqrt() * (u / norm)
            diagonal = (1 - (w * w).sum(-1)).clamp(min=ember.finfo(w.dtype).tiny).sqrt()
            return w + diagonal.diag_embed()

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ember.arange(2, self.dim + 1, dtype=value.dtype, device=value.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diagonal.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalizer = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalized - normalizer
