"""CIFAR-10 from its binary version (``cifar-10-batches-bin``), not the pickled Python version."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._download import download_url
from .vision import ImageDataset

if TYPE_CHECKING:
    from ember import Tensor

__all__ = ["CIFAR10", "write_cifar_binary"]

_RECORD = 1 + 3 * 32 * 32


def _read_batch(path):
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % _RECORD:
        raise ValueError(
            f"{path}: not a CIFAR-10 binary batch: {data.size} bytes is not a whole number of {_RECORD}-byte records"
        )
    records = data.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: not a CIFAR-10 binary batch: label {labels.max()} out of range 0..9")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def write_cifar_binary(path: str | os.PathLike[str], images: Any, labels: Any) -> None:
    """Write uint8 ``images`` ``(N, 3, 32, 32)`` and ``labels`` as a CIFAR-10 binary batch file."""
    images = np.asarray(images, dtype=np.uint8).reshape(-1, 3 * 32 * 32)
    labels = np.asarray(labels, dtype=np.uint8).reshape(-1, 1)
    np.concatenate([labels, images], axis=1).tofile(path)


class CIFAR10(ImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 3x32x32, in 10 classes.

    Reads ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) or ``test_batch.bin`` from
    ``root/cifar-10-batches-bin``. Each record is one label byte then 3072 pixel bytes
    (the red, green and blue planes).

    Args:
        root: the data folder.
        train: the training split (else the test split). Default: ``True``.
        transform: applied to each image tensor ``(3, 32, 32)`` in ``[0, 1]``. Default: ``None``.
        target_transform: applied to each label. Default: ``None``.
        download: fetch and unpack ``cifar-10-binary.tar.gz`` into ``root`` first
            (SHA-256 checked). Default: ``False``.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    sha256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    base_folder = "cifar-10-batches-bin"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.root = os.fspath(root)
        self.train = train
        if download:
            self.download()
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        folder = os.path.join(self.root, self.base_folder)
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if missing:
            raise RuntimeError(
                f"CIFAR10: {', '.join(missing)} not found in {folder}; pass download=True to fetch the binary version"
            )
        parts = [_read_batch(os.path.join(folder, n)) for n in names]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        super().__init__(images, labels, self.classes, transform, target_transform)

    def download(self) -> None:
        """Fetch the archive (SHA-256 checked) and unpack it into :attr:`root`."""
        if os.path.isfile(os.path.join(self.root, self.base_folder, "test_batch.bin")):
            return
        archive = download_url(self.url, self.root, self.filename, self.sha256)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root, filter="data")
