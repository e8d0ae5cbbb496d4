"""``ember.save`` / ``ember.load``: checkpoints of tensors and plain Python data, without pickle.

A checkpoint is split in two: the *tree* (the object's structure — dicts, lists, tuples,
numbers, strings — as JSON-able data, with a placeholder per tensor) and the *arrays* (the
tensors' contents as host arrays, keyed by name). A checkpoint format turns that pair into
bytes and back; formats are plugins (hook ``ember_register_checkpoint_formats``), the
default is ``safetensors`` (:mod:`ember.plugins.checkpoint_safetensors`). Loading never
executes code from the file: it rebuilds only the types listed in :func:`save`.
"""

from __future__ import annotations

import base64
import collections
import math
import os
import tempfile
import threading

__all__ = ["save", "load", "CheckpointFormatRegistry", "DEFAULT_FORMAT"]

#: The format :func:`save` writes when neither ``format=`` nor the file's suffix picks one.
DEFAULT_FORMAT = "safetensors"

_SAVABLE = (
    "tensors, NumPy arrays, None, bools, ints, floats, strings, bytes, ember.dtype, ember.device, "
    "and dicts, lists and tuples of these"
)


class CheckpointFormatRegistry:
    """The checkpoint formats that :func:`ember.save` and :func:`ember.load` can use.

    A format is a pair of functions over ``(tree, arrays)``: ``saver(tree, arrays) -> bytes``
    and ``loader(data: bytes) -> (tree, arrays)``, where ``tree`` is JSON-able data and
    ``arrays`` maps names to NumPy arrays. A loader raises any exception for bytes it
    cannot read; :func:`ember.load` reports it as a corrupt checkpoint.
    """

    def __init__(self):
        self._formats = {}
        self._suffixes = {}

    def register_format(self, name, saver, loader, suffixes=()):
        """Add format ``name``; files whose name ends with one of ``suffixes`` use it by default."""
        if name in self._formats:
            raise ValueError(f"checkpoint format {name!r} is already registered")
        self._formats[name] = (saver, loader)
        for suffix in suffixes:
            self._suffixes[suffix.lower()] = name

    def names(self):
        """The registered format names."""
        return sorted(self._formats)

    def get(self, name):
        """The ``(saver, loader)`` pair of format ``name``."""
        try:
            return self._formats[name]
        except KeyError:
            raise ValueError(
                f"unknown checkpoint format {name!r}; registered formats: {self.names() or 'none'}"
            ) from None

    def for_path(self, path):
        """The format a file name asks for by its suffix, else :data:`DEFAULT_FORMAT`."""
        if path is not None:
            for suffix, name in self._suffixes.items():
                if os.fspath(path).lower().endswith(suffix):
                    return name
        return DEFAULT_FORMAT


def _registry():
    from .plugin import checkpoint_format_registry

    registry = checkpoint_format_registry()
    if DEFAULT_FORMAT not in registry._formats:
        with _builtin_lock:
            if DEFAULT_FORMAT not in registry._formats:
                # ember's own format works without plugin autoload (EMBER_DISABLE_PLUGIN_AUTOLOAD=1) too
                from ember.plugins import checkpoint_safetensors

                checkpoint_safetensors.ember_register_checkpoint_formats(registry)
    return registry


_builtin_lock = threading.Lock()


# -- tree <-> object ------------------------------------------------------------------------
class _Flattener:
    def __init__(self):
        self.arrays = {}
        self._names = {}

    def _store(self, obj, host):
        name = self._names.get(id(obj))
        if name is None:
            name = str(len(self.arrays))
            self._names[id(obj)] = name
            self.arrays[name] = host
        return name

    def encode(self, obj):
        from . import Tensor
        from .device import device
        from .dtypes import dtype

        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            import numpy as np

            host = np.asarray(obj._backend.to_host(obj.detach()._data), order="C")
            node = {"tensor": self._store(obj, host), "device": str(obj.device)}
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, (list, tuple)):
            items = [self.encode(x) for x in obj]
            return items if type(obj) is list else {"tuple": items}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            return {tag: [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, dtype):
            return {"dtype": obj.name}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, bytes):
            return {"bytes": base64.b64encode(obj).decode("ascii")}
        if type(obj).__module__ == "numpy":
            import numpy as np

            if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in "biufc":
                kind = "ndarray" if isinstance(obj, np.ndarray) else "npscalar"
                return {kind: self._store(obj, np.asarray(obj, order="C"))}
        raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__}; checkpoints hold {_SAVABLE}")


def _flatten(obj):
    flattener = _Flattener()
    tree = flattener.encode(obj)
    return tree, flattener.arrays


class _CorruptTree(ValueError):
    """The tree of a checkpoint does not decode: reported as a corrupt checkpoint."""


class _PlacementFailed(Exception):
    """Carries an error of ``map_location`` or device placement out of decoding, unchanged."""

    def __init__(self, original):
        super().__init__(str(original))
        self.original = original


