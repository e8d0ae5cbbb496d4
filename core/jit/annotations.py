"""``jit.annotations``: the typing names TorchScript model code imports (``from
torch.jit.annotations import List, Optional, Tuple``), and ``BroadcastingList1``-``3`` (a list
type, or one value broadcast to it, as PyTorch's functional signatures use them)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple  # noqa: UP035 - the names model code imports from here

__all__ = ["Any", "Dict", "List", "Optional", "Tuple", "BroadcastingList1", "BroadcastingList2", "BroadcastingList3"]

BroadcastingList1 = list
BroadcastingList2 = list
BroadcastingList3 = list
