"""``ember.save`` / ``ember.load``: checkpoints of tensors and Python data.

Formats are plugins (hook ``ember_register_checkpoint_formats``), chosen by the file's suffix
or ``format=``:

- ``torch`` (``.pt``, ``.pth``, ``.bin``, and the default): PyTorch's zip format, read and
  written without PyTorch (:mod:`ember.plugins.checkpoint_torch`). Loading is restricted to
  data (tensors, containers, numbers, strings, dtypes, devices, and the globals allowed by
  :func:`add_safe_globals`) unless the caller passes ``weights_only=False``.
- ``safetensors`` (``.safetensors``): tensors under the state_dict's own key names, the
  structure of the saved object as JSON in the metadata (:mod:`ember.plugins.checkpoint_safetensors`).

Every loader validates the whole header before reading tensor data, reads tensor data in
bounded pieces straight into the arrays it returns (peak memory near the returned size), and
rejects files whose entries overlap, so the total returned is bounded by the file's size.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import enum
import errno
import functools
import inspect
import io
import math
import mmap as _mmap
import os
import pickle
import socket
import stat
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeAlias, TypeGuard

import numpy as np

from . import plugin
from ._serialization_state import serialization_tls as _serialization_tls
from ._serialization_state import skipping_data
from .device import device
from .dtypes import as_dtype, dtype
from .tensor import Tensor, from_numpy, tensor
from .unstrided import is_strided

#: what :func:`save` writes to and :func:`load` reads from: a path or a binary file object
FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]
#: where :func:`load` puts the tensors: a device (or its name), a mapping of saved device
#: names to new ones, or a function ``fn(tensor, location) -> tensor or None``
# a checkpoint format's functions: ``saver(obj, stream)``, ``loader(stream, map_location, weights_only[, mmap])``
_Saver: TypeAlias = Callable[[Any, IO[bytes]], None]
_Loader: TypeAlias = Callable[[IO[bytes], "MapLocation", bool], Any]
MapLocation: TypeAlias = device | str | dict[str, str] | Callable[[Tensor, str], Tensor | None] | None
#: what :func:`add_safe_globals` takes: a class or function, or a pair (it, "module.qualname")
_SafeGlobal: TypeAlias = Callable[..., Any] | tuple[Callable[..., Any], str]

__all__ = [
    "save",
    "load",
    "CheckpointFormatRegistry",
    "CorruptCheckpoint",
    "DEFAULT_FORMAT",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "default_restore_location",
    "DEFAULT_PROTOCOL",
    "SourceChangeWarning",
    "LoadEndianness",
    "get_default_load_endianness",
    "set_default_load_endianness",
    "get_crc32_options",
    "set_crc32_options",
    "get_default_mmap_options",
    "set_default_mmap_options",
    "register_package",
    "location_tag",
    "skip_data",
]

#: The pickle protocol of :func:`save` in PyTorch's format (as ``torch.serialization.DEFAULT_PROTOCOL``).
DEFAULT_PROTOCOL = 2

#: The format :func:`save` writes when neither ``format=`` nor the file's suffix picks one (PyTorch's default).
DEFAULT_FORMAT = "torch"

_SAVABLE = (
    "tensors, NumPy arrays, None, bools, ints, floats, strings, bytes, ember.dtype, ember.device, "
    "and dicts, lists and tuples of these"
)


class CheckpointFormatRegistry:
    """The checkpoint formats that :func:`ember.save` and :func:`ember.load` can use.

    A format is a pair of functions over binary streams: ``saver(obj, stream)`` writes ``obj``
    and ``loader(stream, map_location, weights_only) -> obj`` reads it back. A loader raises
    :class:`CorruptCheckpoint` (or any exception but ``ImportError``) for bytes it cannot read;
    :func:`ember.load` reports it as a corrupt checkpoint naming the file.
    """

    def __init__(self) -> None:
        self._formats: dict[str, tuple[_Saver, _Loader]] = {}
        self._suffixes: dict[str, str] = {}

    def register_format(self, name: str, saver: _Saver, loader: _Loader, suffixes: Iterable[str] = ()) -> None:
        """Add format ``name``; files whose name ends with one of ``suffixes`` use it by default."""
        if name in self._formats:
            raise ValueError(f"checkpoint format {name!r} is already registered")
        self._formats[name] = (saver, loader)
        for suffix in suffixes:
            self._suffixes[suffix.lower()] = name

    def names(self) -> list[str]:
        """The registered format names."""
        return sorted(self._formats)

    def get(self, name: str) -> tuple[_Saver, _Loader]:
        """The ``(saver, loader)`` pair of format ``name``."""
        try:
            return self._formats[name]
        except KeyError:
            raise ValueError(
                f"unknown checkpoint format {name!r}; registered formats: {self.names() or 'none'}"
            ) from None

    def for_path(self, path: str | os.PathLike[str] | None) -> str:
        """The format a file name asks for by its suffix, else :data:`DEFAULT_FORMAT`."""
        if path is not None:
            for suffix, name in self._suffixes.items():
                if os.fspath(path).lower().endswith(suffix):
                    return name
        return DEFAULT_FORMAT


class CorruptCheckpoint(ValueError):
    """Raised by format loaders for bytes that are not a valid checkpoint."""


class SourceChangeWarning(Warning):
    """PyTorch's warning that a whole module's saved source differs from its class now; defined so
    that programs that filter it (``warnings.simplefilter("ignore", SourceChangeWarning)``) run."""


_builtin_lock = threading.Lock()


# -- options of save and load (torch.serialization's) ----------------------------------------
class LoadEndianness(enum.Enum):
    """The byte order :func:`load` reads a PyTorch checkpoint's tensors in where the file does not record one
    (files written before PyTorch 2.1); see :func:`set_default_load_endianness`."""

    NATIVE = 1
    LITTLE = 2
    BIG = 3


def _config() -> Any:
    """:mod:`ember.utils.serialization.config`, which holds the options (imported on first use, as PyTorch's)."""
    from ember.utils.serialization import config

    return config


def get_default_load_endianness() -> LoadEndianness | None:
    """The byte order assumed for checkpoints that record none (``None``, the default: the machine's own).

    Example::

        >>> ember.serialization.get_default_load_endianness() is None
        True
    """
    return _config().load.endianness


def set_default_load_endianness(endianness: LoadEndianness | None) -> None:
    """Set the byte order :func:`load` assumes for a PyTorch checkpoint that records none (``torch.save``
    records it since PyTorch 2.1; older files written on a big-endian machine need ``LoadEndianness.BIG``).

    Args:
        endianness (LoadEndianness or None): ``None`` or ``NATIVE``: the machine's own.

    Raises:
        TypeError: ``endianness`` is neither a :class:`LoadEndianness` nor ``None``.

    Example::

        >>> ember.serialization.set_default_load_endianness(ember.serialization.LoadEndianness.LITTLE)
        >>> ember.serialization.get_default_load_endianness()
        <LoadEndianness.LITTLE: 2>
        >>> ember.serialization.set_default_load_endianness(None)
    """
    if not isinstance(endianness, LoadEndianness) and endianness is not None:
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _config().load.endianness = endianness


def get_crc32_options() -> bool:
    """Whether :func:`save` is asked to compute the CRC-32 of each record (``True``, the default).

    Example::

        >>> ember.serialization.get_crc32_options()
        True
    """
    return _config().save.compute_crc32


def set_crc32_options(compute_crc32: bool) -> None:
    """Ask :func:`save` to compute (or skip) each record's CRC-32, as ``torch.serialization.set_crc32_options``.

    PyTorch skips them to save time on large checkpoints; ember's zip writer computes them either way
    (zlib's CRC-32 runs at memory speed), so its files always pass ``unzip -t``. :func:`load` reads files
    written without them.

    Args:
        compute_crc32 (bool): the flag :func:`get_crc32_options` returns.

    Example::

        >>> ember.serialization.set_crc32_options(False)
        >>> ember.serialization.get_crc32_options()
        False
        >>> ember.serialization.set_crc32_options(True)
    """
    _config().save.compute_crc32 = bool(compute_crc32)


def get_default_mmap_options() -> int:
    """The flags of the memory maps that ``load(..., mmap=True)`` makes: ``mmap.MAP_PRIVATE`` (the default:
    writes to the tensors stay in memory) or ``mmap.MAP_SHARED`` (they reach the file).

    Example::

        >>> import mmap
        >>> ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
        True
    """
    return _config().load.mmap_flags


class set_default_mmap_options:  # noqa: N801 - torch's name: a function that is also a context manager
    """Set the flags of the memory maps that ``load(..., mmap=True)`` makes, for the program or (used as a context
    manager) for the loads inside the ``with`` block: ``mmap.MAP_SHARED`` maps the file so that writes to the
    loaded tensors reach it, ``mmap.MAP_PRIVATE`` (the default) keeps them in memory.

    Args:
        flags (int): ``mmap.MAP_PRIVATE`` or ``mmap.MAP_SHARED``.

    Raises:
        ValueError: ``flags`` is neither.

    Example::

        >>> import mmap
        >>> with ember.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        ...     ember.serialization.get_default_mmap_options() == mmap.MAP_SHARED
        True
        >>> ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
        True
    """

    def __init__(self, flags: int) -> None:
        private, shared = getattr(_mmap, "MAP_PRIVATE", None), getattr(_mmap, "MAP_SHARED", None)
        if private is None:
            raise RuntimeError("Changing the default mmap options is currently not supported for Windows")
        if flags != private and flags != shared:
            raise ValueError(
                "Invalid argument in function set_default_mmap_options, "
                f"expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got {flags}"
            )
        self.prev = _config().load.mmap_flags
        _config().load.mmap_flags = flags

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _config().load.mmap_flags = self.prev


plugin.declare_registry("ember_register_checkpoint_formats", CheckpointFormatRegistry)


def _registry():
    registry = plugin.checkpoint_format_registry()
    if "torch" not in registry._formats or "safetensors" not in registry._formats:
        with _builtin_lock:
            # ember's own formats work without plugin autoload (EMBER_DISABLE_PLUGIN_AUTOLOAD=1) too;
            # deferred: the format plugins are built on this module
            from ember.plugins import checkpoint_safetensors, checkpoint_torch

            for builtin, name in ((checkpoint_torch, "torch"), (checkpoint_safetensors, "safetensors")):
                if name not in registry._formats:
                    builtin.ember_register_checkpoint_formats(registry)
    return registry


# -- the globals a weights_only load may rebuild --------------------------------------------
_safe_globals: list[_SafeGlobal] = []


def add_safe_globals(safe_globals: list[_SafeGlobal]) -> None:
    """Allow ``weights_only=True`` loads to rebuild these classes or functions.

    As ``torch.serialization.add_safe_globals``: each item is the object itself, or a pair
    ``(object, "module.qualname")`` naming it as it is spelt in the file.

    Args:
        safe_globals (list): classes and functions to trust.

    Example::

        >>> class Config:
        ...     pass
        >>> ember.serialization.add_safe_globals([Config])
        >>> Config in ember.serialization.get_safe_globals()
        True
        >>> ember.serialization.clear_safe_globals()
    """
    _safe_globals.extend(item for item in dict.fromkeys(safe_globals) if item not in _safe_globals)


def get_safe_globals() -> list[_SafeGlobal]:
    """The globals added by :func:`add_safe_globals` (a new list)."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global added by :func:`add_safe_globals`."""
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[_SafeGlobal]) -> Iterator[None]:
    """A context manager that allows ``safe_globals`` for the loads inside it.

    As ``torch.serialization.safe_globals``: entering adds them as :func:`add_safe_globals` does, leaving
    removes them, even those that were allowed before the ``with`` block; globals added inside the block
    by :func:`add_safe_globals` stay.

    Example::

        >>> import collections
        >>> with ember.serialization.safe_globals([collections.Counter]):
        ...     collections.Counter in ember.serialization.get_safe_globals()
        True
        >>> collections.Counter in ember.serialization.get_safe_globals()
        False
    """
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals[:] = [item for item in _safe_globals if item not in safe_globals]


