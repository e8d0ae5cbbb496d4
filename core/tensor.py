"""``ember.Tensor``: an n-dimensional array on a device, with autograd.

A tensor holds a native array of its backend (``_data``), the backend object itself
(resolved once, when the tensor is made) and its device. This file holds what every tensor
is: identity, autograd state and conversion to host values. Operations, and the methods that
need the layers above (autograd, printing, the op modules), are installed on the class by the
one table of the Tensor's surface, :mod:`ember.tensor_methods`; this module imports none of them.
"""

from __future__ import annotations

import copy as copy_module
import itertools
import math
import numbers
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

import numpy as np

from . import dtypes
from ._serialization_state import skipping_data
from .device import current_index
from .device import device as _device
from .dim_errors import dim_type_error
from .layout import contiguous_format as _contiguous_format
from .layout import layout as _layout
from .layout import strided as _strided
from .type_names import type_name

if TYPE_CHECKING:
    from ._tensor_surface import TensorSurface as _Surface
    from .types import Device, _RemovableHandle
else:
    _Surface = object  # type checkers see the op functions that are methods (ember._tensor_surface)

__all__ = ["Tensor", "Size", "backend_for_device", "backend_registry", "tensor", "as_tensor", "from_numpy"]


class Size(tuple[int, ...]):
    """The shape of a tensor: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    @staticmethod
    def _check_ints(values: tuple, first: int) -> None:
        """PyTorch's TypeError for a size element other than an int (``first``: the index of ``values[0]``)."""
        for i, v in enumerate(values, first):
            if not isinstance(v, (int, np.integer)):
                raise TypeError(f"ember.Size() takes an iterable of 'int' (item {i} is '{type(v).__name__}')")

    # concatenating or repeating a shape gives a shape, as in PyTorch (``x.shape + (1,)``)
    def __add__(self, other: tuple) -> Size:  # type: ignore[override]
        if not isinstance(other, tuple):
            return NotImplemented
        if type(other) is not Size:
            Size._check_ints(other, len(self))
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: tuple) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        Size._check_ints(other, 0)
        return Size(tuple.__add__(other, self))

    def __mul__(self, count: SupportsIndex) -> Size:
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    @overload
    def __getitem__(self, key: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, key: slice) -> Size: ...
    def __getitem__(self, key: SupportsIndex | slice) -> int | Size:
        result = tuple.__getitem__(self, key)
        return Size(result) if isinstance(key, slice) else result


