"""A checkpoint in a directory of the file system, in PyTorch's layout (``FileSystemWriter`` and
``FileSystemReader`` of ``torch.distributed.checkpoint``).

Each rank writes its items to ``__<rank>_<n>.distcp`` (one file per rank by default): first the
values that are not tensors, then the tensors, each item in PyTorch's ``.pt`` zip format
(``torch.save`` of the value; a tensor with a storage of its own size), one after another; the
coordinator writes ``.metadata`` (through ``.metadata.tmp``, renamed when complete), whose
``storage_data`` gives each item's file, offset and length.
"""

from __future__ import annotations

import io
import os
import pathlib
import uuid
import warnings
from typing import Any

import ember
from ember.plugins import checkpoint_torch

from .metadata import Metadata, MetadataIndex, StorageMeta, _dumps, _loads, _StorageInfo
from .planner import LoadItemType, LoadPlan, SavePlan, WriteItem, WriteItemType, _set_element, narrow

__all__ = ["FileSystemWriter", "FileSystemReader"]

_METADATA_FILE = ".metadata"
_SUFFIX = ".distcp"
#: the version ``FileSystemWriter`` records (PyTorch's ``CURRENT_DCP_VERSION``)
CURRENT_DCP_VERSION = "1.0.0"


def _bytes_of(value: Any) -> bytes:
    """``value`` as ``torch.save`` writes it (a tensor on the CPU, with a storage of its own size)."""
    if isinstance(value, ember.Tensor):
        value = value.detach().cpu()
        if value.untyped_storage().size() != value.nbytes:
            value = value.clone()
    out = io.BytesIO()
    checkpoint_torch.save(value, out)
    return out.getvalue()


def _split(bins: int, items: list[WriteItem]) -> list[list[WriteItem]]:
    """The items in ``bins`` files: the bytes round-robin, then each tensor (largest first) to the
    file with the fewest bytes so far (PyTorch's split for ``thread_count`` files)."""
    if bins == 1:
        return [items]
    buckets: list[list[WriteItem]] = [[] for _ in range(bins)]
    sizes = [0] * bins
    byte_items = [item for item in items if item.type == WriteItemType.BYTE_IO]
    tensors = sorted(
        (item for item in items if item.type != WriteItemType.BYTE_IO),
        key=lambda item: item.tensor_storage_size() or 0,
        reverse=True,
    )
    for i, item in enumerate(byte_items):
        buckets[i % bins].append(item)
    for item in tensors:
        smallest = min(range(bins), key=lambda b: sizes[b])
        buckets[smallest].append(item)
        sizes[smallest] += item.tensor_storage_size() or 0
    return buckets


