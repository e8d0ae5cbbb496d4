"""``ember.distributed.checkpoint``: checkpoints that every rank of a job writes and reads together,
in the directory format of ``torch.distributed.checkpoint`` (DCP).

:func:`save` writes a state_dict (nested dicts and lists of tensors and other values; modules and
optimizers through their ``state_dict()``) to a directory: each rank writes its items to
``__<rank>_0.distcp``, each in PyTorch's ``.pt`` zip format, and rank 0 writes ``.metadata``, the
pickled :class:`~ember.distributed.checkpoint.metadata.Metadata`. :func:`load` fills a state_dict in
place from such a directory. PyTorch reads what ember writes and ember reads what PyTorch writes
(``torch.distributed.checkpoint.save``/``load``), tensors saved in chunks (DTensor, FSDP shards)
included. Without a process group (or with ``no_dist=True``) one process saves or loads alone.

:func:`async_save` returns once the state is copied to the CPU; :class:`DefaultSavePlanner` and
:class:`DefaultLoadPlanner` take PyTorch's planner options (``allow_partial_load``...);
:mod:`~ember.distributed.checkpoint.format_utils` converts to and from a single ``torch.save`` file.

:mod:`ember.distributed.checkpoint.state_dict` gives the model and optimizer state_dicts with
PyTorch's names (FQNs; the optimizer's state keyed by parameter name), for plain,
``DistributedDataParallel`` and (whole state dicts) ``FullyShardedDataParallel`` models.

Example::

    >>> import tempfile
    >>> import ember.distributed.checkpoint as dcp
    >>> model = ember.nn.Linear(2, 1)
    >>> path = tempfile.mkdtemp()
    >>> _ = dcp.save({"model": model.state_dict()}, checkpoint_id=path, no_dist=True)
    >>> state = {"model": ember.nn.Linear(2, 1).state_dict()}
    >>> dcp.load(state, checkpoint_id=path, no_dist=True)
    >>> bool((state["model"]["weight"] == model.weight).all())
    True
"""

from . import format_utils, state_dict
from .api import CheckpointException
from .filesystem import FileSystemReader, FileSystemWriter
from .metadata import (
    BytesStorageMetadata,
    ChunkStorageMetadata,
    Metadata,
    MetadataIndex,
    StorageMeta,
    TensorProperties,
    TensorStorageMetadata,
)
from .planner import DefaultLoadPlanner, DefaultSavePlanner, LoadPlan, ReadItem, SavePlan, WriteItem
from .state_dict_loader import load, load_state_dict
from .state_dict_saver import AsyncCheckpointerType, async_save, save, save_state_dict
from .stateful import Stateful

__all__ = [
    "save",
    "load",
    "async_save",
    "AsyncCheckpointerType",
    "save_state_dict",
    "load_state_dict",
    "Stateful",
    "SavePlan",
    "LoadPlan",
    "WriteItem",
    "ReadItem",
    "FileSystemWriter",
    "FileSystemReader",
    "DefaultSavePlanner",
    "DefaultLoadPlanner",
    "CheckpointException",
    "Metadata",
    "MetadataIndex",
    "TensorStorageMetadata",
    "BytesStorageMetadata",
    "ChunkStorageMetadata",
    "TensorProperties",
    "StorageMeta",
    "state_dict",
    "format_utils",
]
