"""How a state_dict becomes checkpoint items and back (PyTorch's ``DefaultSavePlanner`` and
``DefaultLoadPlanner``, for plain tensors and other values).

Saving flattens the state_dict (nested dicts and the lists that hold tensors or containers become
dotted keys, ``{"a": {"b": [t]}}`` -> ``"a.b.0"``; the path of each is kept in the metadata's
``planner_data``), makes one *write item* per tensor (the whole tensor as one chunk at offset 0) and
per other value (pickled as bytes), removes the items that several ranks would write (a replicated
tensor is written by one rank: each goes to the rank with the least planned bytes so far) and builds
the :class:`~ember.distributed.checkpoint.metadata.Metadata`. Loading flattens the state_dict the same
way and makes one *read item* per overlap between a destination tensor and a saved chunk, so
checkpoints whose tensors were saved in chunks (PyTorch's DTensor and FSDP shards) load into whole
tensors.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any

import ember

from .metadata import (
    BytesStorageMetadata,
    ChunkStorageMetadata,
    Metadata,
    MetadataIndex,
    TensorProperties,
    TensorStorageMetadata,
)

__all__ = [
    "DefaultSavePlanner",
    "DefaultLoadPlanner",
    "WriteItemType",
    "LoadItemType",
    "WriteItem",
    "ReadItem",
    "SavePlan",
    "LoadPlan",
]


class WriteItemType(enum.Enum):
    """What a write item is: a whole tensor, a chunk of one (a shard), or a value pickled as bytes."""

    TENSOR = enum.auto()
    SHARD = enum.auto()
    BYTE_IO = enum.auto()


class LoadItemType(enum.Enum):
    """What a read item is: a tensor chunk, or a value read from bytes."""

    TENSOR = 0
    BYTE_IO = 1


@dataclasses.dataclass(frozen=True)
class _TensorWriteData:
    chunk: ChunkStorageMetadata
    properties: TensorProperties
    size: ember.Size


@dataclasses.dataclass(frozen=True)
class WriteItem:
    """One item a rank writes: its index (FQN and chunk offsets), its type and, for a tensor, its shape.

    Example::

        >>> from ember.distributed.checkpoint.planner import WriteItem, WriteItemType
        >>> from ember.distributed.checkpoint.metadata import MetadataIndex
        >>> WriteItem(MetadataIndex("step"), WriteItemType.BYTE_IO).tensor_storage_size() is None
        True
    """

    index: MetadataIndex
    type: WriteItemType
    tensor_data: _TensorWriteData | None = None

    def tensor_storage_size(self) -> int | None:
        """The bytes of the tensor chunk this item writes, or ``None`` for bytes."""
        if self.tensor_data is None:
            return None
        count = 1
        for n in self.tensor_data.chunk.sizes:
            count *= n
        return count * self.tensor_data.properties.dtype.itemsize


@dataclasses.dataclass(frozen=True)
class ReadItem:
    """One read: the box ``lengths`` at ``storage_offsets`` of the saved chunk ``storage_index`` goes to
    ``dest_offsets`` of the destination ``dest_index``.

    Example::

        >>> from ember.distributed.checkpoint.planner import LoadItemType, ReadItem
        >>> from ember.distributed.checkpoint.metadata import MetadataIndex
        >>> i = MetadataIndex("w", [0])
        >>> ReadItem(LoadItemType.TENSOR, i, ember.Size([0]), i, ember.Size([0]), ember.Size([4])).lengths
        ember.Size([4])
    """

    type: LoadItemType
    dest_index: MetadataIndex
    dest_offsets: ember.Size
    storage_index: MetadataIndex
    storage_offsets: ember.Size
    lengths: ember.Size


@dataclasses.dataclass(frozen=True)
class SavePlan:
    """The write items of one rank (and the flattening map it contributes to the metadata).

    Example::

        >>> from ember.distributed.checkpoint.planner import SavePlan
        >>> SavePlan([]).items
        []
    """

    items: list[WriteItem]
    storage_data: Any = None
    planner_data: Any = None


@dataclasses.dataclass
class LoadPlan:
    """The read items of one rank.

    Example::

        >>> from ember.distributed.checkpoint.planner import LoadPlan
        >>> LoadPlan([]).items
        []
    """

    items: list[ReadItem]
    storage_data: Any = None
    planner_data: Any = None


def _is_tensor(value):
    return isinstance(value, ember.Tensor)


def _traverse(state_dict: Mapping, visit: Callable[[tuple, Any], None]) -> None:
    """Call ``visit(path, value)`` for each leaf of ``state_dict``: mappings are entered (their keys as
    strings), lists only where they hold a tensor or a container that is entered; other values
    (tuples, lists of plain values) are leaves, as PyTorch's ``traverse_state_dict``."""

    def terminal(value):
        if isinstance(value, Mapping):
            return False
        if not isinstance(value, list):
            return True
        for entry in value:
            if isinstance(entry, (Mapping, list)) and not terminal(entry):
                return False
            if _is_tensor(entry):
                return False
        return True

    def walk(path, value):
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk((*path, str(k)), v)
        elif terminal(value):
            visit(path, value)
        else:
            for i, v in enumerate(value):
                walk((*path, i), v)

    for key, value in state_dict.items():
        walk((str(key),), value)