def get_unsafe_globals_in_checkpoint(f: FileLike) -> list[str]:
    """The classes and functions (``"module.name"``) that a checkpoint in PyTorch's format names and a
    ``weights_only`` load refuses: neither on PyTorch's allow-list nor added by :func:`add_safe_globals`.

    The pickle is read, not run: objects a pickle builds on the fly are not listed.

    Args:
        f: a path or a binary file object with ``read`` and ``seek``, of a file that ``ember.save``
            or ``torch.save`` wrote.

    Raises:
        ValueError: the file is not a checkpoint in PyTorch's zip format.

    Example::

        >>> import collections, io
        >>> buffer = io.BytesIO()
        >>> ember.save({"w": ember.ones(2), "counts": collections.Counter("ab"), "point": 1 + 2j}, buffer)
        >>> _ = buffer.seek(0)
        >>> ember.serialization.get_unsafe_globals_in_checkpoint(buffer)
        []
    """
    from ember.plugins.checkpoint_torch import unsafe_globals  # deferred: the plugin is built on this module

    with open(f, "rb") if _is_path(f) else contextlib.nullcontext(f) as stream:
        return unsafe_globals(stream)


def default_restore_location(storage: Tensor, location: str) -> Tensor:
    """``storage`` (as a ``map_location`` function gets it) on the device named ``location``.

    As ``torch.serialization.default_restore_location``, the fallback of ``map_location``
    functions: ``map_location=lambda storage, loc: default_restore_location(storage, "cpu")``.
    The deserializers of :func:`register_package` are tried in priority order (ember's own, for
    every device ember has, at priorities 10 and 20) until one returns a tensor.

    Raises:
        RuntimeError: no deserializer takes ``location`` (it names no device ember can place tensors on).

    Example::

        >>> import io
        >>> buffer = io.BytesIO()
        >>> ember.save({"w": ember.ones(2)}, buffer)
        >>> _ = buffer.seek(0)
        >>> ember.load(buffer, map_location=lambda s, loc: ember.serialization.default_restore_location(s, "cpu"))
        {'w': tensor([1., 1.])}
    """
    for _, _, deserializer in list(_package_registry):
        result = deserializer(storage, location)
        if result is not None:
            return result
    raise RuntimeError(f"don't know how to restore data location of {type(storage).__name__} (tagged with {location})")


