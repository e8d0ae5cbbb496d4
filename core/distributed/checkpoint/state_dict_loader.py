"""``ember.distributed.checkpoint.load``: fill a state_dict in place from a checkpoint directory (written
by ember or by ``torch.distributed.checkpoint.save``)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import ember

from .api import _Ranks
from .filesystem import FileSystemReader
from .metadata import Metadata, TensorStorageMetadata
from .planner import DefaultLoadPlanner, _flattened, _set_element, create_local_load_plan
from .state_dict_saver import _is_stateful, _planner, _single_process, _storage

__all__ = ["load", "load_state_dict"]


def load(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: str | os.PathLike | None = None,
    storage_reader: FileSystemReader | None = None,
    planner: DefaultLoadPlanner | None = None,
    process_group: Any = None,
    no_dist: bool = False,
) -> None:
    """Load a checkpoint into ``state_dict`` in place (SPMD: every rank calls it with the same keys).

    Each tensor of ``state_dict`` (nested dicts and lists too) is filled with the saved values (copied
    to its device and dtype; the saved size must match); every other value is replaced by the saved
    one. A value with ``state_dict`` and ``load_state_dict`` methods (a module, an optimizer) is
    filled through its ``state_dict()`` and then given it back with ``load_state_dict``. A key that the
    checkpoint lacks is an error (raised on every rank as a :class:`CheckpointException`).

    Values that are not tensors are unpickled by ember's restricted unpickler (PyTorch's
    ``weights_only`` rules; allow more classes with ``ember.serialization.add_safe_globals``).

    Args:
        state_dict (dict): the state to fill.
        checkpoint_id (str or os.PathLike, optional): the checkpoint's directory. Default: ``None``.
        storage_reader (FileSystemReader, optional): the reader (else one for ``checkpoint_id``).
            Default: ``None``.
        planner (DefaultLoadPlanner, optional): the default planner's options (``allow_partial_load``).
            Default: ``None`` (the defaults).
        process_group (ProcessGroup, optional): the ranks that load together. Default: the default group.
        no_dist (bool): load in this process alone. Default: ``False``.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> _ = dcp.save({"w": ember.arange(3.0), "step": 7}, checkpoint_id=path, no_dist=True)
        >>> state = {"w": ember.zeros(3), "step": 0}
        >>> dcp.load(state, checkpoint_id=path, no_dist=True)
        >>> state
        {'w': tensor([0., 1., 2.]), 'step': 7}
    """
    planner = _planner(planner, DefaultLoadPlanner, "load")
    no_dist = _single_process(no_dist, "load")
    reader = _storage(storage_reader, checkpoint_id, FileSystemReader, "load")
    keys = sorted(state_dict)
    stateful = {key: state_dict[key].state_dict() if _is_stateful(state_dict[key]) else state_dict[key] for key in keys}
    _load_state_dict(stateful, reader, planner, process_group, no_dist)
    for key in keys:
        if _is_stateful(state_dict[key]):
            state_dict[key].load_state_dict(stateful[key])
        else:
            state_dict[key] = stateful[key]


def _load_state_dict(
    stateful: dict[str, Any],
    reader: FileSystemReader,
    planner: DefaultLoadPlanner,
    process_group: Any = None,
    no_dist: bool = False,
    rebuild: bool = False,
    coordinator_rank: int = 0,
) -> None:
    """``load`` after its arguments are resolved (no warning; Stateful values already their state_dicts).
    ``rebuild``: ``stateful`` is empty and made from the metadata first (every saved item, tensors
    allocated on the CPU), as PyTorch's ``_EmptyStateDictLoadPlanner``."""
    ranks = _Ranks(process_group, not no_dist, coordinator_rank)

    def read():
        metadata = reader.read_metadata()
        reader.set_up_storage_reader(metadata, ranks.is_coordinator, rank=ranks.rank)
        if rebuild:
            _rebuild(stateful, metadata)
        flat, mapping = _flattened(stateful, planner.flatten_state_dict)
        plan = create_local_load_plan(flat, metadata, strict=not planner.allow_partial_load)
        reader.read_data(plan, flat, mapping, stateful)

    ranks.all_gather("read", read)


def _rebuild(state_dict: dict[str, Any], metadata: Metadata) -> None:
    """Fill the empty ``state_dict`` with an item per saved key (at its path in the nested state_dict):
    an empty CPU tensor of the saved size and dtype, or a placeholder for a value read from bytes."""
    if state_dict:
        raise ValueError("ember.distributed.checkpoint: the state_dict to rebuild from the metadata must be empty")
    paths = metadata.planner_data or {}
    for key, md in metadata.state_dict_metadata.items():
        value = ember.empty(tuple(md.size), dtype=md.properties.dtype) if isinstance(md, TensorStorageMetadata) else md
        if key in paths:
            _set_element(state_dict, paths[key], value)
        else:
            state_dict[key] = value


def load_state_dict(
    state_dict: dict[str, Any],
    storage_reader: FileSystemReader,
    process_group: Any = None,
    coordinator_rank: int = 0,
    no_dist: bool = False,
    planner: DefaultLoadPlanner | None = None,
) -> None:
    """The former spelling of :func:`load` (deprecated, with PyTorch's FutureWarning): ``storage_reader``
    required, Stateful values not called, no single-process warning.

    Example::

        >>> import tempfile, warnings
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> _ = dcp.save({"w": ember.ones(2)}, checkpoint_id=path, no_dist=True)
        >>> state = {"w": ember.zeros(2)}
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     dcp.load_state_dict(state, dcp.FileSystemReader(path), no_dist=True)
        >>> state["w"]
        tensor([1., 1.])
    """
    warnings.warn(
        "`load_state_dict` is deprecated and will be removed in future versions. Please use `load` instead.",
        FutureWarning,
        stacklevel=2,
    )
    storage_reader.reset()
    planner = _planner(planner, DefaultLoadPlanner, "load_state_dict")
    _load_state_dict(state_dict, storage_reader, planner, process_group, no_dist, coordinator_rank=coordinator_rank)