class _Version:
    """The in-place modification counter, shared by a tensor and all its views."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class _InferenceVersion(_Version):
    """The counter of a tensor made in inference mode, shared by its views (``Tensor.is_inference``).

    Outside inference mode an in-place update of such a tensor raises PyTorch's error when it bumps
    the counter, after the write, as in PyTorch; autograd refuses to save one for backward
    (:class:`ember.autograd.function.SavedTensor`).
    """

    __slots__ = ("_value",)

    def __init__(self):
        self._value = 0

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value):
        if creation.version is not _InferenceVersion:
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone "
                "to get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 "
                "for more details."
            )
        self._value = value


class _Creation(threading.local):
    """Per thread, the class of a new tensor's version counter: ``inference_mode`` sets
    :class:`_InferenceVersion`, so that tensors made inside it, and their views, are inference tensors."""

    version = _Version


creation = _Creation()
_inference_entries = 0  # inference_mode(True) contexts open in any thread: while 0, _new skips the thread-local
_inference_lock = threading.Lock()


def enter_version_class(version_class: type[_Version]) -> type[_Version]:
    """Give the tensors this thread makes from now on ``version_class``; returns the class it had,
    for :func:`exit_version_class`."""
    global _inference_entries
    previous, creation.version = creation.version, version_class
    if version_class is _InferenceVersion:
        with _inference_lock:
            _inference_entries += 1
    return previous


def exit_version_class(version_class: type[_Version], previous: type[_Version]) -> None:
    """Undo :func:`enter_version_class` (``version_class`` is what it set, ``previous`` what it returned)."""
    global _inference_entries
    creation.version = previous
    if version_class is _InferenceVersion:
        with _inference_lock:
            _inference_entries -= 1


_new_version = object.__new__

# the order of a node's pre-hooks: the tensor hooks, retain_grad's, then the node's own (as PyTorch);
# Node.register_prehook ranks its hooks last
TENSOR_PREHOOK, RETAIN_GRAD_PREHOOK, NODE_PREHOOK = 0, 1, 2

_backend_cache = {}

#: called with a tensor that ``detach_`` cut from the graph while a forward-mode level is in force
#: (``ember.autograd.tangents`` sets it, to drop the tensor's tangent), None otherwise
in_place_detach_listener: Callable[[Tensor], None] | None = None

#: gives a view whose storage was written in place since its history was set its base's new history:
#: ``ember.autograd.view_history`` sets it, at import
refresh_view_history: Any = None
#: the refusal to rebuild the history of a view whose history cannot be replayed on its base (one a custom
#: Function made, a view of a view made under no_grad), or None (``ember.autograd.view_history`` sets it, at import)
rebase_refusal: Any = None
#: ``hook(tensor, value, use)``, told of each value read as a Python number (``use``: "item" or
#: "control flow") or as lists ("data", ``tolist``) while ``ember.vmap`` runs a function
#: (``ember.func.vmap_level`` sets it), None otherwise
scalar_read_hook: Callable[[Tensor, Any, str], None] | None = None

# The two questions the tensor asks of the layers above it, which the plugin host and the op
# modules answer; ember.tensor_methods.install() connects them once, at ``import ember``.
_backend_registry = None  # () -> the plugin host's BackendRegistry (ember.plugin.backend_registry)
_default_device = None  # () -> the device new tensors go to (ember.get_default_device)


def connect(backend_registry, default_device):
    """Connect the plugin host's ``backend_registry`` and the ops' ``default_device`` functions."""
    global _backend_registry, _default_device
    _backend_registry, _default_device = backend_registry, default_device


def backend_registry():
    """The registry of backends (filled by the plugin host on first use)."""
    return _backend_registry()


def backend_for_device(dev):
    """The backend serving ``dev`` (a :class:`ember.device`), checking the index exists."""
    backend = _backend_cache.get(dev.type)
    if backend is None:
        backend = _backend_registry().backend_for(dev.type)
        _backend_cache[dev.type] = backend
    if dev.index is not None and dev.index >= backend.device_count():
        raise RuntimeError(
            f"device {dev} does not exist: the {backend.name} backend has {backend.device_count()} {dev.type} device(s)"
        )
    return backend


def placement(spec):
    """``(backend, device)`` of a tensor made on ``spec`` (a device, a string, an int naming a device
    of the current accelerator, or None for the default device), the device as the tensor reports it,
    as in PyTorch: with its index (``"cuda"`` is the current CUDA device, ``cuda:0``), but without one
    on the first device of a host backend or meta (``"cpu:0"`` gives ``cpu``; see
    :attr:`ember.backend.Backend.indexed_tensor_devices`)."""
    dev = _default_device() if spec is None else spec if spec.__class__ is _device else _device(spec)
    backend = backend_for_device(dev)
    if not backend.indexed_tensor_devices:
        return backend, _device(dev.type) if dev.index == 0 else dev
    return backend, dev if dev.index is not None else _device(dev.type, current_index(dev.type))


def _forget_backend_cache():
    _backend_cache.clear()


def retained_gradient(grad):
    """The first ``.grad`` that ``retain_grad`` (or ``backward(inputs=...)``) gives a non-leaf: a contiguous
    copy of ``grad`` (as PyTorch's), never the gradient itself, which other tensors' gradients may share
    (``a + b`` hands both the same one) or which may be broadcast (the gradient of ``sum``)."""
    if isinstance(grad, Tensor):
        return grad.clone(memory_format=_contiguous_format)
    return grad.clone()


def _new(data, backend, dev, requires_grad=False, version=None):
    """A tensor over ``data``; ``version`` is the counter of the storage it aliases (views)."""
    t = object.__new__(Tensor)
    t._data = data
    t._backend = backend
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    if version is None:  # _Version(), without the Python-level __init__ call
        version = _new_version(creation.version if _inference_entries else _Version)
        version.value = 0
    t._version_counter = version
    t._base = None
    t._view_replay = None
    t._view_version = None
    t._hooks = None
    t._post_accumulate_hooks = None
    t._accumulator = None
    return t


def writable_data(t):
    """``t``'s native array, ready for an in-place write or to be seen through a view.

    A backend may hold a 0-d result as a scalar of its library rather than a 0-d array (NumPy
    returns scalars from operations on 0-d arrays), and a scalar takes no writes and shares no
    memory: ``t`` then gets a 0-d array of its own first, once, so that writes reach it and views
    of it alias it. A scalar shares no storage, so no alias is lost. An array without elements gets
    the strides that :meth:`ember.backend.Backend.layout` reports held by the array itself
    (:meth:`ember.backend.Backend.viewable`), so that a view of it steps as PyTorch's views of an
    empty tensor do (``ember.zeros(0, 3).t().stride() == (1, 3)``).
    """
    data = t._data
    if not data.ndim and not hasattr(data, "__setitem__"):  # (only a 0-d result may be a scalar: one check)
        data = t._data = t._backend.xp.asarray(data)
    elif not data.size:  # no elements: strides its views can step from (NumPy zeroes a new empty array's)
        data = t._data = t._backend.viewable(data)
    return data


def host_array(t):
    """``t``'s values as a NumPy array on the host, as ``Tensor.numpy()`` and ``numpy.asarray(t)`` give them:
    ``t``'s own memory on the CPU (a copy from other devices). An array without elements steps 0 along every
    dimension, as PyTorch's (and NumPy's new empty arrays), whatever strides the views of ``t`` step from."""
    array = t._backend.to_host(writable_data(t))
    if not array.size and array.ndim:
        array = np.lib.stride_tricks.as_strided(array, strides=(0,) * array.ndim)
    return array


def _check_grad(t, grad):
    """PyTorch's checks on assigning ``t.grad = grad``: a tensor of ``t``'s shape, dtype and device."""
    if not isinstance(grad, Tensor) and not getattr(grad, "is_sparse", False):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(grad).__name__}")
    if grad.device != t._device:
        raise RuntimeError(f"assigned grad has data located on {grad.device}, whereas the tensor is on {t._device}")
    wanted = getattr(t, "_grad_dtype", t.dtype)
    if wanted is not None and grad.dtype is not wanted:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{grad.dtype}' to a tensor with grad_dtype '{wanted}'. "
            "The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
            "tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
            "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume "
            "they match."
        )
    if tuple(grad.shape) != tuple(t._data.shape):
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
            f"'{list(t._data.shape)}'. Please ensure that the gradient and the tensor are the same size"
        )


class _TensorTypeMeta(type):
    """Gives the legacy type classes (``ember.FloatTensor``) the metaclass that answers ``isinstance``.

    ``Tensor`` itself keeps the built-in ``isinstance``: a Python ``__instancecheck__`` on
    its metaclass would run for every check of a non-tensor (scalars, shapes) on the per-op path.
    """

    def __new__(mcs, name, bases, namespace, **kwargs):
        if mcs is _TensorTypeMeta and "_legacy_dtype" in namespace:
            mcs = _LegacyTypeMeta
        return super().__new__(mcs, name, bases, namespace, **kwargs)


class _LegacyTypeMeta(_TensorTypeMeta):
    @property
    def dtype(cls):
        """The dtype the class names (``ember.FloatTensor.dtype`` is ``ember.float32``), as PyTorch's."""
        return cls.__dict__.get("_legacy_dtype")

    def __instancecheck__(cls, instance):
        legacy = cls.__dict__.get("_legacy_dtype")
        if legacy is None:  # a user subclass of a legacy class
            return type.__instancecheck__(cls, instance)
        return (
            isinstance(instance, Tensor)
            and instance.dtype is legacy
            and (instance._device.type == "cuda") == cls._legacy_cuda
        )


