"""PyTorch's checkpoint format (``.pt``, ``.pth``, ``.bin``; ember's default), without PyTorch.

The file is a zip archive of stored (uncompressed) entries, as ``torch.save`` writes it:
``archive/data.pkl`` (the object, pickled with protocol 2; each tensor is a call of
``torch._utils._rebuild_tensor_v2`` over a *storage* given as a persistent id
``("storage", torch.<Type>Storage, key, location, numel)``), ``archive/data/<key>`` (each
storage's bytes, little-endian, aligned to 64 bytes), ``archive/byteorder`` and
``archive/version``. Tensors that share memory share one storage, so views stay views.

Loading with ``weights_only=True`` (the default) runs a restricted unpickler: it rebuilds only
PyTorch's weights-only allow-list mapped to ember (tensors, parameters, sparse COO tensors,
``OrderedDict``, ``Counter``, ``set``, ``bytearray``, ``complex``, bytes, ``torch.Size``, dtypes,
devices, layouts) and
the globals the user allowed with :func:`ember.serialization.add_safe_globals`; anything else
is an ``UnpicklingError`` naming the global, so no code from the file runs. ``weights_only=False``
unpickles any object (whole models), mapping PyTorch's tensor globals to ember's.

The zip directory is validated (stored entries, inside the file, not overlapping) before any
tensor data is read; each storage is read once, in bounded pieces, into the array returned.

Files that ``torch.save(..., _use_new_zipfile_serialization=False)`` wrote (PyTorch's legacy
format, and every checkpoint before PyTorch 1.6) are read too: header pickles, the object's pickle,
the storage keys' pickle, then each storage's element count and bytes.
"""

from __future__ import annotations

import _compat_pickle
import ast
import collections
import functools
import importlib
import io
import math
import mmap as _mmap
import pickle
import pickletools
import re
import struct
import sys
import types
import warnings
import zipfile

import numpy as np

import ember
from ember.ops.untyped_storage import storage_bytes
from ember.plugin import hookimpl
from ember.serialization import CorruptCheckpoint, get_safe_globals, place, read_exactly, stream_size
from ember.serialization import _PlacementFailed as _NotTheFilesFault

__all__ = ["ember_register_checkpoint_formats", "save", "load", "load_torchscript", "unsafe_globals"]

_ALIGNMENT = 64
#: the legacy format's first two records (torch.serialization's MAGIC_NUMBER and PROTOCOL_VERSION)
_LEGACY_MAGIC, _LEGACY_PROTOCOL = 0x1950A86A20F9469CFC6C, 1001
#: torch storage class name -> ember dtype name
_STORAGES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
}
_STORAGE_OF = {dtype: name for name, dtype in _STORAGES.items()}
#: torch storage class of quantized tensors -> (ember's quantized dtype, the integer dtype of its values)
_QUANTIZED_STORAGES = {
    "QInt8Storage": ("qint8", "int8"),
    "QUInt8Storage": ("quint8", "uint8"),
    "QInt32Storage": ("qint32", "int32"),
}
_QUANTIZED_STORAGE_OF = {quantized: name for name, (quantized, _) in _QUANTIZED_STORAGES.items()}
_QSCHEME_NAMES = (
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
)
#: the dtypes PyTorch saves as bytes (an UntypedStorage) rebuilt by ``_rebuild_tensor_v3``, which names the dtype
_BYTE_STORED = tuple(d.name for d in (*ember.dtypes.unsigned_dtypes, *ember.dtypes.float8_dtypes))


