"""float32 and bfloat16 matrix products through oneDNN's matmul primitive on ``ember.get_num_threads()``
OpenMP threads.

OpenBLAS runs the products of a training step 10-20% slower than oneDNN on AVX-512 machines, and a
thin one (``(16, 256) @ (256, 1024)``, an LSTM step) twice as slow. Of oneDNN's two ways to a product,
the matmul primitive beats ``dnnl_sgemm`` on two threads (median ms, this 2-core machine; PyTorch's
MKL ``addmm`` in brackets): ``(256, 1024) @ (1024, 1024).T`` 2.47 against 3.78 (2.78), the thin step
0.067 against 0.137 (0.080), ``(256, 784) @ (784, 1024).T`` 1.88 against 2.07 (2.10), and it adds a
linear layer's bias inside the product. It also takes stacks of products, which NumPy runs one matrix
after another on one thread: an attention layer's scores, ``(16, 4, 64, 32) @ (16, 4, 32, 64)``, 0.104
ms against NumPy's 0.309 (PyTorch 0.140). One :class:`ProductPlan` per geometry (shapes, the operands'
strides, bias, accumulation, thread count) holds the primitive; :func:`matmul` caches them.

Unlike the convolutions, a product runs on oneDNN's own OpenMP team rather than split over ember's
pool: a training step of products alone (the MLP) keeps the team's threads busy, and after a rest
ember's pool threads wake slowly (2-thread MLP step after 0.25 s idle: 17.5 ms split over the pool,
10.2 ms on the team; PyTorch 9 ms).

bfloat16 products are PyTorch's CPU ones (its ``mkldnn_matmul``): float32 accumulation, rounded once,
on the CPU's bfloat16 instructions where it has them: ``(1024, 128) @ (128, 512)`` 0.68 ms on one
thread (PyTorch 0.78), against 2.1 ms through ml_dtypes' float32 products, whose results differ from
PyTorch's in the last bit of about one element in 50,000; oneDNN's equal them.
"""

from __future__ import annotations

import contextlib
import ctypes

import numpy as np

from ember.backend import native_dtype_name
from ember.backends import mkldnn
from ember.strides import contiguous_strides
from ember.threads import get_num_threads

from ..parallel import after_openmp_team
from .library import load
from .memory import strided_desc
from .primitive import Layout, PlanCache, Step, StepPlan

__all__ = ["MIN_MACS", "ProductPlan", "StepProduct", "matmul", "packed", "step_product", "takes"]

#: products of fewer multiply-adds stay with NumPy (the call through ctypes costs more than it saves)
MIN_MACS = 1 << 21

_SRC, _WEIGHTS, _BIAS, _DST = 1, 33, 41, 17  # DNNL_ARG_*