_Tagger: TypeAlias = Callable[[Any], "str | None"]
_Deserializer: TypeAlias = Callable[[Any, str], Any]
#: (priority, tagger, deserializer), lowest priority first: torch.serialization's _package_registry
_package_registry: list[tuple[int, _Tagger, _Deserializer]] = []


def register_package(priority: int, tagger: _Tagger, deserializer: _Deserializer) -> None:
    """Add a tagger and a deserializer of storage locations, tried in ``priority`` order (lower first) by
    :func:`save` (which location a storage is saved with) and :func:`load` (where a saved location goes),
    as ``torch.serialization.register_package``.

    ember's own (``cpu`` at priority 10, every other device ember has at 20) tag a storage with its
    device (``"cpu"``, ``"opencl:0"``) and place a location that names an ember device there; a
    package registered at a lower priority runs first and can take locations over.

    Args:
        priority (int): the order (lower first).
        tagger: ``tagger(storage) -> str or None``: the location to save ``storage`` with, or ``None``
            to leave it to the next tagger. ``storage`` is a 1-d tensor (its ``device`` is the storage's).
        deserializer: ``deserializer(storage, location) -> tensor or None``: ``storage`` (on the CPU) put
            where ``location`` says, or ``None`` to leave it to the next one.

    Example::

        >>> def tag(storage):
        ...     return "cpu" if storage.device.type == "meta" else None
        >>> def place(storage, location):
        ...     return storage.to("meta") if location == "meta" else None
        >>> ember.serialization.register_package(5, tag, place)
        >>> ember.serialization.location_tag(ember.ones(2, device="meta"))
        'cpu'
        >>> ember.serialization.default_restore_location(ember.ones(2), "meta").device
        device(type='meta')
        >>> ember.serialization._package_registry.pop(0)[0]
        5
    """
    _package_registry.append((priority, tagger, deserializer))
    _package_registry.sort(key=lambda entry: entry[0])


