"""The ``safetensors`` checkpoint format, ember's default for :func:`ember.save` / :func:`ember.load`.

Tensors go in the safetensors payload under their names; the structure of the saved object
(see :mod:`ember.serialization`) goes as JSON in the safetensors metadata under the key
``ember``. A safetensors file written by another library (no ``ember`` key) loads as a
flat dict of name to tensor. Needs the ``safetensors`` package (extra ``examples``).
"""

from __future__ import annotations

import json

from ember.plugin import hookimpl

__all__ = ["ember_register_checkpoint_formats", "save_bytes", "load_bytes"]

_KEY = "ember"


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(
            "ember.save/ember.load need the safetensors package: pip install safetensors "
            "(or pip install 'ember[examples]')"
        ) from exc
    return safetensors.numpy


def save_bytes(tree, arrays):
    """The safetensors bytes for a checkpoint ``tree`` and its named host ``arrays``."""
    return _safetensors_numpy().save(arrays, metadata={_KEY: json.dumps(tree, allow_nan=False)})


def load_bytes(data):
    """The ``(tree, arrays)`` of safetensors bytes (validated by the safetensors parser)."""
    arrays = _safetensors_numpy().load(bytes(data))
    header_size = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8 : 8 + header_size]).get("__metadata__") or {}
    if _KEY not in metadata:
        return {"dict": [[name, {"tensor": name}] for name in sorted(arrays)]}, arrays
    return json.loads(metadata[_KEY]), arrays


@hookimpl
def ember_register_checkpoint_formats(registry):
    registry.register_format("safetensors", save_bytes, load_bytes, suffixes=(".safetensors",))
