"""The CUDA C sources of the CuPy backend: ``.cu`` package files under ``cu/``, compiled once per process.

Each file is compiled with ``cu/common.cuh`` in front of it. A ``__global__`` template over
``typename T`` is instantiated for ``float`` and ``double``; :func:`function` picks the
instantiation for a dtype. Every kernel is named to NVRTC (``extern "C"`` ones too), so that
all are looked up the same way.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import cupy

__all__ = ["function", "launch_size", "BLOCK"]

#: threads per block of the kernels that reduce within a block (EMBER_BLOCK in common.cuh)
BLOCK = 256
_C_TYPES = {"float32": "float", "float64": "double"}
_TEMPLATE = re.compile(r"template <typename T>\s*__global__ void (\w+)")
_PLAIN = re.compile(r'extern "C" __global__ void (\w+)')


def _read(name):
    return resources.files(__package__).joinpath("cu", name).read_text()


@functools.cache
def _module(file):
    code = _read("common.cuh") + _read(file)
    names = [f"{kernel}<{c}>" for kernel in _TEMPLATE.findall(code) for c in _C_TYPES.values()]
    return cupy.RawModule(code=code, options=("-std=c++17",), name_expressions=names + _PLAIN.findall(code))


def function(file, name, dtype=None):
    """Kernel ``name`` of ``cu/<file>``; for a template, its instantiation for ``dtype`` (float32/float64)."""
    full = name if dtype is None else f"{name}<{_C_TYPES[dtype.name]}>"
    return _function(file, full, cupy.cuda.runtime.getDevice())


@functools.cache
def _function(file, name, device):
    """One lookup per kernel and device (the module is loaded per device)."""
    return _module(file).get_function(name)


def launch_size(n, threads=BLOCK, max_blocks=4096):
    """``(grid, block)`` for a grid-stride loop over ``n`` items."""
    return (max(1, min((n + threads - 1) // threads, max_blocks)),), (threads,)
