"""float32 matrix products through oneDNN's ``dnnl_sgemm`` on ``ember.get_num_threads()`` OpenMP threads.

OpenBLAS runs the products of a training step 10-20% slower than oneDNN on AVX-512 machines, and
a thin one (``(16, 256) @ (256, 1024)``, an LSTM step) twice as slow: 86 us against 60 us (one
thread, PyTorch 49 us). Unlike the convolutions, a product runs on oneDNN's own OpenMP team rather
than split over ember's pool: a training step of products alone (the MLP) keeps the team's threads
busy, and after a rest ember's pool threads wake slowly (2-thread MLP step after 0.25 s idle: 17.5 ms
split over the pool, 10.2 ms on the team; PyTorch 9 ms).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ember.backends import mkldnn
from ember.threads import get_num_threads

from ..parallel import after_openmp_team
from .library import load

__all__ = ["MIN_MACS", "StepProduct", "matmul", "takes"]

#: products of fewer multiply-adds stay with NumPy (the call through ctypes costs more than it saves)
MIN_MACS = 1 << 21

_F32 = np.dtype(np.float32)


def _layout(x):
    """``(transposed, leading dimension)`` of a 2-d float32 array as ``dnnl_sgemm`` reads it (row-major),
    or None where neither axis has unit stride."""
    (rows, cols), (row_step, col_step) = x.shape, x.strides
    # row-major ("N": the columns step by one element) or its transpose ("T": the rows do)
    for trans, unit, step, inner, outer in (
        (b"N", col_step, row_step, cols, rows),
        (b"T", row_step, col_step, rows, cols),
    ):
        if unit == 4 or inner == 1:
            if step % 4 == 0 and step // 4 >= inner:
                return trans, step // 4
            if outer == 1:
                return trans, inner
    return None


def _operand(x):
    """``(x, transposed, leading dimension)``: ``x`` as ``dnnl_sgemm`` reads it, a C-contiguous copy
    where neither axis has unit stride (see :func:`_layout`)."""
    layout = _layout(x)
    if layout is None:
        x = np.ascontiguousarray(x)
        layout = _layout(x)
    return (x, *layout)


def takes(rows, inner, columns, dtype):
    """Whether :func:`matmul` takes a ``(rows, inner) @ (inner, columns)`` product of ``dtype``: float32,
    at least :data:`MIN_MACS` multiply-adds, oneDNN installed and ``ember.backends.mkldnn.enabled``."""
    return dtype == _F32 and rows * inner * columns >= MIN_MACS and mkldnn.enabled and load() is not None


def matmul(a, b, out=None, accumulate=False):
    """``a @ b`` of 2-d float32 arrays through oneDNN, written into ``out`` (a C-contiguous
    ``(M, N)`` float32 array) or a new array, or added to ``out``'s values with ``accumulate`` (one
    rounding of the sum, as PyTorch's ``addmm``); None where it does not take the case (see :func:`takes`)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or b.dtype != a.dtype:
        return None  # NumPy's matmul serves (or raises)
    if not takes(a.shape[0], a.shape[1], b.shape[1], a.dtype):
        return None
    (m, k), n = a.shape, b.shape[1]
    lib = load()
    (a, trans_a, lead_a), (b, trans_b, lead_b) = _operand(a), _operand(b)
    if out is None:
        out = np.empty((m, n), dtype=np.float32)
    threads = get_num_threads()
    with lib.on_threads(threads):
        status = lib.dnnl_sgemm(
            trans_a,
            trans_b,
            m,
            n,
            k,
            1.0,
            a.ctypes.data,
            lead_a,
            b.ctypes.data,
            lead_b,
            float(accumulate),
            out.ctypes.data,
            n,
        )
    if threads > 1:
        after_openmp_team()
    lib.check(status, "dnnl_sgemm")
    return out


class StepProduct:
    """``out = a @ b`` (or ``out += a @ b`` with ``accumulate``) for a loop of C-contiguous ``(rows, k)``
    ``a`` against one ``b``, as an LSTM's time steps run them: the checks and ``b``'s layout worked out
    once, each call one ``dnnl_sgemm``. Call it inside ``with product.threads():``, which sets oneDNN's
    OpenMP thread count once around the loop. Build it where :func:`takes` the product.

    Args:
        b (ndarray): the ``(k, n)`` float32 right operand, shared by every call.
        rows (int): the rows of every ``a``.
        accumulate (bool): add the product to ``out``'s values (one rounding) instead of writing it.
    """

    def __init__(self, b, rows, accumulate=False):
        self.lib = load()
        self.b, self.trans_b, self.lead_b = _operand(b)
        self.rows, (self.k, self.n) = rows, self.b.shape
        self.beta = float(accumulate)

    def __call__(self, a, out):
        """Write (or add) ``a @ b`` into ``out``, a C-contiguous ``(rows, n)`` float32 array."""
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a)
        status = self.lib.dnnl_sgemm(
            b"N", self.trans_b, self.rows, self.n, self.k, 1.0, a.ctypes.data, self.k, self.b.ctypes.data,
            self.lead_b, self.beta, out.ctypes.data, self.n,
        )  # fmt: skip
        if status:
            self.lib.check(status, "dnnl_sgemm")
        return out

    @contextlib.contextmanager
    def threads(self):
        """oneDNN's OpenMP thread count set to ``ember.get_num_threads()`` inside, given back after."""
        threads = get_num_threads()
        try:
            with self.lib.on_threads(threads):
                yield self
        finally:
            if threads > 1:
                after_openmp_team()