def location_tag(storage: Any) -> str:
    """The location :func:`save` records for ``storage`` (a tensor, or anything with a ``device``): the
    first tagger of :func:`register_package` that gives one (ember's own: the device, ``"cpu"``, ``"opencl:0"``).

    Raises:
        RuntimeError: no tagger knows ``storage``.

    Example::

        >>> ember.serialization.location_tag(ember.ones(2))
        'cpu'
    """
    for _, tagger, _ in list(_package_registry):
        location = tagger(storage)
        if location:
            return location
    raise RuntimeError(f"don't know how to determine data location of {type(storage).__name__}")


def _cpu_tag(obj: Any) -> str | None:
    return "cpu" if obj.device.type == "cpu" else None


def _cpu_deserialize(obj: Any, location: str) -> Any:
    return obj if location == "cpu" else None


def _device_tag(obj: Any) -> str | None:
    return str(obj.device)


def _device_deserialize(obj: Any, location: str) -> Any:
    try:
        target = device(location)
    except (RuntimeError, TypeError, ValueError):
        return None  # no device of ember's: another package's location
    try:
        return obj.to(target)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise RuntimeError(
            f"don't know how to restore data location of {type(obj).__name__} (tagged with {location}): {exc}"
        ) from exc


register_package(10, _cpu_tag, _cpu_deserialize)
register_package(20, _device_tag, _device_deserialize)


