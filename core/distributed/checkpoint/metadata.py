"""The description of a checkpoint that its ``.metadata`` file holds, as ``torch.distributed.checkpoint.metadata``.

A checkpoint directory holds the items (tensors, and other values as bytes) in ``__<rank>_<n>.distcp``
files and one ``.metadata`` file: a pickle of :class:`Metadata`, which names every item (its *FQN*,
the dotted path of the flattened state_dict), its size, dtype and chunks, and where its bytes lie
(a ``_StorageInfo`` per item). These classes pickle under PyTorch's names
(``torch.distributed.checkpoint.metadata.Metadata``, ``torch.Size``, ``torch.float32``...), so that
``torch.distributed.checkpoint.load`` reads what ember writes; ember reads PyTorch's with a
restricted unpickler that rebuilds only these classes (any other global is refused, naming it).
"""

from __future__ import annotations

import enum
import io
import pathlib
import pickle
from dataclasses import dataclass, field
from typing import Any

import ember
from ember.plugins.checkpoint_torch import _Global, _Pickler, _python3_spelling, _Unpickler

__all__ = [
    "ChunkStorageMetadata",
    "TensorStorageMetadata",
    "BytesStorageMetadata",
    "Metadata",
    "MetadataIndex",
    "TensorProperties",
    "StorageMeta",
]


@dataclass
class ChunkStorageMetadata:
    """Where one saved chunk lies in its tensor: its ``offsets`` and ``sizes`` (both ``ember.Size``).

    Example::

        >>> from ember.distributed.checkpoint.metadata import ChunkStorageMetadata
        >>> ChunkStorageMetadata(offsets=ember.Size([0, 0]), sizes=ember.Size([2, 3]))
        ChunkStorageMetadata(offsets=ember.Size([0, 0]), sizes=ember.Size([2, 3]))
    """

    offsets: ember.Size
    sizes: ember.Size


class _MEM_FORMAT_ENCODING(enum.Enum):
    """A tensor's memory format as the ``.metadata`` pickle spells it."""

    TORCH_CONTIGUOUS_FORMAT = 0
    TORCH_CHANNELS_LAST = 1
    TORCH_PRESERVE_FORMAT = 2


def _default_dtype():
    return ember.get_default_dtype()


@dataclass
class TensorProperties:
    """The properties of a saved tensor: dtype, layout, ``requires_grad``, memory format, pinned.

    Example::

        >>> from ember.distributed.checkpoint.metadata import TensorProperties
        >>> TensorProperties.create_from_tensor(ember.zeros(2, dtype=ember.float64)).dtype
        ember.float64
    """

    dtype: Any = field(default_factory=_default_dtype)
    layout: Any = field(default=ember.strided)
    requires_grad: bool = False
    memory_format: Any = field(default=ember.contiguous_format)
    pin_memory: bool = False

    def __getstate__(self):
        formats = {
            ember.contiguous_format: _MEM_FORMAT_ENCODING.TORCH_CONTIGUOUS_FORMAT,
            ember.channels_last: _MEM_FORMAT_ENCODING.TORCH_CHANNELS_LAST,
            ember.preserve_format: _MEM_FORMAT_ENCODING.TORCH_PRESERVE_FORMAT,
        }
        if self.memory_format not in formats:
            raise RuntimeError(f"Invalid memory_format: {self.memory_format}")
        return (self.dtype, self.layout, self.requires_grad, formats[self.memory_format], self.pin_memory)

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[3], _MEM_FORMAT_ENCODING)):
            raise pickle.UnpicklingError(f"ember.distributed.checkpoint: bad TensorProperties state {state!r}")
        self.dtype, self.layout, self.requires_grad, encoding, self.pin_memory = state
        self.memory_format = {
            _MEM_FORMAT_ENCODING.TORCH_CONTIGUOUS_FORMAT: ember.contiguous_format,
            _MEM_FORMAT_ENCODING.TORCH_CHANNELS_LAST: ember.channels_last,
            _MEM_FORMAT_ENCODING.TORCH_PRESERVE_FORMAT: ember.preserve_format,
        }[encoding]

    @staticmethod
    def create_from_tensor(tensor: ember.Tensor) -> TensorProperties:
        """The properties of ``tensor`` (always saved in the contiguous format)."""
        return TensorProperties(
            dtype=tensor.dtype,
            layout=tensor.layout,
            requires_grad=tensor.requires_grad,
            memory_format=ember.contiguous_format,
            pin_memory=tensor.is_pinned(),
        )


@dataclass
class TensorStorageMetadata:
    """A saved tensor: its :class:`TensorProperties`, its whole ``size`` and the chunks it was saved in.

    Example::

        >>> from ember.distributed.checkpoint.metadata import ChunkStorageMetadata, TensorProperties
        >>> from ember.distributed.checkpoint.metadata import TensorStorageMetadata
        >>> whole = ChunkStorageMetadata(ember.Size([0]), ember.Size([4]))
        >>> TensorStorageMetadata(TensorProperties(), ember.Size([4]), [whole]).size
        ember.Size([4])
    """

    properties: TensorProperties
    size: ember.Size
    chunks: list[ChunkStorageMetadata]


@dataclass
class BytesStorageMetadata:
    """A saved value that is not a tensor (pickled as ``torch.save`` writes it).

    Example::

        >>> from ember.distributed.checkpoint.metadata import BytesStorageMetadata
        >>> BytesStorageMetadata()
        BytesStorageMetadata()
    """


