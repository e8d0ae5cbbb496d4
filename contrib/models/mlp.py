"""A multi-layer perceptron."""

from __future__ import annotations

from collections.abc import Sequence

import ember
from ember import nn

__all__ = ["MLP"]


class MLP(nn.Module):
    """Flatten, then ``Linear -> ReLU (-> Dropout)`` per hidden layer, then a linear classifier.

    Args:
        in_features: size of each flattened input sample.
        num_classes: number of outputs. Default: ``10``.
        hidden_sizes: widths of the hidden layers. Default: ``(128, 64)``.
        dropout: dropout probability after each hidden layer (``0`` for none). Default: ``0.0``.

    Shape:
        - Input: :math:`(N, *)` with :math:`\\prod(*) = \\text{in\\_features}`.
        - Output: :math:`(N, \\text{num\\_classes})`.

    Example::

        >>> model = MLP(64, num_classes=10)
        >>> model(ember.randn(5, 1, 8, 8)).shape
        ember.Size([5, 10])
    """

    def __init__(
        self, in_features: int, num_classes: int = 10, hidden_sizes: Sequence[int] = (128, 64), dropout: float = 0.0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.layers(x)
