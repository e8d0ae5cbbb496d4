"""oneDNN memory for NumPy arrays: descriptors of float32, bfloat16 or float16 arrays,
descriptors that let a primitive choose its layout, memory objects, and the reorders between the two layouts.

A primitive's step (:mod:`.primitive`) creates its descriptors, memory objects and reorders once;
each call then points the user-side memory objects at the call's arrays
(:meth:`Memory.point_at`) and executes. Memory in a layout oneDNN chose is allocated by oneDNN
and kept by the plan.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember.backend import native_dtype_name
from ember.strides import contiguous_strides

__all__ = ["DATA_TYPES", "Memory", "Reorder", "any_desc", "array_desc", "data_type", "same_desc", "strided_desc"]

_F32 = 3  # dnnl_f32
#: oneDNN's data type (dnnl_data_type_t) of each NumPy dtype, by name, a primitive's plain operands may
#: have (by name: ml_dtypes, which holds NumPy's bfloat16, is imported only by programs that use it);
#: float16 only where the caller checked that PyTorch's oneDNN takes it on this CPU
DATA_TYPES = {"float32": _F32, "bfloat16": 2, "float16": 1}
_TAG_ANY = 1  # dnnl_format_tag_any
_LIBRARY_ALLOCATES = ctypes.c_void_p(-1)  # DNNL_MEMORY_ALLOCATE


def data_type(dtype):
    """oneDNN's data type of NumPy ``dtype`` (see :data:`DATA_TYPES`), or None."""
    return DATA_TYPES.get(native_dtype_name(dtype))


def strided_desc(lib, shape, strides, dtype=np.float32):
    """A descriptor of an array of ``shape`` with ``strides`` (in elements) of ``dtype`` (one of
    :data:`DATA_TYPES`)."""
    desc = ctypes.c_void_p()
    lib.check(
        lib.dnnl_memory_desc_create_with_strides(
            ctypes.byref(desc), len(shape), lib.dims(shape), data_type(np.dtype(dtype)), lib.dims(strides)
        ),
        "dnnl_memory_desc_create_with_strides",
    )
    return desc


def array_desc(lib, shape, dtype=np.float32):
    """A descriptor of a C-contiguous array of ``shape`` and ``dtype``."""
    return strided_desc(lib, shape, contiguous_strides(shape), dtype)


def any_desc(lib, shape, dtype=np.float32):
    """A descriptor of ``shape`` and ``dtype`` whose layout the primitive chooses."""
    desc = ctypes.c_void_p()
    kind = data_type(np.dtype(dtype))
    lib.check(
        lib.dnnl_memory_desc_create_with_tag(ctypes.byref(desc), len(shape), lib.dims(shape), kind, _TAG_ANY),
        "dnnl_memory_desc_create_with_tag",
    )
    return desc


def same_desc(lib, a, b):
    """Whether two descriptors describe the same layout."""
    return bool(lib.dnnl_memory_desc_equal(a, b))


class Memory:
    """A oneDNN memory object: on a NumPy array's data (``point_at``), or owned by oneDNN when
    ``owned`` (a layout the primitive chose)."""

    __slots__ = ("lib", "handle")

    def __init__(self, lib, desc, owned=False):
        self.lib, self.handle = lib, ctypes.c_void_p()
        data = _LIBRARY_ALLOCATES if owned else ctypes.c_void_p(None)
        lib.check(lib.dnnl_memory_create(ctypes.byref(self.handle), desc, lib.engine, data), "dnnl_memory_create")

    def point_at(self, array: np.ndarray):
        """Make the memory the data of ``array`` (C-contiguous float32, of the descriptor's shape)."""
        self.lib.dnnl_memory_set_data_handle(self.handle, array.ctypes.data)


class Reorder:
    """A reorder primitive from one layout to another of the same shape."""

    __slots__ = ("lib", "primitive")

    def __init__(self, lib, source, target):
        self.lib = lib
        desc, self.primitive = ctypes.c_void_p(), ctypes.c_void_p()
        lib.check(
            lib.dnnl_reorder_primitive_desc_create(ctypes.byref(desc), source, lib.engine, target, lib.engine, None),
            "dnnl_reorder_primitive_desc_create",
        )
        lib.check(lib.dnnl_primitive_create(ctypes.byref(self.primitive), desc), "dnnl_primitive_create")
        lib.dnnl_primitive_desc_destroy(desc)

    def args(self, source: Memory, target: Memory):
        """The execution arguments that copy ``source`` into ``target``."""
        return self.lib.exec_args(((1, source.handle), (17, target.handle)))  # DNNL_ARG_FROM, DNNL_ARG_TO
