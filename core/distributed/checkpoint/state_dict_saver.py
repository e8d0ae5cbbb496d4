"""``ember.distributed.checkpoint.save``: every rank writes its part of a state_dict to a checkpoint
directory in PyTorch's format (see :mod:`ember.distributed.checkpoint`)."""

from __future__ import annotations

import enum
import os
import threading
import warnings
from concurrent.futures import Future
from typing import Any

import ember
import ember.distributed as dist

from .api import _Ranks
from .filesystem import FileSystemWriter
from .metadata import Metadata
from .planner import DefaultSavePlanner, _flattened, create_global_save_plan, create_local_save_plan
from .stateful import Stateful

__all__ = ["save", "async_save", "save_state_dict", "AsyncCheckpointerType"]


def _is_stateful(value: Any) -> bool:
    return isinstance(value, Stateful)


def _storage(storage, checkpoint_id, kind, name):
    if storage is not None:
        if checkpoint_id is not None:
            storage.reset(checkpoint_id)
        return storage
    if not checkpoint_id:
        raise RuntimeError("`checkpoint_id` must be specified if storage_reader/storage_writer is None.")
    if not kind.validate_checkpoint_id(checkpoint_id):
        raise RuntimeError(
            f"ember.distributed.checkpoint.{name}: cannot detect which StorageReader or StorageWriter to use for "
            f"{checkpoint_id!r}. Please specify the storage_reader/storage_writer."
        )
    storage = kind(checkpoint_id)
    storage.reset(checkpoint_id)
    return storage


def _planner(planner: Any, kind: type, name: str) -> Any:
    if planner is None:
        return kind()
    if type(planner) is not kind:
        raise NotImplementedError(
            f"ember.distributed.checkpoint.{name}: only {kind.__name__} is supported as the planner, "
            f"got {type(planner).__name__}"
        )
    return planner


def _single_process(no_dist: bool, verb: str) -> bool:
    no_dist = no_dist or not (dist.is_available() and dist.is_initialized())
    if no_dist:
        warnings.warn(
            "ember.distributed is disabled, unavailable or uninitialized, assuming the intent is to "
            f"{verb} in a single process.",
            stacklevel=3,
        )
    return no_dist


def save(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: str | os.PathLike | None = None,
    storage_writer: FileSystemWriter | None = None,
    planner: DefaultSavePlanner | None = None,
    process_group: Any = None,
    no_dist: bool = False,
    use_collectives: bool = True,
) -> Metadata:
    """Save ``state_dict`` to a checkpoint, each rank writing its part (SPMD: every rank calls it).

    Nested dicts and lists are flattened into dotted keys; each tensor is written once (a tensor that
    every rank holds, replicated, is written by one of them), every other value is pickled as bytes;
    rank 0 writes the ``.metadata``. The directory is PyTorch's format:
    ``torch.distributed.checkpoint.load`` reads it. A value with ``state_dict`` and
    ``load_state_dict`` methods (a module, an optimizer) is saved as its ``state_dict()``.

    Without a process group (or with ``no_dist=True``) the process saves alone, with a warning.

    Args:
        state_dict (dict): the state to save.
        checkpoint_id (str or os.PathLike, optional): the checkpoint's directory. Default: ``None``.
        storage_writer (FileSystemWriter, optional): the writer (else one for ``checkpoint_id``).
            Default: ``None``.
        planner (DefaultSavePlanner, optional): the default planner's options. Default: ``None`` (the defaults).
        process_group (ProcessGroup, optional): the ranks that save together. Default: the default group.
        no_dist (bool): save in this process alone. Default: ``False``.
        use_collectives (bool): only ``True`` (a global ``.metadata``) is supported. Default: ``True``.

    Returns:
        Metadata: the checkpoint's metadata.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> state = {"model": {"w": ember.arange(4.0)}, "step": 7}
        >>> md = dcp.save(state, checkpoint_id=path, no_dist=True)
        >>> sorted(md.state_dict_metadata)
        ['model.w', 'step']
    """
    planner = _planner(planner, DefaultSavePlanner, "save")
    if not use_collectives:
        raise NotImplementedError("ember.distributed.checkpoint.save: use_collectives=False is not supported")
    no_dist = _single_process(no_dist, "save")
    writer = _storage(storage_writer, checkpoint_id, FileSystemWriter, "save")
    state_dict = {key: value.state_dict() if _is_stateful(value) else value for key, value in state_dict.items()}
    return _save_state_dict(state_dict, writer, planner, process_group, no_dist)