class Tensor(_Surface, metaclass=_TensorTypeMeta):
    """A multi-dimensional array with autograd.

    Build tensors with :func:`ember.tensor`, :func:`ember.zeros`, :func:`ember.randn` and
    friends. The classic constructor ``ember.Tensor(2, 3)`` (uninitialised float32 of
    that size) and ``ember.Tensor([1, 2])`` (float32 from data) also work.
    """

    __slots__ = (
        "_data",
        "_backend",
        "_device",
        "_requires_grad",
        "_grad",
        "_grad_fn",
        "_output_nr",
        "_version_counter",
        "_base",
        "_view_replay",
        # a view's: the version of the storage when its history was last set (None for a tensor that is
        # no view, or a view that cannot replay itself on its base); see ember.autograd.view_history
        "_view_version",
        "_hooks",
        "_post_accumulate_hooks",
        "_accumulator",
        "_retains_grad",  # retain_grad()'s hook handle, set only by it, so that making a tensor stays cheap
        "_view_of_requiring_grad",  # set only on a view made of a base that required grad: True, or "inference"
        "_rebase_refusal",  # set only on a view of a view that refuses a rebase (see view_history.rebase_refusal)
        "_reshaped_in_place",  # set only on a base that took another layout in place (view_history.current_replay)
        "_grad_dtype",  # set only by the grad_dtype setter: the dtype .grad must have (None: any)
        "__weakref__",
        "__dict__",  # attributes a program sets on a tensor, as on PyTorch's (created on first use)
    )
    __array_priority__ = 1000

    if TYPE_CHECKING:
        # Operations (methods and operators), and the methods that need the layers above, are
        # installed at import time from ember.tensor_methods; type checkers see them through these
        # declarations.
        _view_version: int | None
        _base: Any
        _view_replay: Any
        _reshaped_in_place: bool

        def __new__(cls, *args: Any, device: Any = None, dtype: Any = None) -> Tensor: ...
        def __getattr__(self, name: str) -> Any: ...
        def backward(
            self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False, inputs: Any = None
        ) -> None: ...
        def numpy(self, *, force: bool = False) -> Any: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __rand__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __ror__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __rxor__(self, other: Any) -> Tensor: ...
        def __lshift__(self, other: Any) -> Tensor: ...
        def __rlshift__(self, other: Any) -> Tensor: ...
        def __rshift__(self, other: Any) -> Tensor: ...
        def __rrshift__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __ifloordiv__(self, other: Any) -> Tensor: ...
        def __imod__(self, other: Any) -> Tensor: ...
        def __ipow__(self, other: Any) -> Tensor: ...
        def __ilshift__(self, other: Any) -> Tensor: ...
        def __irshift__(self, other: Any) -> Tensor: ...
        def __iand__(self, other: Any) -> Tensor: ...
        def __ior__(self, other: Any) -> Tensor: ...
        def __ixor__(self, other: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]  # elementwise, as in PyTorch
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]  # elementwise, as in PyTorch
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> None: ...

    # -- identity -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The size of each dimension, as an :class:`ember.Size` (a tuple).

        Example::

            >>> ember.zeros(2, 3).shape
            ember.Size([2, 3])
            >>> ember.zeros(2, 3).shape[1]
            3
        """
        return Size(self._data.shape)

    @overload
    def size(self, dim: None = None) -> Size: ...
    @overload
    def size(self, dim: int) -> int: ...
    def size(self, dim: int | None = None) -> Size | int:
        """The shape, or the length of dimension ``dim``.

        Args:
            dim (int, optional): the dimension whose length to return; the whole shape when ``None``.

        Example::

            >>> x = ember.zeros(2, 3)
            >>> x.size()
            ember.Size([2, 3])
            >>> x.size(-1)
            3
        """
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        try:
            return shape[self._wrap_dim(dim)]
        except IndexError:
            if shape:
                raise
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions") from None
        except TypeError:
            raise TypeError(f"size(): argument 'dim' (position 1) must be int, not {type_name(dim)}") from None

    def dim(self) -> int:
        """Number of dimensions.

        Example::

            >>> ember.zeros(2, 3).dim()
            2
            >>> ember.tensor(1.0).dim()
            0
        """
        return len(self._data.shape)

    ndimension = dim

    @property
    def ndim(self) -> int:
        """The number of dimensions, as :meth:`dim`.

        Example::

            >>> ember.zeros(2, 3, 4).ndim
            3
        """
        return len(self._data.shape)

    def numel(self) -> int:
        """Number of elements.

        Example::

            >>> ember.zeros(2, 3).numel()
            6
            >>> ember.zeros(2, 3).nelement()
            6
        """
        return math.prod(self._data.shape)

    nelement = numel

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self) -> dtypes.dtype:
        """The data type of the tensor's elements.

        Example::

            >>> ember.tensor([1.0]).dtype
            ember.float32
            >>> ember.tensor([1, 2]).dtype
            ember.int64
        """
        return self._backend._ember[self._data.dtype]

    @property
    def device(self) -> _device:
        """The device the tensor's storage lives on.

        Example::

            >>> ember.tensor([1.0]).device
            device(type='cpu')
        """
        return self._device

    @property
    def is_cuda(self) -> bool:
        """True if the tensor is on a CUDA device.

        Example::

            >>> ember.tensor([1.0]).is_cuda
            False
        """
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        """True if the tensor is on the CPU.

        Example::

            >>> ember.tensor([1.0]).is_cpu
            True
        """
        return self._device.type == "cpu"

    @property
    def is_xpu(self) -> bool:
        """True if the tensor is on an XPU device (never, in ember; as PyTorch without one).

        Example::

            >>> ember.tensor([1.0]).is_xpu
            False
        """
        return self._device.type == "xpu"

    @property
    def is_mps(self) -> bool:
        """True if the tensor is on an MPS device (never, in ember; as PyTorch without one).

        Example::

            >>> ember.tensor([1.0]).is_mps
            False
        """
        return self._device.type == "mps"

    @property
    def is_meta(self) -> bool:
        """True if the tensor is on the ``meta`` device, which holds shapes, dtypes and strides but no data.

        Example::

            >>> ember.tensor([1.0]).is_meta
            False
            >>> ember.empty(2, 3, device="meta").is_meta
            True
        """
        return self._device.type == "meta"

    @property
    def layout(self) -> _layout:
        """The memory layout: :data:`ember.strided` for every dense tensor.

        Example::

            >>> ember.tensor([1.0]).layout
            ember.strided
        """
        return _strided

    @property
    def is_leaf(self) -> bool:
        """True for a tensor that no recorded operation made: one that does not require grad, or one the user created with
        ``requires_grad=True``. Only leaves get ``.grad`` by default.

        Example::

            >>> x = ember.tensor([1.0], requires_grad=True)
            >>> x.is_leaf, (x * 2).is_leaf, ember.tensor([1.0]).is_leaf
            (True, False, True)
        """
        return self.grad_fn is None

    @property
    def is_sparse(self) -> bool:
        """True for a sparse COO tensor; ``False`` for every dense tensor.

        Example::

            >>> ember.tensor([1.0]).is_sparse
            False
        """
        return False

    @property
    def is_sparse_csr(self) -> bool:
        """True for a sparse CSR tensor; ``False`` for every dense tensor.

        Example::

            >>> ember.tensor([1.0]).is_sparse_csr
            False
        """
        return False

    def is_floating_point(self) -> bool:
        """True if the tensor's dtype is a floating-point type.

        Example::

            >>> ember.tensor([1.0]).is_floating_point()
            True
            >>> ember.tensor([1]).is_floating_point()
            False
        """
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        """The size of one element in bytes.

        Example::

            >>> ember.tensor([1.0]).element_size()
            4
            >>> ember.tensor([1], dtype=ember.int16).element_size()
            2
        """
        return self.dtype.itemsize

    def get_device(self) -> int:
        """The index of the tensor's device: -1 for the CPU, the device index otherwise.

        Example::

            >>> ember.tensor([1.0]).get_device()
            -1
        """
        index = self._device.index
        return -1 if index is None or self._device.type == "cpu" else index

    def _wrap_dim(self, dim, ndim=None):
        n = self.ndim if ndim is None else ndim
        if not isinstance(dim, int):
            if not isinstance(dim, numbers.Integral):
                raise dim_type_error(dim)
            dim = int(dim)  # a NumPy integer, which PyTorch's argument parser takes as an int
        bound = max(n, 1)
        if not -bound <= dim < bound:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})"
            )
        return dim + bound if dim < 0 else dim

    # -- construction helpers for ops -------------------------------------------------------
    def _make(self, data):
        """A new tensor on this tensor's backend and device holding ``data``."""
        return _new(data, self._backend, self._device)

    def _view_of(self, data, replay=None):
        """A view: ``data`` aliases this tensor's storage, so it shares the version counter.

        ``replay(t)`` makes the same view of another tensor ``t`` shaped like ``self``, with
        differentiable ops; in-place ops on the view use it to rewrite the base's history, and a
        view whose base was written in place since reads its history anew through it
        (:func:`ember.autograd.view_history.refresh_view_history`).
        """
        version = self._version_counter
        t = _new(data, self._backend, self._device, False, version)
        base = self._base
        if base is None:
            base = t._base = self
            t._view_replay = replay
        else:
            t._base = base
            parent = self._view_replay
            if parent is not None and replay is not None:
                t._view_replay = lambda base: replay(parent(base))
            if self._requires_grad:  # a view of a view that refuses a rebase is refused one too
                refusal = rebase_refusal(self)
                if refusal is not None:
                    t._rebase_refusal = refusal
        if t._view_replay is not None:
            t._view_version = version.value
            if base._requires_grad:
                # as in PyTorch, a view of a base that requires grad requires grad, even one made under
                # no_grad (it then has no history, and no gradient flows into it: see gradient_edge)
                t._view_of_requiring_grad = t._requires_grad = True
                if _inference_entries and creation.version is _InferenceVersion:  # under inference_mode
                    t._view_of_requiring_grad = "inference"
        return t

    def _meta(self):
        return (self._backend, self._device, self._data.shape, self._data.dtype)

    @staticmethod
    def _zeros_from_meta(meta):
        backend, dev, shape, native = meta
        with backend.device_context(dev.index):
            return _new(backend.xp.zeros(shape, dtype=native), backend, dev)

    # -- autograd state -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor; settable on leaves.

        Example::

            >>> x = ember.tensor([1.0])
            >>> x.requires_grad
            False
            >>> x.requires_grad = True
            >>> (x * 2).requires_grad
            True
        """
        seen = self._view_version
        if seen is not None and seen != self._version_counter.value:  # a write may have given the base grad
            return self._requires_grad or self._base._requires_grad
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value is not True and value is not False:
            raise RuntimeError("requires_grad must be a bool")
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and type(self._version_counter) is _InferenceVersion and creation.version is not _InferenceVersion:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        if not value and getattr(self, "_view_of_requiring_grad", False) and self._base._requires_grad:
            return  # a view made under no_grad requires grad while its base does (PyTorch's rule)
        self._requires_grad = value

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by :meth:`backward` (None until one is computed).

        Example::

            >>> x = ember.tensor([2.0], requires_grad=True)
            >>> print(x.grad)
            None
            >>> (x ** 3).backward()
            >>> x.grad
            tensor([12.])
        """
        grad = self._grad
        if grad is None and self.grad_fn is not None and getattr(self, "_retains_grad", None) is None:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    @property
    def grad_dtype(self) -> dtypes.dtype | None:
        """The dtype :attr:`grad` must have: the tensor's own unless set (leaf tensors only).

        Set it to another dtype and backward casts the gradients it accumulates into ``.grad`` to it;
        set it to ``None`` and ``.grad`` may hold any dtype. Use with caution: code that assumes a
        gradient has its tensor's dtype breaks.

        Example::

            >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> x.grad_dtype
            ember.float32
            >>> x.grad_dtype = ember.float64
            >>> (x * 3).sum().backward()
            >>> x.grad
            tensor([3., 3.], dtype=ember.float64)
        """
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        return getattr(self, "_grad_dtype", self.dtype)

    @grad_dtype.setter
    def grad_dtype(self, value: dtypes.dtype | None) -> None:
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        if value is not None and not isinstance(value, dtypes.dtype):
            raise TypeError(f"grad_dtype must be a dtype or None, but got {type(value).__name__}")
        self._grad_dtype = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; returns ``self``.

        Args:
            requires_grad (bool): whether autograd should record operations on this tensor. Default: ``True``.

        Example::

            >>> w = ember.zeros(2).requires_grad_()
            >>> w.requires_grad
            True
        """
        if requires_grad is not True and requires_grad is not False:
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                f"{type(requires_grad).__name__}"
            )
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")  # PyTorch's words here
        self.requires_grad = requires_grad
        return self

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's storage has had (its views share the count), as
        PyTorch's ``Tensor._version``; autograd compares it to refuse a backward through a saved tensor
        that was modified.

        Example::

            >>> x = ember.zeros(2)
            >>> x[0] = 1
            >>> x.add_(1)._version
            2
        """
        counter = self._version_counter
        if type(counter) is _InferenceVersion:  # its count is ember's, for the in-place refusals only
            raise RuntimeError("Inference tensors do not track version counter.")
        return counter.value

    @property
    def grad_fn(self) -> Any:
        """The node of the backward graph that made this tensor (None for a leaf).

        A view whose base (or another view of it) was modified in place since the view was made
        reads the base's new history, as PyTorch's views do.

        Example::

            >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> x.grad_fn is None, (x * 2).grad_fn.name()
            (True, 'MulBackward0')
        """
        seen = self._view_version
        if seen is not None and seen != self._version_counter.value:
            refresh_view_history(self)
        return self._grad_fn

    def _set_grad_fn(self, node, output_nr):
        self._grad_fn = node
        self._output_nr = output_nr
        self._requires_grad = True

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (``_base``), as PyTorch's ``Tensor._is_view``.

        Example::

            >>> x = ember.zeros(3)
            >>> x[1:]._is_view(), x.detach()._is_view()
            (True, False)
        """
        return self._base is not None

    def _storage_alias(self):
        return _new(self._data, self._backend, self._device, self._requires_grad, self._version_counter)

    def _alias_with_grad_fn(self, node, output_nr, requires_grad):
        t = _new(self._data, self._backend, self._device, requires_grad, self._version_counter)
        if requires_grad:
            t._grad_fn = node
            t._output_nr = output_nr
        return t

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage, cut from the graph.

        Example::

            >>> x = ember.tensor([1.0], requires_grad=True)
            >>> y = (x * 2).detach()
            >>> y.requires_grad, y.grad_fn
            (False, None)
        """
        return _new(writable_data(self), self._backend, self._device, False, self._version_counter)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place.

        Example::

            >>> x = ember.tensor([1.0], requires_grad=True)
            >>> y = x * 2
            >>> y.detach_()
            tensor([2.])
            >>> y.requires_grad
            False
        """
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self._grad_fn = None
        self._requires_grad = False
        if in_place_detach_listener is not None:
            in_place_detach_listener(self)
        return self

    @property
    def data(self) -> Tensor:
        """The tensor's values without autograd history.

        Shares storage but, as in PyTorch, not the version counter: in-place writes through
        ``.data`` (manual parameter updates) are invisible to autograd.

        Example::

            >>> w = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> w.data.requires_grad
            False
            >>> w.data.mul_(10)
            tensor([10., 20.])
            >>> w
            tensor([10., 20.], requires_grad=True)
        """
        return _new(writable_data(self), self._backend, self._device)

    @data.setter
    def data(self, value: Tensor) -> None:
        # PyTorch's set_data: swap the payload (shape, dtype and device may change), keeping
        # identity, autograd state and the version counter.
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and not (value.dtype.is_floating_point or value.dtype.is_complex):
            raise RuntimeError(
                f"data set to a tensor that requires gradients must be floating point or complex dtype (got {value.dtype})"
            )
        self._data = value._data
        self._backend = value._backend
        self._device = value._device

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient of this tensor is computed.

        The hook may return a replacement gradient. Returns a handle with ``remove()``.

        Args:
            hook (callable): called as ``hook(grad)``; may return a new gradient.

        Example::

            >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = x.register_hook(lambda grad: grad * 10)
            >>> x.sum().backward()
            >>> x.grad
            tensor([10., 10.])
            >>> handle.remove()
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _ListHandle(self._hooks, hook)
        nr = self._output_nr

        def prehook(grads):
            if grads[nr] is None:
                return None
            new = hook(grads[nr])
            if new is None:
                return None
            grads = list(grads)
            grads[nr] = new
            return grads

        prehook._prehook_rank = getattr(hook, "_prehook_rank", TENSOR_PREHOOK)  # type: ignore[attr-defined]
        prehook.__name__ = getattr(hook, "__name__", "<unknown>")  # what the engine's check of its result names
        return self.grad_fn._insert_prehook(prehook, prehook._prehook_rank)  # type: ignore[attr-defined]

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _RemovableHandle:
        """Call ``hook(tensor)`` after a gradient was accumulated into this leaf's ``.grad``.

        Returns a handle whose ``remove()`` unregisters the hook.

        Args:
            hook (callable): called as ``hook(tensor)`` once ``tensor.grad`` holds the accumulated gradient.

        Example::

            >>> w = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = w.register_post_accumulate_grad_hook(lambda t: print('grad', t.grad))
            >>> (w * 3).sum().backward()
            grad tensor([3., 3.])
            >>> handle.remove()
        """
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _ListHandle(self._post_accumulate_hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward.

        Example::

            >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 3
            >>> y.retain_grad()
            >>> y.sum().backward()
            >>> y.grad
            tensor([1., 1.])
        """
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        ref = weakref.ref(self)

        def keep(grad):
            owner = ref()
            if owner is not None:  # recorded under create_graph, as PyTorch's
                owner._grad = retained_gradient(grad) if owner._grad is None else owner._grad + grad

        keep._prehook_rank = RETAIN_GRAD_PREHOOK  # type: ignore[attr-defined]  # after every tensor hook
        self._retains_grad = self.register_hook(keep)

    def _move_retained_grad(self):
        """After an in-place op gave this tensor a new node: retain the gradient at that node, not the old one."""
        handle = getattr(self, "_retains_grad", None)
        if handle is not None:
            handle.remove()
            del self._retains_grad
            self.retain_grad()

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor on which :meth:`retain_grad` was called.

        Example::

            >>> x = ember.tensor([1.0], requires_grad=True)
            >>> y = x * 3
            >>> y.retain_grad()
            >>> y.retains_grad, x.retains_grad
            (True, False)
        """
        return getattr(self, "_retains_grad", None) is not None

    # -- conversion -----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if self._requires_grad or self._device.type != "cpu":
            # numpy()'s errors, as torch's __array__ (which calls numpy()): np.asarray(t) of a tensor that requires
            # grad (in grad mode), or off the CPU (PyTorch's TypeError for a CUDA tensor: Use Tensor.cpu())
            self.numpy()
        array = host_array(self)
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:  # NumPy's error for np.array(..., copy=False) that needs a copy
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return array.astype(dtype)
        # NumPy trusts the protocol: copy=True (np.array's default) must give memory of its own
        return np.array(array, copy=True) if copy else array

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # a NumPy function of a tensor returns a CPU tensor, as PyTorch's (``numpy.exp(t)``); a bool
        # result is uint8 there, a workaround PyTorch kept from before it had bool tensors
        return from_numpy(array.astype(np.uint8) if array.dtype == np.bool_ else array)

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number.

        Example::

            >>> ember.tensor([2.5]).item()
            2.5
            >>> ember.tensor(3).item()
            3
        """
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self._read_scalar("item")

    def _read_scalar(self, use: str) -> Any:
        if self._device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        value = self._backend.to_host(self._data).reshape(()).item()
        if scalar_read_hook is not None:
            scalar_read_hook(self, value, use)
        return value

    def tolist(self) -> Any:
        """The values as (nested) Python lists.

        Example::

            >>> ember.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
            >>> ember.tensor(1.5).tolist()
            1.5
        """
        values = self._backend.to_host(self._data).tolist()
        if scalar_read_hook is not None:
            scalar_read_hook(self, values, "data")
        return values

    def _scalar(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return float(self._real_scalar("double"))

    def __int__(self) -> int:
        return int(self._real_scalar("int64_t"))

    def _real_scalar(self, c_type):
        """The one element as a Python real number; a complex one with a nonzero imaginary part
        is refused as PyTorch refuses it, with zero its real part is the number."""
        if self._requires_grad:
            warn_scalar_of_requiring_grad()
        value = self._scalar()
        if isinstance(value, complex):
            if value.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
            return value.real
        return value

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self.numel() > 1
                else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self._read_scalar("control flow"))

    __hash__ = object.__hash__  # by identity, in C: optimizer state and hook tables look tensors up per step

    def __contains__(self, element: object) -> bool:
        """``element in x``: whether any element of ``x`` equals ``element`` (a number, or a tensor
        broadcast against ``x``), as PyTorch's ``(element == x).any()``.

        Example::

            >>> x = ember.tensor([[1, 2], [3, 4]])
            >>> 3 in x, 5 in x, ember.tensor([1, 4]) in x
            (True, False, True)
        """
        if not isinstance(element, (Tensor, numbers.Number)):
            raise RuntimeError(
                f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}."
            )
        return bool((element == self).any().item())

    def __iter__(self) -> Iterator[Tensor]:
        if self.dim() == 0:  # (what PyTorch asks, as a handler sees)
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        if self._hooks:  # a leaf's backward hooks are not pickled: PyTorch warns
            warn_dropped_hooks(self, stacklevel=2)
        state = self.__dict__ or None  # the attributes set on it travel along, as in PyTorch
        if self._device.type == "meta":  # no values: its size, strides and dtype rebuild it
            if skipping_data():
                warnings.warn(
                    "Serializing tensors on the meta device under skip_data context manager is a no-op", stacklevel=2
                )
            return (_rebuild_meta, (tuple(self.shape), self.stride(), self.dtype, self._requires_grad), state)
        if skipping_data():  # PyTorch pickles a storage in its legacy format, which skip_data refuses
            raise RuntimeError("Cannot use skip_data=True with _use_new_zipfile_serialization=False")
        return (_rebuild, (self.numpy(force=True), str(self._device), self._requires_grad), state)

    def __copy__(self):
        """``copy.copy``: as PyTorch's, a tensor of its own over the same memory, with its
        ``requires_grad`` and attributes."""
        result = self.detach()
        if type(result) is not type(self):  # a subclass's handler runs this with subclasses off: detach is plain
            result = result.as_subclass(type(self))
        result._requires_grad = self._requires_grad
        result.__dict__.update(self.__dict__)
        return result

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol"
            )
        if id(self) in memo:
            return memo[id(self)]
        result = type(self).__new__(type(self)) if type(self) is not Tensor else None
        copy = _copy_over_copied_storage(self, memo)
        if result is None:
            result = copy
        else:
            _copy_slots(copy, result)
        result._requires_grad = self._requires_grad
        if self.grad is not None:
            result.grad = self.grad.__deepcopy__(memo)
        if self.__dict__:
            result.__dict__.update(copy_module.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result

    def __reversed__(self) -> Tensor:
        """The tensor flipped along its first dimension (a 0-d tensor as it is), as PyTorch's."""
        return self if self.ndim == 0 else self.flip(0)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)


