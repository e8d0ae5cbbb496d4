"""Distances between sets of vectors and norm capping: ``cdist`` and ``renorm``, composed from
ember's differentiable ops (every backend, gradients included)."""

from __future__ import annotations

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .movement import broadcast_shapes, cat
from .operands import dim_or_axis, named_node, require_tensors, wrap_dim
from .out_argument import write_out

__all__ = ["cdist", "renorm", "dist"]

_MM_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


class _EuclideanByMM(Function):
    """``|a - b|`` as ``sqrt(|a|^2 - 2 a.b + |b|^2)``: one matrix product, PyTorch's ``_euclidean_dist``.
    Its gradient is PyTorch's ``_euclidean_dist_backward``: 0 where a distance is 0 (the square root's
    derivative would make it NaN), in differentiable ops."""

    _backward_name = "EuclideanDistBackward0"

    @staticmethod
    def forward(ctx, x1, x2):
        x1_norm = x1.pow(2).sum(-1, keepdim=True)
        x2_norm = x2.pow(2).sum(-1, keepdim=True)
        x1_ = cat([x1 * -2, x1_norm, x1_norm.new_ones(x1_norm.shape)], -1)
        x2_ = cat([x2, x2_norm.new_ones(x2_norm.shape), x2_norm], -1)
        result = (x1_ @ x2_.mT).clamp_min(0).sqrt()
        ctx.save_for_backward(x1, x2, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x1, x2, result = ctx.saved_tensors
        ratio = (grad / result).masked_fill(result == 0, 0)
        return x1 * ratio.sum(-1, keepdim=True) - ratio @ x2, x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1


class _ChebyshevDistance(Function):
    """The largest absolute difference over the last dimension, with PyTorch's ``cdist`` gradient for
    ``p = inf``: every coordinate that reaches the maximum takes the whole gradient (``torch.amax`` would
    share it out among them)."""

    @staticmethod
    def forward(ctx, diff):
        result = diff.abs().amax(-1)
        ctx.save_for_backward(diff, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        diff, result = ctx.saved_tensors
        return grad.unsqueeze(-1) * diff.sign() * (diff.abs() == result.unsqueeze(-1))


def distance_norm(diff: Tensor, p: float) -> Tensor:
    """The ``p``-norm of ``diff`` over its last dimension with the gradient of PyTorch's distance kernels
    (``cdist``, ``pdist``), which for ``p = inf`` differs from ``norm``'s at ties."""
    return _ChebyshevDistance.apply(diff) if p == float("inf") else diff.norm(p, dim=-1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched).

    .. math::
        out_{b,i,j} = \\| x1_{b,i,:} - x2_{b,j,:} \\|_p

    For ``p = 2`` the distances come from one matrix product (faster, less exact near zero) when
    ``compute_mode`` is ``'use_mm_for_euclid_dist'``, or ``'use_mm_for_euclid_dist_if_necessary'`` (the
    default) and either input has more than 25 rows; ``'donot_use_mm_for_euclid_dist'`` never does.

    Args:
        x1 (Tensor): of shape :math:`(B, P, M)` (batch dimensions broadcast).
        x2 (Tensor): of shape :math:`(B, R, M)`.
        p (float): the norm, ``>= 0`` (``inf`` is the largest difference). Default: ``2.0``.
        compute_mode (str): see above. Default: ``'use_mm_for_euclid_dist_if_necessary'``.

    Shape:
        - Output: :math:`(B, P, R)`.

    Example::

        >>> a = ember.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> ember.cdist(a, ember.tensor([[3.0, 4.0]]))
        tensor([[5.0000],
                [3.6056]])
    """
    if _amp.active:
        return autocast_call("cdist", cdist, x1, x2, p, compute_mode)
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_TORCH_NAMES[x.dtype.name]}")
        if x.dtype in dtypes.narrow_float:
            raise NotImplementedError(f"\"cdist\" not implemented for '{_TORCH_NAMES[x.dtype.name]}'")
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.dtype != x2.dtype:  # PyTorch's kernels take one scalar type
        raise RuntimeError(
            f"cdist: expected X1 and X2 of one dtype, got {_TORCH_NAMES[x1.dtype.name]} and {_TORCH_NAMES[x2.dtype.name]}"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _MM_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    x1 = x1.expand(*batch, *x1.shape[-2:])
    x2 = x2.expand(*batch, *x2.shape[-2:])
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    by_mm = p == 2 and (
        compute_mode == "use_mm_for_euclid_dist" or compute_mode == _MM_MODES[0] and (rows1 > 25 or rows2 > 25)
    )
    if rows1 == 0 or rows2 == 0 or x1.shape[-1] == 0:  # sums over no columns: zeros on the inputs' graph
        return named_node((x1.unsqueeze(-2) - x2.unsqueeze(-3)).sum(-1), "CdistBackward0")
    if by_mm:
        out = _EuclideanByMM.apply(x1, x2)
        return out.view(out.shape)  # a view of the product's result, as PyTorch's (ViewBackward0)
    return named_node(distance_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p), "CdistBackward0")  # PyTorch's one node


@dim_or_axis
def renorm(input: Tensor, p: float, dim: int, maxnorm: float, *, out: Tensor | None = None) -> Tensor:
    """Each slice of ``input`` along ``dim`` whose ``p``-norm exceeds ``maxnorm``, scaled down to norm ``maxnorm``.

    Args:
        input (Tensor): the input tensor.
        p (float): the norm.
        dim (int): the dimension the slices are taken along (each slice is ``input.select(dim, i)``).
        maxnorm (float): the largest norm a slice keeps.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[3.0, 4.0], [0.3, 0.4]])
        >>> ember.renorm(x, 2, 0, 1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("renorm", renorm(input, p, dim, maxnorm), out, exact_dtype=True)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES[input.dtype.name]}"
        )
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p = {p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    dim = wrap_dim(dim, input.ndim)
    others = tuple(d for d in range(input.ndim) if d != dim)
    norms = input.norm(p, dim=others, keepdim=True)
    factor = (maxnorm / (norms + 1e-7)).where(norms > maxnorm, norms.new_ones(()))
    return named_node(input * factor, "RenormBackward0")  # PyTorch's one node


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all elements.

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the right-hand side, broadcast against ``input``.
        p (float): the norm. Default: ``2``.

    Example::

        >>> ember.dist(ember.tensor([1.0, 2.0]), ember.tensor([4.0, 6.0]))
        tensor(5.)
    """
    require_tensors("dist", ("input", "other"), input, other)
    return named_node((input - other).norm(p), "DistBackward0")  # PyTorch's one node
