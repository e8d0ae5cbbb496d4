"""Type aliases of the optimizers' signatures (as ``torch.optim.optimizer.ParamsT``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

from ..tensor import Tensor

__all__ = ["ParamsT", "LearningRate"]

#: What an optimizer takes as ``params``: tensors, parameter-group dicts, or (name, tensor) pairs.
ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
#: A learning rate: a number, or a 0-d tensor.
LearningRate: TypeAlias = float | Tensor