_MISSING = object()

_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
    "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
    "by mistake, make sure you access the leaf Tensor instead."
)


def _copy_over_copied_storage(t, memo):
    """A detached copy of ``t``, with its strides and offset, over a copy of its whole storage; one copy
    per storage in the ``copy.deepcopy`` ``memo``, so that tensors copied together that shared memory
    (a tensor and its views) share the copied memory, as in PyTorch."""
    if t._device.type == "meta":
        return t.detach().clone()
    owner = t._backend.memory_owner(t._data)
    key = ("ember.storage", id(owner))
    if key not in memo:  # the owner is kept with its copy, so that its id is not reused meanwhile
        memo[key] = (owner, t.untyped_storage().clone())
    storage = memo[key][1]
    return t.new_empty(0).set_(storage, t.storage_offset(), t.shape, t.stride())


def _copy_slots(src, dst):
    for name in Tensor.__slots__:
        if name not in ("__weakref__", "__dict__"):
            # a gradient sink belongs to one leaf only: the copy gets its own when first used;
            # optional slots (``_retains_grad``) may be unset
            value = None if name == "_accumulator" else getattr(src, name, _MISSING)
            if value is not _MISSING:
                object.__setattr__(dst, name, value)


class _ListHandle:
    """A removable handle for a hook kept in a list (a tensor's or a node's); as PyTorch's
    ``RemovableHandle``, it has an ``id`` and removes the hook on leaving a ``with`` block."""

    __slots__ = ("_hooks", "_hook", "id")
    _next_id = itertools.count()

    def __init__(self, hooks: list[Callable[..., Any]], hook: Callable[..., Any]) -> None:
        self._hooks, self._hook = hooks, hook
        self.id = next(_ListHandle._next_id)

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> _ListHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def warn_dropped_hooks(tensor: Tensor, stacklevel: int) -> None:
    """Warn (``UserWarning``) for each backward hook of ``tensor`` that pickling it drops, unless the hook is
    marked with :func:`ember.utils.hooks.unserializable_hook`, as PyTorch does; ``stacklevel`` is
    what the caller would give :func:`warnings.warn`."""
    for hook in getattr(tensor, "_hooks", None) or ():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(
                f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                "decorate the function with @ember.utils.hooks.unserializable_hook to suppress this warning",
                stacklevel=stacklevel + 1,
            )


