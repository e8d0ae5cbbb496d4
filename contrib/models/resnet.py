"""ResNets for 32x32 images (He et al., 2016): resnet20 (CIFAR's 6n+2 family) and a CIFAR-style resnet18."""

from __future__ import annotations

from collections.abc import Sequence

import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["BasicBlock", "ResNet", "resnet20", "resnet18"]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection (a 1x1 conv-BN projection when the shape changes).

    Args:
        in_planes: input channels.
        planes: output channels.
        stride: stride of the first convolution. Default: ``1``.
    """

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """A ResNet for small images: a 3x3 stem, stages of :class:`BasicBlock`, global average pooling, a classifier.

    Each stage after the first halves the resolution and (usually) doubles the width.

    Args:
        num_blocks: blocks per stage, e.g. ``(3, 3, 3)``.
        widths: channels per stage, e.g. ``(16, 32, 64)``.
        num_classes: number of outputs. Default: ``10``.
        in_channels: image channels. Default: ``3``.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)`.
        - Output: :math:`(N, \\text{num\\_classes})`.
    """

    def __init__(
        self, num_blocks: Sequence[int], widths: Sequence[int], num_classes: int = 10, in_channels: int = 3
    ) -> None:
        super().__init__()
        if len(num_blocks) != len(widths):
            raise ValueError(f"ResNet: {len(num_blocks)} stages of blocks but {len(widths)} widths")
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        stages, in_planes = [], widths[0]
        for i, (blocks, planes) in enumerate(zip(num_blocks, widths)):
            layer = []
            for j in range(blocks):
                layer.append(BasicBlock(in_planes, planes, stride=2 if i > 0 and j == 0 else 1))
                in_planes = planes
            stages.append(nn.Sequential(*layer))
        self.layers = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.avgpool(self.layers(out))
        return self.fc(out.flatten(1))


def resnet20(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-20 for CIFAR-10 (3 stages of 3 blocks, widths 16/32/64; 0.27M parameters)."""
    return ResNet((3, 3, 3), (16, 32, 64), num_classes, in_channels)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-18 in its CIFAR form (3x3 stem, no max pool; 4 stages of 2 blocks, widths 64..512; 11M parameters)."""
    return ResNet((2, 2, 2, 2), (64, 128, 256, 512), num_classes, in_channels)
