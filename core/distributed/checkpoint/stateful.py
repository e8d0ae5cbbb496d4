"""The protocol of the values that ``save`` and ``load`` handle through their own state_dict
(``torch.distributed.checkpoint.stateful``): modules, optimizers, and any object with ``state_dict``
and ``load_state_dict`` methods."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Stateful"]


@runtime_checkable
class Stateful(Protocol):
    """An object that ``save`` saves as its ``state_dict()`` and ``load`` restores by filling that
    state_dict and handing it to ``load_state_dict`` (a structural check: any object with both
    methods is one).

    Example::

        >>> from ember.distributed.checkpoint.stateful import Stateful
        >>> isinstance(ember.nn.Linear(2, 1), Stateful), isinstance({"w": 1}, Stateful)
        (True, False)
    """

    def state_dict(self) -> dict[str, Any]:
        """The object's state, to checkpoint (also called by ``load``, which fills it in place)."""
        ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the object's state from ``state_dict``."""
        ...