def _rebuild(array, dev, requires_grad):
    return tensor(array, device=dev, requires_grad=requires_grad)


def _rebuild_meta(size, stride, dt, requires_grad):
    dev = _device("meta")
    backend = backend_for_device(dev)
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    storage = backend.xp.empty((extent,), dtype=backend.native_dtype(dt))
    rebuilt = _new(backend.as_strided(storage, tuple(size), tuple(stride), 0), backend, dev)
    rebuilt.requires_grad = requires_grad
    return rebuilt


def dtype_arg(op, value):
    """A ``dtype=`` argument as an ember dtype; PyTorch accepts a dtype or the Python types
    float, int, bool and complex (float64, int64, bool, complex128), and rejects names
    (``dtype="float32"``) with a TypeError."""
    if isinstance(value, dtypes.dtype):
        return value
    if value is float or value is int or value is bool or value is complex:
        return dtypes.as_dtype(value)
    raise TypeError(f"{op}(): argument 'dtype' must be ember.dtype, not {type_name(value)}")


def size_arg(op, value, position):
    """One element of a size argument: an int (or an integer 0-d tensor or NumPy array), never a float."""
    if type(value) is int:  # the common case, without the numbers.Integral check
        return value
    if isinstance(value, Tensor) and value.ndim == 0 and not value.dtype.is_floating_point:
        return int(value.item())
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{op}(): argument 'size' must be tuple of ints, but found element of type "
            f"{type(value).__name__} at pos {position}"
        )
    return int(value)