def _matrix_strides(rows, cols, row_step, col_step, size):
    """The element strides of a matrix of ``size``-byte elements as the primitive reads it: one axis of
    unit stride (or of length one) and the other stepping over at least its length; None where the
    matrix is not so. An axis of length one gets the stride of a contiguous array (its stride reads
    nothing): the arrays of one shape and layout share one plan."""
    if col_step == size or cols == 1:  # row-major
        if rows == 1:
            return (cols, 1)
        if row_step % size == 0 and row_step // size >= cols:
            return (row_step // size, 1)
    if row_step == size or rows == 1:  # column-major
        if cols == 1:
            return (1, rows)
        if col_step % size == 0 and col_step // size >= rows:
            return (1, col_step // size)
    return None


def _strides(x):
    """The element strides of an array as the primitive reads it: a matrix's as
    :func:`_matrix_strides` gives them; a stack of matrices' where each is packed (rows or columns one
    after another, as in a C-contiguous array or its ``mT``) and each batch axis steps over all the axes
    after it (C order, gaps allowed: the primitive ran interleaved stacks, an attention layer's heads as
    views of its projections, slower than NumPy); None elsewhere. A batch axis of length one gets the
    stride it would have without gaps."""
    *batch, rows, cols = x.shape
    *batch_steps, row_step, col_step = x.strides
    size = x.itemsize
    matrix = _matrix_strides(rows, cols, row_step, col_step, size)
    if matrix is None or not batch:
        return matrix
    if matrix not in ((cols, 1), (1, rows)):  # not packed
        return None
    strides, span = [], rows * cols
    for length, step in zip(reversed(batch), reversed(batch_steps)):
        if length == 1:
            step = span * size
        elif step % size or step < span * size:  # interleaved with the axes after it
            return None
        strides.append(step // size)
        span = step // size * length
    return (*reversed(strides), *matrix)


def _operand(x):
    """``(x, strides)``: ``x`` as the primitive reads it (see :func:`_strides`), a C-contiguous copy of a
    matrix where it cannot; None for a stack it cannot (NumPy's matmul, which reads any layout, is faster
    than a copy and the primitive)."""
    strides = _strides(x)
    if strides is None:
        if x.ndim > 2:
            return None
        x = np.ascontiguousarray(x)
        strides = _strides(x)
    return x, strides


def _product_dtype(dtype):
    """Whether the products of ``dtype`` go through oneDNN: float32 and bfloat16 (float16 ones stay NumPy's)."""
    return native_dtype_name(dtype) in ("float32", "bfloat16")


def packed(x):
    """``x``, or a C-contiguous copy of a float32 or bfloat16 stack of matrices that the primitive would
    not read (see :func:`_strides`) where oneDNN serves: for an operand of several products, a copy costs
    less than NumPy's products on the view."""
    if x.ndim > 2 and _product_dtype(x.dtype) and mkldnn.enabled and _strides(x) is None and load() is not None:
        return np.ascontiguousarray(x)
    return x


class ProductPlan(StepPlan):
    """``out = a @ b (+ bias)``, or ``out += a @ b`` with ``accumulate``, for ``(*, m, k)`` ``a`` and
    ``(*, k, n)`` ``b`` (one batch shape) of the given element strides and a C-contiguous ``(*, m, n)``
    ``out``, all of one dtype (float32 or bfloat16, accumulated in float32): one matmul primitive, run
    on the OpenMP thread count it was built on (see :class:`StepPlan`).

    Args:
        a_shape, b_shape (tuple): the operands' shapes.
        a_strides, b_strides (tuple): the operands' element strides (see :func:`_strides`).
        bias (bool): a ``(n,)`` bias is added to every row (inside the product: one rounding).
        accumulate (bool): the product is added to ``out``'s values (one rounding) instead of written.
        dtype (numpy.dtype): the operands' dtype.
    """

    def __init__(self, lib, a_shape, b_shape, a_strides, b_strides, bias, accumulate, dtype):
        super().__init__(lib)
        out_shape = (*a_shape[:-1], b_shape[-1])
        layouts = {_SRC: Layout(a_shape, a_strides, dtype), _WEIGHTS: Layout(b_shape, b_strides, dtype)}
        if bias:
            bias_shape = (1,) * (len(out_shape) - 1) + out_shape[-1:]
            layouts[_BIAS] = Layout(bias_shape, contiguous_strides(bias_shape), dtype)
        descs = {arg: strided_desc(lib, layout.shape, layout.strides, dtype) for arg, layout in layouts.items()}
        dst = strided_desc(lib, out_shape, contiguous_strides(out_shape), dtype)
        descriptor = ctypes.c_void_p()
        attr = _sum_attr(lib) if accumulate else None
        try:
            lib.check(
                lib.dnnl_matmul_primitive_desc_create(
                    ctypes.byref(descriptor), lib.engine, descs[_SRC], descs[_WEIGHTS], descs.get(_BIAS), dst, attr
                ),
                "dnnl_matmul_primitive_desc_create",
            )
        finally:
            for desc in (*descs.values(), dst):
                lib.dnnl_memory_desc_destroy(desc)
            if attr is not None:
                lib.dnnl_primitive_attr_destroy(attr)
        self.step = Step(lib, descriptor, layouts, {_DST: Layout(out_shape, contiguous_strides(out_shape), dtype)})

    def __call__(self, a, b, out, bias=None):
        """Write (or add) ``a @ b (+ bias)`` into ``out`` and return it. Call it inside
        ``lib.on_threads(threads)`` of the plan's thread count."""
        arrays = {_SRC: a, _WEIGHTS: b, _DST: out}
        if bias is not None:
            arrays[_BIAS] = bias
        with self.lock:
            self.step(arrays)
        return out


def _sum_attr(lib):
    """Primitive attributes with a sum post-op: the result added to the destination's values."""
    attr, post_ops = ctypes.c_void_p(), ctypes.c_void_p()
    lib.check(lib.dnnl_primitive_attr_create(ctypes.byref(attr)), "dnnl_primitive_attr_create")
    lib.check(lib.dnnl_post_ops_create(ctypes.byref(post_ops)), "dnnl_post_ops_create")
    try:
        lib.check(lib.dnnl_post_ops_append_sum(post_ops, 1.0, 0, 0), "dnnl_post_ops_append_sum")  # dnnl_data_type_undef
        lib.check(lib.dnnl_primitive_attr_set_post_ops(attr, post_ops), "dnnl_primitive_attr_set_post_ops")
    finally:
        lib.dnnl_post_ops_destroy(post_ops)
    return attr


#: the plans of the most recent geometries; a key's last item is its thread count. Building a plan costs
#: 0.5 ms (0.17 ms where oneDNN's own cache of compiled kernels has it), so the cache holds many: a model
#: fed sequences of varying lengths meets a geometry per length and layer
_plans = PlanCache(lambda lib, *key: ProductPlan(lib, *key[:-1]), threads=lambda key: key[-1], limit=512)


def takes(rows, inner, columns, dtype):
    """Whether :func:`matmul` takes a ``(rows, inner) @ (inner, columns)`` product of ``dtype`` (the rows of
    every matrix of a batch together): float32 or bfloat16, at least :data:`MIN_MACS` multiply-adds,
    oneDNN installed and ``ember.backends.mkldnn.enabled`` (and, for bfloat16, a oneDNN with a bfloat16
    product for this CPU: :func:`matmul` gives None where it has none)."""
    return rows * inner * columns >= MIN_MACS and _product_dtype(dtype) and mkldnn.enabled and load() is not None


def matmul(a, b, out=None, accumulate=False, bias=None):
    """``a @ b`` of float32 or bfloat16 matrices, or of stacks of them with one batch shape
    (``(*, M, K) @ (*, K, N)``), through oneDNN, written into ``out`` (a C-contiguous ``(*, M, N)`` array of
    their dtype) or a new array, with ``bias`` (a contiguous ``(N,)`` array of their dtype) added to every row, or added to ``out``'s values with
    ``accumulate`` (one rounding of each sum, as PyTorch's ``addmm``); None where it does not take the
    case (see :func:`takes`; operands whose batch shapes differ, which NumPy broadcasts, and stacks that
    are not packed, see :func:`_strides`, included)."""
    if a.ndim < 2 or b.ndim != a.ndim or a.shape[-1] != b.shape[-2] or b.dtype != a.dtype:
        return None  # NumPy's matmul serves (or raises)
    if a.ndim > 2 and a.shape[:-2] != b.shape[:-2]:
        return None
    rows, n = a.size // a.shape[-1] if a.size else 0, b.shape[-1]
    if not takes(rows, a.shape[-1], n, a.dtype):
        return None
    if bias is not None and (bias.dtype != a.dtype or bias.shape != (n,) or not bias.flags.c_contiguous):
        return None
    left, right = _operand(a), _operand(b)
    if left is None or right is None:
        return None
    (a, a_strides), (b, b_strides) = left, right
    threads = get_num_threads()
    plan = _plans.get((a.shape, b.shape, a_strides, b_strides, bias is not None, accumulate, a.dtype, threads))
    if plan is None:
        return None
    if out is None:
        out = np.empty((*a.shape[:-1], n), dtype=a.dtype)
    with plan.lib.on_threads(threads):
        plan(a, b, out, bias)
    if threads > 1:
        after_openmp_team()
    return out


class StepProduct:
    """``out = a @ b`` (or ``out += a @ b`` with ``accumulate``) for a loop of C-contiguous ``(rows, k)``
    ``a`` against one ``b``, as an LSTM's time steps run them: the checks, ``b``'s layout and the plan
    worked out once (:func:`step_product` builds it). Call it inside ``with product.threads():``, which
    sets oneDNN's OpenMP thread count once around the loop.

    Args:
        plan (ProductPlan): the plan of ``(rows, k) @ b``.
        b (ndarray): the ``(k, n)`` float32 right operand, shared by every call, as the plan reads it.
        threads (int): the plan's OpenMP thread count.
    """

    def __init__(self, plan, b, threads):
        self.plan, self.b, self.thread_count = plan, b, threads

    def __call__(self, a, out):
        """Write (or add) ``a @ b`` into ``out``, a C-contiguous ``(rows, n)`` float32 array."""
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a)
        return self.plan(a, self.b, out)

    @contextlib.contextmanager
    def threads(self):
        """oneDNN's OpenMP thread count set to the plan's inside, given back after."""
        try:
            with self.plan.lib.on_threads(self.thread_count):
                yield self
        finally:
            if self.thread_count > 1:
                after_openmp_team()


def step_product(b, rows, accumulate=False):
    """The :class:`StepProduct` of ``(rows, k) @ b`` for float32 ``b``, adding into its output with
    ``accumulate``; None where oneDNN does not take it (see :func:`takes`) and for other dtypes."""
    k, n = b.shape
    if b.dtype != np.float32 or not takes(rows, k, n, b.dtype):
        return None
    b, b_strides = _operand(b)
    threads = get_num_threads()
    plan = _plans.get(
        ((rows, k), b.shape, contiguous_strides((rows, k)), b_strides, False, accumulate, b.dtype, threads)
    )
    return None if plan is None else StepProduct(plan, b, threads)
