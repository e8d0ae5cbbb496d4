"""``ember.norm_except_dim``: the norm weight normalisation divides by (:func:`ember.nn.utils.weight_norm`),
over every dimension of a weight but one, kept for broadcasting."""

from __future__ import annotations

from ..tensor import Tensor
from ..type_names import type_name
from .operands import tensor_input

__all__ = ["norm_except_dim"]


@tensor_input
def norm_except_dim(v: Tensor, pow: int = 2, dim: int = 0) -> Tensor:
    r"""The ``pow``-norm of ``v`` over every dimension but ``dim``, with those dimensions kept as size 1 (so
    that it broadcasts against ``v``); ``dim=-1`` means the norm of the whole tensor, a 0-d tensor.

    Args:
        v (Tensor): a floating or complex tensor.
        pow (int): the order of the norm. Default: 2
        dim (int): the dimension kept; -1 for none. Default: 0

    Example::

        >>> v = ember.tensor([[3.0, 4.0], [6.0, 8.0]])
        >>> ember.norm_except_dim(v, 2, 0)
        tensor([[ 5.],
                [10.]])
        >>> ember.norm_except_dim(v, 2, -1)
        tensor(11.1803)
    """
    if not isinstance(pow, int) or isinstance(pow, bool):
        raise TypeError(f"norm_except_dim(): argument 'pow' (position 2) must be int, not {type_name(pow)}")
    if dim == -1:
        return v.norm(pow)
    if v.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = v._wrap_dim(dim)
    others = tuple(d for d in range(v.dim()) if d != dim)
    if not others:  # a 1-d v: the norm of each element alone
        return v.abs() if pow != 0 else (v != 0).to(v.abs().dtype)
    return v.norm(pow, dim=others, keepdim=True)