NUMBER_TYPES = (numbers.Number, np.bool_)


def is_number(value):
    """A Python or NumPy number (bool included), not a tensor. NumPy's bool scalar, no ``numbers.Number``,
    counts: PyTorch's argument parser reads it as a floating-point number."""
    return isinstance(value, NUMBER_TYPES)


def _element_type(data):
    """The type name of the first non-sequence element of ``data`` (PyTorch's error names it)."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return type(data).__name__


def _infer_host(data, dtype):
    """Turn Python data into a NumPy array and the ember dtype it gets."""
    if isinstance(data, Tensor):
        array = data._backend.to_host(data._data)
        inferred = data.dtype
    else:
        from_typed = None
        if isinstance(data, (list, tuple)) and _contains_typed(data):
            data, from_typed = _typed_to_scalars(data)
        try:
            array = np.asarray(data)
        except ValueError:  # NumPy's message for a ragged list; PyTorch's names where it is ragged
            raise _ragged_error(data) or ValueError("tensor: ragged nested sequence") from None
        if not isinstance(data, (np.ndarray, np.generic)):
            if dtype is not None and dtype_arg("tensor", dtype) is dtypes.uint64:
                array = _uint64_numbers(data)
            elif _beyond_int64(array):
                array = _wide_numbers(data, dtype)
        if isinstance(data, np.ndarray):
            _array_dtype(array)  # PyTorch's error for element types it has no dtype for
        if array.dtype == object:
            raise RuntimeError(f"tensor: Could not infer dtype of {_element_type(data)}")
        if from_typed is not None:  # PyTorch promotes the tensors' dtypes with the numbers' types
            inferred = from_typed
        elif isinstance(data, (np.ndarray, np.generic)):  # NumPy data keeps its own type
            inferred = _array_dtype(array)
        elif array.dtype.kind == "f":
            inferred = dtypes.get_default_dtype()
        elif array.dtype.kind in "iu":
            inferred = dtypes.int64
        elif array.dtype.kind == "b":
            inferred = dtypes.bool
        elif array.dtype.kind == "c":
            inferred = dtypes.default_complex_dtype()
        else:  # text: PyTorch reads a first str in a sequence as one more dimension
            if isinstance(data, (list, tuple)) and _element_type(data) == "str":
                raise ValueError("too many dimensions 'str'")
            kind = {"U": "str", "S": "bytes"}.get(array.dtype.kind, str(array.dtype))
            raise TypeError(f"tensor(): invalid data type '{kind}'")
    return array, (dtype_arg("tensor", dtype) if dtype is not None else inferred)


def _ragged_error(data):
    """PyTorch's error for the nested sequence ``data`` that is not rectangular: the shape is that of
    the first elements at each depth, and the first element that differs from it is named."""
    shape = []
    first = data
    while isinstance(first, (list, tuple)):
        shape.append(len(first))
        if not first:
            break
        first = first[0]

    def check(item, dim):
        if dim == len(shape):
            if isinstance(item, (list, tuple)):
                return TypeError(f"must be real number, not {type_name(item)}")
            return None
        if not isinstance(item, (list, tuple)):
            return TypeError("not a sequence")
        if len(item) != shape[dim]:
            return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)})")
        return next((error for error in (check(x, dim + 1) for x in item) if error is not None), None)

    return check(data, 0)


def _beyond_int64(array):
    """Whether NumPy's array of Python numbers may hold an int beyond int64: it made the ints uint64
    or objects, or floats where they stand beside smaller ints."""
    kind = array.dtype.kind
    # the ufunc's reduction itself: ndarray.max goes through a Python wrapper
    return (
        kind in "uO" or kind == "f" and array.size > 0 and bool(np.maximum.reduce(np.abs(array), axis=None) >= 2.0**63)
    )


def _leaves(data):
    if isinstance(data, (list, tuple)):
        for item in data:
            yield from _leaves(item)
    else:
        yield data


def _wide_numbers(data, dtype):
    """Python numbers some of which lie beyond int64, as PyTorch reads them: in floating point where
    one of them is a float or ``dtype`` is floating, else PyTorch's overflow error."""
    leaves = list(_leaves(data))
    floating = dtype is not None and dtype_arg("tensor", dtype).is_floating_point
    if floating or any(isinstance(x, float) for x in leaves):
        return np.asarray(data, dtype=np.float64)
    if all(isinstance(x, numbers.Integral) for x in leaves):
        raise ValueError("Overflow when unpacking long long")
    return np.asarray(data)


