"""Singular values of a (batch of) matrices by one-sided Jacobi rotations, written against the
array primitives (so every backend has them), and their gradient."""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor
from ..typeinfo import finfo
from .comparison import _TORCH_NAMES

__all__ = ["svdvals"]

#: the most sweeps over all column pairs; Jacobi converges quadratically, ~6-10 sweeps in float64
_MAX_SWEEPS = 40


def _rounds(n):
    """Round-robin pairings of ``n`` (even) columns: each round pairs every column once, and the
    ``n - 1`` rounds of a sweep pair every two columns once."""
    others = list(range(1, n))
    rounds = []
    for r in range(n - 1):
        order = [0, *others[r:], *others[:r]]
        rounds.append((order[: n // 2], order[n // 2 :][::-1]))
    return rounds


def _orthogonalize(backend, a, v, rounds, eps):
    """Rotate the columns of ``a`` (..., m, n) pairwise until they are orthogonal, applying the
    same rotations to ``v``; returns ``(a, v)``."""
    xp = backend.xp
    n = a.shape[-1]
    long = backend.native_dtype(dtypes.int64)
    pairs = []
    for p, q in rounds:
        order = p + q
        inverse = [0] * n
        for position, column in enumerate(order):
            inverse[column] = position
        pairs.append(tuple(xp.asarray(i, dtype=long) for i in (p, q, inverse)))
    one = xp.asarray(1, dtype=a.dtype)
    for _ in range(_MAX_SWEEPS):
        off = xp.asarray(False, dtype=backend.native_dtype(dtypes.bool))
        for p, q, inverse in pairs:
            ap, aq = xp.take(a, p, axis=-1), xp.take(a, q, axis=-1)
            alpha, beta, gamma = (xp.sum(x * y, axis=-2) for x, y in ((ap, ap), (aq, aq), (ap, aq)))
            rotate = xp.abs(gamma) > eps * xp.sqrt(alpha * beta)
            off = xp.logical_or(off, xp.any(rotate))
            zeta = (beta - alpha) / (2 * xp.where(rotate, gamma, one))
            t = xp.where(zeta >= 0, one, -one) / (xp.abs(zeta) + xp.sqrt(1 + zeta * zeta))
            t = xp.where(rotate, t, 0 * one)
            c = 1 / xp.sqrt(1 + t * t)
            s = c * t
            c, s = xp.expand_dims(c, axis=-2), xp.expand_dims(s, axis=-2)
            a = xp.take(xp.concat([c * ap - s * aq, s * ap + c * aq], axis=-1), inverse, axis=-1)
            vp, vq = xp.take(v, p, axis=-1), xp.take(v, q, axis=-1)
            v = xp.take(xp.concat([c * vp - s * vq, s * vp + c * vq], axis=-1), inverse, axis=-1)
        if not bool(backend.to_host(off)):  # one host read per sweep
            break
    return a, v


def singular_triplets(input):
    """``(u, s, v)`` arrays of ``input`` (..., m, n), ``k = min(m, n)``: ``u`` (..., m, k), ``s``
    (..., k) in descending order and ``v`` (..., n, k) with ``input = u @ diag(s) @ v.T``."""
    backend, data = input._backend, input._data
    xp = backend.xp
    m, n = data.shape[-2:]
    wide = m < n
    a = xp.permute_dims(data, (*range(data.ndim - 2), data.ndim - 1, data.ndim - 2)) if wide else data
    k = a.shape[-1]
    padded = k + k % 2  # an even count of columns for the round-robin pairing (a zero column is inert)
    if padded != k:
        a = xp.concat([a, xp.zeros((*a.shape[:-1], 1), dtype=a.dtype)], axis=-1)
    v = xp.broadcast_to(xp.eye(padded, dtype=a.dtype), (*a.shape[:-2], padded, padded))
    if padded > 1:
        eps = 4 * finfo(input.dtype).eps
        a, v = _orthogonalize(backend, a, v, _rounds(padded), eps)
    a, v = a[..., :k], v[..., :k, :k]
    s = xp.sqrt(xp.sum(a * a, axis=-2))
    u = a / xp.expand_dims(xp.where(s > 0, s, xp.asarray(1, dtype=s.dtype)), axis=-2)
    order = xp.argsort(-s, axis=-1, stable=True)
    s = xp.take_along_axis(s, order, axis=-1)
    order = xp.expand_dims(order, axis=-2)
    u = xp.take_along_axis(u, xp.broadcast_to(order, (*u.shape[:-1], k)), axis=-1)
    v = xp.take_along_axis(v, xp.broadcast_to(order, (*v.shape[:-1], k)), axis=-1)
    return (v, s, u) if wide else (u, s, v)


class _Svdvals(Function):
    @staticmethod
    def forward(ctx, x):
        u, s, v = singular_triplets(x)
        ctx.u, ctx.v = x._make(u), x._make(v)
        return x._make(s)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        # d(sum_i g_i s_i) = U diag(g) V^T
        return (ctx.u * grad.unsqueeze(-2)) @ ctx.v.mT


def svdvals(input):
    """The singular values of a matrix or a batch of matrices, in descending order.

    Computed by one-sided Jacobi rotations; the gradient is :math:`U \\operatorname{diag}(g) V^T`
    (first order only).

    Args:
        input (Tensor): a floating point tensor of shape :math:`(*, m, n)`.

    Returns:
        Tensor of shape :math:`(*, \\min(m, n))`.

    Example::

        >>> ember.linalg.svdvals(ember.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor([4., 3.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"linalg.svdvals(): argument 'A' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.svd: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES[input.dtype.name]}"
        )
    return _Svdvals.apply(input)
