"""Grouped matrix products of Mixture-of-Experts layers: ``F.grouped_mm`` (``torch._grouped_mm``)."""

from __future__ import annotations

from ... import dtypes
from ...autograd.function import Function
from ...tensor import Tensor

__all__ = ["grouped_mm"]

_DTYPES = (dtypes.float32, dtypes.bfloat16, dtypes.float16)
_NAMES = {dtypes.float32: "Float32", dtypes.bfloat16: "BFloat16", dtypes.float16: "Float16"}


class _GroupedMm(Function):
    """The groups' products, each on the rows, columns or contraction range ``offs`` gives it."""

    @staticmethod
    def forward(ctx, a, b, offs, bounds):
        ctx.save_for_backward(a, b)
        ctx.offs, ctx.bounds = offs, bounds
        xp, x, w = a._backend.xp, a._data, b._data
        groups = list(zip([0, *bounds[:-1]], bounds))
        if x.ndim == 3 and w.ndim == 3:
            return a._make(xp.matmul(x, w))
        if x.ndim == 2 and w.ndim == 3:  # rows of a in groups: (M, K) x (G, K, N) -> (M, N)
            parts = [xp.matmul(x[s:e], w[g]) for g, (s, e) in enumerate(groups)]
            tail = xp.zeros((x.shape[0] - bounds[-1], w.shape[2]), dtype=parts[0].dtype)
            return a._make(xp.concat([*parts, tail], axis=0))
        if x.ndim == 3:  # columns of b in groups: (G, M, K) x (K, N) -> (M, N)
            parts = [xp.matmul(x[g], w[:, s:e]) for g, (s, e) in enumerate(groups)]
            tail = xp.zeros((x.shape[1], w.shape[1] - bounds[-1]), dtype=parts[0].dtype)
            return a._make(xp.concat([*parts, tail], axis=1))
        # the contraction in groups: (M, K) x (K, N) -> (G, M, N)
        return a._make(xp.stack([xp.matmul(x[:, s:e], w[s:e]) for s, e in groups]))

    @staticmethod
    def backward(ctx, grad):
        # each gradient is a grouped product over the same groups, whichever the operands' shapes:
        # grad @ b^T for a, a^T @ grad for b
        a, b = ctx.saved_tensors
        ga = _GroupedMm.apply(grad, b.mT, ctx.offs, ctx.bounds) if ctx.needs_input_grad[0] else None
        gb = _GroupedMm.apply(a.mT, grad, ctx.offs, ctx.bounds) if ctx.needs_input_grad[1] else None
        return ga, gb, None, None


def _check_layout(name: str, mat: Tensor) -> None:
    """PyTorch's grouped-GEMM layout rule: one of the two inner dims contiguous, the other's
    stride a multiple of 16 bytes."""
    stride_m, stride_n = mat.stride()[-2:]
    size_m, size_n = mat.shape[-2:]
    alignment = 16 // mat.element_size()
    if stride_n == 1 and stride_m >= max(1, size_n):
        leading = stride_m
    elif stride_m == 1 and stride_n >= max(1, size_m):
        leading = stride_n
    else:
        raise RuntimeError(
            f"grouped_mm: invalid strides/sizes of {name}, got {tuple(mat.stride())} for strides and "
            f"{tuple(mat.shape)} for sizes"
        )
    if leading % alignment:
        raise RuntimeError(f"grouped_mm: strides should be multiple of 16 bytes ({name} has strides {mat.stride()})")