class FileSystemWriter:
    """Writes a checkpoint to the directory ``path`` (created if missing).

    Args:
        path (str or os.PathLike): the checkpoint's directory.
        single_file_per_rank (bool): one file per rank (else one file per item). Default: ``True``.
        sync_files (bool): ``fsync`` each file once written. Default: ``True``.
        thread_count (int): the number of files each rank splits its items into (written in turn).
            Default: ``1``.
        per_thread_copy_ahead (int): accepted for PyTorch's signature. Default: ``10_000_000``.
        overwrite (bool): write over an existing checkpoint (with a warning) rather than raising.
            Default: ``True``.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> writer = dcp.FileSystemWriter(tempfile.mkdtemp())
        >>> _ = dcp.save({"w": ember.ones(2)}, storage_writer=writer, no_dist=True)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        single_file_per_rank: bool = True,
        sync_files: bool = True,
        thread_count: int = 1,
        per_thread_copy_ahead: int = 10_000_000,
        overwrite: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        self.path = pathlib.Path(path)
        self.single_file_per_rank = single_file_per_rank
        self.sync_files = sync_files
        self.thread_count = thread_count
        self.per_thread_copy_ahead = per_thread_copy_ahead
        self.overwrite = overwrite
        self.save_id = str(uuid.uuid4())
        self.rank: int | None = None

    def reset(self, checkpoint_id: str | os.PathLike | None = None) -> None:
        """Start a new save (to ``checkpoint_id`` where given)."""
        if checkpoint_id:
            self.path = pathlib.Path(checkpoint_id)
        self.save_id = str(uuid.uuid4())

    @property
    def checkpoint_id(self) -> pathlib.Path:
        """The checkpoint's directory."""
        return self.path

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id: str | os.PathLike) -> bool:
        """Whether ``checkpoint_id`` names a directory of the file system."""
        return isinstance(checkpoint_id, (str, os.PathLike)) and "://" not in str(checkpoint_id)

    def storage_meta(self) -> StorageMeta:
        """The checkpoint's id and this save's uuid, recorded in the metadata."""
        return StorageMeta(checkpoint_id=self.checkpoint_id, save_id=self.save_id)

    def set_up_storage_writer(self, is_coordinator: bool, *args: Any, **kwargs: Any) -> None:
        """Record this rank (``rank=``) before a save."""
        self.rank = kwargs.get("rank")

    def prepare_local_plan(self, plan: SavePlan) -> SavePlan:
        """Create the directory; warn (or raise, with ``overwrite=False``) where a checkpoint is there."""
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / _METADATA_FILE).exists():
            if not self.overwrite:
                raise RuntimeError(f"Checkpoint already exists and self.overwrite={self.overwrite}.")
            warnings.warn(
                f"Detected an existing checkpoint in {self.path}, overwriting since self.overwrite={self.overwrite}.",
                stacklevel=3,
            )
        return plan

    def write_data(self, plan: SavePlan, state_dict: dict[str, Any]) -> list[tuple[MetadataIndex, _StorageInfo]]:
        """Write this rank's items (values of the flattened ``state_dict``); each one's index and place."""
        if self.single_file_per_rank:
            buckets = _split(max(int(self.thread_count), 1), list(plan.items))
        else:
            buckets = [[item] for item in plan.items]
        results = []
        for number, bucket in enumerate(buckets):
            name = f"{plan.storage_data}{number}{_SUFFIX}"
            ordered = [i for i in bucket if i.type == WriteItemType.BYTE_IO]
            ordered += [i for i in bucket if i.type != WriteItemType.BYTE_IO]
            with open(self.path / name, "wb") as stream:
                for item in ordered:
                    data = _bytes_of(state_dict[item.index.fqn])
                    results.append((item.index, _StorageInfo(name, stream.tell(), len(data))))
                    stream.write(data)
                if self.sync_files:
                    stream.flush()
                    os.fsync(stream.fileno())
        return results

    def finish(self, metadata: Metadata, results: list[list[tuple[MetadataIndex, _StorageInfo]]]) -> None:
        """Write ``.metadata`` (the coordinator, once every rank has written its items)."""
        metadata.version = CURRENT_DCP_VERSION
        metadata.storage_data = {index: info for rank_results in results for index, info in rank_results}
        metadata.storage_meta = self.storage_meta()
        temporary = self.path / f"{_METADATA_FILE}.tmp"
        with open(temporary, "wb") as stream:
            stream.write(_dumps(metadata))
            if self.sync_files:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, self.path / _METADATA_FILE)


