"""PyTorch's ``torch.utils.data._utils`` path, where programs reach the collate engine:
``from ember.utils.data._utils.collate import collate, default_collate_fn_map``.

``_utils.collate`` is :mod:`ember.utils.data._collate` itself (registered under this name too, so
that both spellings import one module and an update of ``default_collate_fn_map`` through either
steers :func:`~ember.utils.data.default_collate`).
"""

import sys

from . import _collate as collate

sys.modules[f"{__name__}.collate"] = collate

__all__ = ["collate"]
