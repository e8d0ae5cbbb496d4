"""LeNet-5 (LeCun et al., 1998) for 1- or 3-channel images of any size from 8x8 up."""

from __future__ import annotations

import ember
from ember import nn

__all__ = ["LeNet5"]


class LeNet5(nn.Module):
    """LeNet-5: two 5x5 convolutions with pooling, then three linear layers (120, 84, classes).

    Both convolutions are zero-padded by 2 ("same" size) and the second pooling is an
    adaptive max pooling to the 5x5 grid the classifier expects, so one network serves
    8x8 digits, 28x28 MNIST and 32x32 CIFAR images.

    Args:
        num_classes: number of outputs. Default: ``10``.
        in_channels: image channels. Default: ``1``.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` with :math:`H, W \\geq 2`.
        - Output: :math:`(N, \\text{num\\_classes})`.

    Example::

        >>> LeNet5()(ember.randn(2, 1, 8, 8)).shape
        ember.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d((5, 5)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"LeNet5: expected input (N, {self.in_channels}, H, W), got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))
