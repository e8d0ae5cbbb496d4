"""A oneDNN primitive with its operands, and the cache of the plans built from them.

A primitive created with ``any`` layouts chooses its operands' layouts itself (blocked, e.g.
``nChw16c``): a :class:`Step` holds the primitive and, for each operand, memory on the caller's
array plus, where the primitive chose another layout, memory of its own and the reorder between
the two. Each call points the user-side memory at the call's arrays, reorders the inputs in,
executes, and reorders the outputs out, as PyTorch's ``mkldnn_*`` ops do. The plans built from
steps (:mod:`.convolution`, :mod:`.lstm`) are kept per geometry in a :class:`PlanCache`.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ember.backends import mkldnn

from .library import OnednnError, load
from .memory import Memory, Reorder, array_desc, same_desc, strided_desc

__all__ = ["Layout", "PlanCache", "Step", "StepPlan", "VectorPlan"]

_QUERY_EXEC_ARG_MD = 255  # dnnl_query_exec_arg_md: the descriptor of an execution argument
_F32 = np.dtype(np.float32)


class Layout:
    """An array layout other than a C-contiguous float32 one: ``shape`` with ``strides`` (in elements),
    of ``dtype`` (float32 unless given: bfloat16 products)."""

    __slots__ = ("shape", "strides", "dtype")

    def __init__(self, shape, strides, dtype=_F32):
        self.shape, self.strides, self.dtype = tuple(shape), tuple(strides), dtype


def _plain_desc(lib, layout):
    if isinstance(layout, Layout):
        return strided_desc(lib, layout.shape, layout.strides, layout.dtype)
    return array_desc(lib, layout)


class _Operand:
    """One operand of a primitive: memory on the caller's array and, where the primitive chose another
    layout, memory of its own with the reorder between the two (into it for an input, out of it for an
    output)."""

    __slots__ = ("user", "inner", "reorder_args", "reorder")

    def __init__(self, lib, plain, chosen, output):
        self.user = Memory(lib, plain)
        if same_desc(lib, plain, chosen):
            self.inner, self.reorder, self.reorder_args = self.user, None, None
        else:
            self.inner = Memory(lib, chosen, owned=True)
            source, target = (self.inner, self.user) if output else (self.user, self.inner)
            self.reorder = Reorder(lib, chosen if output else plain, plain if output else chosen)
            self.reorder_args = self.reorder.args(source, target)

    def release(self, lib):
        for memory in {id(self.user): self.user, id(self.inner): self.inner}.values():
            lib.dnnl_memory_destroy(memory.handle)
        if self.reorder is not None:
            lib.dnnl_primitive_destroy(self.reorder.primitive)


class Step:
    """The primitive that ``descriptor`` (a primitive descriptor, owned by the step from now on)
    describes, with its operands.

    Args:
        inputs, outputs (dict): argument index -> the layout of the caller's array: a shape (a
            C-contiguous float32 array), a :class:`Layout`, or None for the layout the primitive chose
            (its workspace: bytes the caller keeps between a forward and its backward).
    """

    def __init__(self, lib, descriptor, inputs, outputs):
        self.lib, self.descriptor = lib, descriptor
        self.operands, made = {}, []
        for arg, layout in {**inputs, **outputs}.items():
            chosen = lib.dnnl_primitive_desc_query_md(descriptor, _QUERY_EXEC_ARG_MD, arg)
            plain = chosen if layout is None else _plain_desc(lib, layout)
            if layout is not None:
                made.append(plain)
            self.operands[arg] = _Operand(lib, plain, chosen, arg in outputs)
        for desc in made:
            lib.dnnl_memory_desc_destroy(desc)
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        self.primitive = ctypes.c_void_p()
        lib.check(lib.dnnl_primitive_create(ctypes.byref(self.primitive), descriptor), "dnnl_primitive_create")
        self.args = lib.exec_args([(arg, operand.inner.handle) for arg, operand in self.operands.items()])

    def size(self, arg):
        """The bytes of argument ``arg`` in the layout the primitive chose (a workspace's size)."""
        return self.lib.dnnl_memory_desc_get_size(
            self.lib.dnnl_primitive_desc_query_md(self.descriptor, _QUERY_EXEC_ARG_MD, arg)
        )

    def __call__(self, arrays):
        """Run the step on ``arrays`` (argument index -> array, outputs included)."""
        lib, operands = self.lib, self.operands
        for arg, array in arrays.items():
            operands[arg].user.point_at(array)
        for arg in self.inputs:
            if operands[arg].reorder is not None:
                lib.execute(operands[arg].reorder.primitive, operands[arg].reorder_args)
        lib.execute(self.primitive, self.args)
        for arg in self.outputs:
            if operands[arg].reorder is not None:
                lib.execute(operands[arg].reorder.primitive, operands[arg].reorder_args)

    def release(self):
        for operand in self.operands.values():
            operand.release(self.lib)
        self.lib.dnnl_primitive_destroy(self.primitive)
        self.lib.dnnl_primitive_desc_destroy(self.descriptor)


class PlanCache:
    """Plans by key, built on first use by ``build(lib, *key)``; a key whose build raised
    :class:`OnednnError` (no implementation for the case) is remembered as None. The ``limit`` most
    recent keys stay; an evicted plan frees its oneDNN objects when its last user drops it.

    Args:
        build (callable): ``build(lib, *key)``, called with oneDNN on ``threads(key)`` OpenMP threads.
        threads (callable): the OpenMP thread count a key's plan runs on.
        limit (int): the most plans kept.
    """

    def __init__(self, build, threads, limit=64):
        self.build, self.threads, self.limit = build, threads, limit
        self.plans: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        """The cached plan of ``key``, or None where oneDNN is not loaded or has no implementation."""
        found = self.plans.get(key)
        if found is not None or key in self.plans:
            return found
        lib = load()
        if lib is None:
            return None
        with self._lock:
            if key not in self.plans:
                try:
                    with lib.on_threads(self.threads(key)):
                        built = self.build(lib, *key)
                except OnednnError:
                    built = None
                while len(self.plans) >= self.limit:
                    del self.plans[next(iter(self.plans))]
                self.plans[key] = built
            return self.plans[key]


class StepPlan:
    """The base of a plan that runs one :class:`Step` on the OpenMP thread count it was built on
    (:class:`VectorPlan`, :class:`~.gemm.ProductPlan`). A subclass builds ``self.step`` in its
    ``__init__`` after calling this one's; a plan serves one call at a time, which ``self.lock``
    enforces, and frees its step when collected."""

    def __init__(self, lib):
        self.lib, self.lock = lib, threading.Lock()

    def __del__(self):
        if getattr(self, "step", None) is not None:  # (not after a failed __init__)
            self.step.release()
            self.step = None


class VectorPlan(StepPlan):
    """The base of a :class:`StepPlan` over float32 vectors of one size (:mod:`.multiply_add`,
    :mod:`.exponential`). :meth:`takes` says whether plans serve some arrays, :meth:`cached` gives the
    plan of a size and a thread count, built on first use.
    """

    #: vectors shorter than this stay with NumPy (a primitive's call costs about 20 us)
    MIN_ELEMENTS = 1 << 16

    @classmethod
    def takes(cls, *arrays):
        """Whether :meth:`cached` serves ``arrays``: C-contiguous float32 of one size, at least
        :data:`MIN_ELEMENTS`, oneDNN installed and ``ember.backends.mkldnn.enabled``."""
        size = arrays[0].size
        return (
            size >= cls.MIN_ELEMENTS
            and all(a.dtype == _F32 and a.size == size and a.flags.c_contiguous for a in arrays)
            and mkldnn.enabled
            and load() is not None
        )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the plans of the most recent sizes and thread counts; the key's last item is the thread count
        cls._cache = PlanCache(lambda lib, size, threads: cls(lib, size), threads=lambda key: key[-1])

    @classmethod
    def cached(cls, size, threads):
        """The cached plan of ``size`` elements on ``threads`` OpenMP threads, or None when oneDNN is not
        loaded or refuses it."""
        return cls._cache.get((size, threads))