def flatten_state_dict(state_dict: Mapping) -> tuple[dict[str, Any], dict[str, tuple]]:
    """``(flat, mapping)``: ``state_dict`` with its nested dicts and lists flattened into dotted keys, and
    each key's path of keys and list indices in ``state_dict``.

    Example::

        >>> from ember.distributed.checkpoint.planner import flatten_state_dict
        >>> flatten_state_dict({"a": {"b": [ember.ones(1), 2]}, "c": (1, 2)})[1]
        {'a.b.0': ('a', 'b', 0), 'a.b.1': ('a', 'b', 1), 'c': ('c',)}
    """
    flat: dict[str, Any] = {}
    mapping: dict[str, tuple] = {}

    def put(path, value):
        key = ".".join(map(str, path))
        if key in flat:
            raise ValueError(f"duplicated flatten key {key}")
        flat[key] = value
        mapping[key] = path

    _traverse(state_dict, put)
    return flat, mapping


def _set_element(root: Any, path: tuple, value: Any) -> None:
    """Put ``value`` at ``path`` in ``root``, creating the dicts and lists on the way (lists padded with ``None``)."""
    node = root
    for key, following in zip(path[:-1], path[1:]):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            node.extend([None] * (key + 1 - len(node)))
            if node[key] is None:
                node[key] = empty
        elif key not in node:
            node[key] = empty
        node = node[key]
    last = path[-1]
    if isinstance(node, list):
        node.extend([None] * (last + 1 - len(node)))
    node[last] = value


def _write_items(fqn: str, value: Any) -> list[WriteItem]:
    if _is_tensor(value):
        offsets = ember.Size([0] * value.dim())
        data = _TensorWriteData(
            ChunkStorageMetadata(offsets, ember.Size(value.shape)),
            TensorProperties.create_from_tensor(value),
            ember.Size(value.shape),
        )
        return [WriteItem(MetadataIndex(fqn, offsets), WriteItemType.TENSOR, data)]
    return [WriteItem(MetadataIndex(fqn), WriteItemType.BYTE_IO)]


def create_local_save_plan(flat: Mapping[str, Any], mapping: dict) -> SavePlan:
    """The write items of this rank's flattened state_dict."""
    return SavePlan([item for fqn, value in flat.items() for item in _write_items(fqn, value)], planner_data=mapping)


