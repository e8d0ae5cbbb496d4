"""The nesting of an exported program's inputs and outputs, in ``torch.utils._pytree``'s JSON form.

A spec is the decoded JSON object of one node: ``{"type": "builtins.tuple", "context": "null",
"children_spec": [...]}``, a leaf having ``"type": None``. Tuples, lists and dicts (plain and
ordered) are understood; the archive writes the spec as ``[1, spec]`` (format version 1).
"""

from __future__ import annotations

import collections
import json
from typing import Any

__all__ = ["decode", "encode", "flatten", "unflatten", "spec_of"]

_LEAF: dict[str, Any] = {"type": None, "context": None, "children_spec": []}
_SEQUENCES = {"builtins.tuple": tuple, "builtins.list": list}
_MAPPINGS = {"builtins.dict": dict, "collections.OrderedDict": collections.OrderedDict}


def decode(text: str | None) -> dict[str, Any] | None:
    """The spec of a serialized treespec (``'[1, {...}]'``), or None for none."""
    if not text:
        return None
    version, spec = json.loads(text)
    if version != 1:
        raise NotImplementedError(f"ember.export: treespec format version {version} is not supported")
    return spec


def encode(spec: dict[str, Any] | None) -> str:
    """The serialized form of ``spec``."""
    return json.dumps([1, spec if spec is not None else _LEAF])


def spec_of(obj: Any) -> dict[str, Any]:
    """The spec of ``obj``'s nesting (tuples, lists, dicts; everything else is a leaf)."""
    if isinstance(obj, (tuple, list)) and not hasattr(obj, "_fields"):
        kind = "builtins.tuple" if isinstance(obj, tuple) else "builtins.list"
        return {"type": kind, "context": "null", "children_spec": [spec_of(v) for v in obj]}
    if isinstance(obj, dict):
        kind = "collections.OrderedDict" if isinstance(obj, collections.OrderedDict) else "builtins.dict"
        return {"type": kind, "context": json.dumps(list(obj)), "children_spec": [spec_of(v) for v in obj.values()]}
    return dict(_LEAF)


def _check(spec: dict[str, Any]) -> str | None:
    kind = spec.get("type")
    if kind is not None and kind not in _SEQUENCES and kind not in _MAPPINGS:
        raise NotImplementedError(f"ember.export: inputs or outputs nested in {kind} are not supported")
    return kind


def flatten(obj: Any, spec: dict[str, Any] | None) -> list[Any]:
    """The leaves of ``obj`` in the order ``spec`` gives (dict entries in the spec's key order)."""
    if spec is None:
        spec = spec_of(obj)
    kind = _check(spec)
    if kind is None:
        return [obj]
    children = spec["children_spec"]
    if kind in _SEQUENCES:
        values = list(obj)
        if len(values) != len(children):
            raise ValueError(
                f"Trying to flatten user inputs with exported input tree spec: expected {len(children)} inputs "
                f"in a {kind.split('.')[1]}, got {len(values)}"
            )
    else:
        keys = json.loads(spec["context"])
        missing = [k for k in keys if k not in obj]
        extra = [k for k in obj if k not in keys]
        if missing or extra:
            raise ValueError(
                f"Trying to flatten user inputs with exported input tree spec: expected the keyword inputs {keys}, "
                f"got {list(obj)}"
            )
        values = [obj[k] for k in keys]
    out: list[Any] = []
    for value, child in zip(values, children):
        out.extend(flatten(value, child))
    return out


def _count(spec: dict[str, Any]) -> int:
    return 1 if spec.get("type") is None else sum(_count(c) for c in spec["children_spec"])


def unflatten(leaves: list[Any], spec: dict[str, Any] | None) -> Any:
    """The nesting ``spec`` describes, filled with ``leaves`` in order."""
    if spec is None:
        return tuple(leaves) if len(leaves) != 1 else leaves[0]
    it = iter(leaves)

    def build(s: dict[str, Any]) -> Any:
        kind = _check(s)
        if kind is None:
            return next(it)
        values = [build(c) for c in s["children_spec"]]
        if kind in _SEQUENCES:
            return _SEQUENCES[kind](values)
        return _MAPPINGS[kind](zip(json.loads(s["context"]), values))

    return build(spec)
