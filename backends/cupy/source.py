"""The CUDA C sources of the CuPy backend: ``.cu`` package files under ``cu/``, compiled once per process."""

from __future__ import annotations

import functools
from importlib import resources

import cupy

__all__ = ["module", "launch_size"]


@functools.cache
def module(file, *name_expressions):
    """The compiled ``cupy.RawModule`` of ``cu/<file>`` (templates instantiated by ``name_expressions``)."""
    code = resources.files(__package__).joinpath("cu", file).read_text()
    return cupy.RawModule(code=code, options=("-std=c++17",), name_expressions=name_expressions or None)


def launch_size(n, threads=256, max_blocks=4096):
    """``(grid, block)`` for a grid-stride loop over ``n`` items."""
    return (max(1, min((n + threads - 1) // threads, max_blocks)),), (threads,)
