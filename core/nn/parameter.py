"""``nn.Parameter``: a tensor that a :class:`Module` registers and optimizers update; ``nn.Buffer``,
one it registers as a buffer; and the uninitialized placeholders of the lazy modules
(:class:`UninitializedParameter`, :class:`UninitializedBuffer`), shaped on their first use."""

from __future__ import annotations

from typing import NoReturn

from ..overrides import _disabled_torch_function_impl, _opted_out
from ..tensor import Tensor, _copy_slots, _TensorTypeMeta, require_grad_of_new, requires_grad_flag

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


class _ParameterMeta(_TensorTypeMeta):
    """``isinstance(t, Parameter)`` also holds for a tensor subclass's instance made a parameter (its
    ``_is_param`` flag), as PyTorch's ``_ParameterMeta`` answers."""

    def __instancecheck__(cls, instance: object) -> bool:
        if type.__instancecheck__(cls, instance):
            return True
        # a plain tensor answers at once; only a subclass's instance can carry the flag
        return (
            cls is Parameter
            and type(instance) is not Tensor
            and isinstance(instance, Tensor)
            and getattr(instance, "_is_param", False)
        )


class Parameter(Tensor, metaclass=_ParameterMeta):
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

    # operations on a parameter give plain tensors, as PyTorch's (ember.overrides)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        elif cls is Parameter and type(data) is not Tensor and not _opted_out(type(data).__torch_function__):
            # a tensor subclass with __torch_function__ (tv_tensors, a quantized weight) stays of its class,
            # flagged as a parameter, as PyTorch's custom-tensor path does
            param = data.detach().requires_grad_(requires_grad)
            if type(param) is not type(data):
                raise RuntimeError(
                    f"Creating a Parameter from an instance of type {type(data).__name__} requires that detach() "
                    f"returns an instance of the same type, but return type {type(param).__name__} was found instead"
                )
            param._is_param = True
            return param
        param = object.__new__(cls)
        _copy_slots(data.detach(), param)
        if not data._data.shape:
            # NumPy reductions give 0-d results as immutable scalars; a parameter is updated in place.
            param._data = data._backend.xp.asarray(data._data)
        param.grad = None
        param._accumulator = None
        param._requires_grad = False
        return require_grad_of_new(param) if requires_grad_flag("Parameter()", requires_grad) else param

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self._requires_grad)  # without .grad, as PyTorch's
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        # the attributes set on it travel along, as PyTorch's _rebuild_parameter_with_state; its hooks do not
        # (without the warning a plain tensor's give, as in PyTorch)
        return (_rebuild_parameter, (self.detach(), self._requires_grad), self.__dict__ or None)

    _printed_as_tensor = True  # "tensor(...)" inside; a subclass prints its own name

    def __repr__(self):
        text = super().__repr__()
        if type(self) is not Parameter:  # a subclass's own name inside, as PyTorch prints it
            text = f"Parameter({text})"
        return "Parameter containing:\n" + text

    __str__ = __repr__


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    r"""A kind of tensor that is module state but not a parameter (BatchNorm's ``running_mean``):
    assigned as a :class:`Module` attribute it is registered as a buffer, as
    :meth:`Module.register_buffer` would.

    Args:
        data (Tensor): the buffer's tensor. Default: an empty float tensor.
        persistent (bool): whether the buffer is part of :meth:`Module.state_dict`. Default: ``True``.

    Example::

        >>> m = nn.Module()
        >>> m.steps = nn.Buffer(ember.zeros(2))
        >>> list(dict(m.named_buffers()))
        ['steps']
    """

    _printed_as_tensor = True  # PyTorch's Buffer makes a plain tensor
    __torch_function__ = _disabled_torch_function_impl  # and so operations on it give plain tensors

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        if data is None:
            from ..ops.creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor, got {type(data).__name__}")
        buffer = object.__new__(cls)
        _copy_slots(data.detach(), buffer)
        buffer._requires_grad = False
        if data.requires_grad:
            buffer.requires_grad = True
        buffer.persistent = persistent
        return buffer