def _dedup(plans: list[SavePlan], to_lowest_rank: bool = False) -> list[SavePlan]:
    """Each item that several plans hold kept in one: the plan with the fewest bytes planned so far
    (the lowest rank among equals; the lowest rank always with ``to_lowest_rank``), as PyTorch's
    ``dedup_save_plans``."""
    holders: dict[MetadataIndex, list[int]] = {}
    items: dict[MetadataIndex, WriteItem] = {}
    for rank, plan in enumerate(plans):
        for item in plan.items:
            holders.setdefault(item.index, []).append(rank)
            items[item.index] = item
    sizes = [0] * len(plans)
    keep: list[set] = [set() for _ in plans]
    for index, ranks in holders.items():
        chosen = min(ranks) if to_lowest_rank else min(sorted(set(ranks)), key=lambda r: sizes[r])
        sizes[chosen] += items[index].tensor_storage_size() or 1
        keep[chosen].add(index)
    return [
        dataclasses.replace(plan, items=[item for item in plan.items if item.index in kept])
        for plan, kept in zip(plans, keep)
    ]


def create_global_save_plan(
    plans: list[SavePlan], to_lowest_rank: bool = False, flattened: bool = True
) -> tuple[list[SavePlan], Metadata]:
    """The plans deduplicated, each rank's file prefix set, and the checkpoint's metadata."""
    plans = _dedup(plans, to_lowest_rank)
    described: dict[str, Any] = {}
    finished = []
    for rank, plan in enumerate(plans):
        items = []
        for item in plan.items:
            if item.type != WriteItemType.SHARD and item.index.fqn in described:
                raise ValueError(f"ember.distributed.checkpoint.save: the key {item.index.fqn!r} is saved twice")
            if item.type == WriteItemType.BYTE_IO:
                described[item.index.fqn] = BytesStorageMetadata()
                items.append(item)
                continue
            data = item.tensor_data
            assert data is not None  # a tensor item has its shape
            md = described.setdefault(item.index.fqn, TensorStorageMetadata(data.properties, data.size, []))
            items.append(dataclasses.replace(item, index=dataclasses.replace(item.index, index=len(md.chunks))))
            md.chunks.append(data.chunk)
        finished.append(dataclasses.replace(plan, items=items, storage_data=f"__{rank}_"))
    mapping: dict[str, tuple] = {}
    for plan in reversed(plans):  # the first rank's path wins, as a ChainMap of the plans
        mapping.update(plan.planner_data or {})
    return finished, Metadata(described, planner_data=mapping if flattened else None)


def _chunk_overlap(saved: ChunkStorageMetadata, wanted: ChunkStorageMetadata) -> tuple | None:
    """``(storage offsets, destination offsets, lengths)`` of the overlap of two boxes, or ``None``."""
    storage, dest, lengths = [], [], []
    for s_off, s_len, d_off, d_len in zip(saved.offsets, saved.sizes, wanted.offsets, wanted.sizes):
        start, stop = max(s_off, d_off), min(s_off + s_len, d_off + d_len)
        if stop <= start and (s_len or d_len):
            return None
        storage.append(start - s_off)
        dest.append(start - d_off)
        lengths.append(max(stop - start, 0))
    return ember.Size(storage), ember.Size(dest), ember.Size(lengths)


def create_local_load_plan(flat: Mapping[str, Any], metadata: Metadata, strict: bool = True) -> LoadPlan:
    """The read items that fill this rank's flattened state_dict from the checkpoint ``metadata``."""
    requests = []
    for fqn, value in flat.items():
        md = metadata.state_dict_metadata.get(fqn)
        if md is None:
            if strict:
                raise RuntimeError(f"Missing key in checkpoint state_dict: {fqn}.")
            continue
        if isinstance(md, BytesStorageMetadata):
            index = MetadataIndex(fqn)
            requests.append(
                ReadItem(LoadItemType.BYTE_IO, index, ember.Size([0]), index, ember.Size([0]), ember.Size([0]))
            )
            continue
        if not _is_tensor(value):
            raise ValueError(
                f"Invalid checkpoint metadata for {fqn}, expected BytesStorageMetadata but found {type(md)}"
            )
        if tuple(md.size) != tuple(value.shape):
            raise ValueError(f"Size mismatch between saved {md.size} and current: {ember.Size(value.shape)} for {fqn}")
        whole = ChunkStorageMetadata(ember.Size([0] * value.dim()), ember.Size(value.shape))
        for position, chunk in enumerate(md.chunks):
            overlap = _chunk_overlap(chunk, whole)
            if overlap is None:
                continue
            storage_offsets, dest_offsets, lengths = overlap
            requests.append(
                ReadItem(
                    LoadItemType.TENSOR,
                    MetadataIndex(fqn, whole.offsets, 0),
                    dest_offsets,
                    MetadataIndex(fqn, chunk.offsets, position),
                    storage_offsets,
                    lengths,
                )
            )
    return LoadPlan(requests)