class skip_data:  # noqa: N801 - torch's name
    """A context manager under which :func:`save` writes no tensor data (the space it would take is left
    zero, to be filled in another pass) and :func:`load` reads none (the tensors are zero), for PyTorch's
    format, as ``torch.serialization.skip_data``.

    Args:
        materialize_fake_tensors (bool): accepted (ember has no fake tensors). Default: ``False``.

    Raises:
        RuntimeError: a save inside it asks for the legacy format (``_use_new_zipfile_serialization=False``).

    Example::

        >>> import io
        >>> buffer = io.BytesIO()
        >>> with ember.serialization.skip_data():
        ...     ember.save(ember.ones(2, 3), buffer)
        >>> _ = buffer.seek(0)
        >>> ember.load(buffer)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """

    def __init__(self, materialize_fake_tensors: bool = False) -> None:
        self.materialize_fake_tensors = materialize_fake_tensors

    def __enter__(self) -> None:
        self._old_skip_data = skipping_data()
        _serialization_tls.skip_data = True

    def __exit__(self, *exc: object) -> None:
        _serialization_tls.skip_data = self._old_skip_data


# -- tree <-> object (formats that store the structure as JSON) ----------------------------
class _Flattener:
    def __init__(self):
        self.arrays = {}
        self._names = {}

    def _store(self, obj, host, path):
        name = self._names.get(id(obj))
        if name is None:
            # the state_dict's own key names ("model.weight"), numbered only where they clash
            name = ".".join(path)
            if not name or name in self.arrays or name.startswith("#"):
                name = f"#{len(self.arrays)}"
            self._names[id(obj)] = name
            self.arrays[name] = host
        return name

    def encode(self, obj, path=()):
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if is_strided(obj):
            if obj.is_meta:  # as safetensors' own save, refused: there are no values to store
                where = ".".join(path) or "the top level"
                raise NotImplementedError(
                    f"ember.save: the tensor at {where} is on the meta device, which holds no values to store in "
                    "this format (the 'torch' format saves meta tensors without values)"
                )
            host = np.asarray(obj._backend.to_host(obj.detach()._data), order="C")
            node = {"tensor": self._store(obj, host, path), "device": str(obj.device)}
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, (list, tuple)):
            items = [self.encode(x, (*path, str(i))) for i, x in enumerate(obj)]
            return items if type(obj) is list else {"tuple": items}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            return {tag: [[self.encode(k), self.encode(v, (*path, str(k)))] for k, v in obj.items()]}
        if isinstance(obj, dtype):
            return {"dtype": obj.name}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, bytes):
            return {"bytes": base64.b64encode(obj).decode("ascii")}
        if type(obj).__module__ == "numpy":
            if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in "biufc":
                kind = "ndarray" if isinstance(obj, np.ndarray) else "npscalar"
                return {kind: self._store(obj, np.asarray(obj, order="C"), path)}
        raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__}; checkpoints hold {_SAVABLE}")


def flatten(obj: object) -> tuple[Any, dict[str, np.ndarray]]:
    """``(tree, arrays)``: ``obj``'s structure as JSON-able data and its arrays by name.

    Arrays are named by their path of keys (a state_dict's own names); an object met twice
    is stored once.
    """
    flattener = _Flattener()
    tree = flattener.encode(obj)
    return tree, flattener.arrays


class _PlacementFailed(Exception):
    """Carries an error that is not the file's fault (of ``map_location``, device placement, or the list of
    :func:`add_safe_globals`) out of decoding, unchanged."""

    def __init__(self, original):
        super().__init__(str(original))
        self.original = original


class _Unflattener:
    def __init__(self, arrays, map_location):
        self.arrays = arrays
        self.map_location = map_location
        self._made = {}

    def array(self, name, kind):
        """The object made of array ``name``; one object per name, so no bytes are handed out twice."""
        if not isinstance(name, str) or (name not in self.arrays and name not in self._made):
            raise CorruptCheckpoint(f"the structure names array {name!r}, which the file does not hold")
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = (kind, self.make(kind, self.arrays.pop(name)))
        if made[0] != kind:
            raise CorruptCheckpoint(f"array {name!r} is used both as {made[0]} and as {kind}")
        return made[1]

    def make(self, kind, host):
        if kind == "npscalar":
            return host[()]
        if kind == "ndarray":
            return host
        return place(host, kind, self.map_location)

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        if not isinstance(node, dict) or not node:
            raise CorruptCheckpoint(f"unexpected node {node!r}")
        if "tensor" in node:
            location = node.get("device", "cpu")
            if not isinstance(location, str):
                raise CorruptCheckpoint(f"bad device {location!r}")
            t = self.array(node["tensor"], location)
            if node.get("requires_grad", False) and not t.requires_grad:
                t.requires_grad_(True)
            return t
        if len(node) != 1:
            raise CorruptCheckpoint(f"unexpected node {node!r}")
        tag, value = next(iter(node.items()))
        if tag in ("dict", "odict"):
            pairs = [(self.key(k), self.decode(v)) for k, v in value]
            return collections.OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "tuple":
            return tuple(self.decode(x) for x in value)
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise CorruptCheckpoint(f"bad float {value!r}")
            return float(value)
        if tag == "dtype":
            return as_dtype(value)
        if tag == "device":
            return device(value)
        if tag == "bytes":
            return base64.b64decode(value.encode("ascii"), validate=True)
        if tag in ("ndarray", "npscalar"):
            return self.array(value, tag)
        raise CorruptCheckpoint(f"unknown tag {tag!r}")

    def key(self, node):
        key = self.decode(node)
        if isinstance(key, (list, dict)):
            raise CorruptCheckpoint(f"unhashable dict key {key!r}")
        return key


