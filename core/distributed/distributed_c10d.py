"""``torch.distributed.distributed_c10d``'s names: programs import the process-group API from it
(``from torch.distributed.distributed_c10d import _get_default_group, ProcessGroup``).

Every public name is :mod:`ember.distributed`'s own object; the private helpers that
PyTorch programs reach for (:func:`_get_default_group`, :func:`_get_default_store`,
:func:`_rank_not_in_group`, :func:`_get_process_group_name`) are here too.

Example::

    >>> from ember.distributed.distributed_c10d import ReduceOp, is_initialized
    >>> is_initialized(), ReduceOp.SUM
    (False, <ReduceOp.SUM>)
"""

from __future__ import annotations

from typing import Any

from . import *  # noqa: F403 - the whole public API, as torch's module has it
from . import __all__ as _public
from . import _get_default_store, _group
from .process_group import _NOT_INITIALIZED, _state

__all__ = list(_public)


def _get_default_group() -> Any:
    """The default process group.

    Raises:
        ValueError: :func:`init_process_group` has not been called.
    """
    if _state["world"] is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state["world"]


def _rank_not_in_group(group: Any) -> bool:
    """Whether this rank is not a member of ``group`` (``None``: the default group)."""
    if group is None:
        return False
    return _group("_rank_not_in_group", group) is None


def _get_process_group_name(pg: Any) -> str:
    """``pg``'s name (``pg.group_name``)."""
    return pg.group_name


__all__ += ["_get_default_group", "_get_default_store", "_rank_not_in_group"]