class FileSystemReader:
    """Reads a checkpoint from the directory ``path`` (written by ember or by PyTorch).

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> _ = dcp.save({"w": ember.ones(2)}, checkpoint_id=path, no_dist=True)
        >>> state = {"w": ember.zeros(2)}
        >>> dcp.load(state, storage_reader=dcp.FileSystemReader(path), no_dist=True)
        >>> state["w"]
        tensor([1., 1.])
    """

    def __init__(self, path: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        self.path = pathlib.Path(path)
        self.storage_data: dict[MetadataIndex, _StorageInfo] = {}
        self.load_id = str(uuid.uuid4())

    def reset(self, checkpoint_id: str | os.PathLike | None = None) -> None:
        """Start a new load (from ``checkpoint_id`` where given)."""
        self.storage_data = {}
        if checkpoint_id:
            self.path = pathlib.Path(checkpoint_id)
        self.load_id = str(uuid.uuid4())

    @property
    def checkpoint_id(self) -> pathlib.Path:
        """The checkpoint's directory."""
        return self.path

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id: str | os.PathLike) -> bool:
        """Whether ``checkpoint_id`` names a directory of the file system."""
        return FileSystemWriter.validate_checkpoint_id(checkpoint_id)

    def read_metadata(self, *args: Any, **kwargs: Any) -> Metadata:
        """The checkpoint's :class:`~ember.distributed.checkpoint.metadata.Metadata` (``.metadata``, or a
        rank's ``__<rank>.metadata`` with ``rank=``)."""
        rank = kwargs.get("rank")
        name = _METADATA_FILE if rank is None else f"__{rank}{_METADATA_FILE}"
        metadata = _loads((self.path / name).read_bytes())
        if getattr(metadata, "storage_meta", None) is None:
            metadata.storage_meta = StorageMeta()
        assert metadata.storage_meta is not None
        metadata.storage_meta.load_id = self.load_id
        return metadata

    def set_up_storage_reader(self, metadata: Metadata, is_coordinator: bool, *args: Any, **kwargs: Any) -> None:
        """Take the items' places from ``metadata`` before a load."""
        if metadata.storage_data is None:
            raise RuntimeError("ember.distributed.checkpoint.load: the checkpoint's metadata has no storage_data")
        self.storage_data = metadata.storage_data

    def read_data(self, plan: LoadPlan, flat: dict[str, Any], mapping: dict, state_dict: dict) -> None:
        """Fill the tensors of the flattened ``flat`` in place, and put the other values at their paths
        (``mapping``) in ``state_dict``."""
        per_file: dict[str, list] = {}
        for item in plan.items:
            per_file.setdefault(self._info(item.storage_index).relative_path, []).append(item)
        for relative_path, items in per_file.items():
            with open(self.path / relative_path, "rb") as stream:
                for item in items:
                    info = self._info(item.storage_index)
                    stream.seek(info.offset)
                    data = stream.read(info.length)
                    if len(data) != info.length:
                        raise RuntimeError(
                            f"ember.distributed.checkpoint.load: {relative_path} ends before the {info.length} bytes "
                            f"of {item.storage_index.fqn!r} at offset {info.offset}"
                        )
                    value = checkpoint_torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
                    fqn = item.dest_index.fqn
                    if item.type == LoadItemType.BYTE_IO:
                        _set_element(state_dict, mapping[fqn], value)
                        continue
                    saved = narrow(value, item.storage_offsets, item.lengths)
                    target = narrow(flat[fqn].detach(), item.dest_offsets, item.lengths)
                    if tuple(saved.shape) != tuple(target.shape):
                        raise RuntimeError(
                            f"req {item.storage_index} mismatch sizes {ember.Size(target.shape)} vs "
                            f"{ember.Size(saved.shape)}"
                        )
                    with ember.no_grad():
                        target.copy_(saved.to(target.device))

    def _info(self, index: MetadataIndex) -> _StorageInfo:
        info = self.storage_data.get(index)
        if info is None:
            raise RuntimeError(f"ember.distributed.checkpoint.load: the checkpoint's metadata does not place {index}")
        name, offset, length = info.relative_path, info.offset, info.length
        if not (isinstance(name, str) and pathlib.PurePath(name).name == name and name not in ("", ".", "..")):
            raise RuntimeError(
                f"ember.distributed.checkpoint.load: the metadata places {index.fqn!r} in {name!r}, "
                "which is not a file of the checkpoint's directory"
            )
        if not (type(offset) is int and type(length) is int and offset >= 0 and length >= 0):
            raise RuntimeError(f"ember.distributed.checkpoint.load: bad place of {index.fqn!r}: {info}")
        if getattr(info, "transform_descriptors", None):
            raise RuntimeError(
                f"ember.distributed.checkpoint.load: {index.fqn!r} was written through the stream transforms "
                f"{list(info.transform_descriptors)}, which ember does not read"
            )
        return info
