"""``nn.Parameter``: a tensor that a :class:`Module` registers and optimizers update."""

from __future__ import annotations

from ..tensor import Tensor, _copy_slots

__all__ = ["Parameter"]


class Parameter(Tensor):
    r"""A kind of tensor that is to be considered a module parameter.

    Parameters are :class:`~ember.Tensor` subclasses that have a special property when
    used with :class:`Module` s: assigned as a module attribute they are added to the
    module's parameters and appear in :meth:`Module.parameters`. A parameter shares the
    storage of the tensor it is made from.

    Args:
        data (Tensor): parameter tensor. Default: an empty float tensor.
        requires_grad (bool, optional): if the parameter requires gradient. Default: ``True``.

    Example::

        >>> p = nn.Parameter(ember.zeros(2))
        >>> p
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        param = object.__new__(cls)
        _copy_slots(data.detach(), param)
        if not data._data.shape:
            # NumPy reductions give 0-d results as immutable scalars; a parameter is updated in place.
            param._data = data._backend.xp.asarray(data._data)
        param.grad = None
        param._accumulator = None
        param._requires_grad = False
        if requires_grad:
            param.requires_grad = True
        return param

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self._requires_grad)
        if self.grad is not None:
            result.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
