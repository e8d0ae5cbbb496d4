"""``torch.utils.serialization.config`` for ember: the settings of :func:`ember.save` and :func:`ember.load`,
with PyTorch's names and defaults, read by each call (the ``ember.serialization`` getters and setters
read and write them too).

``load.mmap``: what ``ember.load(mmap=None)`` does (map the file, as ``mmap=True``). ``load.endianness``: the
byte order assumed for files that record none (:func:`ember.serialization.set_default_load_endianness`).
``load.mmap_flags``: ``mmap.MAP_PRIVATE`` or ``mmap.MAP_SHARED`` (:func:`ember.serialization.set_default_mmap_options`).
``load.calculate_storage_offsets``: accepted (ember finds each record from the zip directory).
``save.compute_crc32``: accepted (ember's writer always records CRC-32s). ``save.use_pinned_memory_for_d2h``:
accepted. ``save.storage_alignment``: the alignment (bytes) of each record's data in PyTorch's format.

Example::

    >>> from ember.utils.serialization import config
    >>> config.save.storage_alignment
    64
    >>> with config.patch({"load.mmap": False}):
    ...     config.load.mmap
    False
"""

import mmap as _mmap
import sys as _sys

from ...config_module import copier, install, patcher


class load:  # noqa: N801 - PyTorch's name
    """The settings of :func:`ember.load`."""

    mmap: bool = False
    endianness = None
    mmap_flags: int | None = None if _sys.platform == "win32" else getattr(_mmap, "MAP_PRIVATE", 2)
    calculate_storage_offsets: bool = False


class save:  # noqa: N801 - PyTorch's name
    """The settings of :func:`ember.save`."""

    compute_crc32: bool = True
    use_pinned_memory_for_d2h: bool = False
    storage_alignment: int = 64


patch = patcher(__name__)
get_config_copy = copier(__name__)
install(__name__, frozenset())
