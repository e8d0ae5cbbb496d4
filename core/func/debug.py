"""``ember.func.debug_unwrap``: what a transform's function sees, unwrapped."""

from __future__ import annotations

from ..autograd import function as autograd_function
from ..tensor import Tensor

__all__ = ["debug_unwrap"]


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    r"""The tensor a function under :func:`ember.vmap` sees unwrapped: for an entry of a mapped input,
    that input, with its mapped dimension (with ``recurse``, of the outermost ``vmap``'s input); any
    other tensor as it is. For debugging only.

    ember's ``vmap`` runs the function once per entry, so a tensor the function computed is not
    known as mapped and comes back as it is (PyTorch gives its whole batch).

    Args:
        tensor (Tensor): the tensor to unwrap.
        recurse (bool): unwrap every enclosing ``vmap``, not only the innermost. Default: ``True``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.vmap(lambda row: ember.func.debug_unwrap(row).sum() * row)(x)
        tensor([[10., 20.],
                [30., 40.]])
    """
    level = autograd_function.vmap_level
    return tensor if level is None else level.unwrap(tensor, recurse)