def _uint64_numbers(data):
    """Python numbers as uint64, as PyTorch reads them: ints only, from 0 to 2**64 - 1 (no wrapping)."""
    for x in _leaves(data):
        if not isinstance(x, numbers.Integral):
            raise TypeError("an integer is required")
        if x < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if x >= 1 << 64:
            raise OverflowError("int too big to convert")
    return np.asarray(data, dtype=np.uint64)


def _contains_typed(seq):
    """Whether ``seq`` holds (at any depth) a tensor, a NumPy scalar or a NumPy array: an element with
    a dtype of its own."""
    return any(
        isinstance(x, (Tensor, np.generic, np.ndarray)) or isinstance(x, (list, tuple)) and _contains_typed(x)
        for x in seq
    )


def _typed_to_scalars(seq):
    """``seq`` with each tensor and NumPy scalar in it replaced by its Python number (NumPy arrays kept),
    and the dtype PyTorch infers for the whole: the promotion of their dtypes
    (``np.float64(0.5)`` and ``np.ones(2)`` are float64) and the Python numbers' types (a float the
    default dtype, an int int64). A tensor of more than one element is refused, as in PyTorch; a
    NumPy array warns as PyTorch does."""
    inferred, arrays = None, []

    def convert(x):
        nonlocal inferred
        if isinstance(x, (list, tuple)):
            return [convert(item) for item in x]
        if isinstance(x, np.ndarray):
            arrays.append(x)
            kind, value = dtypes.as_dtype(dtypes.native_dtype_name(x.dtype)), x
        elif isinstance(x, Tensor):
            if x.numel() != 1:
                if x.dtype.is_floating_point or x.dtype.is_complex:
                    raise ValueError("only one element tensors can be converted to Python scalars")
                raise TypeError("only integer tensors of a single element can be converted to an index")
            if x.requires_grad:
                warn_scalar_of_requiring_grad()
            kind, value = x.dtype, x.item()
        elif isinstance(x, np.generic):
            kind, value = dtypes.as_dtype(dtypes.native_dtype_name(x.dtype)), x.item()
        else:
            kind, value = (dtypes.scalar_dtype(x) if is_number(x) else None), x
        if kind is not None:
            inferred = kind if inferred is None else dtypes.promote_types(inferred, kind)
        return value

    values = convert(seq)
    if arrays:
        warnings.warn(
            "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting "
            "the list to a single numpy.ndarray with numpy.array() before converting to a tensor.",
            UserWarning,
            stacklevel=5,
        )
    return values, inferred


def _check_integer_range(array, dt):
    """PyTorch's check of Python numbers stored as the integer type ``dt``: a signed type takes its own
    range, an unsigned one also the negative ints down to ``-max`` (they wrap: -1 is 255 as uint8);
    floats must lie in the range (compared in double, so 2.0**63 passes for int64), NaN nowhere."""
    bits = 8 * dt.itemsize
    high = (1 << (bits - 1)) - 1 if dt.is_signed else (1 << bits) - 1
    low = -(1 << (bits - 1)) if dt.is_signed else -high
    if array.dtype.kind == "f":
        within = (array >= float(low if dt.is_signed else 0)) & (array <= float(high))
        if not within.all():
            raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")
    elif array.min() < low or array.max() > high:
        raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


def warn_scalar_of_requiring_grad() -> None:
    """PyTorch's warning when a tensor that requires grad becomes a Python number (``float(t)``, an
    element of ``ember.tensor([t])``); shown once, from here, under the default warning filter."""
    warnings.warn(
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first.",
        UserWarning,
        stacklevel=2,
    )


