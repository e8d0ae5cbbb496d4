"""Dropout layers: ``nn.Dropout``, ``nn.Dropout1d/2d/3d``, ``nn.AlphaDropout``, ``nn.FeatureAlphaDropout``."""

from __future__ import annotations

from collections.abc import Callable

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""In training, zeroes each element with probability ``p`` and scales the rest by :math:`1/(1-p)`;
    the identity in evaluation.

    Args:
        p (float): probability of an element to be zeroed. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``

    Example::

        >>> m = nn.Dropout(p=0.2)
        >>> output = m(ember.randn(20, 16))
    """

    _fn = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    r"""Zeroes whole channels of an :math:`(N, C, L)` or :math:`(C, L)` input in training.

    Args:
        p (float): probability of a channel to be zeroed. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    r"""Zeroes whole channels of an :math:`(N, C, H, W)` input in training.

    Args:
        p (float): probability of a channel to be zeroed. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``

    Example::

        >>> m = nn.Dropout2d(p=0.2)
        >>> output = m(ember.randn(20, 16, 32, 32))
    """

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    r"""Zeroes whole channels of an :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)` input in training.

    Args:
        p (float): probability of a channel to be zeroed. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    r"""Alpha dropout (for SELU networks): keeps the input's mean and standard deviation.

    Args:
        p (float): probability of an element to be dropped. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``

    Example::

        >>> m = nn.AlphaDropout(p=0.2)
        >>> output = m(ember.randn(20, 16))
    """

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    r"""Alpha dropout of whole channels.

    Args:
        p (float): probability of a channel to be dropped. Default: 0.5
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.feature_alpha_dropout)