def grouped_mm(
    mat_a: Tensor,
    mat_b: Tensor,
    *,
    offs: Tensor | None = None,
    bias: Tensor | None = None,
    out_dtype: dtypes.dtype | None = None,
) -> Tensor:
    r"""Matrix products of groups of rows, columns or contraction ranges, as in Mixture-of-Experts
    layers whose experts share weight shapes but take jagged numbers of tokens.

    ``offs[i]`` is where group ``i`` ends (it starts where group ``i - 1`` ends, the first at 0)
    along the jagged dimension of the 2-D operand:

    - ``mat_a`` ``(M, K)``, ``mat_b`` ``(G, K, N)``: the result is ``(M, N)``, with
      ``out[s:e] = mat_a[s:e] @ mat_b[g]`` for group ``g``'s rows ``s:e``;
    - ``mat_a`` ``(G, M, K)``, ``mat_b`` ``(K, N)``: ``(M, N)``, with
      ``out[:, s:e] = mat_a[g] @ mat_b[:, s:e]``;
    - ``mat_a`` ``(M, K)``, ``mat_b`` ``(K, N)``: ``(G, M, N)``, with
      ``out[g] = mat_a[:, s:e] @ mat_b[s:e]``;
    - ``mat_a`` ``(G, M, K)``, ``mat_b`` ``(G, K, N)`` (no ``offs``): ``(G, M, N)``, with
      ``out[g] = mat_a[g] @ mat_b[g]``.

    Rows or columns past ``offs[-1]`` are zero. The offsets are read on the host (one
    synchronization on an accelerator).

    Args:
        mat_a (Tensor): float32, bfloat16 or float16, 2-D or 3-D.
        mat_b (Tensor): the same dtype, 2-D or 3-D.
        offs (Tensor, optional): 1-D ``int32`` non-decreasing group ends, given exactly when an
            operand is 2-D. Default: ``None``
        bias (Tensor, optional): not supported (PyTorch's CPU and CUDA kernels refuse it too).
        out_dtype (dtype, optional): the result's dtype; only ``mat_a``'s. Default: ``None``

    Each operand must have one of its two inner dimensions contiguous and the other's stride a
    multiple of 16 bytes, as PyTorch's grouped GEMM kernels require.

    Example::

        >>> a = ember.arange(12.0).reshape(3, 4)
        >>> experts = ember.stack([ember.eye(4), 2 * ember.eye(4)])
        >>> F.grouped_mm(a, experts, offs=ember.tensor([1, 3], dtype=ember.int32))
        tensor([[ 0.,  1.,  2.,  3.],
                [ 8., 10., 12., 14.],
                [16., 18., 20., 22.]])
    """
    for position, name in ((mat_a, "mat_a"), (mat_b, "mat_b")):
        if position.ndim not in (2, 3):
            raise RuntimeError(f"grouped_mm: {name} has to be 2 or 3d, got {position.ndim}d")
    if mat_a.dtype not in _DTYPES:
        raise RuntimeError(f"grouped_mm: expected mat_a to be Float32, BFloat16 or Float16 matrix, got {mat_a.dtype}")
    if mat_b.dtype != mat_a.dtype:
        raise RuntimeError(
            f"grouped_mm: expected mat_a and mat_b to have the same dtype, but got: {mat_a.dtype} != {mat_b.dtype}"
        )
    if mat_a.device != mat_b.device:
        raise RuntimeError(
            f"grouped_mm: expected mat_a and mat_b on the same device, got {mat_a.device} and {mat_b.device}"
        )
    _check_layout("mat_a", mat_a)
    _check_layout("mat_b", mat_b)
    a_3d, b_3d = mat_a.ndim == 3, mat_b.ndim == 3
    if (offs is None) != (a_3d and b_3d):
        raise RuntimeError(
            "grouped_mm: have to provide offsets if there is a 2d matrix, or no offset if both matrices are 3d"
        )
    if out_dtype is not None and out_dtype != mat_a.dtype:
        raise RuntimeError(f"grouped_mm: output dtype must match `mat_a` dtype {mat_a.dtype}, got {out_dtype}")
    if bias is not None:
        raise RuntimeError("grouped_mm: bias not supported yet")
    if a_3d and b_3d and mat_a.shape[0] != mat_b.shape[0]:
        raise RuntimeError(f"grouped_mm: batched dimension has to match, got {mat_a.shape[0]} and {mat_b.shape[0]}")
    if (a_3d or b_3d) and mat_a.shape[-1] != mat_b.shape[-2]:
        raise RuntimeError(
            f"grouped_mm: contraction dimension of mat_a and mat_b must match, got {tuple(mat_a.shape)} and "
            f"{tuple(mat_b.shape)}"
        )
    bounds: list[int] = []
    if offs is not None:
        if offs.ndim != 1:
            raise RuntimeError(f"grouped_mm: offs has to be 1D, got {offs.ndim}D")
        if offs.dtype != dtypes.int32:
            raise RuntimeError(f"grouped_mm: offsets have to be int32, got {offs.dtype}")
        groups = mat_a.shape[0] if a_3d else mat_b.shape[0] if b_3d else None
        if groups is not None and offs.shape[0] != groups:
            raise RuntimeError(
                f"grouped_mm: matrix batch sizes have to match, got {offs.shape[0]} offsets for {groups} groups"
            )
        if offs.shape[0] == 0:
            raise RuntimeError("grouped_mm: offs has to hold at least one group")
        bounds = offs.tolist()
        jagged = mat_b.shape[1] if a_3d else mat_a.shape[0] if b_3d else min(mat_a.shape[1], mat_b.shape[0])
        if bounds[0] < 0 or any(e < s for s, e in zip(bounds, bounds[1:])) or bounds[-1] > jagged:
            raise RuntimeError(
                f"grouped_mm: offs must be non-decreasing and within the jagged dimension of size {jagged}, "
                f"got {bounds}"
            )
    return _GroupedMm.apply(mat_a, mat_b, offs, bounds)
