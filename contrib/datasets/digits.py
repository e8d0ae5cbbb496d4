"""The 8x8 handwritten digits that scikit-learn ships (no download needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .vision import ImageDataset

if TYPE_CHECKING:
    from ember import Tensor

__all__ = ["Digits", "load_digits"]


def _digits_arrays():
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:
        raise ImportError(
            "the digits dataset comes with scikit-learn: pip install scikit-learn (or pip install 'ember[examples]')"
        ) from exc
    bunch = sklearn_digits()
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64)


class Digits(ImageDataset):
    """scikit-learn's copy of the UCI handwritten digits: 1,797 images, 1x8x8, pixel values 0..16.

    The images are split once, by a fixed shuffle, into 1,438 training and 359 test images
    (``test_fraction`` of them), the same split on every machine.

    Args:
        train: the training split (else the test split). Default: ``True``.
        transform: applied to each image tensor ``(1, 8, 8)`` in ``[0, 1]``. Default: ``None``.
        target_transform: applied to each label. Default: ``None``.
        test_fraction: the share held out for the test split. Default: ``0.2``.
    """

    classes = [str(i) for i in range(10)]

    def __init__(
        self,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        test_fraction: float = 0.2,
    ) -> None:
        images, labels = _digits_arrays()
        order = np.random.default_rng(0).permutation(len(labels))
        n_test = int(round(len(labels) * test_fraction))
        keep = order[n_test:] if train else order[:n_test]
        self.train = train
        super().__init__(images[keep], labels[keep], self.classes, transform, target_transform, scale=16.0)


def load_digits(test_fraction: float = 0.2) -> tuple[Digits, Digits]:
    """The digits as ``(train, test)`` :class:`Digits` datasets.

    Example::

        >>> train, test = load_digits()
        >>> len(train), len(test), train[0][0].shape
        (1438, 359, ember.Size([1, 8, 8]))
    """
    return Digits(True, test_fraction=test_fraction), Digits(False, test_fraction=test_fraction)