def unflatten(tree: Any, arrays: dict[str, np.ndarray], map_location: MapLocation = None) -> Any:
    """The object that :func:`flatten` made ``(tree, arrays)`` of; consumes ``arrays``."""
    return _Unflattener(arrays, map_location).decode(tree)


def place(host: np.ndarray, location: str, map_location: MapLocation) -> Tensor:
    """A tensor of host array ``host`` on the device ``map_location`` picks for saved ``location``.

    A CPU target takes ``host`` over without a copy (loaders hand over arrays they own). An error
    of ``map_location`` or of the placement reaches the caller of :func:`ember.load` unchanged,
    not reported as a corrupt file.
    """
    try:
        return _place(host, location, map_location)
    except Exception as exc:
        raise _PlacementFailed(exc) from exc


def _place(host: np.ndarray, location: str, map_location: MapLocation) -> Tensor:
    target: device | str = location
    if callable(map_location) and not isinstance(map_location, (str, device)):
        result = map_location(from_numpy(host), location)
        if result is not None:
            return result
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif map_location is not None:
        target = map_location
    if len(_package_registry) > 2:  # a program registered packages: torch's order
        restored = _restore(host, str(target))
        if restored is not None:
            return restored
    try:
        if device(target) == device("cpu"):
            return from_numpy(host)
        return tensor(host, device=target)
    except RuntimeError as exc:
        raise RuntimeError(
            f"ember.load: cannot place a tensor saved on {location!r} on {str(target)!r} ({exc}); "
            "pass map_location (e.g. map_location='cpu') to load it elsewhere"
        ) from exc


def _restore(host: np.ndarray, location: str) -> Tensor | None:
    """``host`` placed by the first package of :func:`register_package` that takes ``location``; ``None`` where
    ember's own comes first (``location`` names an ember device) or none does: :func:`_place` places it."""
    storage = from_numpy(host)
    for _, _, deserializer in list(_package_registry):
        if deserializer is _cpu_deserialize or deserializer is _device_deserialize:
            try:
                device(location)
            except (RuntimeError, TypeError, ValueError):
                continue  # not ember's: the next package
            return None
        result = deserializer(storage, location)
        if result is not None:
            return result
    return None


def read_exactly(stream: io.BufferedIOBase, array: np.ndarray) -> None:
    """Fill ``array`` (C-contiguous, owned) from ``stream`` in bounded pieces; CorruptCheckpoint if it ends first."""
    view = memoryview(array.reshape(-1).view("uint8"))  # type: ignore[arg-type]  # an ndarray is a buffer
    done = 0
    while done < len(view):
        got = stream.readinto(view[done : done + _CHUNK])
        if not got:
            raise CorruptCheckpoint(f"the file ends {len(view) - done} bytes into a tensor's data")
        done += got


_CHUNK = 16 << 20


def stream_size(stream: IO[bytes]) -> int | None:
    """The number of bytes left in a seekable ``stream``, else ``None``."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


# -- files ---------------------------------------------------------------------------------
def _is_path(f: object) -> TypeGuard[str | os.PathLike[str]]:
    return isinstance(f, (str, os.PathLike))


def _temp_prefix(path):
    host = socket.gethostname().replace(".", "-") or "host"
    return f".{os.path.basename(path)}.{host}."


def _remove_stale_temporaries(path):
    """Delete temporary files that interrupted saves to ``path`` by this host's dead processes left."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _temp_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))


