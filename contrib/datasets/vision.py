"""The common base of the image datasets: uint8 images in memory, float tensors out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ember.utils.data import Dataset

if TYPE_CHECKING:
    from ember import Tensor

__all__ = ["ImageDataset"]


class ImageDataset(Dataset):
    """Images held as a uint8 array ``(N, C, H, W)`` with integer labels.

    Item ``i`` is ``(image, label)``: ``image`` a float32 tensor ``(C, H, W)`` holding
    ``pixels / scale`` (in ``[0, 1]``), ``label`` an int; then ``transform`` and
    ``target_transform`` are applied when given.

    Args:
        images: array-like of shape ``(N, C, H, W)`` (or ``(N, H, W)``, given one channel).
        labels: array-like of ``N`` integer labels.
        classes: the class names.
        transform: a function applied to each image tensor. Default: ``None``.
        target_transform: a function applied to each label. Default: ``None``.
        scale: the pixel value that maps to 1.0. Default: ``255``.
    """

    def __init__(
        self,
        images: Any,
        labels: Any,
        classes: Sequence[str] = (),
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        scale: float = 255.0,
    ) -> None:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[:, None]
        labels = np.asarray(labels).astype(np.int64)
        if images.ndim != 4 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: expected images (N, C, H, W) and N labels, got images of shape "
                f"{images.shape} and {labels.shape[0]} labels"
            )
        self._images = images
        self._labels = labels
        self._scale = scale
        self.classes = list(classes)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self) -> Tensor:
        """All images as one tensor of their stored dtype, ``(N, C, H, W)``."""
        import ember

        return ember.tensor(self._images)

    @property
    def targets(self) -> Tensor:
        """All labels as an int64 tensor."""
        import ember

        return ember.tensor(self._labels)

    def __len__(self) -> int:
        return self._labels.shape[0]

    def _finish(self, image, label):
        label = int(label)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        import ember

        image = ember.tensor(self._images[index].astype(np.float32) / np.float32(self._scale))
        return self._finish(image, self._labels[index])

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Any, Any]]:
        """A batch of items, converted in one go (what :class:`~ember.utils.data.DataLoader` calls)."""
        import ember

        images = ember.tensor(
            self._images[np.asarray(indices, dtype=np.int64)].astype(np.float32) / np.float32(self._scale)
        )
        return [self._finish(image, self._labels[i]) for image, i in zip(images.unbind(0), indices)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(samples={len(self)}, image_shape={tuple(self._images.shape[1:])})"