@dataclass
class StorageMeta:
    """What the storage records about one save or load: the checkpoint's id (its directory) and uuids.

    Example::

        >>> from ember.distributed.checkpoint.metadata import StorageMeta
        >>> StorageMeta(checkpoint_id="ckpt").checkpoint_id
        'ckpt'
    """

    checkpoint_id: Any = None
    save_id: str | None = None
    load_id: str | None = None
    modules: list[str] = field(default_factory=list)


@dataclass
class Metadata:
    """The metadata of a checkpoint: one storage metadata per FQN, the planner's flattening map
    (FQN -> path of keys in the nested state_dict), each item's place in the files, and the version.

    Example::

        >>> import tempfile
        >>> import ember.distributed.checkpoint as dcp
        >>> path = tempfile.mkdtemp()
        >>> md = dcp.save({"w": ember.zeros(2, 3), "step": 3}, checkpoint_id=path, no_dist=True)
        >>> sorted(md.state_dict_metadata)
        ['step', 'w']
        >>> md.state_dict_metadata["w"].size
        ember.Size([2, 3])
    """

    state_dict_metadata: dict[str, TensorStorageMetadata | BytesStorageMetadata]
    planner_data: Any = None
    storage_data: Any = None
    storage_meta: StorageMeta | None = None
    version: str | None = None


@dataclass(frozen=True)
class MetadataIndex:
    """The key of one item: its FQN and, for a tensor chunk, the chunk's offsets. ``index`` is a hint
    (the chunk's position in its :class:`TensorStorageMetadata`), left out of equality and hashing.

    Example::

        >>> from ember.distributed.checkpoint.metadata import MetadataIndex
        >>> MetadataIndex("w", [0, 0], index=3) == MetadataIndex("w", [0, 0])
        True
    """

    fqn: str
    offset: ember.Size | None = None
    index: int | None = field(hash=False, compare=False, default=None)

    def __init__(self, fqn: str, offset: Any = None, index: int | None = None) -> None:
        object.__setattr__(self, "fqn", fqn)
        object.__setattr__(self, "index", index)
        if offset is not None:  # left out of the instance's state otherwise, as PyTorch's
            object.__setattr__(self, "offset", ember.Size(offset))


@dataclass
class _StorageInfo:
    """Where one item's bytes lie: a file of the checkpoint directory, an offset and a length."""

    relative_path: str
    offset: int
    length: int
    transform_descriptors: Any = None

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if v is not None}


_METADATA_MODULE = "torch.distributed.checkpoint.metadata"
#: the classes of the ``.metadata`` pickle and PyTorch's names for them
_TORCH_NAMES: dict[type, tuple[str, str]] = {
    **{
        cls: (_METADATA_MODULE, cls.__name__)
        for cls in (
            ChunkStorageMetadata,
            _MEM_FORMAT_ENCODING,
            TensorProperties,
            TensorStorageMetadata,
            BytesStorageMetadata,
            StorageMeta,
            Metadata,
            MetadataIndex,
        )
    },
    _StorageInfo: ("torch.distributed.checkpoint.filesystem", "_StorageInfo"),
}
_EMBER_CLASSES = {f"{module}.{name}": cls for cls, (module, name) in _TORCH_NAMES.items()}
#: the other globals a ``.metadata`` written by PyTorch names (the checkpoint's path)
_PATHS = {f"pathlib.{cls.__name__}": cls for cls in (pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath)}


class _MetadataPickler(_Pickler):
    """ember's pickler of PyTorch's format, writing the metadata classes under PyTorch's names."""

    def save_global(self, obj, name=None):
        if obj in _TORCH_NAMES:
            return self.save_global_ref(_Global(*_TORCH_NAMES[obj]))
        return super().save_global(obj, name)


class _MetadataUnpickler(_Unpickler):
    """ember's restricted unpickler of PyTorch's format, with the metadata classes allowed (and set up by
    pickle's BUILD); any other global is refused, naming it."""

    def __init__(self, file):
        super().__init__(file, None, None, True, None)
        self._allowed.update(_EMBER_CLASSES)
        self._allowed.update(_PATHS)

    def find_class(self, module, name):
        module, name = _python3_spelling(module, name)
        found = self.allowed(module, name)
        if found is None:
            raise pickle.UnpicklingError(
                f"ember.distributed.checkpoint: the checkpoint's .metadata names {module}.{name}, which ember "
                "does not read (it reads PyTorch's metadata classes, tensors' dtypes, layouts and sizes, and paths)"
            )
        return found

    def _load_build_metadata(self):
        if type(self.stack[-2]) in _TORCH_NAMES:
            return pickle._Unpickler.load_build(self)
        return _Unpickler._load_build(self)

    dispatch = dict(_Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _load_build_metadata  # type: ignore[assignment]


def _dumps(metadata: Metadata) -> bytes:
    """``metadata`` pickled as PyTorch pickles it (``pickle.dump``, its default protocol)."""
    out = io.BytesIO()
    _MetadataPickler(out, protocol=pickle.DEFAULT_PROTOCOL).dump(metadata)
    return out.getvalue()


def _loads(data: bytes) -> Metadata:
    """The :class:`Metadata` of a ``.metadata`` file's bytes."""
    metadata = _MetadataUnpickler(io.BytesIO(data)).load()
    if not isinstance(metadata, Metadata):
        raise pickle.UnpicklingError(
            f"ember.distributed.checkpoint: the .metadata file holds a {type(metadata).__name__}, not a Metadata"
        )
    return metadata
