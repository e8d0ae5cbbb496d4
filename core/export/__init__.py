"""``ember.export``: whole-graph capture as ``torch.export``, and its ``.pt2`` archives.

:func:`load` reads an archive written by PyTorch's ``torch.export.save`` (or by :func:`save`) into
an :class:`ExportedProgram`; its :meth:`~ExportedProgram.module` is an :class:`ember.nn.Module`
that runs the graph's ATen operators with ember's ops (on any device: ``.to("opencl:0")``), holds
the parameters and buffers under their qualified names, and writes back the buffers the graph
updates (batch norm's running statistics in training mode), as PyTorch's module does. Sizes read
in the program (``aten.sym_size.int``, from ``dynamic_shapes``) follow the inputs, so such a
program runs at other batch sizes. :func:`supported_ops` lists the operators ember runs; another
one is a :class:`NotImplementedError` naming it when the archive is read, never a guess.

:func:`export` captures an ember module as such a graph (through :mod:`ember.fx`) and
:func:`save` writes it in the same layout, which ``torch.export.load`` reads.

Example::

    >>> import io, ember.export
    >>> model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh())
    >>> ep = ember.export.export(model, (ember.randn(2, 4),))
    >>> buf = io.BytesIO()
    >>> ember.export.save(ep, buf)
    >>> _ = buf.seek(0)
    >>> loaded = ember.export.load(buf)
    >>> x = ember.randn(2, 4)
    >>> ember.allclose(loaded.module()(x), model(x))
    True
"""

from __future__ import annotations

import os
from typing import IO, Any

from ._aten import supported_ops
from ._trace import export
from .dynamic_shapes import Dim
from .exported_program import ExportedProgram
from .graph_signature import ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec

__all__ = [
    "Dim",
    "ExportedProgram",
    "ExportGraphSignature",
    "InputKind",
    "InputSpec",
    "OutputKind",
    "OutputSpec",
    "export",
    "load",
    "save",
    "supported_ops",
]


def load(
    f: str | os.PathLike[str] | IO[bytes], *, expected_opset_version: dict[str, int] | None = None
) -> ExportedProgram:
    """Read an :class:`ExportedProgram` from a ``.pt2`` archive written by ``torch.export.save``."""
    from ._serialize import read_archive

    return read_archive(f)


def save(
    ep: ExportedProgram,
    f: str | os.PathLike[str] | IO[bytes],
    *,
    extra_files: dict[str, Any] | None = None,
    opset_version: dict[str, int] | None = None,
    pickle_protocol: int = 2,
) -> None:
    """Writes ``ep`` as a ``.pt2`` archive in ``torch.export.save``'s layout (read by :func:`load` and
    by ``torch.export.load``).

    The weights are written as raw little-endian bytes (contiguous), the graph as the archive's JSON
    schema with every argument named by its ATen schema. The inputs' dynamic dimensions (a
    :class:`Dim` of :func:`export`, or a symbol of a loaded archive) are written as symbols with
    their ranges, so a loader lets them vary; every other size recorded is the example's, which
    the loaders check on the inputs. A program read by :func:`load` is run once on zeros of its
    recorded input sizes to record every value's size.

    Args:
        ep (ExportedProgram): from :func:`export` or :func:`load`.
        f (str, PathLike or file object): where to write.
        extra_files, opset_version, pickle_protocol: accepted for PyTorch's signature (not used).

    Raises:
        NotImplementedError: the graph holds a node the archive cannot describe (a value with no
            recorded example, an operator whose argument names are unknown).

    Example::

        >>> import io, ember.export
        >>> buf = io.BytesIO()
        >>> ember.export.save(ember.export.export(ember.nn.ReLU(), (ember.randn(3),)), buf)
        >>> buf.getvalue()[:2]
        b'PK'
    """
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"ember.export.save: expected an ExportedProgram, got {type(ep).__name__}")
    from ._write import write_archive

    write_archive(ep, f)
