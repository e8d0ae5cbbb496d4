"""Datasets for the examples: scikit-learn's 8x8 digits, MNIST, Fashion-MNIST, CIFAR-10, and
character windows of a text file (:class:`CharText`, for a language model).

The image datasets are map-style :class:`ember.utils.data.Dataset` of ``(image, label)`` pairs, where
``image`` is a float32 tensor of shape ``(C, H, W)`` scaled to ``[0, 1]`` and ``label`` an
int. MNIST-style data is read from IDX files (optionally gzipped) and CIFAR-10 from its
binary version (``cifar-10-batches-bin``), never from pickles; ``download=True`` fetches
the files and checks their SHA-256 first.
"""

from ._download import check_integrity, download_url
from .cifar import CIFAR10, write_cifar_binary
from .digits import Digits, load_digits
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .text import CharText
from .vision import ImageDataset

__all__ = [
    "CIFAR10",
    "CharText",
    "Digits",
    "FashionMNIST",
    "ImageDataset",
    "MNIST",
    "check_integrity",
    "download_url",
    "load_digits",
    "read_idx",
    "write_cifar_binary",
    "write_idx",
]
