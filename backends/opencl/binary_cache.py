"""Compiled OpenCL programs cached on disk, so that a new process does not compile again;
beside them, choices measured once per device (which GEMM is faster), so that a new process
does not measure again.

A program's binary (``CL_PROGRAM_BINARIES``) is stored under a key made of the source text,
the build options and the device's identity (platform and its version, device name and
version, driver version): a new driver or device never loads a stale binary. PyOpenCL's own
binary cache is off for PoCL and NVIDIA's driver (it leaves caching to them); PoCL's cache
still takes ~0.1 s per program, loading a binary ~1 ms.

The folder is ``$EMBER_OPENCL_CACHE_DIR``, else ``$XDG_CACHE_HOME/ember/opencl``, else
``~/.cache/ember/opencl``; ``EMBER_OPENCL_CACHE_DIR=""`` turns the cache off. A binary that
fails to load is rebuilt from source and replaced. A choice is stored under its name and the
same device identity (:func:`load_choice`, :func:`store_choice`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pyopencl as cl

__all__ = ["cache_dir", "build", "load_choice", "store_choice"]


def cache_dir():
    """The cache folder (a :class:`~pathlib.Path`), or ``None`` when caching is off."""
    folder = os.environ.get("EMBER_OPENCL_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "ember", "opencl")
    return Path(folder) if folder else None


def _identity(device):
    platform = device.platform
    return "\n".join((platform.name, platform.version, device.name, device.version, device.driver_version))


def _path(folder, device, suffix, *parts):
    """The cache file of ``parts`` (text) for ``device``: named by their hash and the device's identity."""
    key = hashlib.sha256("\0".join((_identity(device), *parts)).encode()).hexdigest()
    return folder / f"{key}.{suffix}"


def _write(folder, path, data):
    """Write ``data`` (bytes) to ``path`` atomically; a read-only or full folder is left alone
    (it costs only the rebuild or the measurement next time)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        pass


def load_choice(device, name):
    """The choice stored as ``name`` for ``device`` (text), or ``None`` when there is none."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return _path(folder, device, "choice", name).read_text()
    except (OSError, UnicodeDecodeError):
        return None


def store_choice(device, name, value):
    """Store the choice ``value`` (text) as ``name`` for ``device``."""
    folder = cache_dir()
    if folder is not None:
        _write(folder, _path(folder, device, "choice", name), value.encode())


def build(context, device, source, options=""):
    """The program of ``source`` built for ``device``: from the cached binary when there is one."""
    folder = cache_dir()
    if folder is None:
        return cl.Program(context, source).build(options)
    path = _path(folder, device, "bin", options, source)
    try:
        binary = path.read_bytes()
    except OSError:
        binary = None
    if binary:
        try:
            return cl.Program(context, [device], [binary]).build(options)
        except cl.Error:
            pass  # a binary the driver no longer accepts: rebuild from source below
    program = cl.Program(context, source).build(options)
    (binary,) = program.get_info(cl.program_info.BINARIES)
    if binary:
        _write(folder, path, binary)
    return program
