"""Distance functions, functional forms: ``F.cosine_similarity``, ``F.pairwise_distance``, ``F.pdist``."""

from __future__ import annotations

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd.grad_mode import no_grad
from ...ops.dtype_support import TORCH_NAMES, not_implemented
from ...ops.movement import broadcast_tensors
from ...ops.operands import named_node, numpy_names, require_tensors
from ...ops.pairwise import distance_norm
from ...ops.sequences import triu_indices
from ...tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance", "pdist"]


def _check_tensors(name, **tensors):
    require_tensors(name, tuple(tensors), *tensors.values())


def _clamp_value_min(t, eps):
    """``t`` with values clamped below at ``eps`` while its gradient stays that of ``t`` (PyTorch's
    in-place clamp of a copy, outside autograd: an infinite ``t`` stays infinite)."""
    t = t.clone()
    with no_grad():
        t.clamp_(min=eps)
    return t


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8, *, axis: int | None = None) -> Tensor:
    r"""Cosine similarity along ``dim``: :math:`\sum \frac{x_1}{\max(\Vert x_1 \Vert, \epsilon)}
    \frac{x_2}{\max(\Vert x_2 \Vert, \epsilon)}`.

    Args:
        x1 (Tensor): first input.
        x2 (Tensor): second input, broadcastable with ``x1``.
        dim (int): the dimension to reduce. Default: 1
        eps (float): lower bound of each norm. Default: 1e-8
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Shape:
        - Input1: :math:`(*_1, D, *_2)`, :math:`D` at ``dim``
        - Input2: broadcastable with ``x1``
        - Output: :math:`(*_1, *_2)`

    Example::

        >>> F.cosine_similarity(ember.randn(100, 128), ember.randn(100, 128)).shape
        ember.Size([100])
    """
    if axis is not None:
        dim, _ = numpy_names("cosine_similarity", dim, 1, axis, False, None)
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        x1, x2 = cast_inputs("cosine_similarity", x1, x2)
    _check_tensors("cosine_similarity", x1=x1, x2=x2)
    common = dtypes.promote_types(x1.dtype, x2.dtype)
    if not common.is_floating_point:  # complex too: PyTorch's kernel is real-only
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {TORCH_NAMES[common]}")
    # as PyTorch's: integer inputs join the common dtype, floating ones are normalised in their own
    # (a float16 input's norms round in float16) and the products promote
    x1, x2 = (x if x.dtype.is_floating_point else x.to(common) for x in (x1, x2))
    x1, x2 = broadcast_tensors(x1, x2) if x1.shape != x2.shape else (x1, x2)
    n1 = _clamp_value_min(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_value_min(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    r"""The ``p``-norm of :math:`x_1 - x_2 + \epsilon` over the last dimension.

    Args:
        x1 (Tensor): :math:`(N, D)` or :math:`(D)`.
        x2 (Tensor): same shape as ``x1`` (or broadcastable).
        p (float): the norm degree. Default: 2
        eps (float): added to the difference to avoid division by zero. Default: 1e-6
        keepdim (bool): keep the reduced dimension. Default: ``False``

    Shape:
        - x1: :math:`(N, D)` or :math:`(D)`
        - x2: broadcastable with ``x1``
        - Output: :math:`(N)` (or :math:`(N, 1)` with ``keepdim``)

    See :class:`~ember.nn.PairwiseDistance` for details.

    Examples::

        >>> x1 = ember.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> x2 = ember.tensor([[3.0, 4.0], [1.0, 1.0]])
        >>> F.pairwise_distance(x1, x2)  # eps keeps equal rows away from 0
        tensor([5.0000e+00, 1.4142e-06])
        >>> F.pairwise_distance(x1, x2, p=1.0, keepdim=True)
        tensor([[7.0000e+00],
                [2.0000e-06]])
    """
    _check_tensors("pairwise_distance", x1=x1, x2=x2)
    dim = max(x1.ndim, x2.ndim, 1) - 1
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        diff = diff.reshape((1,))
    return named_node(diff.norm(p, dim, keepdim=keepdim), "NormBackward1")  # PyTorch's norm of the difference


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    r"""The ``p``-norm distances between every pair of rows of ``input`` :math:`(N, M)`:
    the upper triangle of the distance matrix, row by row, :math:`N (N-1) / 2` values.

    Args:
        input (Tensor): :math:`(N, M)`.
        p (float): the norm degree (>= 0). Default: 2

    Shape:
        - Input: :math:`(N, M)`
        - Output: :math:`(N (N - 1) / 2)`

    Examples::

        >>> x = ember.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
        >>> F.pdist(x)  # d(0, 1), d(0, 2), d(1, 2)
        tensor([ 5., 10.,  5.])
        >>> F.pdist(x, p=1.0)
        tensor([ 7., 14.,  7.])
    """
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        (input,) = cast_inputs("pdist", input)
    _check_tensors("pdist", input=input)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if (
        input.dtype in dtypes.narrow_float
        and input.shape[0] > 1
        and input.shape[1] > 0  # PyTorch's CPU kernel, which an empty result never reaches
        and input._backend.on_host
    ):
        not_implemented("pdist", input.dtype)
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = triu_indices(n, n, 1, device=input.device)
    diff = input[i] - input[j]
    return named_node(distance_norm(diff, p) if diff.shape[0] else diff.sum(1), "PdistBackward0")  # PyTorch's one node