def _alive(pid):
    if pid == os.getpid():
        return True  # another thread of this process may be saving to the same path
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def _write_atomic(path, write):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # torch.save's check and words
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    if os.path.isdir(path):  # torch.save: a RuntimeError from its file writer
        raise RuntimeError(f"ember.save: cannot write {path}: {os.strerror(errno.EISDIR)}")
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint gets the usual permissions
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(  # noqa: A002 - torch's name (format=)
    obj: object,
    f: FileLike,
    pickle_module: Any = pickle,
    pickle_protocol: int = DEFAULT_PROTOCOL,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
    *,
    format: str | None = None,
) -> None:
    """Save ``obj`` — typically a ``state_dict`` — to a file.

    By default (and for ``.pt``, ``.pth``, ``.bin`` files) in PyTorch's format, which
    ``torch.load`` reads: tensors keep their storage sharing, and any picklable object can
    be saved (a whole model too; loading that needs ``weights_only=False``). ``.safetensors``
    files hold tensors under the state_dict's own key names and plain data (``None``, bools,
    ints, floats, strings, bytes, dtypes, devices, NumPy arrays, dicts, lists, tuples).

    A path is written atomically: to a temporary file in the same folder, flushed to disk,
    then renamed over ``f``, so a crash never leaves a half-written checkpoint; temporary
    files that killed saves to the same path left behind are removed by the next save.

    Args:
        obj: the object to save.
        f: a path (``str`` or ``os.PathLike``) or a binary file object with ``write``.
        pickle_module: accepted for PyTorch compatibility: ember pickles with its own pickler, built on
            Python's :mod:`pickle`. Default: :mod:`pickle`.
        pickle_protocol: the pickle protocol of PyTorch's format (as ``torch.save``).
            Default: ``2``.
        _use_new_zipfile_serialization: ``False`` writes PyTorch's legacy (pre-1.6) format
            instead of the zip archive, as ``torch.save``. Default: ``True``.
        _disable_byteorder_record: accepted for PyTorch compatibility: the archive records its byte
            order either way, as PyTorch 2.13's does. Default: ``False``.
        format: ``"torch"`` or ``"safetensors"`` (or a plugin's). Default: chosen by the
            file's suffix, else ``"torch"``.

    Example::

        >>> ember.save({"model": model.state_dict(), "epoch": 3}, "checkpoint.pt")
    """
    format = format or _registry().for_path(f if _is_path(f) else None)
    saver, _ = _registry().get(format)
    options: dict[str, Any] = {}
    if pickle_protocol != DEFAULT_PROTOCOL:
        options["pickle_protocol"] = pickle_protocol
    if not _use_new_zipfile_serialization:
        options["_use_new_zipfile_serialization"] = False
    unknown = [name for name in options if name not in inspect.signature(saver).parameters]
    if unknown:
        raise ValueError(f"ember.save: the {format!r} format takes no {', '.join(unknown)}")
    if options:
        saver = functools.partial(saver, **options)
    if _is_path(f):
        _write_atomic(f, lambda out: saver(obj, out))
    else:
        saver(obj, f)