class _Unflattener:
    def __init__(self, arrays, map_location):
        self.arrays = arrays
        self.map_location = map_location
        self._made = {}

    def array(self, name):
        if not isinstance(name, str) or name not in self.arrays:
            raise _CorruptTree(f"the structure names array {name!r}, which the file does not hold")
        return self.arrays[name]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        if not isinstance(node, dict) or not node:
            raise _CorruptTree(f"unexpected node {node!r}")
        if "tensor" in node:
            return self.tensor(node)
        if len(node) != 1:
            raise _CorruptTree(f"unexpected node {node!r}")
        tag, value = next(iter(node.items()))
        if tag in ("dict", "odict"):
            pairs = [(self.key(k), self.decode(v)) for k, v in value]
            return collections.OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "tuple":
            return tuple(self.decode(x) for x in value)
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise _CorruptTree(f"bad float {value!r}")
            return float(value)
        if tag == "dtype":
            from .dtypes import as_dtype

            return as_dtype(value)
        if tag == "device":
            from .device import device

            return device(value)
        if tag == "bytes":
            return base64.b64decode(value.encode("ascii"), validate=True)
        if tag == "ndarray":
            return self.array(value).copy()
        if tag == "npscalar":
            return self.array(value)[()]
        raise _CorruptTree(f"unknown tag {tag!r}")

    def key(self, node):
        key = self.decode(node)
        if isinstance(key, (list, dict)):
            raise _CorruptTree(f"unhashable dict key {key!r}")
        return key

    def tensor(self, node):
        name = node["tensor"]
        if name not in self._made:
            host = self.array(name)
            location = node.get("device", "cpu")
            if not isinstance(location, str):
                raise _CorruptTree(f"bad device {location!r}")
            try:
                placed = _place(host, location, self.map_location)
            except Exception as exc:
                raise _PlacementFailed(exc) from exc
            self._made[name] = (placed, bool(node.get("requires_grad", False)))
        t, requires_grad = self._made[name]
        if requires_grad and not t.requires_grad:
            t.requires_grad_(True)
        return t


def _place(host, location, map_location):
    """Make a tensor of ``host`` on the device ``map_location`` picks for saved ``location``."""
    from . import tensor
    from .device import device

    target = location
    if callable(map_location) and not isinstance(map_location, (str, device)):
        result = map_location(tensor(host, device="cpu"), location)
        if result is not None:
            return result
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif map_location is not None:
        target = map_location
    try:
        return tensor(host, device=target)
    except RuntimeError as exc:
        raise RuntimeError(
            f"ember.load: cannot place a tensor saved on {location!r} on {str(target)!r} ({exc}); "
            "pass map_location (e.g. map_location='cpu') to load it elsewhere"
        ) from exc


# -- files ---------------------------------------------------------------------------------
def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def _write_atomic(path, data):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint gets the usual permissions
        with os.fdopen(fd, "wb") as out:
            out.write(data)
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


def save(obj, f, *, format=None):
    """Save ``obj`` — typically a ``state_dict`` — to a file.

    ``obj`` may hold tensors, NumPy arrays, ``None``, bools, ints, floats, strings, bytes,
    :class:`ember.dtype`, :class:`ember.device`, and dicts (any of those as keys), lists
    and tuples of them, nested to any depth — for example a model's and an optimizer's
    ``state_dict`` together with the epoch and random-generator states. Tensors are stored
    bit for bit with their device; a tensor that appears several times is stored once.

    A path is written atomically: to a temporary file in the same folder, flushed to
    disk, then renamed over ``f``, so a crash never leaves a half-written checkpoint.

    Args:
        obj: the object to save.
        f: a path (``str`` or ``os.PathLike``) or a binary file object with ``write``.
        format: the checkpoint format. Default: chosen by the file's suffix, else
            ``"safetensors"`` (tensors in the safetensors payload, the structure as JSON
            in its metadata).

    Example::

        >>> ember.save({"model": model.state_dict(), "epoch": 3}, "checkpoint.safetensors")
    """
    saver, _ = _registry().get(format or _registry().for_path(f if _is_path(f) else None))
    tree, arrays = _flatten(obj)
    data = saver(tree, arrays)
    if _is_path(f):
        _write_atomic(f, data)
    else:
        f.write(data)


def load(f, map_location=None, *, weights_only=True, format=None):
    """Load an object saved with :func:`save` (or a plain safetensors file, as a dict of tensors).

    Nothing in the file is executed: only the types :func:`save` accepts are rebuilt.

    Args:
        f: a path or a binary file object with ``read``.
        map_location: where to put the tensors. ``None`` (default): where they were
            saved. A device or device string: all there. A dict: maps saved device strings
            to new ones (e.g. ``{"cuda:0": "cpu"}``); others stay. A callable
            ``fn(tensor, location)``: gets each tensor on the CPU and the saved device
            string, and returns the tensor to use (``None`` keeps the default).
        weights_only: accepted for compatibility with ``torch.load``; loading is always
            restricted to data.
        format: the checkpoint format. Default: chosen by the file's suffix, else
            ``"safetensors"``.

    Raises:
        RuntimeError: the file is truncated, corrupt or not a checkpoint.

    Example::

        >>> ember.save({"model": model.state_dict()}, "checkpoint.safetensors")
        >>> state = ember.load("checkpoint.safetensors", map_location="cpu")
        >>> model.load_state_dict(state["model"])
        <All keys matched successfully>
    """
    name = os.fspath(f) if _is_path(f) else getattr(f, "name", repr(f))
    _, loader = _registry().get(format or _registry().for_path(f if _is_path(f) else None))
    if _is_path(f):
        with open(f, "rb") as stream:
            data = stream.read()
    else:
        data = f.read()
    try:
        tree, arrays = loader(data)
        return _Unflattener(arrays, map_location).decode(tree)
    except (ImportError, _PlacementFailed) as exc:
        raise (exc.original if isinstance(exc, _PlacementFailed) else exc) from None
    except Exception as exc:  # anything a decoder raises means the bytes are bad
        raise RuntimeError(f"ember.load: {name} is not a valid checkpoint (truncated or corrupt): {exc}") from exc
