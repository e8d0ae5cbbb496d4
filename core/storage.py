"""``ember.storage``: the storage classes under the module PyTorch keeps them in (``torch.storage``):
:class:`TypedStorage` and :class:`UntypedStorage`, the very classes ``ember.TypedStorage`` and
``ember.UntypedStorage`` are.

Example::

    >>> import ember.storage
    >>> ember.storage.UntypedStorage is ember.UntypedStorage
    True
"""

from __future__ import annotations

from .ops.typed_storage import TypedStorage
from .ops.untyped_storage import UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]
