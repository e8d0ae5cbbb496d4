"""Distance layers: ``nn.PairwiseDistance``, ``nn.CosineSimilarity``."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    r"""The ``p``-norm of :math:`x_1 - x_2 + \epsilon` over the last dimension.

    Args:
        p (float): the norm degree. Default: 2
        eps (float): avoids division by zero. Default: 1e-6
        keepdim (bool): keep the reduced dimension. Default: ``False``

    Shape:
        - Input1: :math:`(N, D)` or :math:`(D)`; Input2: same; Output: :math:`(N)` or :math:`()`.

    Example::

        >>> pdist = nn.PairwiseDistance(p=2)
        >>> output = pdist(ember.randn(100, 128), ember.randn(100, 128))
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    r"""Cosine similarity along ``dim``: :math:`x_1 \cdot x_2 / (\max(\Vert x_1 \Vert, \epsilon) \max(\Vert x_2 \Vert, \epsilon))`.

    Args:
        dim (int): the dimension to reduce. Default: 1
        eps (float): lower bound of each norm. Default: 1e-8

    Example::

        >>> cos = nn.CosineSimilarity(dim=1, eps=1e-6)
        >>> output = cos(ember.randn(100, 128), ember.randn(100, 128))
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