def load(  # noqa: A002 - torch's name (format=)
    f: FileLike,
    map_location: MapLocation = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    format: str | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object saved with :func:`save` or ``torch.save`` (or a plain safetensors file).

    With ``weights_only=True`` (the default) nothing in the file is executed: only tensors,
    containers, numbers, strings, dtypes, devices and the globals allowed by
    :func:`add_safe_globals` are rebuilt. ``weights_only=False`` unpickles any object (a whole
    model); use it only for files you trust.

    Args:
        f: a path or a binary file object with ``read``.
        map_location: where to put the tensors. ``None`` (default): where they were
            saved. A device or device string: all there. A dict: maps saved device strings
            to new ones (e.g. ``{"cuda:0": "cpu"}``); others stay. A callable
            ``fn(tensor, location)``: gets each storage (PyTorch's format: a 1-d tensor
            that the file's tensors view) or tensor (safetensors) on the CPU and the saved
            device string, and returns the tensor to use (``None`` keeps the default).
        pickle_module: accepted for PyTorch compatibility (ember reads with its own unpickler, built on
            Python's :mod:`pickle`); it makes ``weights_only`` default to ``False``, and raises with
            ``weights_only=True``, as in PyTorch. Default: ``None``.
        weights_only: restrict unpickling to data. Default (``None``): ``True``, ``False`` where
            ``pickle_module`` is given. As in
            PyTorch, the environment variable ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` makes every
            load ``weights_only=True``, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes a load
            that does not pass ``weights_only`` a ``weights_only=False`` one (with a warning).
        mmap: map the file into memory instead of reading it: the tensors (on the CPU) are
            copy-on-write views of the file's bytes, read from disk as they are used; writes to
            them never reach the file. Needs a path, and a format whose loader takes ``mmap``
            (PyTorch's). Default (``None``): ``ember.utils.serialization.config.load.mmap`` (``False``).
        format: the checkpoint format. Default: chosen by the file's suffix, else by the
            file's first bytes.
        **pickle_load_args: keywords for the unpickler (``encoding="latin1"`` for the strings of
            checkpoints pickled by Python 2), as ``torch.load`` passes them; PyTorch warns that they
            are meant for ``weights_only=False`` loads. Default: ``encoding="utf-8"``.

    Raises:
        AttributeError: ``f`` is neither a path nor a file object (bytes, say), as in PyTorch.
        ValueError: ``mmap=True`` with a file object instead of a path.
        RuntimeError: the file is truncated, corrupt or not a checkpoint, or both
            environment variables above are set, or ``mmap=True`` for a format that cannot
            be mapped.
        UnpicklingError: a ``weights_only`` load met a global it does not allow (the
            message names it and says how to allow it).

    Example::

        >>> ember.save({"model": model.state_dict()}, "checkpoint.pt")
        >>> state = ember.load("checkpoint.pt", map_location="cpu")
        >>> model.load_state_dict(state["model"])
        <All keys matched successfully>
    """
    weights_only = _weights_only(weights_only, default=pickle_module is None)
    if mmap is None:
        mmap = _config().load.mmap
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", UserWarning, stacklevel=2)
    if not _is_path(f) and not hasattr(f, "read"):  # bytes, say: torch.load's error
        raise AttributeError(
            f"'{type(f).__name__}' object has no attribute 'read': ember.load reads a path or a binary file object "
            "(wrap bytes in io.BytesIO)"
        )
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = os.fspath(f) if _is_path(f) else getattr(f, "name", repr(f))
    if _is_path(f) and not stat.S_ISREG(mode := os.stat(f).st_mode):
        if stat.S_ISDIR(mode):  # what torch.load's open() raises
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        raise RuntimeError(f"ember.load: {name} is not a valid checkpoint (not a regular file)")
    with open(f, "rb") if _is_path(f) else contextlib.nullcontext(f) as stream:
        if format is None:
            format = _sniff(stream) or _registry().for_path(f if _is_path(f) else None)
        _, loader = _registry().get(format)
        options: dict[str, Any] = {}
        if mmap:
            if "mmap" not in inspect.signature(loader).parameters:
                raise RuntimeError(
                    f"ember.load: mmap can only be used with files in a format that maps ({format!r} does not)"
                )
            options["mmap"] = True
        if pickle_load_args:
            if "pickle_load_args" not in inspect.signature(loader).parameters:
                raise ValueError(f"ember.load: the {format!r} format takes no pickle arguments ({pickle_load_args})")
            pickle.Unpickler(io.BytesIO(), **pickle_load_args)  # unknown keywords: pickle's TypeError, as torch's
            options["pickle_load_args"] = pickle_load_args
        try:
            return loader(stream, map_location=map_location, weights_only=weights_only, **options)
        except (ImportError, pickle.UnpicklingError, UnicodeDecodeError):  # the last: a wrong ``encoding``
            raise
        except _PlacementFailed as exc:
            raise exc.original from None
        except Exception as exc:  # anything a decoder raises means the bytes are bad
            raise RuntimeError(f"ember.load: {name} is not a valid checkpoint (truncated or corrupt): {exc}") from exc


def _weights_only(requested: bool | None, default: bool = True) -> bool:
    """``load``'s ``weights_only`` after PyTorch's two environment overrides; ``default`` where it is not given
    (``False`` when a ``pickle_module`` is, as in PyTorch)."""
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE
    if force and force_no:
        raise RuntimeError(
            "ember.load: only one of TORCH_FORCE_WEIGHTS_ONLY_LOAD or TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD "
            "should be set, but both were set"
        )
    if force:
        return True
    if requested is None and force_no:
        warnings.warn(
            "ember.load: environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected; since `weights_only` "
            "was not passed, forcing weights_only=False",
            UserWarning,
            stacklevel=3,
        )
        return False
    return default if requested is None else requested


_TRUE = ("1", "y", "yes", "true")


def _sniff(stream):
    """``"torch"`` for a zip file, ``"safetensors"`` for a safetensors header, by the first bytes (seekable streams)."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        head = stream.read(9)
        stream.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    if head[:4] == b"PK\x03\x04":
        return "torch"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return None
