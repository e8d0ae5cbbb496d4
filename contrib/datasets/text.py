"""A character-level language-modelling dataset from a text file (no download needed)."""

from __future__ import annotations

import numpy as np

import ember
from ember.utils.data import Dataset

__all__ = ["CharText"]


class CharText(Dataset):
    r"""Consecutive windows of a text's characters and the windows one character on, for a
    language model: item ``i`` is ``(x, y)`` with ``x = ids[i L : (i+1) L]`` and ``y`` the same
    window shifted by one character.

    The vocabulary (``classes``) is the sorted set of the whole text's characters, so the
    training and test splits share it; the last ``test_fraction`` of the text is the test split.

    Args:
        text (str): the corpus.
        seq_len (int): characters per window. Default: ``64``.
        train (bool): the training split (else the test split). Default: ``True``.
        test_fraction (float): the share of the text held out for the test split. Default: ``0.1``.

    Shape:
        - x, y: :math:`(L)` int64 character indices, :math:`L` = ``seq_len``.

    Example::

        >>> data = CharText("abcabcabcabcabc", seq_len=4, test_fraction=0.2)
        >>> data.classes, len(data)
        (['a', 'b', 'c'], 2)
        >>> x, y = data[0]
        >>> x.tolist(), y.tolist()
        ([0, 1, 2, 0], [1, 2, 0, 1])
    """

    def __init__(self, text: str, seq_len: int = 64, train: bool = True, test_fraction: float = 0.1) -> None:
        if seq_len < 1:
            raise ValueError(f"CharText: seq_len must be positive, got {seq_len}")
        self.classes = sorted(set(text))
        index = {c: i for i, c in enumerate(self.classes)}
        ids = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
        cut = len(ids) - int(len(ids) * test_fraction)
        self._ids = ids[:cut] if train else ids[cut:]
        self.seq_len = seq_len
        if len(self) == 0:
            split = "training" if train else "test"
            raise ValueError(
                f"CharText: the {split} split ({len(self._ids)} characters) is shorter than one window of "
                f"seq_len + 1 = {seq_len + 1} characters"
            )

    def __len__(self) -> int:
        return max(len(self._ids) - 1, 0) // self.seq_len

    def __getitem__(self, i: int) -> tuple[ember.Tensor, ember.Tensor]:
        if not 0 <= i < len(self):
            raise IndexError(f"CharText index {i} out of range for {len(self)} windows")
        start = i * self.seq_len
        window = self._ids[start : start + self.seq_len + 1]
        return ember.tensor(window[:-1]), ember.tensor(window[1:])
