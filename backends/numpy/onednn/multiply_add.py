"""``x * scale + y`` over float32 vectors on oneDNN's OpenMP team, rounded as NumPy rounds it.

The NumPy kernels split element-wise work over ember's Python thread pool, which on two cores
gains little: each hand-off is a wake-up of a thread on the other core, and after a oneDNN call
the team's idle thread spins on that core for milliseconds. This plan runs the work on the team
itself: a binary ``mul`` primitive with a binary ``add`` post-op, which rounds the product, then
the sum (two roundings, NumPy's ``np.add(np.multiply(x, scale), y)``, bit for bit: no fused
multiply-add). ``scale`` is a float32 scalar; the result may be written over ``x`` or ``y``.

The SGD step is made of it (:mod:`..kernels.optim`): a 1M-element momentum step took 0.33 ms on
two threads, against 1.3-2.4 ms for NumPy's blocked passes on a loaded machine.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .memory import array_desc
from .primitive import Step, VectorPlan

__all__ = ["MIN_ELEMENTS", "MultiplyAddPlan", "plan", "takes"]

_ADD, _MUL = 0x1FFF0, 0x1FFF1  # dnnl_binary_add, dnnl_binary_mul
_SRC_0, _SRC_1, _DST = 1, 2, 17
_POST_OP_0_SRC_1 = 32768 | _SRC_1  # DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1


class MultiplyAddPlan(VectorPlan):
    """``out = x * scale + y`` for float32 vectors of ``size`` elements, on the OpenMP thread count it
    was built on. A plan serves one call at a time, which its lock enforces."""

    def __init__(self, lib, size):
        super().__init__(lib)
        vector, scalar = array_desc(lib, (size,)), array_desc(lib, (1,))
        post_ops, attr, descriptor = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        try:
            lib.check(lib.dnnl_post_ops_create(ctypes.byref(post_ops)), "dnnl_post_ops_create")
            lib.check(lib.dnnl_post_ops_append_binary(post_ops, _ADD, vector), "dnnl_post_ops_append_binary")
            lib.check(lib.dnnl_primitive_attr_create(ctypes.byref(attr)), "dnnl_primitive_attr_create")
            lib.check(lib.dnnl_primitive_attr_set_post_ops(attr, post_ops), "dnnl_primitive_attr_set_post_ops")
            lib.check(
                lib.dnnl_binary_primitive_desc_create(
                    ctypes.byref(descriptor), lib.engine, _MUL, vector, scalar, vector, attr
                ),
                "dnnl_binary_primitive_desc_create",
            )
        finally:
            for handle, destroy in ((attr, "primitive_attr"), (post_ops, "post_ops")):
                if handle:
                    getattr(lib, f"dnnl_{destroy}_destroy")(handle)
            for desc in (vector, scalar):
                lib.dnnl_memory_desc_destroy(desc)
        self.step = Step(lib, descriptor, {_SRC_0: (size,), _SRC_1: (1,), _POST_OP_0_SRC_1: (size,)}, {_DST: (size,)})
        self.scale = np.empty(1, dtype=np.float32)

    def __call__(self, x, scale, y, out):
        """Write ``x * scale + y`` into ``out`` (each a C-contiguous float32 vector of the plan's size) and
        return ``out``. Call it inside ``lib.on_threads(threads)`` of the plan's thread count."""
        with self.lock:
            self.scale[0] = scale
            self.step({_SRC_0: x, _SRC_1: self.scale, _POST_OP_0_SRC_1: y, _DST: out})
        return out


def plan(size, threads):
    """The cached :class:`MultiplyAddPlan` of ``size`` elements on ``threads`` OpenMP threads, or None
    when oneDNN is not loaded or refuses it."""
    return MultiplyAddPlan.cached(size, threads)


#: :meth:`MultiplyAddPlan.takes`'s size threshold, and the check itself
MIN_ELEMENTS, takes = MultiplyAddPlan.MIN_ELEMENTS, MultiplyAddPlan.takes