def warn_copy_construct(call: str) -> None:
    """PyTorch's warning when ``call`` (``ember.tensor``, ``tensor.new_tensor``) copies a tensor; points
    at the caller's caller."""
    warnings.warn(
        "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
        f"sourceTensor.detach().clone().requires_grad_(True), rather than {call}(sourceTensor).",
        UserWarning,
        stacklevel=3,
    )


def tensor(
    data: Any,
    dtype: dtypes.dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Build a tensor by copying ``data`` (a number, nested lists, a NumPy array or a tensor).

    Args:
        data: the values.
        dtype: element type; inferred from ``data`` when omitted (Python floats give the
            default dtype, ints ``int64``, bools ``bool``).
        device: where to put it. Default: the default device (``cpu``).
        requires_grad: record operations on it for autograd. Default: False.

    Example::

        >>> ember.tensor([[1, 2], [3, 4]], dtype=ember.float32)
        tensor([[1., 2.],
                [3., 4.]])
    """
    if isinstance(data, Tensor):
        warn_copy_construct("ember.tensor")
    return copy_to_tensor(data, dtype, device, requires_grad)


def _check_numpy_layout(array: np.ndarray) -> None:
    """PyTorch's ValueErrors for a NumPy array it takes no tensor of (``from_numpy``, and ``tensor``/``as_tensor``
    of the array itself, which go through it there): another byte order, negative or unaligned strides."""
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. "
            "Conversion between byte orders is currently not supported."
        )
    if any(stride < 0 for stride in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides "
            "are not currently supported. (You can probably work around this by making a copy of your "
            "array with array.copy().)"
        )
    if any(stride % array.itemsize for stride in array.strides):
        raise ValueError(
            "given numpy array strides not a multiple of the element byte size. "
            "Copy the numpy array to reallocate the memory."
        )


def copy_to_tensor(data: Any, dtype: dtypes.dtype | None, device: Device, requires_grad: bool) -> Tensor:
    """:func:`tensor` without its warning for a tensor ``data``."""
    if type(data) is np.ndarray and data.dtype.kind in "biufc":  # (nested in lists, PyTorch copies them as they are)
        _check_numpy_layout(data)
    backend, dev = placement(device if device is not None or not isinstance(data, Tensor) else data.device)
    array, dt = _infer_host(data, dtype)
    if array.dtype.kind == "c" and not dt.is_complex and not isinstance(data, (Tensor, np.ndarray)):
        raise TypeError("must be real number, not complex")
    if array.dtype.kind in "iuf" and array.size and dt._category == 1 and (dt.itemsize < 8 or array.dtype.kind == "f"):
        if not isinstance(data, (Tensor, np.ndarray, np.generic)):
            _check_integer_range(array, dt)
    backend.native_dtype(dt)  # a TypeError naming the dtype where the backend does not hold it
    with np.errstate(invalid="ignore", over="ignore"):  # PyTorch's casts (1e40 to float32 is inf) say nothing
        # a NumPy array's copy keeps its strides, as PyTorch's, but for a broadcast one (row-major)
        broadcast = any(stride == 0 and n > 1 for stride, n in zip(array.strides, array.shape))
        if array.dtype == np.float64 and dt.is_floating_point and dt.itemsize == 2:
            array = array.astype(np.float32)  # PyTorch rounds a double into a 16-bit float through float32
        if dt in dtypes.float8_dtypes:
            array = dtypes.rounded_to_float8(array, dt)
        array = np.asarray(array, dtype=dtypes.host_dtype(dt), order="C" if broadcast else "K")
    t = _new(backend.from_host(array, dev.index), backend, dev)
    return require_grad_of_new(t) if requires_grad_flag("tensor()", requires_grad) else t


def require_grad_of_new(t: Tensor) -> Tensor:
    """Make ``t``, the new tensor of a factory given ``requires_grad=True``, require grad, and return it.
    PyTorch's factories refuse a dtype that is neither floating point nor complex in words of their own."""
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    t.requires_grad = True
    return t


def requires_grad_flag(op: str, value: Any, none_is_false: bool = False) -> bool:
    """A ``requires_grad=`` argument, which PyTorch takes as a bool only (the factories take None as
    False too): anything else is its TypeError, naming ``op``."""
    if value is True or value is False:
        return value
    if value is None and none_is_false:
        return False
    raise TypeError(f"{op}: argument 'requires_grad' must be bool, not {type_name(value)}")


def as_tensor(data: Any, dtype: dtypes.dtype | None = None, device: Device = None) -> Tensor:
    """Like :func:`tensor`, but returns ``data`` itself when it already is a matching tensor, and
    shares the memory of a NumPy array of a matching dtype when the result is on the CPU.

    Args:
        data (array_like): a tensor, NumPy array, list, tuple or number.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        device (ember.device or str, optional): the device of the result; the default device when ``None``.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> ember.as_tensor(x) is x
        True
        >>> ember.as_tensor([1, 2], dtype=ember.float32)
        tensor([1., 2.])
    """
    if isinstance(data, Tensor):
        if (dtype is None or dtypes.as_dtype(dtype) is data.dtype) and (
            device is None or _device(device) == data.device
        ):
            return data
        return data.to(device=device or data.device, dtype=dtype or data.dtype)
    if isinstance(data, np.ndarray) and placement(device)[1].type == "cpu":
        if dtype is None or np.dtype(dtypes.host_dtype(dtype_arg("as_tensor", dtype))) == data.dtype:
            return from_numpy(data)  # shares the array's memory, as PyTorch
    return tensor(data, dtype=dtype, device=device)


def _array_dtype(array):
    """The dtype of a NumPy array's tensor; PyTorch's TypeError for the element types it has no dtype of."""
    try:
        return dtypes.as_dtype(dtypes.native_dtype_name(array.dtype))
    except TypeError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{array.dtype.type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
            "uint8, and bool."
        ) from None


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with the NumPy array ``array``.

    Args:
        array (numpy.ndarray): the array whose memory to share.

    Example::

        >>> import numpy as np
        >>> a = np.array([1.0, 2.0])
        >>> t = ember.from_numpy(a)
        >>> t
        tensor([1., 2.], dtype=ember.float64)
        >>> a[0] = -1.0
        >>> t
        tensor([-1.,  2.], dtype=ember.float64)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    _check_numpy_layout(array)
    if not array.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable, and ember does not support non-writable tensors: writing "
            "to this tensor raises. You may want to copy the array to protect its data or make it writable "
            "before converting it to a tensor.",
            UserWarning,
            stacklevel=2,
        )
    dev = _device("cpu")
    backend = backend_for_device(dev)
    _array_dtype(array)  # raises for unsupported element types
    return _new(backend.from_host(array, 0, copy=False), backend, dev)