class _Global:
    """A reference to a global by name (``torch._utils._rebuild_tensor_v2``), pickled as such."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's reduce protocol asks for a callable; it is never called
        raise TypeError(f"{self.module}.{self.name} is a reference for pickling only")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_REBUILD_PARAMETER_WITH_STATE = _Global("torch._utils", "_rebuild_parameter_with_state")
_REBUILD_META = _Global("torch._utils", "_rebuild_meta_tensor_no_storage")
#: PyTorch's dtypes that ember does not have, which a checkpoint names beside _rebuild_tensor_v3
_DTYPES_EMBER_LACKS = frozenset(
    {"complex32", "chalf", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16", "float4_e2m1fn_x2"}
    | {f"{kind}{bits}" for kind in ("int", "uint") for bits in range(1, 8)}
    | {"QUInt4x2Storage", "QUInt2x4Storage"}  # packed two or four to a byte: ember holds one value per element
)
_REBUILD_TENSOR_V3 = _Global("torch._utils", "_rebuild_tensor_v3")
_UNTYPED_STORAGE = _Global("torch.storage", "UntypedStorage")
_GET_LAYOUT = _Global("torch.serialization", "_get_layout")  # a layout, by its name ("torch.sparse_coo")
_REBUILD_SPARSE = _Global("torch._utils", "_rebuild_sparse_tensor")
_REBUILD_QTENSOR = _Global("torch._utils", "_rebuild_qtensor")
_GENERATOR = _Global("torch._C", "Generator")
_RETURN_TYPES: dict = {}  # name -> the global torch.return_types.<name>, made once
_QSCHEMES: dict = {}  # name -> the global torch.<name> of a quantization scheme, made once
_REBUILD_FROM_TYPE = _Global("torch._tensor", "_rebuild_from_type_v2")  # a tensor with Python attributes
_TORCH = {
    name: _Global("torch", name)
    for name in ("device", "Size", "Tensor", *_STORAGES, *_STORAGES.values(), *_BYTE_STORED, *_QUANTIZED_STORAGES)
}
_PACKED_QUANTIZED = ("quint4x2", "quint2x4")
_TORCH.update({name: _Global("torch", name) for name in (*_QUANTIZED_STORAGE_OF, *_PACKED_QUANTIZED)})


class _Storage:
    """One storage to write: a C-contiguous host array and its key (``quantized``: the storage class of a
    quantized tensor's integers, ``QInt8Storage``...; ``dtype``: the ember dtype its tensors view it as, one
    per storage as in PyTorch)."""

    def __init__(self, key, host, location, quantized=None, dtype=None):
        self.key, self.host, self.location, self.quantized, self.dtype = key, host, location, quantized, dtype


class _Pickler(pickle._Pickler):
    """Writes ember tensors, dtypes and devices as PyTorch spells them; storages as persistent ids."""

    def __init__(self, file, protocol=2, legacy=False):
        super().__init__(file, protocol=protocol)
        self._legacy = legacy  # the legacy format's storage ids carry a sixth item (a storage view: none)
        self.storages = {}  # id(root host array) -> _Storage
        self._keep = []  # keeps the roots alive, so their ids stay unique while pickling

    def save_global_ref(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def save_global(self, obj, name=None):
        try:
            super().save_global(obj, name)
        except pickle.PicklingError as error:
            # PyTorch pickles with Python's C pickler, whose refusals differ from the Python one's (an
            # AttributeError for a local function or class): raise the C pickler's
            if name is None:
                try:
                    pickle.dumps(obj, protocol=self.proto)
                except Exception as c_error:  # noqa: BLE001 - whatever the C pickler raises, as it raises it
                    raise c_error from None
            raise error

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[_Global] = save_global_ref
    dispatch[types.FunctionType] = save_global

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            if obj.quantized is not None:
                pid = ("storage", _TORCH[obj.quantized], obj.key, obj.location, obj.host.size)
            elif obj.host.dtype.name in _STORAGE_OF:
                pid = ("storage", _TORCH[_STORAGE_OF[obj.host.dtype.name]], obj.key, obj.location, obj.host.size)
            elif self._legacy:  # PyTorch's legacy format cannot write untyped storages either
                raise TypeError(f"ember.save: PyTorch's legacy format has no storage for dtype {obj.host.dtype.name}")
            else:  # a dtype without a typed storage: its bytes
                pid = ("storage", _UNTYPED_STORAGE, obj.key, obj.location, obj.host.nbytes)
            return (*pid, None) if self._legacy else pid
        if isinstance(obj, (ember.UntypedStorage, ember.TypedStorage)):  # a storage by itself: all its elements
            elements = obj._bytes if isinstance(obj, ember.UntypedStorage) else obj._elements()
            return self.persistent_id(self._storage_of(elements)[0])
        return None

    def reducer_override(self, obj):
        if ember.unstrided.is_strided(obj):  # (a sparse or nested tensor: its parts, below)
            return self._reduce_tensor(obj)
        if isinstance(obj, ember.device):
            return _TORCH["device"], (str(obj),)
        if isinstance(obj, ember.Size):
            return _TORCH["Size"], (tuple(obj),)
        if isinstance(obj, tuple) and type(obj).__module__ == "ember.return_types":  # torch's structseq: (values, {})
            kind = type(obj).__name__
            return _RETURN_TYPES.setdefault(kind, _Global("torch.return_types", kind)), (tuple(obj), {})
        if isinstance(obj, ember.Generator):  # as PyTorch's: rebuilt on its device, given (seed, offset, state)
            return (_GENERATOR, *obj.__reduce__()[1:])
        if isinstance(obj, ember.layout):
            return _GET_LAYOUT, (f"torch.{obj.name}",)
        if isinstance(obj, (ember.quantized.QuantizedTensor, ember.nested.NestedTensor)):
            if ember.serialization.skipping_data():  # torch's refusals under skip_data
                kind = "qtensor" if isinstance(obj, ember.quantized.QuantizedTensor) else "nested tensor"
                raise RuntimeError(
                    f"Cannot serialize {kind} under skip_data context manager, file an issue if you need this feature"
                )
            if isinstance(obj, ember.nested.NestedTensor):
                return NotImplemented
            return self._reduce_quantized(obj)
        if isinstance(obj, ember.sparse.SparseCOOTensor):  # its parts, as PyTorch saves a sparse tensor
            return _REBUILD_SPARSE, (obj.layout, (obj._indices(), obj._values(), obj.shape, obj.is_coalesced()))
        if isinstance(obj, ember.sparse.SparseCompressedTensor):  # (compressed, plain, values, size), as PyTorch
            return _REBUILD_SPARSE, (obj.layout, (obj._compressed, obj._plain, obj._vals, obj.shape))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, ember.dtype):  # a dtype is a global itself, not a call (memoized: saved once)
            return super().save(_TORCH[obj.name], save_persistent_id)
        if isinstance(obj, type) and obj in _LEGACY_TENSOR_TYPES:  # ember.FloatTensor is torch.FloatTensor
            return super().save(_LEGACY_TENSOR_TYPES[obj], save_persistent_id)
        if isinstance(obj, ember.qscheme):  # a global of torch's, as PyTorch pickles it (torch.per_tensor_affine)
            return super().save(_QSCHEMES.setdefault(obj.name, _Global("torch", obj.name)), save_persistent_id)
        return super().save(obj, save_persistent_id)

    def _reduce_tensor(self, t):
        state = vars(t)  # Python attributes set on the tensor: written as PyTorch writes a tensor's __dict__
        if isinstance(t, ember.nn.Parameter):
            args = (ember.Tensor._make(t, t._data), t.requires_grad, collections.OrderedDict())
            return (_REBUILD_PARAMETER_WITH_STATE, (*args, dict(state))) if state else (_REBUILD_PARAMETER, args)
        func, args = self._reduce_values(t)
        own = type(t).__module__.split(".")[0] == "ember"  # ember's classes (Buffer...): PyTorch's are plain tensors
        if own and not state:
            return func, args
        return _REBUILD_FROM_TYPE, (func, _TORCH["Tensor"] if own else type(t), args, dict(state))

    def _reduce_quantized(self, q):
        """A quantized tensor as PyTorch saves one: its integers in a storage of the quantized type, and the
        quantizer's parameters (the per-channel schemes written as ``per_channel_affine``, as PyTorch writes them)."""
        storage_class = _QUANTIZED_STORAGE_OF.get(q.dtype.name)
        if storage_class is None:
            raise TypeError(f"ember.save: PyTorch's format has no storage for quantized dtype {q.dtype}")
        host = np.ascontiguousarray(np.asarray(q._ints._backend.to_host(q._ints._data)))
        storage = _Storage(str(len(self.storages)), host.reshape(-1), _location(q), storage_class)
        self.storages[id(storage)] = storage
        self._keep.append(storage)
        scheme = q.qscheme()
        if scheme is ember.per_tensor_affine:
            params = (scheme, q.q_scale(), q.q_zero_point())
        else:
            params = (
                ember.per_channel_affine,
                q.q_per_channel_scales(),
                q.q_per_channel_zero_points(),
                q.q_per_channel_axis(),
            )
        args = (storage, 0, tuple(q.shape), tuple(_contiguous(q.shape)), params, False, collections.OrderedDict())
        return _REBUILD_QTENSOR, args

    def _reduce_values(self, t):
        """``(rebuild function, its arguments)`` of a tensor's values and geometry."""
        if t.is_meta:  # no values, no storage: its dtype, size and strides (as PyTorch writes it)
            if ember.serialization.skipping_data():
                warnings.warn(
                    "Serializing tensors on the meta device under skip_data context manager is a no-op", stacklevel=2
                )
            return _REBUILD_META, (t.dtype, tuple(t.shape), t.stride(), t.requires_grad)
        storage, root, host = self._storage_of(t)
        itemsize = host.dtype.itemsize
        # an empty array's strides are NumPy's to pick (zeros), its offset too (a slice of the storage's copy
        # starts no further than its end): the tensor's own, as PyTorch writes them
        if host.size:
            offset = (host.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // itemsize
            stride = tuple(s // itemsize for s in host.strides)
        else:
            offset, stride = t.storage_offset(), tuple(t.stride())
        args = (storage, offset, tuple(host.shape), stride, t.requires_grad, collections.OrderedDict())
        if t.dtype.name in _BYTE_STORED:
            return _REBUILD_TENSOR_V3, (*args, t.dtype)
        return _REBUILD_TENSOR, args

    def _storage_of(self, t):
        """``(storage record, its array, t's array)``: the storage that ``t``'s values are written in
        (one per memory, so views share it), whose array ``t``'s views."""
        if t.dtype.name not in _STORAGE_OF and t.dtype.name not in _BYTE_STORED:
            raise TypeError(f"ember.save: PyTorch's format has no storage for dtype {t.dtype}")
        if t.device.type != "cpu":  # to_host copies: the device storage's copy, once, and t's view of it
            return self._device_storage_of(t)
        host = np.asarray(t._backend.to_host(t._data))
        # the backend's owner of the tensor's own array: an empty view may start past its storage's end,
        # where NumPy's bases do not lead back to the storage
        root = t._backend.memory_owner(host) if host is t._data else host
        if not isinstance(root, np.ndarray):
            root = host
        while isinstance(root.base, np.ndarray):
            root = root.base
        owner = root  # the memory's owner: one storage each
        if root.dtype != host.dtype and root.flags.c_contiguous and root.nbytes % host.itemsize == 0:
            root = root.reshape(-1).view(host.dtype)  # bytes (a loaded untyped storage) read as the tensor's type
        if not (root.dtype == host.dtype and root.flags.c_contiguous and _inside(host, root)):
            owner = root = host = np.asarray(host, order="C")
        storage = self.storages.get(id(owner))
        _one_dtype(storage, t)
        if storage is None:
            storage = self.storages[id(owner)] = _Storage(str(len(self.storages)), root, _location(t), dtype=t.dtype)
            self._keep.append(owner)
        return storage, root, host

    def _device_storage_of(self, t):
        """:meth:`_storage_of` for a tensor off the CPU: its whole device storage copied to the host once (so
        the views of one storage share one record, as in torch), ``t``'s host array a view of that copy."""
        backend, data = t._backend, t._data
        owner = backend.memory_owner(data)
        strides, offset = backend.layout(data)
        storage = self.storages.get(id(owner))
        if storage is None:
            try:
                whole = backend.as_strided(data, (backend.storage_size(data),), (1,), 0)
            except NotImplementedError:  # a backend without strided views: t's values, a storage of their own
                owner, whole, strides, offset = data, data, _contiguous(t.shape), 0
            root = np.ascontiguousarray(np.asarray(backend.to_host(whole))).reshape(-1)
            storage = self.storages[id(owner)] = _Storage(str(len(self.storages)), root, _location(t), dtype=t.dtype)
            self._keep.append(owner)
        _one_dtype(storage, t)
        root = storage.host
        host = np.lib.stride_tricks.as_strided(
            root[offset:], tuple(t.shape), tuple(s * root.itemsize for s in strides), writeable=False
        )
        return storage, root, host


def _one_dtype(storage, t):
    """Refuse ``t`` over a storage already written as another dtype, with PyTorch's error (it keeps one dtype
    per storage)."""
    if storage is not None and storage.dtype != t.dtype:
        raise RuntimeError(
            "Cannot save multiple tensors or storages that view the same data as different types "
            f"(ember.save: {storage.dtype} and {t.dtype})"
        )


def _inside(view, root):
    """Whether every element of ``view`` lies in ``root``'s buffer, with strides that are multiples of the item size."""
    itemsize = view.dtype.itemsize
    start = view.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if start < 0 or start % itemsize:
        return False
    if not view.size:  # no element lies outside: torch keeps an empty view's offset, past the end too
        return True
    if any(s % itemsize or s < 0 for s in view.strides):
        return False
    return start + sum((n - 1) * s for n, s in zip(view.shape, view.strides)) + itemsize <= root.nbytes


def _location(t):
    """The location a storage of ``t`` is saved with: ``torch.serialization.location_tag``'s (``"cpu"``, ``"opencl:0"``)."""
    return ember.serialization.location_tag(t)


def save(obj, stream, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """Write ``obj`` to ``stream`` as ``torch.save`` does (its legacy format where asked)."""
    skip = ember.serialization.skipping_data()
    if not _use_new_zipfile_serialization:
        if skip:
            raise RuntimeError("Cannot use skip_data=True with _use_new_zipfile_serialization=False")
        return _save_legacy(obj, stream, pickle_protocol)
    pickled = io.BytesIO()
    pickler = _Pickler(pickled, pickle_protocol)
    pickler.dump(obj)
    alignment = _storage_alignment()
    with zipfile.ZipFile(_Tell(stream), "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write(archive, "archive/data.pkl", memoryview(pickled.getbuffer()), alignment)
        _write(archive, "archive/.format_version", b"1", alignment)
        _write(archive, "archive/.storage_alignment", str(alignment).encode(), alignment)
        _write(archive, "archive/byteorder", b"little", alignment)
        for storage in pickler.storages.values():
            host = storage.host.astype(storage.host.dtype.newbyteorder("<"), copy=False)
            data = memoryview(host.reshape(-1).view(np.uint8))
            if skip:  # skip_data: the record's room, zero, for another pass to fill
                data = memoryview(np.zeros(data.nbytes, np.uint8))
            _write(archive, f"archive/data/{storage.key}", data, alignment)
        _write(archive, "archive/version", b"3\n", alignment)


def _storage_alignment():
    """``ember.utils.serialization.config.save.storage_alignment``, checked: a positive int whose padding fits a
    zip entry's extra field (PyTorch's writer takes any positive one, and crashes the process for 0)."""
    from ember.utils.serialization import config

    alignment = config.save.storage_alignment
    if type(alignment) is not int or not 0 < alignment <= 65532:
        raise ValueError(f"ember.save: config.save.storage_alignment must be an int from 1 to 65532, got {alignment!r}")
    return alignment


def _save_legacy(obj, stream, protocol):
    """PyTorch's legacy format: header pickles, the object's pickle, the storage keys, then each storage's count and bytes."""
    info = {
        "protocol_version": _LEGACY_PROTOCOL,
        "little_endian": True,
        "type_sizes": {"short": 2, "int": 4, "long": 4},
    }
    for record in (_LEGACY_MAGIC, _LEGACY_PROTOCOL, info):
        pickle.dump(record, stream, protocol=protocol)
    pickler = _Pickler(stream, protocol, legacy=True)
    pickler.dump(obj)
    storages = sorted(pickler.storages.values(), key=lambda storage: storage.key)
    pickle.dump([storage.key for storage in storages], stream, protocol=protocol)
    for storage in storages:
        host = storage.host.astype(storage.host.dtype.newbyteorder("<"), copy=False)
        stream.write(struct.pack("<q", host.size))
        data = memoryview(host.reshape(-1).view(np.uint8))
        for begin in range(0, len(data), 16 << 20):
            stream.write(data[begin : begin + (16 << 20)])


class _Tell(io.RawIOBase):
    """A write-only stream that counts, so the zip writer works on non-seekable streams too."""

    def __init__(self, stream):
        self._stream, self._position = stream, 0

    def writable(self):
        return True

    def write(self, data):
        self._stream.write(data)
        self._position += len(data)
        return len(data)

    def tell(self):
        return self._position

    def flush(self):
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()


def _write(archive, name, data, alignment=_ALIGNMENT):
    """Add a stored entry whose bytes start at a multiple of ``alignment`` (as PyTorch's writer does)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = archive.fp.tell() + 30 + len(name.encode()) + 4
    info.extra = b"FB" + struct.pack("<H", -start % alignment) + b"Z" * (-start % alignment)
    with archive.open(info, "w", force_zip64=len(data) >= 1 << 31) as entry:
        for begin in range(0, len(data), 16 << 20):
            entry.write(data[begin : begin + (16 << 20)])


# -- reading ------------------------------------------------------------------------------
def _validated(archive, limit):
    """The archive's record prefix and entries by name, after checking the directory (``limit``: the position
    where the archive's bytes end, ``None`` where unknown)."""
    infos = archive.infolist()
    pickles = [i.filename for i in infos if i.filename.endswith("/data.pkl") and i.filename.count("/") == 1]
    if len(pickles) != 1:
        raise CorruptCheckpoint("not a PyTorch checkpoint: no single <archive>/data.pkl")
    prefix = pickles[0][: -len("data.pkl")]
    spans = []
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise CorruptCheckpoint(f"entry {info.filename!r} is compressed; PyTorch stores entries uncompressed")
        if info.file_size != info.compress_size:
            raise CorruptCheckpoint(f"entry {info.filename!r} has inconsistent sizes")
        if info.CRC == 0 and info.file_size:  # torch.save with compute_crc32=False records none:
            del info.CRC  # read unchecked, as torch reads it (zipfile checks the entries that have one)
        spans.append((info.header_offset, info.header_offset + 30 + len(info.filename) + info.file_size, info))
    spans.sort(key=lambda s: s[0])
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise CorruptCheckpoint(f"entries {first.filename!r} and {second.filename!r} overlap")
    if limit is not None and spans and spans[-1][1] > limit:
        raise CorruptCheckpoint(f"entry {spans[-1][2].filename!r} runs past the end of the file")
    byteorder = prefix + "byteorder"
    if byteorder in archive.NameToInfo and archive.read(byteorder) not in (b"little", b"big"):
        raise CorruptCheckpoint("bad byteorder record")
    return prefix, archive.NameToInfo


class _StorageType:
    def __init__(self, dtype, quantized=None):
        self.dtype, self.quantized = dtype, quantized  # quantized: the quantized dtype whose integers it holds


def _dtype_globals():
    found = {"torch.storage.UntypedStorage": _StorageType(ember.uint8)}  # bytes, viewed by _rebuild_tensor_v3
    for name in (*_STORAGES.values(), *_BYTE_STORED):
        if isinstance(getattr(ember, name, None), ember.dtype):
            found[f"torch.{name}"] = getattr(ember, name)
    for storage, name in _STORAGES.items():
        if f"torch.{name}" in found:
            # torch.cuda.FloatStorage: how checkpoints saved on a GPU before PyTorch 1.0 name their storages
            found[f"torch.{storage}"] = found[f"torch.cuda.{storage}"] = _StorageType(found[f"torch.{name}"])
    for quantized in (*_QUANTIZED_STORAGE_OF, *_PACKED_QUANTIZED):
        found[f"torch.{quantized}"] = getattr(ember, quantized)
    for storage, (quantized, values) in _QUANTIZED_STORAGES.items():
        found[f"torch.{storage}"] = _StorageType(getattr(ember, values), getattr(ember, quantized))
    found.update(_legacy_tensor_types())
    return found


def _legacy_tensor_types():
    """PyTorch's names of the legacy tensor types (``torch.FloatTensor``, ``torch.cuda.HalfTensor``;
    on its weights-only allow-list) -> ember's."""
    found = {}
    for namespace in (ember, ember.cuda):
        for name, kind in vars(namespace).items():
            if name.endswith("Tensor") and isinstance(kind, type) and issubclass(kind, ember.Tensor):
                if kind is not ember.Tensor:
                    found[f"torch{namespace.__name__[len('ember') :]}.{name}"] = kind
    return found


#: ember's legacy tensor types -> the globals of PyTorch's that the saver writes for them
_LEGACY_TENSOR_TYPES = {kind: _Global(*name.rsplit(".", 1)) for name, kind in _legacy_tensor_types().items()}


class _ZipStorages:
    """The storages of a zip checkpoint: ``(key, dtype, numel) -> host array`` read from ``archive/data/<key>``."""

    def __init__(self, archive, prefix, entries, mapped=None):
        self._archive, self._prefix, self._entries = archive, prefix, entries
        self._mapped = mapped  # the whole file, memory-mapped copy-on-write (mmap=True), else None
        # a file written on a big-endian machine records it: its typed storages are byte-swapped
        # as read (as torch.load does; untyped ones, bytes, are not)
        byteorder = entries.get(f"{prefix}byteorder")
        if byteorder is not None:
            self._swap = archive.read(byteorder) != sys.byteorder.encode()
        else:  # a file from before PyTorch 2.1: the order set_default_load_endianness names, else the machine's
            assumed = ember.serialization.get_default_load_endianness()
            orders = {
                ember.serialization.LoadEndianness.LITTLE: "little",
                ember.serialization.LoadEndianness.BIG: "big",
            }
            self._swap = orders.get(assumed, sys.byteorder) != sys.byteorder

    def __call__(self, key, native, numel):
        info = self._entries.get(f"{self._prefix}data/{key}")
        if info is None or info.file_size != numel * native.itemsize:
            raise CorruptCheckpoint(f"storage {key!r} is missing or does not hold {numel} x {native}")
        if ember.serialization.skipping_data():  # skip_data: the tensors are made, their data not read
            return np.zeros(numel, dtype=native)
        if self._mapped is not None:  # a copy-on-write view of the file's bytes, as torch's MAP_PRIVATE
            start = _data_offset(self._mapped, info)  # each storage its own array (its own root) over the map
            host = np.ndarray((numel,), native, buffer=self._mapped, offset=start)
        else:
            host = np.empty(numel, dtype=native)
            with self._archive.open(info) as entry:
                read_exactly(entry, host)
        if self._swap and native.itemsize > 1:
            host.byteswap(inplace=True)  # in place: on a mapped file, its private copy-on-write pages
        return host


class _LegacyStorages:
    """The storages of a legacy checkpoint, whose bytes follow the pickle: allocated while it is
    read (bounded by the bytes left in the file), filled by :meth:`read` after it."""

    def __init__(self, room):
        self.hosts, self._room = {}, room

    def __call__(self, key, native, numel):
        host = self.hosts.get(key)
        if host is None:
            self._room -= numel * native.itemsize
            if self._room < 0:
                raise CorruptCheckpoint(f"storage {key!r} of {numel} x {native} does not fit in the file")
            host = self.hosts[key] = np.empty(numel, dtype=native.newbyteorder("<"))
        elif host.size != numel or host.dtype != native.newbyteorder("<"):
            raise CorruptCheckpoint(f"storage {key!r} is read with two sizes or dtypes")
        return host

    def read(self, stream, keys):
        """Fill the storages from ``stream``: for each of ``keys`` in turn, its element count (int64) and bytes."""
        if not (isinstance(keys, list) and sorted(keys) == sorted(self.hosts)):
            raise CorruptCheckpoint("the storage list does not match the storages the pickle names")
        for key in keys:
            host = self.hosts[key]
            count = stream.read(8)
            if len(count) != 8 or struct.unpack("<q", count)[0] != host.size:
                raise CorruptCheckpoint(f"storage {key!r} does not hold {host.size} elements")
            read_exactly(stream, host)


class _Unpickler(pickle._Unpickler):
    """Rebuilds PyTorch's objects as ember's. Python's own unpickler, not the C one, so that a
    ``weights_only`` load can refuse BUILD (setting attributes) on objects other than tensors,
    ``OrderedDict`` and instances of allowed classes, as PyTorch's does: a file could otherwise
    rename ``ember.float32`` for the whole process."""

    def __init__(self, file, storages, map_location, weights_only, size, pickle_load_args=None):
        super().__init__(file, **{"encoding": "utf-8", **(pickle_load_args or {})})
        self._read_storage = storages  # (key, native dtype, numel) -> little-endian host array
        self._map_location, self._weights_only = map_location, weights_only
        self._storages = {}
        self._quantized = {}  # id(storage) -> the quantized dtype of the tensors over it
        self._locations = set()  # the devices the storages were saved on
        self._references = self._rebuilt = 0  # storage references read, and tensors rebuilt over one
        self._copied, self._limit = 0, size
        self._allowed = _dtype_globals()
        self._allowed.update(
            {
                "collections.OrderedDict": collections.OrderedDict,
                "collections.Counter": collections.Counter,
                "builtins.set": set,
                "builtins.bytearray": _bytearray,
                "builtins.complex": complex,
                "_codecs.encode": _encode,
                "torch.Size": ember.Size,
                "torch.device": ember.device,
                "torch.Tensor": _TENSOR_TYPE,  # only as _rebuild_from_type_v2's type, never called
                "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
                "torch._utils._rebuild_tensor": self._rebuild_tensor,  # (storage, offset, size, stride): before 0.4
                "torch._utils._rebuild_tensor_v2": self._rebuild_tensor,
                "torch._utils._rebuild_tensor_v3": self._rebuild_tensor_v3,
                "torch._utils._rebuild_parameter": _rebuild_parameter,
                "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta,
                "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
                "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
                "torch._utils._rebuild_sparse_tensor": _rebuild_sparse_tensor,
                "torch._utils._rebuild_qtensor": self._rebuild_qtensor,
                "torch.serialization._get_layout": _get_layout,
            }
        )
        for qscheme in _QSCHEME_NAMES:  # on PyTorch's weights-only allow-list
            self._allowed[f"torch.{qscheme}"] = getattr(ember, qscheme)
        self._user_globals_read = False
        if weights_only and type(self).dispatch is _Unpickler.dispatch:  # torch.load's: its opcodes only
            self.dispatch = _WEIGHTS_ONLY_DISPATCH

    def _read_user_globals(self):
        """Add the globals allowed by ``add_safe_globals``: read when a global is not on the default list, as
        PyTorch reads them, so a malformed entry raises PyTorch's error then (not the file's fault)."""
        if self._user_globals_read:
            return
        self._user_globals_read = True
        try:
            for item in get_safe_globals():
                if isinstance(item, tuple):
                    if len(item) != 2:
                        raise ValueError(
                            f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: "
                            f"{len(item)}"
                        )
                    if type(item[1]) is not str:
                        raise TypeError(
                            f"Expected second item in tuple to be str of callable full path, but got: {type(item[1])}"
                        )
                    obj, name = item
                else:
                    obj, name = item, f"{item.__module__}.{item.__qualname__}"
                self._allowed.setdefault(name, obj)
        except (ValueError, TypeError, AttributeError) as exc:
            raise _NotTheFilesFault(exc) from None

    def allowed(self, module, name):
        """The object a ``weights_only`` load rebuilds for the global ``module.name`` (Python 3's
        spelling), or ``None`` where it refuses it."""
        found = self._allowed.get(f"{module}.{name}")
        if found is None and not self._user_globals_read:
            self._read_user_globals()
            found = self._allowed.get(f"{module}.{name}")
        if found is None and module != _ember_module(module):  # PyTorch's classes are ember's of that path
            module = _ember_module(module)
            found = self._allowed.get(f"{module}.{name}")
            if found is None:  # an allowed object that ember defines elsewhere (no import runs here)
                candidate = _ember_object(module, name, imports=False)
                found = next((obj for obj in self._allowed.values() if obj is candidate is not None), None)
        return found

    def find_class(self, module, name):
        module, name = _python3_spelling(module, name)
        found = self.allowed(module, name)
        if found is not None:
            return found
        spelt, module = module, _ember_module(module)
        if module == "ember" and (name.endswith("Storage") or name in _DTYPES_EMBER_LACKS):
            # a storage class of another dtype, or a dtype of a tensor rebuilt over bytes (complex32, int4...)
            raise pickle.UnpicklingError(
                f"ember.load: the file holds tensors of a dtype ember does not have (it names torch{module[5:]}.{name}); "
                f"ember reads tensors of dtypes {', '.join((*_STORAGES.values(), *_BYTE_STORED))}"
            )
        lacking = _ALLOWED_BY_TORCH_EMBER_LACKS.get(f"{spelt}.{name}")
        if lacking is not None:  # on PyTorch's weights-only allow-list: nothing to allow, ember cannot rebuild it
            raise pickle.UnpicklingError(
                f"ember.load: the file holds {lacking} (it names {spelt}.{name}), which ember cannot rebuild from "
                "PyTorch's files"
            )
        if self._weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed: unsupported global {module}.{name}. Loading this file with "
                "weights_only=False runs code from it: do that only for a file you trust; or allow the global "
                f"with ember.serialization.add_safe_globals([{name}]) or the safe_globals context manager."
            )
        found = _c_extension_global(module, name)
        if found is None and module.split(".")[0] == "ember":
            found = _ember_object(module, name, imports=True)
            if found is None and spelt.split(".")[0] == "torch":
                raise pickle.UnpicklingError(
                    f"ember.load: the file holds {spelt}.{name}, which ember does not have (no {module}.{name}); "
                    "save the object's state (a state_dict) with PyTorch and load that instead"
                )
        if found is None:
            found = super().find_class(module, name)
        base = _torch_base(found)
        if base is not None:  # a class of a library built on PyTorch (or a program's, on torch.nn.Module...)
            raise pickle.UnpicklingError(
                f"ember.load: the file holds a {module}.{name}, a class built on PyTorch's {base}, which ember "
                "cannot rebuild (its methods would run PyTorch's code on ember's tensors); save its state_dict "
                "with PyTorch and load that into the ember model instead"
            )
        return found

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":  # legacy: a class and its source
            return pid[1]
        if isinstance(pid, tuple) and len(pid) == 6 and pid[5] is None:  # legacy: a storage (not a storage view)
            pid = pid[:5]
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CorruptCheckpoint(f"unknown persistent id {pid!r}")
        _, kind, key, location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str) or not isinstance(location, str):
            raise CorruptCheckpoint(f"bad storage reference {pid!r}")
        storage = self._storages.get(key)
        if storage is None:
            native = np.dtype(kind.dtype.name if kind.dtype.name != "bfloat16" else _bfloat16())
            if type(numel) is not int or numel < 0:
                raise CorruptCheckpoint(f"storage {key!r} has a bad size {numel!r}")
            host = self._read_storage(key, native, numel)
            self._locations.add(location)
            # placed once per storage (map_location sees storages, as in torch); tensors are views of it
            storage = self._storages[key] = place(host.astype(native, copy=False), location, self._map_location)
            if kind.quantized is not None:
                self._quantized[id(storage)] = kind.quantized
        elif storage.dtype is not kind.dtype:
            raise CorruptCheckpoint(f"storage {key!r} is read as two dtypes")
        self._references += 1
        return storage

    def _load_build(self):
        target = self.stack[-2]
        if self._weights_only and not _buildable(target):
            raise pickle.UnpicklingError(
                f"Weights only load failed: the file sets attributes of a {type(target).__name__}; only tensors, "
                "OrderedDicts and instances of the classes allowed by ember.serialization.add_safe_globals take them"
            )
        pickle._Unpickler.load_build(self)

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _load_build

    def load(self):
        result = super().load()
        if self._references > self._rebuilt:  # storages saved by themselves, not as a tensor's
            result = _with_storage_objects(result, {id(storage) for storage in self._storages.values()})
        return result

    def _rebuild_tensor(self, storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
        self._rebuilt += 1
        if not isinstance(storage, ember.Tensor):
            raise CorruptCheckpoint(f"a tensor is rebuilt from {type(storage).__name__}, not a storage")
        size, stride, numel = tuple(size), tuple(stride), storage.numel()
        if not (all(type(v) is int and v >= 0 for v in (offset, *size, *stride)) and len(size) == len(stride)):
            raise CorruptCheckpoint(f"bad tensor geometry offset={offset} size={size} stride={stride}")
        count = math.prod(size)
        if count and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= numel:
            raise CorruptCheckpoint(f"tensor of size {size} runs past its storage of {numel}")
        data = storage._data
        xp = storage._backend.xp
        # (a slice without elements would not keep its offset, which torch's may place past the storage's end)
        if count and all(s == c for n, s, c in zip(size, stride, _contiguous(size)) if n != 1):
            t = storage._make(xp.reshape(data[offset : offset + count], size))  # shares the storage's memory
        else:
            t = self._strided(storage, offset, size, stride, count)
        if metadata:
            t = _resolved(t, metadata)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def _rebuild_qtensor(self, storage, offset, size, stride, quantizer_params, requires_grad=False, hooks=None):
        """A quantized tensor: its integers over a storage of a quantized type, and the quantizer's parameters
        ``(scheme, scale, zero_point)`` or ``(scheme, scales, zero_points, axis)``, as PyTorch saves it."""
        qdtype = self._quantized.get(id(storage))
        if qdtype is None:
            raise CorruptCheckpoint("_rebuild_qtensor over a storage that is not of a quantized type")
        ints = self._rebuild_tensor(storage, offset, size, stride)
        params = quantizer_params if isinstance(quantizer_params, tuple) else ()
        scheme = params[0] if params else None
        if scheme is ember.per_tensor_affine and len(params) == 3:
            _, scale, zero_point = params
            if not (isinstance(scale, (int, float)) and type(zero_point) is int):
                raise CorruptCheckpoint(f"bad quantizer parameters {params!r}")
            return ember.quantized.QuantizedTensor(ints, qdtype, scheme, float(scale), zero_point)
        if scheme in (ember.per_channel_affine, ember.per_channel_affine_float_qparams) and len(params) == 4:
            _, scales, zero_points, axis = params
            if type(axis) is not int or not 0 <= axis < len(tuple(size)):
                raise ValueError(f"_rebuild_qtensor: per_channel axis {axis} out of range for size {tuple(size)}")
            if isinstance(scales, list) and isinstance(zero_points, list):  # as PyTorch: the scheme's dtypes
                affine = scheme is ember.per_channel_affine
                scales = ember.tensor(scales, dtype=ember.float64 if affine else ember.float32, device=ints.device)
                zero_points = ember.tensor(
                    zero_points, dtype=ember.int64 if affine else ember.float32, device=ints.device
                )
            if not (isinstance(scales, ember.Tensor) and isinstance(zero_points, ember.Tensor)):
                raise CorruptCheckpoint(f"bad quantizer parameters {params!r}")
            if scales.numel() != size[axis] or zero_points.numel() != size[axis]:
                raise ValueError(
                    f"_rebuild_qtensor: per_channel scales/zero_points length must equal size[axis]={size[axis]}, "
                    f"got scales={scales.numel()}, zero_points={zero_points.numel()}"
                )
            if zero_points.is_floating_point():  # what PyTorch's float zero points make
                scheme = ember.per_channel_affine_float_qparams
            return ember.quantized.QuantizedTensor(ints, qdtype, scheme, scales, zero_points, axis)
        raise RuntimeError(f"Can't deserialize quantized tensor with qscheme {scheme}")

    def _rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype, metadata=None):
        """A tensor of ``dtype`` (uint16/32/64, float8) over a storage of bytes, as PyTorch saves those."""
        if not isinstance(dtype, ember.dtype) or dtype.name not in _BYTE_STORED:
            raise CorruptCheckpoint(f"_rebuild_tensor_v3 of dtype {dtype!r}")
        if not isinstance(storage, ember.Tensor) or storage.dtype is not ember.uint8:
            raise CorruptCheckpoint("_rebuild_tensor_v3 over a typed storage")
        if storage.numel() % dtype.itemsize:
            raise CorruptCheckpoint(f"a storage of {storage.numel()} bytes holds no whole {dtype} elements")
        return self._rebuild_tensor(storage.view(dtype), offset, size, stride, requires_grad, hooks, metadata)

    def _strided(self, storage, offset, size, stride, count):
        """A strided view of ``storage`` (its offset and strides kept, as in torch), or a bounded copy."""
        data = storage._data
        try:  # a view the backend knows as one of the storage: storage_offset() and sharing survive a re-save
            return storage._make(storage._backend.as_strided(data, size, stride, offset))
        except NotImplementedError:
            pass
        # a backend without strided views: a copy, so bound what overlapping views add up to
        self._copied += count * storage.element_size()
        if self._limit is not None and self._copied > self._limit:
            raise CorruptCheckpoint(
                "the strided views in this file add up to more bytes than the file holds; load with map_location='cpu'"
            )
        host = np.asarray(storage._backend.to_host(data))
        view = np.lib.stride_tricks.as_strided(host[offset:], size, tuple(s * host.itemsize for s in stride))
        return ember.tensor(np.ascontiguousarray(view), device=storage.device)


def _resolved(t, metadata):
    """The values of a tensor that PyTorch saved with its lazy conjugate (``{"conj": True}``) or
    negative (``{"neg": True}``) bit set over the unresolved values: ember has no such bits, so
    the loaded tensor holds the resolved values (a copy, as ``resolve_conj``/``resolve_neg``)."""
    if not isinstance(metadata, dict):
        raise CorruptCheckpoint(f"bad tensor metadata {metadata!r}")
    if metadata.get("conj"):
        t = t.conj_physical()
    if metadata.get("neg"):
        t = t.neg()
    return t


#: globals on PyTorch's weights-only allow-list that ember's loader cannot rebuild -> what they hold
_ALLOWED_BY_TORCH_EMBER_LACKS = {
    "torch._utils._rebuild_nested_tensor": "a nested tensor (torch.nested)",
    "torch._utils._rebuild_wrapper_subclass": "a tensor subclass without storage (a wrapper subclass)",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": "a tensor of a device saved through the CPU",
    "torch._utils._rebuild_device_tensor_from_numpy": "a tensor of a device saved through NumPy",
}

#: the namespaces of PyTorch's C extension that whole-model pickles name (a module holding F.gelu
#: names torch._C._nn.gelu; torch.linalg.norm is torch._C._linalg.linalg_norm), as ember modules
#: and the prefix of their functions' names there
_C_NAMESPACES = {
    "ember._C._nn": ("ember.nn.functional", ""),
    "ember._C._linalg": ("ember.linalg", "linalg_"),
    "ember._C._fft": ("ember.fft", "fft_"),
    "ember._C._special": ("ember.special", "special_"),
}
_C_RENAMED = {"log_sigmoid": "logsigmoid"}  # F.logsigmoid is torch._C._nn.log_sigmoid


def _ember_object(module, name, imports):
    """ember's object for PyTorch's global ``module.name`` (``module`` spelt as ember's): the attribute
    of that module, else of the nearest package above it that has one, as PyTorch's packages export
    their modules' classes (``torch.nn.modules.flatten.Flatten`` is ``ember.nn.Flatten``, which ember
    defines in another module). ``imports``: import modules not imported yet."""
    parts = module.split(".")
    while parts:
        path = ".".join(parts)
        found = sys.modules.get(path)
        if found is None and imports:
            try:
                found = importlib.import_module(path)
            except ImportError:
                found = None
        if found is not None and hasattr(found, name):
            return getattr(found, name)
        parts.pop()
    return None


def _c_extension_global(module, name):
    """ember's object for a global of PyTorch's C extension or its structseq types (``module`` spelt
    as ember's), or ``None``.

    ``torch.tanh`` pickles as ``getattr(torch._C._VariableFunctionsClass, "tanh")`` and
    ``Tensor.add`` as ``getattr(torch._C.TensorBase, "add")``: those classes are ember's namespace
    and its Tensor."""
    if module == "ember._C":
        known = {"_VariableFunctionsClass": ember, "TensorBase": ember.Tensor, "_TensorBase": ember.Tensor}
        return {**known, "Generator": ember.Generator}.get(name)
    if module == "ember.return_types":  # a structseq type, called as (values, {}) when unpickled
        kind = getattr(ember.return_types, name, None)
        return None if kind is None else functools.partial(_structseq, kind)
    if module not in _C_NAMESPACES:
        return None
    namespace, prefix = _C_NAMESPACES[module]
    short = name[len(prefix) :] if name.startswith(prefix) else name
    return getattr(sys.modules.get(namespace) or importlib.import_module(namespace), _C_RENAMED.get(short, short), None)


def _torch_base(found):
    """The first of PyTorch's own classes (``"torch.nn.modules.module.Module"``) that class ``found`` is built on, or
    ``None`` (where ``found`` is not a class, or is one of PyTorch's classes' ember spellings)."""
    if not isinstance(found, type):
        return None
    for kind in found.__mro__:
        if str(getattr(kind, "__module__", "")).split(".")[0] == "torch":
            return f"{kind.__module__}.{kind.__qualname__}"
    return None


def _structseq(kind, values, fields=None):
    """An ember return type (a named tuple) built as PyTorch's structseq types are unpickled."""
    return kind(*values)


def _python3_spelling(module, name):
    """A global's module and name as Python 3 spells them (protocol 2 pickles spell them as Python 2)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _ember_module(module):
    """The ember module of a PyTorch module's path (``torch.nn.modules.linear`` -> ``ember.nn.modules.linear``)."""
    return "ember" + module[len("torch") :] if module.split(".")[0] == "torch" else module


def unsafe_globals(stream):
    """The globals (``"module.name"``) that the pickle of the zip checkpoint in ``stream`` names
    and a ``weights_only`` load refuses, found by reading the pickle's opcodes (nothing runs)."""
    size = stream_size(stream)
    try:
        archive, end, _ = _open_archive(stream, size)
    except (zipfile.BadZipFile, CorruptCheckpoint):
        raise ValueError("Expected input to be a checkpoint returned by torch.save") from None
    with archive:
        if _torchscript_prefix(archive) is not None:  # torch's words
            raise ValueError(
                "Expected input to be a checkpoint returned by torch.save but got a torchscript checkpoint"
            )
        try:
            prefix, entries = _validated(archive, end)
        except CorruptCheckpoint as exc:
            raise ValueError(f"Expected input to be a checkpoint returned by torch.save ({exc})") from None
        pickled = archive.read(entries[prefix + "data.pkl"])
    checker = _Unpickler(io.BytesIO(), None, None, True, None)
    found = (_python3_spelling(module, name) for module, name in _globals_in_pickle(pickled))
    try:
        return [f"{module}.{name}" for module, name in found if checker.allowed(module, name) is None]
    except _NotTheFilesFault as exc:
        raise exc.original from None


def _globals_in_pickle(pickled):
    """The ``(module, name)`` globals a pickle names (GLOBAL, and STACK_GLOBAL over strings, memoized or not)."""
    found, pushed, memo = {}, [], {}
    for opcode, arg, _ in pickletools.genops(pickled):
        if opcode.name == "GLOBAL":
            found[tuple(arg.split(" ", 1))] = None
        elif opcode.name == "STACK_GLOBAL" and len(pushed) > 1 and all(isinstance(s, str) for s in pushed[-2:]):
            found[tuple(pushed[-2:])] = None
        if opcode.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif opcode.name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif opcode.stack_after:
            pushed.append(arg if opcode.stack_after == [pickletools.pyunicode] else None)
    return list(found)


def _buildable(obj):
    """Whether a ``weights_only`` load may set attributes of ``obj`` (pickle's BUILD), as PyTorch's allows."""
    if isinstance(obj, ember.Tensor) or type(obj) is collections.OrderedDict:
        return True
    allowed = (item[0] if isinstance(item, tuple) else item for item in get_safe_globals())
    return any(type(obj) is kind for kind in allowed)


def _with_storage_objects(obj, storages):
    """``obj`` with the storages in it (the tensors whose ids are in ``storages``; in containers) as
    ``ember.TypedStorage``, as ``torch.load`` gives a storage that was saved by itself."""
    if isinstance(obj, ember.Tensor):
        return (
            ember.TypedStorage._of(ember.UntypedStorage._of(storage_bytes(obj)), obj.dtype)
            if id(obj) in storages
            else obj
        )
    if isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = _with_storage_objects(value, storages)
    elif isinstance(obj, list):
        obj[:] = [_with_storage_objects(value, storages) for value in obj]
    elif type(obj) is tuple:
        return tuple(_with_storage_objects(value, storages) for value in obj)
    return obj


def _contiguous(size):
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= max(n, 1)
    return strides[::-1]


def _bfloat16():
    import ml_dtypes

    return ml_dtypes.bfloat16


def _encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding != "latin1":
        raise CorruptCheckpoint("bad bytes record")
    return text.encode("latin1")


def _rebuild_meta(dtype, size, stride, requires_grad):
    """A tensor saved on the meta device, which has no storage: a meta tensor again (as PyTorch loads it)."""
    return ember.empty_strided(size, stride, dtype=dtype, device="meta", requires_grad=requires_grad)


def _get_layout(name):
    """The layout PyTorch's file names (``"torch.strided"``, ``"torch.sparse_coo"``)."""
    found = getattr(ember, name[len("torch.") :], None) if isinstance(name, str) and name.startswith("torch.") else None
    if not isinstance(found, ember.layout):
        raise pickle.UnpicklingError(
            f"ember.load: the file holds a layout ember does not have ({name!r}); ember has strided, sparse_coo, "
            "sparse_csr, sparse_csc, sparse_bsr and sparse_bsc"
        )
    return found


def _rebuild_sparse_tensor(layout, data):
    """A sparse COO tensor from its parts ``(indices, values, size[, is_coalesced])``, or a compressed one
    (CSR, CSC, BSR, BSC) from ``(compressed_indices, plain_indices, values, size)``, as PyTorch saves them."""
    if layout in (ember.sparse_csr, ember.sparse_csc, ember.sparse_bsr, ember.sparse_bsc):
        if not (isinstance(data, tuple) and len(data) == 4 and all(isinstance(t, ember.Tensor) for t in data[:3])):
            raise CorruptCheckpoint("bad sparse compressed tensor record")
        try:  # the invariants are checked: a record that breaks them is refused
            return ember.sparse_compressed_tensor(*data[:3], data[3], layout=layout)
        except (RuntimeError, NotImplementedError) as exc:
            raise CorruptCheckpoint(f"bad sparse compressed tensor record: {exc}") from exc
    if layout is not ember.sparse_coo:
        raise pickle.UnpicklingError(
            f"ember.load: the file holds a sparse tensor of layout {layout}, which ember lacks"
        )
    if not (isinstance(data, tuple) and len(data) in (3, 4) and all(isinstance(t, ember.Tensor) for t in data[:2])):
        raise CorruptCheckpoint("bad sparse tensor record")
    indices, values, size, *coalesced = data
    return ember.sparse_coo_tensor(indices, values, size, is_coalesced=coalesced[0] if coalesced else None)


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    return _with_state(ember.nn.Parameter(data, requires_grad), state)


def _with_state(t, state):
    """``t`` with the Python attributes PyTorch saved from a tensor's ``__dict__`` (and slots):
    ``state`` is a dict of them, or a pair ``(dict, slots dict)``, or ``None``."""
    if not state:
        return t
    parts = state if isinstance(state, tuple) else (state,)
    if not (len(parts) <= 2 and all(part is None or isinstance(part, dict) for part in parts)):
        raise CorruptCheckpoint(f"bad tensor state {state!r}")
    for part in parts:
        for name, value in (part or {}).items():
            # only the tensor's own attributes: never one of its class (_data, grad, requires_grad...)
            if not isinstance(name, str) or hasattr(type(t), name):
                raise CorruptCheckpoint(f"the file sets the tensor attribute {name!r}")
            setattr(t, name, value)
    return t


class _TypeName:
    """A tensor type named in a file; a global that rebuilding may compare with but never call."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise CorruptCheckpoint(f"the file calls {self.name}, which PyTorch's format never does")


_TENSOR_TYPE = _TypeName("torch.Tensor")
_PARAMETER_TYPE = _TypeName("torch.nn.parameter.Parameter")


def _bytearray(data=b""):
    if not isinstance(data, (bytes, bytearray)):  # bytearray(10**12) would allocate a terabyte
        raise CorruptCheckpoint("bad bytearray record")
    return bytearray(data)


def _rebuild_from_type(func, new_type, args, state):
    result = func(*args)
    if new_type is _PARAMETER_TYPE and not isinstance(result, ember.nn.Parameter):
        result = ember.nn.Parameter(result, result.requires_grad)
    elif new_type is not _TENSOR_TYPE and new_type is not _PARAMETER_TYPE:
        # a tensor subclass of the program's own (weights_only loads reach here only for an allowed one)
        if not (isinstance(new_type, type) and issubclass(new_type, ember.Tensor)):
            raise CorruptCheckpoint(f"cannot rebuild a tensor of type {new_type!r}")
        if type(result) is not new_type:
            result = result.as_subclass(new_type)
        if getattr(new_type, "__setstate__", None) is not getattr(ember.Tensor, "__setstate__", None):
            result.__setstate__(state)  # the subclass's own, as PyTorch calls it
            return result
    return _with_state(result, state)


def _data_offset(mapped, info):
    """Where entry ``info``'s bytes start in the mapped file (after its local header)."""
    header = bytes(mapped[info.header_offset : info.header_offset + 30])
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise CorruptCheckpoint(f"entry {info.filename!r} has no local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_length + extra_length
    if start + info.file_size > len(mapped):
        raise CorruptCheckpoint(f"entry {info.filename!r} runs past the end of the file")
    return start


def load(stream, map_location=None, weights_only=True, mmap=False, pickle_load_args=None):
    """Read a PyTorch zip checkpoint (the directory validated before any tensor data).

    With ``mmap=True`` (``stream`` a file on disk) the storages are copy-on-write views of the
    memory-mapped file rather than copies read into memory, as ``torch.load(mmap=True)``.
    ``pickle_load_args`` are the unpickler's keywords (``encoding``, ...), as ``torch.load`` passes them.
    """
    size = stream_size(stream)
    if size is None:  # the zip directory is at the end: a pipe is read whole first (bounded by what it holds)
        stream = io.BytesIO(stream.read())
        size = len(stream.getbuffer())
    here = stream.tell()
    head = stream.read(4)
    stream.seek(here)
    if head[:1] == b"\x80":  # a pickle: torch.save(..., _use_new_zipfile_serialization=False)
        if mmap:
            raise CorruptCheckpoint(
                "mmap can only be used with files saved with torch.save(f, _use_new_zipfile_serialization=True); "
                "this one is in the legacy format"
            )
        return _load_legacy(stream, map_location, weights_only, size, pickle_load_args)
    if head != b"PK\x03\x04":
        raise CorruptCheckpoint("not a zip archive (PyTorch's format starts with a zip entry)")
    try:
        archive, end, bounded = _open_archive(stream, size)
    except zipfile.BadZipFile as exc:
        raise CorruptCheckpoint(f"not a zip archive ({exc})") from None
    with archive:
        if _torchscript_prefix(archive) is not None:  # torch.load's check (it dispatches to torch.jit.load)
            raise _NotTheFilesFault(
                RuntimeError(
                    "ember.load: the file is a TorchScript archive (written by torch.jit.save or "
                    "ScriptModule.save), not a torch.save checkpoint; ember cannot run TorchScript code. "
                    "ember.jit.load reads its parameters and buffers into a module whose state_dict() loads "
                    "into an ember model; torch.jit.load runs it in PyTorch"
                )
            )
        prefix, entries = _validated(archive, end)
        mapped = _mapped(stream) if mmap else None
        with archive.open(entries[prefix + "data.pkl"]) as pickled:
            storages = _ZipStorages(archive, prefix, entries, mapped)
            unpickler = _Unpickler(
                io.BufferedReader(pickled), storages, map_location, weights_only, size, pickle_load_args
            )
            result = unpickler.load()
    if bounded:  # the stream holds more after this archive: the next load reads on from its end
        stream.seek(end)
    return result


def _torchscript_prefix(archive):
    """The record prefix (``"archive/"``) of a TorchScript archive, which holds ``constants.pkl`` beside
    ``data.pkl`` (torch.serialization's ``_is_torchscript_zip``); ``None`` for other zip files."""
    names = archive.NameToInfo
    for name in names:
        if name.count("/") == 1 and name.endswith("/data.pkl") and name[: -len("data.pkl")] + "constants.pkl" in names:
            return name[: -len("data.pkl")]
    return None


class _ScriptObject:
    """An object of a TorchScript class as ``torch.jit.save`` pickled it: its qualified name
    (``__torch__.torch.nn.modules.linear.Linear``) and its attributes (set by pickle's BUILD)."""

    qualified_name = ""
    state: dict = {}  # noqa: RUF012 - replaced (never changed) by __setstate__

    def __setstate__(self, state):
        if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
            raise CorruptCheckpoint(f"bad attributes of a {self.qualified_name}")
        self.state = state


def _jit_list(data):
    if not isinstance(data, list):
        raise CorruptCheckpoint(f"bad TorchScript list {data!r}")
    return data


#: torch.jit._pickle's functions, which TorchScript archives call for typed lists and container type tags
_JIT_PICKLE = {
    "build_intlist": _jit_list,
    "build_tensorlist": _jit_list,
    "build_doublelist": _jit_list,
    "build_boollist": _jit_list,
    "restore_type_tag": lambda value, type_str: value,
}


#: the pickle opcodes PyTorch's weights-only unpickler reads (torch/_weights_only_unpickler.py); it refuses the
#: others (those of protocols 3 to 5: bytes, frames, STACK_GLOBAL, frozensets...) with "Unsupported operand"
_WEIGHTS_ONLY_OPCODES = (
    "GLOBAL NEWOBJ REDUCE BUILD APPEND APPENDS SETITEM SETITEMS MARK TUPLE TUPLE1 TUPLE2 TUPLE3 NONE NEWFALSE "
    "NEWTRUE EMPTY_TUPLE EMPTY_LIST EMPTY_DICT EMPTY_SET BININT BININT1 BININT2 BINFLOAT BINUNICODE "
    "SHORT_BINSTRING BINPERSID BINGET LONG_BINGET BINPUT LONG_BINPUT LONG1 PROTO STOP"
).split()


def _refuse_opcode(name, proto, code, unpickler):
    raise pickle.UnpicklingError(
        f"Weights only load failed: unsupported pickle opcode {name} ({code}) of pickle protocol {proto}, which "
        "PyTorch's weights-only unpickler does not read (it reads torch.save's default protocol, 2). Loading "
        "this file with weights_only=False runs code from it: do that only for a file you trust; or save it "
        "again with pickle_protocol=2."
    )


def _weights_only_dispatch():
    allowed = {getattr(pickle, name)[0] for name in _WEIGHTS_ONLY_OPCODES}
    dispatch = dict(_Unpickler.dispatch)
    for opcode in pickletools.opcodes:
        code = opcode.code.encode("latin1")[0]
        if code not in allowed and code in dispatch:
            dispatch[code] = functools.partial(_refuse_opcode, opcode.name, opcode.proto, code)
    return dispatch


_WEIGHTS_ONLY_DISPATCH = _weights_only_dispatch()


class _ScriptUnpickler(_Unpickler):
    """The weights-only unpickler, plus TorchScript's own classes (``__torch__.*``) rebuilt as
    :class:`_ScriptObject` records (no code of the archive runs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._classes = {}

    def find_class(self, module, name):
        if module == "__torch__" or module.startswith("__torch__."):
            qualified = f"{module}.{name}"
            if qualified not in self._classes:
                self._classes[qualified] = type(name, (_ScriptObject,), {"qualified_name": qualified})
            return self._classes[qualified]
        if module == "torch.jit._pickle" and name in _JIT_PICKLE:  # typed lists and tags: the value itself
            return _JIT_PICKLE[name]
        return super().find_class(module, name)

    def _load_build(self):
        if isinstance(self.stack[-2], _ScriptObject):
            pickle._Unpickler.load_build(self)
        else:
            _Unpickler._load_build(self)

    dispatch = dict(_Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _load_build


def load_torchscript(stream, map_location=None, extra_files=None):
    """``(root, classes)`` of the TorchScript archive in ``stream`` (a seekable binary file): ``root``, its
    ``data.pkl`` with TorchScript objects as :class:`_ScriptObject` records and tensors as ember's, and
    ``classes``: each class's qualified name -> ``(parameter names, buffer names, constants)`` as its code declares
    them.
    ``extra_files`` (a dict of names) gets the contents of the archive's ``extra/<name>`` records, as
    ``torch.jit.load``'s ``_extra_files``."""
    size = stream_size(stream)
    try:
        archive, end, _ = _open_archive(stream, size)
    except zipfile.BadZipFile as exc:
        raise CorruptCheckpoint(f"not a zip archive ({exc})") from None
    with archive:
        prefix = _torchscript_prefix(archive)
        if prefix is None:
            raise _NotTheFilesFault(
                RuntimeError(
                    "ember.jit.load: the file is not a TorchScript archive (it has no constants.pkl); "
                    "a checkpoint written by torch.save is read by ember.load"
                )
            )
        entries = archive.NameToInfo
        classes = {}
        code = f"{prefix}code/"
        for name in entries:
            if name.startswith(code) and name.endswith(".py"):
                module = name[len(code) : -len(".py")].replace("/", ".")
                classes.update(_declared_state(module, archive.read(name).decode("utf-8", "replace")))
        for key in extra_files or {}:  # as torch.jit.load: b"" for a name the archive lacks
            record = entries.get(f"{prefix}extra/{key}")
            extra_files[key] = archive.read(record) if record is not None else b""
        for info in entries.values():
            if info.CRC == 0 and info.file_size:  # written without CRC-32s: read unchecked, as by _validated
                del info.CRC
        storages = _ZipStorages(archive, prefix, entries)
        with archive.open(entries[prefix + "data.pkl"]) as pickled:
            root = _ScriptUnpickler(io.BufferedReader(pickled), storages, map_location, True, size).load()
    return root, classes


_CLASS_LINE = re.compile(r"^class (\w+)\(")
_DECLARED = re.compile(r"^  __(parameters|buffers)__ = \[(.*)\]\s*$")
_CONSTANT = re.compile(r"^  (\w+) : Final\[.*\] = (.*)$")


def _declared_state(module, source):
    """``{qualified class name: (parameters, buffers, constants)}`` of the TorchScript code of ``module``, from
    the ``__parameters__ = [...]`` and ``__buffers__ = [...]`` lines of each class and its ``Final`` constants
    (``eps : Final[float] = 1e-05``) whose values are Python literals."""
    found, current = {}, None
    for line in source.splitlines():
        match = _CLASS_LINE.match(line)
        if match:
            current = found[f"{module}.{match.group(1)}"] = ([], [], {})
            continue
        if current is None:
            continue
        match = _DECLARED.match(line)
        if match:
            names = [part.strip().strip('"') for part in match.group(2).split(",") if part.strip()]
            current[0 if match.group(1) == "parameters" else 1].extend(names)
        elif match := _CONSTANT.match(line):
            try:
                current[2][match.group(1)] = ast.literal_eval(match.group(2))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass  # a constant that is no literal (a tensor, a type): not given
    return found


def _mapped(stream):
    """The file of ``stream`` memory-mapped as ``set_default_mmap_options`` asks: copy-on-write (``MAP_PRIVATE``,
    the default), or shared with the file (``MAP_SHARED``: writes to the tensors reach it)."""
    if ember.serialization.get_default_mmap_options() != getattr(_mmap, "MAP_SHARED", None):
        return _mmap.mmap(stream.fileno(), 0, access=_mmap.ACCESS_COPY)
    with open(stream.name, "r+b") as writable:  # the map outlives the file object
        return _mmap.mmap(writable.fileno(), 0, access=_mmap.ACCESS_WRITE)


def _open_archive(stream, size):
    """``(archive, end, bounded)``: the zip archive that starts at ``stream``'s position, and where it ends.

    A zip archive is read from its end (its central directory), so a stream that several ``torch.save``
    calls wrote one after another would give the last archive's values whatever the position (PyTorch's
    reader reads the one at the position only where the archives are laid out alike, and fails otherwise).
    That archive's end is then found (its end-of-directory record, checked against the directory it
    closes) and the archive read through a window that ends there (``bounded``), as the legacy format's
    checkpoints are read one after another."""
    here = stream.tell()
    end = None if size is None else here + size
    archive = zipfile.ZipFile(stream)
    first = min((info.header_offset for info in archive.infolist()), default=here)
    if first <= here:
        return archive, end, False
    archive.close()  # the caller's stream stays open
    end = _archive_end(stream, here)
    stream.seek(here)
    return zipfile.ZipFile(_Window(stream, end)), end, True


_EOCD, _ZIP64_EOCD, _ZIP64_LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


def _archive_end(stream, here):
    """The position after the first zip archive from ``here``: the end of the first end-of-directory record
    whose directory (zip64's where it has one) ends where the record begins."""

    def at(position, length):
        stream.seek(position)
        return stream.read(length)

    position, tail = here, b""
    while True:
        chunk = at(position, 1 << 20)
        if not chunk:
            raise CorruptCheckpoint("the zip archive at the stream's position has no end-of-directory record")
        block, start = tail + chunk, position - len(tail)
        found = block.find(_EOCD)
        while found >= 0:
            record = start + found
            fields = at(record, 22)
            if len(fields) == 22:
                _, _, _, _, _, cd_size, cd_offset, comment = struct.unpack("<4s4H2LH", fields)
                directory_end = here + cd_offset + cd_size
                if directory_end == record:
                    return record + 22 + comment
                locator = at(record - 20, 20)
                if len(locator) == 20 and locator[:4] == _ZIP64_LOCATOR:
                    zip64 = here + struct.unpack("<Q", locator[8:16])[0]
                    header = at(zip64, 56)
                    if len(header) == 56 and header[:4] == _ZIP64_EOCD:
                        cd_size, cd_offset = struct.unpack("<QQ", header[40:56])
                        if here + cd_offset + cd_size == zip64 and zip64 + 56 <= record - 20:
                            return record + 22 + comment
            found = block.find(_EOCD, found + 1)
        tail, position = block[-3:], position + len(chunk)


class _Window(io.RawIOBase):
    """``stream`` read only up to ``end`` (positions are the stream's own)."""

    def __init__(self, stream, end):
        self._stream, self._end = stream, end

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._stream.tell()

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_END:
            return self._stream.seek(self._end + offset)
        return self._stream.seek(offset, whence)

    def readinto(self, buffer):
        left = max(0, self._end - self._stream.tell())
        view = memoryview(buffer).cast("B")[:left]
        return self._stream.readinto(view) if len(view) else 0


class _DataUnpickler(pickle.Unpickler):
    """The legacy format's plain records (magic number, version, system info, storage keys): no globals."""

    def find_class(self, module, name):
        raise CorruptCheckpoint(f"a legacy checkpoint's header names the global {module}.{name}")


def _load_legacy(stream, map_location, weights_only, size, pickle_load_args):
    """Read PyTorch's legacy format: three header pickles, the object's pickle, the storage keys' pickle,
    then each storage's element count and bytes. The tensors are rebuilt over storages allocated on the
    CPU and filled after the pickle; where ``map_location`` (or a saved device) puts storages elsewhere,
    the object's pickle is read a second time over the filled storages."""
    start = stream.tell()
    if _DataUnpickler(stream).load() != _LEGACY_MAGIC:
        raise CorruptCheckpoint("not a PyTorch checkpoint (neither a zip archive nor the legacy magic number)")
    if _DataUnpickler(stream).load() != _LEGACY_PROTOCOL:
        raise CorruptCheckpoint("unknown legacy protocol version")
    info = _DataUnpickler(stream).load()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise CorruptCheckpoint("only little-endian legacy checkpoints are read")
    body = stream.tell()
    storages = _LegacyStorages(size - (body - start))
    first = _Unpickler(stream, storages, "cpu", weights_only, size, pickle_load_args)
    result = first.load()
    keys = _DataUnpickler(stream).load()
    if ember.serialization.skipping_data():  # skip_data: the storages' bytes are left unread, as torch leaves them
        for host in storages.hosts.values():
            host.fill(0)
    else:
        storages.read(stream, keys)
    if all(_on_cpu(location, map_location) for location in first._locations):
        return result  # the tensors already view the filled storages
    stream.seek(body)
    return _Unpickler(stream, storages, map_location, weights_only, size, pickle_load_args).load()


def _on_cpu(location, map_location):
    """Whether a storage saved on ``location`` is placed on the CPU (as it was read) by ``map_location``."""
    if callable(map_location) and not isinstance(map_location, (str, ember.device)):
        return False
    if isinstance(map_location, dict):
        target = map_location.get(location, location)
    else:
        target = location if map_location is None else map_location
    try:
        return ember.device(target) == ember.device("cpu")
    except (RuntimeError, TypeError, ValueError):  # not a device: the placement reports it
        return False


@hookimpl
def ember_register_checkpoint_formats(registry):
    registry.register_format("torch", save, load, suffixes=(".pt", ".pth", ".bin", ".tar"))
