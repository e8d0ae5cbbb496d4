"""MNIST and Fashion-MNIST from their IDX files."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._download import download_url
from .idx import read_idx
from .vision import ImageDataset

if TYPE_CHECKING:
    from ember import Tensor

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(ImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28.

    Reads ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte`` (each optionally with ``.gz``) from ``root/MNIST/raw``
    (torchvision's layout), ``root/MNIST`` or ``root`` itself.

    Args:
        root: the data folder.
        train: the training split (else the test split). Default: ``True``.
        transform: applied to each image tensor ``(1, 28, 28)`` in ``[0, 1]``. Default: ``None``.
        target_transform: applied to each label. Default: ``None``.
        download: fetch the files into ``root/MNIST/raw`` first (SHA-256 checked).
            Default: ``False``.

    Example::

        >>> train = MNIST("data", train=True, download=True)
        >>> image, label = train[0]
        >>> image.shape
        ember.Size([1, 28, 28])
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]
    resources = {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }
    classes = [f"{i} - {name}" for i, name in enumerate("zero one two three four five six seven eight nine".split())]

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
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"))
        super().__init__(images, labels, type(self).classes, transform, target_transform)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _find(self, name):
        folders = [self.raw_folder, os.path.join(self.root, type(self).__name__), self.root]
        for folder in folders:
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        raise RuntimeError(
            f"{type(self).__name__}: {name}[.gz] not found in {', '.join(folders)}; "
            "pass download=True to fetch it (or `ember train --dataset ... --data-dir DIR` after downloading)"
        )

    def download(self) -> None:
        """Fetch the missing files into :attr:`raw_folder`, checking their SHA-256."""
        for filename, sha256 in self.resources.items():
            download_url([m + filename for m in self.mirrors], self.raw_folder, filename, sha256)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 10 kinds of clothing, in MNIST's format and sizes.

    Same arguments and folder layout as :class:`MNIST` (folder name ``FashionMNIST``).
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
