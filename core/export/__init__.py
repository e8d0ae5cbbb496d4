"""``ember.export``: whole-graph capture as ``torch.export``, and its ``.pt2`` archives."""

from __future__ import annotations

import os
from typing import IO, Any

from ._aten import supported_ops
from .exported_program import ExportedProgram
from .graph_signature import ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec

__all__ = [
    "ExportedProgram",
    "ExportGraphSignature",
    "InputKind",
    "InputSpec",
    "OutputKind",
    "OutputSpec",
    "load",
    "supported_ops",
]


def load(
    f: str | os.PathLike[str] | IO[bytes], *, expected_opset_version: dict[str, int] | None = None
) -> ExportedProgram:
    """Read an :class:`ExportedProgram` from a ``.pt2`` archive written by ``torch.export.save``."""
    from ._serialize import read_archive

    return read_archive(f)


def export(
    mod: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
    *,
    dynamic_shapes: Any = None,
    strict: bool = False,
    preserve_module_call_signature: tuple[str, ...] = (),
) -> ExportedProgram:
    from ._trace import export as _export

    return _export(mod, args, kwargs, dynamic_shapes=dynamic_shapes, strict=strict)


def save(ep: ExportedProgram, f: str | os.PathLike[str] | IO[bytes], **kwargs: Any) -> None:
    from ._write import write_archive

    write_archive(ep, f)
