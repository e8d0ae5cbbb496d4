"""``StackDataset``: several equally long datasets indexed together."""

from __future__ import annotations

from typing import Any, TypeVar

from .dataset import Dataset

__all__ = ["StackDataset"]


_T_stack = TypeVar("_T_stack", tuple[Any, ...], dict[str, Any])


class StackDataset(Dataset[_T_stack]):
    r"""Datasets of one length side by side: item ``i`` gathers item ``i`` of each, as a tuple
    (datasets given positionally) or a dict (given as keywords).

    Args:
        *args (Dataset): the datasets, for tuple items.
        **kwargs (Dataset): the datasets by name, for dict items.

    Example::

        >>> images = ember.utils.data.TensorDataset(ember.arange(6.0).reshape(3, 2))
        >>> stack = ember.utils.data.StackDataset(image=images, label=[10, 11, 12])
        >>> stack[1]
        {'image': (tensor([2., 3.]),), 'label': 11}
    """

    datasets: tuple[Any, ...] | dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, but both "
                "types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        members = list(args or kwargs.values())
        self._length = len(members[0])
        if any(self._length != len(d) for d in members):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args or kwargs

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The items at ``indices``, through each member's own ``__getitems__`` where it has one."""
        named = self.datasets.items() if isinstance(self.datasets, dict) else enumerate(self.datasets)
        columns = {key: self._column(d, indices) for key, d in named}
        if isinstance(self.datasets, dict):
            return [{k: columns[k][i] for k in columns} for i in range(len(indices))]
        return [tuple(columns[k][i] for k in columns) for i in range(len(indices))]

    @staticmethod
    def _column(dataset: Any, indices: list[int]) -> list[Any]:
        getitems = getattr(dataset, "__getitems__", None)
        if not callable(getitems):
            return [dataset[i] for i in indices]
        items = getitems(indices)
        if len(items) != len(indices):
            raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
        return items

    def __len__(self) -> int:
        return self._length