def narrow(tensor: ember.Tensor, offsets: Any, lengths: Any) -> ember.Tensor:
    """The view of ``tensor`` at the box ``offsets``/``lengths``."""
    for dim, (start, length) in enumerate(zip(offsets, lengths)):
        if start != 0 or length != tensor.shape[dim]:
            tensor = tensor.narrow(dim, start, length)
    return tensor


class DefaultSavePlanner:
    """The options of PyTorch's default save planner, for ``save(..., planner=...)``.

    Args:
        flatten_state_dict (bool): flatten nested dicts and lists into dotted keys (else each
            top-level value that is not a tensor is saved whole, as bytes). Default: ``True``.
        flatten_sharded_tensors (bool): accepted for PyTorch's signature. Default: ``True``.
        dedup_replicated_tensors: deprecated in PyTorch, without effect. Default: ``None``.
        dedup_save_to_lowest_rank (bool): a replicated item is written by the lowest rank holding it
            (else by the rank with the fewest bytes planned). Default: ``False``.
        enable_plan_caching (bool): accepted for PyTorch's signature. Default: ``False``.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> planner = dcp.DefaultSavePlanner(flatten_state_dict=False)
        >>> md = dcp.save({"opt": {"lr": 0.1}}, checkpoint_id=tempfile.mkdtemp(), planner=planner, no_dist=True)
        >>> md.state_dict_metadata
        {'opt': BytesStorageMetadata()}
    """

    def __init__(
        self,
        flatten_state_dict: bool = True,
        flatten_sharded_tensors: bool = True,
        dedup_replicated_tensors: bool | None = None,
        dedup_save_to_lowest_rank: bool = False,
        enable_plan_caching: bool = False,
    ) -> None:
        self.flatten_state_dict = flatten_state_dict
        self.flatten_sharded_tensors = flatten_sharded_tensors
        self.dedup_save_to_lowest_rank = dedup_save_to_lowest_rank
        self.enable_plan_caching = enable_plan_caching


class DefaultLoadPlanner:
    """The options of PyTorch's default load planner, for ``load(..., planner=...)``.

    Args:
        flatten_state_dict (bool): flatten nested dicts and lists into dotted keys, as the saver did.
            Default: ``True``.
        flatten_sharded_tensors (bool): accepted for PyTorch's signature. Default: ``True``.
        allow_partial_load (bool): keys of the state_dict that the checkpoint lacks are left as they
            are (else an error). Default: ``False``.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> _ = dcp.save({"w": ember.ones(2)}, checkpoint_id=path, no_dist=True)
        >>> state = {"w": ember.zeros(2), "new": ember.zeros(1)}
        >>> dcp.load(state, checkpoint_id=path, planner=dcp.DefaultLoadPlanner(allow_partial_load=True), no_dist=True)
        >>> state["w"], state["new"]
        (tensor([1., 1.]), tensor([0.]))
    """

    def __init__(
        self, flatten_state_dict: bool = True, flatten_sharded_tensors: bool = True, allow_partial_load: bool = False
    ) -> None:
        self.flatten_state_dict = flatten_state_dict
        self.flatten_sharded_tensors = flatten_sharded_tensors
        self.allow_partial_load = allow_partial_load


def _flattened(state_dict: Mapping, flatten: bool) -> tuple[dict[str, Any], dict[str, tuple]]:
    """The state_dict's items and their paths: flattened, or its top-level keys as they are."""
    if flatten:
        return flatten_state_dict(state_dict)
    return dict(state_dict), {key: (key,) for key in state_dict}