def _save_state_dict(
    state_dict: dict[str, Any],
    writer: FileSystemWriter,
    planner: DefaultSavePlanner,
    process_group: Any = None,
    no_dist: bool = False,
    coordinator_rank: int = 0,
) -> Metadata:
    """``save`` after its arguments are resolved (no warning; Stateful values already their state_dicts)."""
    ranks = _Ranks(process_group, not no_dist, coordinator_rank)
    flat: dict[str, Any] = {}

    def local_plan():  # every failure from here on raises on every rank (CheckpointException)
        flattened, mapping = _flattened(state_dict, planner.flatten_state_dict)
        flat.update(flattened)
        writer.set_up_storage_writer(ranks.is_coordinator, rank=ranks.rank, use_collectives=True)
        return writer.prepare_local_plan(create_local_save_plan(flat, mapping))

    plans = ranks.all_gather("plan", local_plan)
    global_plans, metadata = ranks.alike(
        "global plan",
        lambda: create_global_save_plan(plans, planner.dedup_save_to_lowest_rank, planner.flatten_state_dict),
    )
    results = ranks.all_gather("write", lambda: writer.write_data(global_plans[ranks.rank], flat))
    ranks.on_coordinator("finish", lambda: writer.finish(metadata, results))
    return metadata


def save_state_dict(
    state_dict: dict[str, Any],
    storage_writer: FileSystemWriter,
    process_group: Any = None,
    coordinator_rank: int = 0,
    no_dist: bool = False,
    planner: DefaultSavePlanner | None = None,
) -> Metadata:
    """The former spelling of :func:`save` (deprecated, with PyTorch's FutureWarning): ``storage_writer``
    required, Stateful values not turned into their state_dicts, no single-process warning.

    Example::

        >>> import tempfile, warnings
        >>> import ember.distributed.checkpoint as dcp
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     md = dcp.save_state_dict({"w": ember.ones(2)}, dcp.FileSystemWriter(tempfile.mkdtemp()), no_dist=True)
        >>> list(md.state_dict_metadata)
        ['w']
    """
    warnings.warn(
        "`save_state_dict` is deprecated and will be removed in future versions.Please use `save` instead.",
        FutureWarning,
        stacklevel=2,
    )
    storage_writer.reset()
    planner = _planner(planner, DefaultSavePlanner, "save_state_dict")
    return _save_state_dict(state_dict, storage_writer, planner, process_group, no_dist, coordinator_rank)


class AsyncCheckpointerType(enum.Enum):
    """How :func:`async_save` writes: in a thread (or, in PyTorch, a process)."""

    THREAD = "thread"
    PROCESS = "process"


def _staged(value: Any) -> Any:
    """``value`` with every tensor copied to the CPU (nested dicts, lists and tuples), so that the
    caller may go on changing the originals while the copy is written."""
    if isinstance(value, ember.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: _staged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_staged(v) for v in value]
    if type(value) is tuple:
        return tuple(_staged(v) for v in value)
    return value


def async_save(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: str | os.PathLike | None = None,
    storage_writer: FileSystemWriter | None = None,
    planner: DefaultSavePlanner | None = None,
    process_group: Any = None,
    async_checkpointer_type: AsyncCheckpointerType = AsyncCheckpointerType.THREAD,
    async_stager: Any = None,
    no_dist: bool = False,
    use_collectives: bool = True,
) -> Future:
    """:func:`save`, returning a ``concurrent.futures.Future`` of its metadata once the state has been
    copied to the CPU (so training may change the tensors at once).

    In a single process the copy is written by a thread. With a process group it is written before
    ``async_save`` returns (the future is done): the ranks' coordination runs over the same
    communicator as training's collectives, which one thread at a time may use. The checkpoint is
    the same either way.

    Args:
        state_dict, checkpoint_id, storage_writer, planner, process_group, no_dist, use_collectives:
            as :func:`save`.
        async_checkpointer_type (AsyncCheckpointerType): accepted for PyTorch's signature (a thread).
        async_stager: only ``None`` (the copy to the CPU) is supported.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> future = dcp.async_save({"w": ember.ones(2)}, checkpoint_id=tempfile.mkdtemp(), no_dist=True)
        >>> list(future.result().state_dict_metadata)
        ['w']
    """
    if async_stager is not None:
        raise NotImplementedError("ember.distributed.checkpoint.async_save: only async_stager=None is supported")
    planner = _planner(planner, DefaultSavePlanner, "async_save")
    if not use_collectives:
        raise NotImplementedError("ember.distributed.checkpoint.async_save: use_collectives=False is not supported")
    no_dist = _single_process(no_dist, "save")
    writer = _storage(storage_writer, checkpoint_id, FileSystemWriter, "async_save")
    staged = _staged({key: value.state_dict() if _is_stateful(value) else value for key, value in state_dict.items()})
    future: Future = Future()

    def write() -> None:
        try:
            future.set_result(_save_state_dict(staged, writer, planner, process_group, no_dist))
        except BaseException as exc:  # noqa: BLE001 - handed to the future's owner
            future.set_exception(exc)

    if no_dist:
        threading.Thread(target=write, name="ember-async-save", daemon=False).start()
    else:
        write()
    return future
