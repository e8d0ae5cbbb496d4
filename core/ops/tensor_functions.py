"""PyTorch's top-level functions about one object: ``typename``, ``is_storage``, and the
top-level forms of the Tensor methods ``get_device``, ``detach`` and an out-of-place ``fill``.
"""

from __future__ import annotations

from numbers import Number

from ..tensor import Tensor
from ..tensor import _copy_slots as copy_slots
from .operands import tensor_input

__all__ = ["typename", "is_storage", "get_device", "fill", "detach"]


def typename(obj: object, /) -> str:
    """The type name of ``obj``: a tensor's legacy type (``'ember.FloatTensor'``), otherwise the
    dotted module and qualified name of its class (a class names itself).

    Args:
        obj (object): any object.

    Example::

        >>> ember.typename(ember.zeros(2))
        'ember.FloatTensor'
        >>> ember.typename(3)
        'int'
    """
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "") or ""
    prefix = "" if module in ("builtins", "__builtin__", None) else module + "."
    return prefix + getattr(cls, "__qualname__", cls.__name__)


def is_storage(obj: object, /) -> bool:
    """True if ``obj`` is a storage object (:class:`ember.UntypedStorage` or :class:`ember.TypedStorage`).

    Args:
        obj (object): any object.

    Example::

        >>> ember.is_storage(ember.zeros(2)), ember.is_storage(ember.zeros(2).untyped_storage())
        (False, True)
    """
    from .typed_storage import TypedStorage
    from .untyped_storage import UntypedStorage

    return isinstance(obj, (UntypedStorage, TypedStorage))


@tensor_input
def get_device(input: Tensor) -> int:
    """The index of the device ``input`` lives on, or ``-1`` for a CPU tensor (``Tensor.get_device``).

    Args:
        input (Tensor): the tensor.

    Example::

        >>> ember.get_device(ember.zeros(2))
        -1
    """
    return input.get_device()


def fill(input: Tensor, value: Number | Tensor) -> Tensor:
    """A tensor like ``input`` with every element ``value`` (the out-of-place form of
    :meth:`Tensor.fill_`; a 0-dimensional ``value`` tensor receives the gradient).

    Args:
        input (Tensor): the tensor whose shape, dtype and device to take.
        value (Number or Tensor): the value, a number or a 0-dimensional tensor.

    Example::

        >>> ember.fill(ember.zeros(2, 2), 7.0)
        tensor([[7., 7.],
                [7., 7.]])
    """
    return input.clone().fill_(value)


@tensor_input
def detach(input: Tensor) -> Tensor:
    """``input`` cut from the autograd graph: the same data, not requiring grad (``Tensor.detach``).

    Args:
        input (Tensor): the tensor.

    Example::

        >>> x = ember.ones(2, requires_grad=True)
        >>> ember.detach(x).requires_grad
        False
    """
    return input.detach()


def _output_nr(self: Tensor) -> int:
    """The index of this tensor among the outputs of its ``grad_fn`` (0 for a leaf or a tensor
    without a graph). ember composes some multi-output ops (``unbind``, ``split``) from
    single-output nodes, so their pieces report 0 where PyTorch's one node counts them.

    Example::

        >>> values, indices = ember.tensor([1.0, 3.0], requires_grad=True).max(0)
        >>> values.output_nr
        0
    """
    return self._output_nr


output_nr = property(_output_nr)


def as_subclass(self: Tensor, cls: type[Tensor]) -> Tensor:
    """This tensor as an instance of ``cls``, a subclass of :class:`Tensor`: it shares this tensor's memory and,
    as an alias recorded by autograd, passes its gradient on to it.

    Args:
        cls (type): a subclass of :class:`Tensor`.

    Example::

        >>> class Tagged(ember.Tensor):
        ...     pass
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> t = x.as_subclass(Tagged)
        >>> type(t).__name__, t.requires_grad, t.is_leaf
        ('Tagged', True, False)
    """
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): argument 'cls' must be a subclass of Tensor, got {cls!r}")
    result = object.__new__(cls)
    from ..overrides import DisableTorchFunction  # no handler or mode sees the alias being made

    with DisableTorchFunction():
        copy_slots(self[...], result)  # an alias of the whole tensor (PyTorch's AliasBackward0)
    return result
