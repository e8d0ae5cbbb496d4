"""The base of ember's tensors that have no strided storage: sparse (COO and compressed) and nested tensors.

They are :class:`ember.Tensor` instances, as PyTorch's are (``isinstance(s, ember.Tensor)`` is True), but
they keep their own parts (indices and values, offsets) rather than a strided array: what they answer is
what their own classes define. :func:`hide_dense_surface` gives :class:`UnstridedTensor` an absent stand-in
for each attribute of the dense ``Tensor`` that such a class does not define, so that ``Tensor``'s strided
implementation never runs on them: a method or property is absent (an ``AttributeError``, which then runs
the class's own ``__getattr__``, where it raises PyTorch's error for a dense-only op), a binary operator
returns ``NotImplemented`` (Python then tries the other operand, and an in-place operator falls back to
the plain one), another special method raises Python's TypeError, and what ``object`` itself provides (``__eq__``, ``__hash__``, ``__format__``,
``__reduce_ex__``) is ``object``'s.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from .overrides import _disabled_torch_function_impl
from .tensor import Tensor

__all__ = ["UnstridedTensor", "by_layout", "hide_dense_surface", "is_strided", "layout_error"]

#: what ``Tensor`` holds that its subclasses keep: the class machinery
_KEPT = frozenset(
    ("__module__", "__doc__", "__annotations__", "__slots__", "__dict__", "__weakref__", "__new__",
     "__init_subclass__", "__torch_function__", "__class_getitem__", "__qualname__")
)  # fmt: skip
#: the binary operators, plain, reflected and in place: absent, they answer ``NotImplemented``
_OPERATORS = frozenset(
    f"__{prefix}{name}__"
    for name in ("add", "sub", "mul", "matmul", "truediv", "div", "floordiv", "mod", "pow", "and", "or", "xor",
                 "lshift", "rshift")
    for prefix in ("", "r", "i")
)  # fmt: skip


#: protocols Python and NumPy look up as attributes (``copy.copy``, ``numpy.asarray``): absent
_LOOKED_UP = frozenset(
    ("__array__", "__array_wrap__", "__array_priority__", "__dlpack__", "__dlpack_device__", "__copy__",
     "__deepcopy__")
)  # fmt: skip
#: containers' protocols that Python answers itself when set to None ("'X' object is not iterable")
_UNSUPPORTED = frozenset(("__iter__", "__contains__", "__reversed__"))


class UnstridedTensor(Tensor):
    """A tensor without strided storage (a sparse or nested tensor): an :class:`ember.Tensor` whose own
    class defines what it answers; ``Tensor``'s dense attributes are absent on it (see the module)."""

    # a plain tensor's operations run on it as its class defines them: no __torch_function__ of its own
    # (ember.nested installs its handler on NestedTensor)
    __torch_function__ = classmethod(_disabled_torch_function_impl)  # type: ignore[assignment]

    # what the dense autograd reads of an argument (ember.autograd.Function.apply): no history of its own
    # and no gradient there; its gradient flows through its parts (a sparse tensor's values)
    _requires_grad = False
    _view_version = None
    _base = None  # never a view of a dense tensor (PyTorch's sparse and nested tensors have no _base either)
    #: PyTorch's name of the layout's dispatch key, before the device's ("Sparse" in "SparseCPU")
    _dispatch_name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)


class _Absent:
    """The stand-in for one dense attribute: absent on the class and on its instances (an AttributeError)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        kind = owner.__name__ if obj is None else type(obj).__name__
        what = "type object" if obj is None else "object"
        raise AttributeError(f"'{kind}' {what} has no attribute '{self.name}'")


def _not_implemented(self: Any, other: Any) -> Any:
    return NotImplemented


def _refusal(name: str) -> Any:
    """The stand-in for a special method that Python calls through the type (``s[0]``, ``float(s)``):
    Python's TypeError for an object without it."""

    def refuse(self: Any, *args: Any) -> Any:
        raise TypeError(f"'{type(self).__name__}' object does not support {name}")

    refuse.__name__ = name
    return refuse


def hide_dense_surface() -> None:
    """Give :class:`UnstridedTensor` the absent stand-in of each attribute ``Tensor`` holds (once the
    method table is on ``Tensor``: :func:`ember.tensor_methods.install`)."""
    for name in list(vars(Tensor)):
        if name in _KEPT or name in vars(UnstridedTensor):
            continue
        if name in _OPERATORS:
            setattr(UnstridedTensor, name, _not_implemented)
        elif hasattr(object, name):
            setattr(UnstridedTensor, name, getattr(object, name))
        elif name in _UNSUPPORTED:
            setattr(UnstridedTensor, name, None)
        elif name.startswith("__") and name.endswith("__") and name not in _LOOKED_UP:
            setattr(UnstridedTensor, name, _refusal(name))
        else:
            setattr(UnstridedTensor, name, _Absent(name))


def is_strided(obj: Any) -> TypeGuard[Tensor]:
    """Whether ``obj`` is a dense tensor: an :class:`ember.Tensor` that is neither sparse nor nested (for a type
    checker, ``obj`` is then a ``Tensor``, as an ``isinstance`` test would narrow it)."""
    return isinstance(obj, Tensor) and not isinstance(obj, UnstridedTensor)


def layout_error(op: str, input: Any) -> NotImplementedError:
    """PyTorch's error for the op ``op`` that has no kernel for the layout of ``input`` (a sparse or nested tensor)."""
    device = input.device.type
    key = type(input)._dispatch_name + (device.upper() if device in ("cpu", "cuda") else device)
    return NotImplementedError(
        f"Could not run 'aten::{op}' with arguments from the '{key}' backend. This could be because the operator "
        "doesn't exist for this backend, or was omitted during the selective/custom build process (if using "
        "custom build)."
    )


def by_layout(op: str, input: Any, *args: Any, **kwargs: Any) -> Any:
    """``ember.<op>(input, ...)`` for a sparse or nested ``input``: its class's method ``op``, as PyTorch runs
    the kernel of the input's layout; PyTorch's NotImplementedError where the layout has none."""
    method = getattr(input, op, None)
    if method is None:
        raise layout_error(op, input)
    return method(*args, **kwargs)