def is_lazy(value: object) -> bool:
    """Whether ``value`` is an :class:`UninitializedParameter` or :class:`UninitializedBuffer`."""
    return isinstance(value, _UninitializedTensor)


class _UninitializedTensor:
    """What the two placeholders share: an empty tensor that :meth:`materialize` gives its shape."""

    cls_to_become: type = Tensor

    def materialize(self, shape: tuple[int, ...] | int, device: object = None, dtype: object = None) -> None:
        """Give the placeholder ``shape`` (uninitialized values) and make it an ordinary parameter or buffer.

        Args:
            shape (tuple of int): the shape.
            device (ember.device, optional): the device. Default: the placeholder's.
            dtype (ember.dtype, optional): the dtype. Default: the placeholder's.
        """
        from ..ops.creation import empty

        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        data = empty(shape, device=device or self.device, dtype=dtype or self.dtype)
        requires_grad = self._requires_grad
        _copy_slots(data, self)
        self._requires_grad = False
        self.grad = None
        self.__class__ = self.cls_to_become
        if requires_grad:
            self.requires_grad = True

    def _become(self, moved: Tensor) -> None:
        """Take the device and dtype of ``moved`` (what a module move made of this placeholder)."""
        requires_grad = self._requires_grad
        _copy_slots(moved.detach(), self)
        self._requires_grad = requires_grad

    # Until materialized, its shape and size are errors, as PyTorch's (its empty placeholder would count 0).
    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes."
        )

    def _refuse(self, method: str) -> NoReturn:
        kind = "parameter" if isinstance(self, Parameter) else "buffer"
        raise ValueError(
            f"Attempted to use an uninitialized {kind} in {method}. This error happens when you are using a "
            f"`LazyModule` or explicitly manipulating `ember.nn.parameter.Uninitialized{kind.capitalize()}` "
            "objects. When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
            "calling ember functions"
        )

    def numel(self) -> int:
        self._refuse("numel")

    nelement = numel

    def dim(self) -> int:
        self._refuse("dim")

    ndimension = dim

    def __len__(self) -> int:
        self._refuse("__len__")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(_UninitializedTensor, Parameter):
    r"""A parameter whose shape is not known yet: a lazy module gives it one
    (:meth:`materialize`) on its first forward, when it becomes a :class:`Parameter`.

    Args:
        requires_grad (bool): whether the parameter will require gradient. Default: ``True``.
        device (ember.device, optional): its device.
        dtype (ember.dtype, optional): its dtype.

    Example::

        >>> p = nn.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', ember.Size([2, 3]))
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: object = None, dtype: object = None) -> UninitializedParameter:
        from ..ops.creation import empty

        return super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __deepcopy__(self, memo: dict) -> UninitializedParameter:
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self._requires_grad, self.device, self.dtype)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (UninitializedParameter, (self._requires_grad, self.device, self.dtype))


class UninitializedBuffer(_UninitializedTensor, Buffer):
    r"""A buffer whose shape is not known yet: a lazy module gives it one (:meth:`materialize`)
    on its first forward.

    Args:
        requires_grad (bool): whether the buffer will require gradient. Default: ``False``.
        device (ember.device, optional): its device.
        dtype (ember.dtype, optional): its dtype.
        persistent (bool): whether the buffer is part of the state dict. Default: ``True``.

    Example::

        >>> b = nn.UninitializedBuffer()
        >>> b.materialize(3)
        >>> b.shape
        ember.Size([3])
    """

    cls_to_become = Buffer

    def __new__(
        cls, requires_grad: bool = False, device: object = None, dtype: object = None, persistent: bool = True
    ) -> UninitializedBuffer:
        from ..ops.creation import empty

        buffer = super().__new__(
            cls, empty(0, device=device, dtype=dtype).requires_grad_(requires_grad), persistent=persistent
        )
        return buffer
