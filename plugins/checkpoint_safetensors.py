"""The ``safetensors`` checkpoint format (``.safetensors`` files), read and written by ember itself.

Tensors go in the payload under the state_dict's own key names (so other safetensors readers
see ``"model.weight"``, not numbers); the structure of the saved object (see
:func:`ember.serialization.flatten`) goes as JSON in the metadata under the key ``ember`` (beside ``"format": "pt"``). A
safetensors file written by another library (no ``ember`` key) loads as a flat dict of name to
tensor.

Reading validates the whole header first (size, JSON, dtypes, shapes, and offsets that tile the
data exactly: no gap, no overlap, nothing past the end), then reads each tensor's bytes in
bounded pieces straight into the array that is returned.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ember.dtypes import as_dtype, host_dtype
from ember.plugin import hookimpl
from ember.serialization import CorruptCheckpoint, flatten, read_exactly, stream_size, unflatten

__all__ = ["ember_register_checkpoint_formats", "save", "load", "read_header"]

_KEY = "ember"
_MAX_HEADER = 100 << 20  # the safetensors library's own limit
_DTYPES = {
    "BOOL": np.bool_,
    "U8": np.uint8,
    "I8": np.int8,
    "I16": np.int16,
    "U16": np.uint16,
    "F16": np.float16,
    "I32": np.int32,
    "U32": np.uint32,
    "F32": np.float32,
    "F64": np.float64,
    "I64": np.int64,
    "U64": np.uint64,
    "C64": np.complex64,
    "C128": np.complex128,
}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
#: the codes of the types NumPy holds through ml_dtypes (imported only where a file or tensor has one)
_ML_DTYPES = {
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz",
    "F8_E8M0": "float8_e8m0fnu",
}
_ML_CODES = {name: code for code, name in _ML_DTYPES.items()}


def _native(code):
    """The NumPy dtype of a safetensors dtype code (KeyError for an unknown one)."""
    if code in _ML_DTYPES:
        return host_dtype(as_dtype(_ML_DTYPES[code]))
    return np.dtype(_DTYPES[code])


def save(obj, stream):
    """Write ``obj`` to ``stream`` in the safetensors layout."""
    tree, arrays = flatten(obj)
    header, offset = {}, 0
    for name, array in arrays.items():
        array = arrays[name] = np.asarray(array, order="C").astype(array.dtype.newbyteorder("<"), copy=False)
        code = _CODES.get(array.dtype.newbyteorder("=")) or _ML_CODES.get(array.dtype.name)
        if code is None:
            raise TypeError(f"ember.save: safetensors cannot hold arrays of dtype {array.dtype}")
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    # "format": "pt" as safetensors' save_model and transformers' save_pretrained write it: transformers'
    # from_pretrained refuses a file with metadata but no known format
    header["__metadata__"] = {"format": "pt", _KEY: json.dumps(tree, allow_nan=False)}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    stream.write(len(text).to_bytes(8, "little"))
    stream.write(text)
    for array in arrays.values():
        stream.write(memoryview(array.reshape(-1).view(np.uint8)))


def read_header(stream, size=None):
    """The validated header of a safetensors stream: ``(entries sorted by offset, metadata)``.

    ``size``, when known, is the number of bytes in the stream; the data must fill it exactly.
    Reads only the header's bytes.
    """
    head = stream.read(8)
    if len(head) != 8:
        raise CorruptCheckpoint("the file is shorter than a safetensors header")
    length = int.from_bytes(head, "little")
    if length < 2 or length > _MAX_HEADER or (size is not None and 8 + length > size):
        raise CorruptCheckpoint(f"header length {length} is impossible for this file")
    text = stream.read(length)
    if len(text) != length:
        raise CorruptCheckpoint("the file ends inside the header")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptCheckpoint(f"the header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CorruptCheckpoint("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CorruptCheckpoint("the metadata is not a map of strings")
    entries = []
    for name, entry in header.items():
        try:
            dtype = _native(entry["dtype"]).newbyteorder("<")
            shape = tuple(entry["shape"])
            begin, end = entry["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise CorruptCheckpoint(f"tensor {name!r} has a malformed entry {entry!r}") from None
        if not all(type(n) is int and n >= 0 for n in (*shape, begin, end)):
            raise CorruptCheckpoint(f"tensor {name!r} has a malformed entry {entry!r}")
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise CorruptCheckpoint(f"tensor {name!r}: offsets {begin}..{end} do not fit shape {shape} of {dtype}")
        entries.append((begin, end, name, dtype, shape))
    entries.sort(key=lambda e: (e[0], e[1]))
    expected = 0
    for begin, end, name, _, _ in entries:
        if begin != expected:
            raise CorruptCheckpoint(f"tensor {name!r} starts at {begin}, expected {expected} (gap or overlap)")
        expected = end
    if size is not None and 8 + length + expected != size:
        raise CorruptCheckpoint(f"the tensors need {expected} bytes of data, the file has {size - 8 - length}")
    return entries, metadata


def load(stream, map_location=None, weights_only=True):
    """Read a safetensors stream (validated before any tensor data is read)."""
    entries, metadata = read_header(stream, stream_size(stream))
    arrays = {}
    for _, _, name, dtype, shape in entries:
        array = np.empty(shape, dtype=dtype)
        read_exactly(stream, array)
        arrays[name] = array if dtype.isnative else array.astype(dtype.newbyteorder("="))
    if _KEY not in metadata:
        tree = {"dict": [[name, {"tensor": name}] for name in sorted(arrays)]}
    else:
        try:
            tree = json.loads(metadata[_KEY])
        except ValueError as exc:
            raise CorruptCheckpoint(f"the structure is not JSON ({exc})") from None
    return unflatten(tree, arrays, map_location)


@hookimpl
def ember_register_checkpoint_formats(registry):
    registry.register_format("safetensors", save, load, suffixes=(".safetensors",))
