"""The op interface: what a backend must provide for ember to run on it, all of it here.

A backend has three parts:

1. **Array primitives.** ``backend.xp`` is an array namespace with the names in
   :data:`PRIMITIVES`, taken from the Python array API standard with its semantics; its
   arrays support the standard's array object (``shape``, ``ndim``, ``dtype``, arithmetic
   and comparison operators that accept Python scalars, ``__getitem__`` and ``__setitem__``
   with basic, integer-array and boolean indexing). They come in two tiers (declared in
   :mod:`ember.primitives`): the :data:`REQUIRED` ones every namespace implements, and the
   :data:`DERIVED` ones the core composes from them, which a namespace may override by
   having a function of that name. A backend class that sets ``xp`` gets, once, the
   compositions its namespace lacks. The few things the standard lacks are methods of
   :class:`Backend` itself (:data:`BACKEND_METHODS`): host transfer, scatter-add, random
   generators, device management.
2. **NN kernels** (optional). ``backend.kernels`` is an instance of
   :class:`ember.kernels.Kernels`, whose every method has a portable default written only
   against the primitives. A backend overrides a kernel by subclassing ``Kernels``.
3. **Devices**: the device type it claims, how many devices there are, their names, and
   the optional services below (streams, graph capture, memory statistics, caches), each
   declared on :class:`Backend` with the default a backend without it gets.

Every method the core calls on a backend is declared on :class:`Backend`; a backend adds no
other public method and keeps the declared signatures (``tests/test_backend_contract.py``).
Which backend serves a device type is chosen with :func:`use` (also ``ember.backends.use``);
:func:`get_backend` and :func:`list_backends` look them up.

Dispatch is an attribute lookup on the backend object a tensor holds; nothing here runs
per op except the backend's own code.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .dtypes import native_dtype_name
from .primitives import DERIVED, PRIMITIVES, REQUIRED, build_namespace, complete_namespace
from .strides import contiguous_strides

if TYPE_CHECKING:
    from .device import device as _device
    from .dtypes import dtype as _dtype
    from .kernels import Kernels
    from .plugin.registry import BackendSpec

__all__ = [
    "BACKEND_METHODS",
    "DERIVED",
    "PRIMITIVES",
    "REQUIRED",
    "Backend",
    "Generator",
    "build_namespace",
    "get_backend",
    "list_backends",
    "native_dtype_name",
    "use",
]

#: Methods of :class:`Backend` that a backend implements beside the namespace.
BACKEND_METHODS = (
    "device_count",
    "device_name",
    "from_host",
    "to_host",
    "scatter_add",
    "erf",
    "create_generator",
    "synchronize",
)


# A backend's native array, native dtype, stream, event, graph: each backend has its own types
# (NumPy's ndarray, CuPy's, OpenCL buffers...), so the contract types them loosely.
_Array: TypeAlias = Any
_Native: TypeAlias = Any

_generator_lock = threading.Lock()  # guards the first creation of each default generator


class Generator:
    """A per-device random stream, as a backend hands it out.

    Backends return subclasses whose methods produce arrays on the generator's device.
    """

    #: whether :meth:`get_state` returns, and :meth:`set_state` takes, the state as ``bytes`` (laid out
    #: as PyTorch lays out its generator's) rather than numbers, strings, lists and dicts of them
    raw_state: bool = False

    def manual_seed(self, seed: int) -> None:
        raise NotImplementedError

    def initial_seed(self) -> int:
        """The seed of the last :meth:`manual_seed` (or the creation seed)."""
        raise NotImplementedError

    def uniform(self, shape: tuple[int, ...], dtype: _Native) -> _Array:
        """Samples from U[0, 1) of the given native dtype."""
        raise NotImplementedError

    def normal(self, shape: tuple[int, ...], dtype: _Native) -> _Array:
        """Samples from N(0, 1) of the given native dtype."""
        raise NotImplementedError

    def integers(self, low: int, high: int, shape: tuple[int, ...], dtype: _Native) -> _Array:
        """Integers uniform in [low, high) of the given native dtype."""
        raise NotImplementedError

    def whole_range_integers(self, high: int, shape: tuple[int, ...], dtype: _Native) -> _Array:
        """Integers uniform in [0, high) for ``random_()`` without bounds, ``high`` one above the largest
        integer its dtype holds (by default :meth:`integers`; PyTorch's stream draws them otherwise
        than a bounded range)."""
        return self.integers(0, high, shape, dtype)

    def uniform_range(self, shape: tuple[int, ...], dtype: _Native, low: float, high: float) -> _Array:
        """Samples from U[low, high) of the given native dtype (by default :meth:`uniform`, scaled;
        a backend whose stream reproduces PyTorch's rounds as PyTorch does)."""
        return self.uniform(shape, dtype) * (high - low) + low

    def normal_scaled(self, shape: tuple[int, ...], dtype: _Native, mean: float, std: float) -> _Array:
        """Samples from N(mean, std^2) of the given native dtype (by default :meth:`normal`, scaled)."""
        return self.normal(shape, dtype) * std + mean

    def normal_scaled_serially(self, shape: tuple[int, ...], dtype: _Native, mean: float, std: float) -> _Array:
        """:meth:`normal_scaled` drawn element by element, the way a backend fills a tensor that is not
        row-major where that differs (PyTorch's CPU sampler) (by default :meth:`normal_scaled`)."""
        return self.normal_scaled(shape, dtype, mean, std)

    def exponential(self, shape: tuple[int, ...], dtype: _Native, lambd: float) -> _Array | None:
        """Samples of the exponential distribution of rate ``lambd``, or ``None`` (the default) where the
        backend has no sampler of its own: the core then transforms :meth:`uniform` samples (so too
        :meth:`log_normal`, :meth:`cauchy` and :meth:`geometric`, for a backend that reproduces
        PyTorch's stream and rounding)."""
        return None

    def log_normal(self, shape: tuple[int, ...], dtype: _Native, mean: float, std: float) -> _Array | None:
        """Samples whose logarithm is N(mean, std^2), or ``None`` (see :meth:`exponential`)."""
        return None

    def cauchy(self, shape: tuple[int, ...], dtype: _Native, median: float, sigma: float) -> _Array | None:
        """Samples of the Cauchy distribution, or ``None`` (see :meth:`exponential`)."""
        return None

    def geometric(self, shape: tuple[int, ...], dtype: _Native, p: float) -> _Array | None:
        """Samples of the geometric distribution (trials up to the first success, each a success with
        probability ``p``) in ``dtype``, floating or integer, or ``None`` (see :meth:`exponential`)."""
        return None

    def poisson(self, rates: _Array) -> _Array | None:
        """A Poisson sample per element of the native floating array ``rates`` (non-negative), in its
        dtype, or ``None`` (the default): the core then samples by its portable method."""
        return None

    def binomial(self, counts: _Array, probs: _Array) -> _Array | None:
        """A binomial sample per element of the native floating arrays ``counts`` and ``probs`` (one shape
        and dtype), in their dtype, or ``None`` (the default): the core then samples by its portable method."""
        return None

    def standard_gamma(self, concentrations: _Array) -> _Array | None:
        """A Gamma(concentration, 1) sample per element of the native floating array ``concentrations``
        (positive), in its dtype, or ``None`` (the default): the core then samples by its portable method."""
        return None

    def categorical(self, cdf: _Array, num_samples: int) -> _Array | None:
        """``num_samples`` categories per row of the native 2-D floating array ``cdf`` (each row's running
        sums of the weights over their total, non-decreasing up to a last 1), as a native int64 array
        of shape ``(rows, num_samples)``: for each sample, the first index whose sum is not below a
        float64 uniform (PyTorch's bisection), or ``None`` (the default): ``ember.multinomial`` then
        searches :meth:`uniform` samples itself."""
        return None

    def permutation(self, n: int) -> _Array | None:
        """A random permutation of ``0 .. n - 1`` as a native int64 array, or ``None`` (the default)
        when the backend has no shuffle of its own: ``ember.randperm`` then sorts random keys."""
        return None

    def get_state(self) -> Any:
        raise NotImplementedError

    def set_state(self, state: Any) -> None:
        raise NotImplementedError


class _DtypeTable(dict[Any, Any]):
    """A backend's dtype map (ember dtype -> native type, or back) that registers the dtypes
    declared lazily on a miss and looks again; a hit costs what a plain dict's does."""

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self._backend = backend

    def __missing__(self, key: Any) -> Any:
        if self._backend._load_lazy_dtypes():
            return self[key]
        raise KeyError(key)


#: the default :meth:`Backend.device_context`: one stateless no-op context, entered any number of times
_NO_DEVICE_SWITCH = contextlib.nullcontext()


class Backend:
    """Base class of every backend.

    Subclasses set :attr:`name`, :attr:`device_type`, :attr:`xp` (a class attribute: it is
    completed with the portable compositions of the :data:`DERIVED` primitives it lacks when
    the class is made) and :attr:`kernels`, and implement the :data:`BACKEND_METHODS` that
    have no default here.

    Attributes:
        name: the plugin's name (``"numpy"``).
        device_type: the device type it serves (``"cpu"``).
        xp: the array namespace (see :data:`PRIMITIVES`).
        kernels: the kernel table, an :class:`ember.kernels.Kernels` instance.
        supports_float64: whether the devices compute in double precision.
        autocast_device_type: the device type whose autocast policy table
            (:data:`ember.amp.policy.POLICY`) this backend's ops follow when its own device
            type has none (None: autocast casts nothing on it).
        indexed_tensor_devices: whether its tensors report their device with the index, as
            PyTorch's accelerator tensors do (``cuda:0``); False for the host backends and meta,
            whose tensors on the first device report it without one, as PyTorch's (``cpu``).
    """

    if TYPE_CHECKING:  # every backend sets them; the base leaves them None
        name: str
        device_type: str
        kernels: Kernels
    else:
        name = None
        device_type = None
        kernels = None
    xp: Any = None
    supports_float64: bool = True
    autocast_device_type: str | None = None
    indexed_tensor_devices: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("xp") is not None:
            cls.xp = complete_namespace(cls.xp)

    @property
    def on_host(self) -> bool:
        """Whether PyTorch's CPU kernels are this backend's reference: a host backend (NumPy, the
        restricted one, meta), whose device type or autocast device type is ``"cpu"``. Such a backend
        follows the CPU kernels' choices (tie orders, float16 refusals), and reading a value of its
        arrays costs no device sync."""
        return "cpu" in (self.device_type, self.autocast_device_type)

    def __init__(self) -> None:
        self._lazy_dtypes: dict[_dtype, Callable[[], _Native | None]] = {}
        self._native = _DtypeTable(self)
        self._ember = _DtypeTable(self)
        self._generators: dict[int, Generator] = {}

    # -- dtypes -------------------------------------------------------------------------
    def register_dtype(self, ember_dtype: _dtype, native: _Native) -> None:
        """Declare the native type that stands for ``ember_dtype`` on this backend."""
        self._native[ember_dtype] = native
        self._ember[native] = ember_dtype

    def register_dtype_lazily(self, ember_dtype: _dtype, load: Callable[[], _Native | None]) -> None:
        """Declare that ``load()`` gives the native type for ``ember_dtype`` (or None where the
        backend cannot hold it), called the first time a dtype is not found: a costly import
        (NumPy's bfloat16 from ``ml_dtypes`` takes longer than NumPy itself) is paid only by the
        programs that use the dtype."""
        self._lazy_dtypes[ember_dtype] = load

    def _load_lazy_dtypes(self) -> bool:
        """Registers every dtype declared lazily; whether there was any."""
        pending, self._lazy_dtypes = self._lazy_dtypes, {}
        for ember_dtype, load in pending.items():
            native = load()
            if native is not None:
                self.register_dtype(ember_dtype, native)
        return bool(pending)

    def native_dtype(self, ember_dtype: _dtype) -> _Native:
        """The native type for an ember dtype; raises TypeError if the backend lacks it."""
        try:
            return self._native[ember_dtype]
        except KeyError:
            raise TypeError(f"{self.name} backend does not support dtype {ember_dtype}") from None

    def ember_dtype(self, native: _Native) -> _dtype:
        """The ember dtype of a native array type."""
        return self._ember[native]

    # -- devices ------------------------------------------------------------------------
    def device_count(self) -> int:
        """How many devices of :attr:`device_type` this backend drives."""
        return 1

    def device_name(self, index: int) -> str:
        """A human-readable name of device ``index``, for ``ember info``."""
        return self.device_type

    def device_context(self, index: int) -> contextlib.AbstractContextManager[Any]:
        """A context manager making ``index`` the current device (a no-op by default)."""
        return _NO_DEVICE_SWITCH

    def set_device(self, index: int) -> None:
        """Make ``index`` the current device from now on (``ember.cuda.set_device``); a no-op
        by default, for backends that take the device from each array."""

    def device_of(self, array: _Array) -> int:
        """The device index an array lives on (0 for single-device backends)."""
        return 0

    def synchronize(self, index: int | None = None) -> None:
        """Wait for the device's queued work to finish (a no-op for synchronous backends)."""

    def memory_allocated(self, index: int | None = None) -> int:
        """Bytes currently held by arrays on the device, where the backend tracks it."""
        return 0

    def memory_reserved(self, index: int | None = None) -> int:
        """Bytes held by the backend's allocator on the device, where it tracks it."""
        return self.memory_allocated(index)

    def max_memory_allocated(self, index: int | None = None) -> int:
        """The most bytes :meth:`memory_allocated` has reported, where the backend tracks a peak."""
        return self.memory_allocated(index)

    def reset_max_memory_allocated(self, index: int | None = None) -> None:
        """Start the peak of :meth:`max_memory_allocated` afresh from the current value (a no-op
        for backends that track no peak)."""

    def memory_info(self, index: int) -> tuple[int, int]:
        """``(free, total)`` bytes of device ``index`` as its driver reports them
        (``ember.cuda.mem_get_info``); backends without such a report raise ``RuntimeError``."""
        raise RuntimeError(f"the {self.name} backend does not report the free memory of its devices")

    def device_properties(self, index: int) -> dict[str, Any]:
        """The properties of device ``index`` under the attribute names of PyTorch's
        ``torch.cuda.get_device_properties`` (``name``, ``major``, ``minor``, ``total_memory``,
        ``multi_processor_count``, ...); by default only ``name``."""
        return {"name": self.device_name(index)}

    def empty_cache(self, index: int | None = None) -> None:
        """Return the allocator's cached, unused memory (of device ``index``, else of every
        device) to the driver; a no-op for backends that cache none."""

    def set_memory_fraction(self, index: int, fraction: float) -> None:
        """Cap the allocator of device ``index`` at ``fraction`` of the device's memory
        (``ember.cuda.set_per_process_memory_fraction``); backends without a cap raise ``RuntimeError``."""
        raise RuntimeError(f"the {self.name} backend cannot cap the memory of its devices")

    def memory_fraction(self, index: int) -> float:
        """The cap :meth:`set_memory_fraction` set on device ``index`` (1.0: none)."""
        return 1.0

    def can_access_peer(self, index: int, peer: int) -> bool:
        """Whether device ``index`` can read and write the memory of device ``peer`` directly
        (False by default)."""
        return False

    # -- profiler annotations (ember.cuda.nvtx) -------------------------------------------
    def range_push(self, message: str) -> int:
        """Open a nested range named ``message`` in the vendor profiler's timeline; returns the
        depth of the range. Backends without such a profiler raise ``RuntimeError``."""
        raise RuntimeError(f"the {self.name} backend has no profiler ranges")

    def range_pop(self) -> int:
        """Close the innermost range :meth:`range_push` opened; returns the depth it had."""
        raise RuntimeError(f"the {self.name} backend has no profiler ranges")

    def mark(self, message: str) -> None:
        """Put an instantaneous marker named ``message`` in the vendor profiler's timeline."""
        raise RuntimeError(f"the {self.name} backend has no profiler ranges")

    # -- host transfer ------------------------------------------------------------------
    def from_host(self, host_array: np.ndarray, index: int, copy: bool = True) -> _Array:
        """Copy a NumPy array to device ``index``; returns a native array.

        ``copy=False`` lets a backend whose arrays live in host memory share ``host_array``'s
        memory (``ember.from_numpy``); other backends copy regardless.
        """
        raise NotImplementedError

    def to_host(self, array: _Array) -> np.ndarray:
        """Copy a native array to a NumPy array on the host."""
        raise NotImplementedError

    def transfer(self, array: _Array, index: int) -> _Array:
        """A copy of a native array of this backend on its device ``index``.

        The default goes through the host; a backend that copies between its devices
        directly (CuPy, GPU to GPU) overrides it.
        """
        return self.from_host(self.to_host(array), index)

    # -- pinned (page-locked) host memory ---------------------------------------------------
    def pin_host(self, host_array: np.ndarray) -> np.ndarray | None:
        """A copy of the NumPy array ``host_array`` in page-locked host memory, from which
        :meth:`from_host_async` copies to the device without blocking; ``None`` (the default)
        for backends without pinned memory."""
        return None

    def is_pinned_host(self, host_array: np.ndarray) -> bool:
        """Whether the NumPy array ``host_array`` lives in memory :meth:`pin_host` allocated
        (False by default)."""
        return False

    def from_host_async(self, host_array: np.ndarray, index: int) -> _Array:
        """:meth:`from_host`, which may return before the copy ends when ``host_array`` is pinned:
        the copy is then ordered on device ``index``'s current stream. The default copies
        synchronously."""
        return self.from_host(host_array, index)

    # -- primitives beyond the standard ---------------------------------------------------
    def is_contiguous(self, array: _Array) -> bool:
        """Whether ``array`` is laid out in row-major order without gaps (True by default)."""
        return True

    def layout(self, array: _Array) -> tuple[tuple[int, ...], int]:
        """``array``'s strides and offset into its storage, both counted in elements (``Tensor.stride``,
        ``Tensor.storage_offset``). The default is a fresh row-major array's: contiguous strides, offset 0."""
        return contiguous_strides(tuple(int(n) for n in array.shape)), 0

    def viewable(self, array: _Array) -> _Array:
        """``array``, which has no elements, seen with the strides and offset :meth:`layout` reports for it,
        held by the array itself so that the views of it step from them: the views of an empty tensor keep
        PyTorch's strides (``t()`` of a 0 x 3 tensor steps (1, 3)). The default is ``array`` itself, for a
        backend whose arrays keep their strides; NumPy's new empty arrays have zeroed strides, which
        :meth:`layout` reads as a fresh row-major array's."""
        return array

    def strides(self, array: _Array) -> tuple[int, ...]:
        """``array``'s strides in elements, :meth:`layout`'s first item, for the callers that need no
        offset. The default reads :meth:`layout`; a backend overrides it where the offset costs more."""
        return tuple(self.layout(array)[0])

    def storage_offset(self, array: _Array) -> int:
        """``array``'s offset into its storage in elements, :meth:`layout`'s second item
        (``Tensor.storage_offset``), for the callers that need no strides. The default reads
        :meth:`layout`; a backend overrides it where the strides cost more."""
        return int(self.layout(array)[1])

    def is_row_major(self, array: _Array) -> bool:
        """Whether ``array``'s strides (:meth:`layout`) are exactly a fresh row-major array's, a size-1
        dimension's stride too (:meth:`is_contiguous` lets a size-1 dimension step as it likes). An
        element-wise op whose operands are all so has a row-major result in PyTorch, whatever their
        shapes: the one check that lets it skip working out its result's layout. The default reads
        :meth:`layout`; a backend overrides it where that costs more than a look at the strides."""
        shape = tuple(int(n) for n in array.shape)
        return self.layout(array)[0] == contiguous_strides(shape)

    def storage_size(self, array: _Array) -> int:
        """The number of elements of the storage ``array`` views (the positions :meth:`layout`'s
        offset and strides address). The default is a fresh array's: its own size."""
        return math.prod(array.shape)

    def memory_owner(self, array: _Array) -> object:
        """The object that owns the memory ``array`` views: arrays with different owners share no
        element. The backward engine copies a leaf's first gradient that shares an element of its owner's
        memory (:meth:`layout`'s offset on) with another ``.grad``, so that no two of them alias. The default is the array itself (a backend
        whose arrays are never views of each other)."""
        return array

    def data_address(self, array: _Array) -> int | None:
        """The address of ``array``'s first element in host or device memory (``Tensor.data_ptr``), or
        ``None`` where the backend's memory has no address to give (an OpenCL buffer is a handle). The
        default reads the array interface protocols, ``__array_interface__`` (NumPy) and
        ``__cuda_array_interface__`` (CuPy), and gives ``None`` for an array that has neither."""
        interface = getattr(array, "__array_interface__", None) or getattr(array, "__cuda_array_interface__", None)
        return None if interface is None else int(interface["data"][0])

    def as_strided(self, array: _Array, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> _Array:
        """A view of the storage ``array`` views, with ``shape`` and ``strides`` and first element at
        storage position ``offset`` (in elements, as :meth:`layout` counts them; the caller has
        checked the bounds against :meth:`storage_size`: a view without elements may start anywhere,
        past the end of the storage too, as PyTorch's empty slices do). Writes through the view change
        ``array``. A backend without strided views raises NotImplementedError (the default):
        ``Tensor.as_strided`` then reports it, and ``Tensor.unfold`` copies."""
        raise NotImplementedError(f"as_strided: the {type(self).__name__} backend has no strided views")

    def bitcast(self, array: _Array, dtype: _Native) -> _Array:
        """A view of ``array``'s memory whose bytes are read as native ``dtype`` (``Tensor.view(dtype)``).

        Where the item sizes are equal, the view has ``array``'s shape and strides. Otherwise the
        last dimension, whose stride is one element, holds ``shape[-1] * old_size // new_size``
        elements of stride one, and every other stride and the offset measure the same bytes in
        the new elements (the caller has checked that they divide, and that ``array`` is not 0-d).
        Writes through the view change ``array``. A backend whose arrays cannot alias another
        dtype raises NotImplementedError (the default): ``Tensor.view(dtype)`` then reports it."""
        raise NotImplementedError(f"view(dtype): the {type(self).__name__} backend cannot reinterpret memory")

    def view_as_real(self, array: _Array, native: _Native) -> _Array:
        """The view of the complex ``array`` as its real and imaginary parts, a last dimension of
        size 2 of the real type ``native`` (``Tensor.view_as_real``). The default reinterprets the
        memory of a NumPy-like array (``ndarray.view``, which NumPy and CuPy have); a backend that
        registers no complex dtype never receives a complex array."""
        return array[..., None].view(native)

    def view_as_complex(self, array: _Array, native: _Native) -> _Array:
        """The view of ``array``, whose last dimension (size 2, stride 1) holds real and imaginary
        parts, as complex numbers of type ``native`` (``ember.view_as_complex``); the default
        reinterprets a NumPy-like array's memory, as :meth:`view_as_real`."""
        return array.view(native)[..., 0]

    def scatter_add(self, target: _Array, axis: int, index: _Array, values: _Array) -> None:
        """``target[..., index[i], ...] += values[i]`` along ``axis``, in place.

        ``index`` and ``values`` have the same shape, which matches ``target`` except
        along ``axis`` (PyTorch's ``scatter_add_``). Repeated indices accumulate.
        """
        raise NotImplementedError

    def erf(self, array: _Array) -> _Array:
        """The error function, element-wise."""
        raise NotImplementedError

    def create_generator(self, index: int, seed: int) -> Generator:
        """A new :class:`Generator` for device ``index`` seeded with ``seed``."""
        raise NotImplementedError

    def generator(self, index: int | None) -> Generator:
        """The default generator of device ``index`` (created on first use); None is device 0, the
        device of the tensors whose device has no index (``cpu``)."""
        if index is None:
            index = 0
        gen = self._generators.get(index)
        if gen is None:
            with _generator_lock:
                gen = self._generators.get(index)
                if gen is None:
                    from . import random

                    gen = self.create_generator(index, random.initial_seed_for(self, index))
                    self._generators[index] = gen
        return gen

    def manual_seed(self, seed: int) -> None:
        """Reseed the default generators of every device of this backend."""
        for gen in list(self._generators.values()):
            gen.manual_seed(seed)

    # -- checks -------------------------------------------------------------------------
    def check_indices(
        self,
        name: str,
        indices: _Array,
        bound: int,
        ignore_index: int | None,
        error: type[Exception],
        message: str,
    ) -> None:
        """Raise ``error(message.format(value=v))`` for the first ``v`` in ``indices`` outside ``[0, bound)``.

        ``indices`` is a native integer array; entries equal to ``ignore_index`` (None: no
        exemption) pass; ``name`` is the op, for backends that report later. This default
        checks on the host at once. A backend whose device runs ahead of the host may check
        on the device and raise at its next synchronizing call instead, as PyTorch's
        device-side asserts do on CUDA, so that a training step need not wait for the device.
        """
        host = np.asarray(self.to_host(indices)).reshape(-1)
        bad = (host < 0) | (host >= bound)
        if ignore_index is not None:
            bad &= host != ignore_index
        if bad.any():
            raise error(message.format(value=int(host[bad][0])))

    # -- streams and graph capture (optional) ---------------------------------------------
    def current_stream(self, index: int) -> Any:
        """The native stream (queue) the backend launches on for device ``index``.

        Backends with streams return objects with ``synchronize()``, ``done``,
        ``record(event)``, ``wait_event(event)``, ``ptr`` and use as a context manager that
        makes the stream current; see :mod:`ember.cuda`.
        """
        raise RuntimeError(f"the {self.name} backend has no streams")

    def default_stream(self, index: int) -> Any:
        """The native stream device ``index`` launches on unless told otherwise (CUDA's null stream)."""
        raise RuntimeError(f"the {self.name} backend has no streams")

    def create_stream(self, index: int, priority: int = 0) -> Any:
        """A new native stream on device ``index``."""
        raise RuntimeError(f"the {self.name} backend has no streams")

    def create_event(self, index: int, enable_timing: bool = False, blocking: bool = False) -> Any:
        """A new native event (``record(stream)``, ``synchronize()``, ``done``)."""
        raise RuntimeError(f"the {self.name} backend has no events")

    def event_elapsed_ms(self, start: Any, end: Any) -> float:
        """Milliseconds between two recorded native events."""
        raise RuntimeError(f"the {self.name} backend has no timing events")

    def graph_pool(self, index: int) -> Any:
        """A new memory pool private to captured graphs on device ``index`` (an opaque object)."""
        raise RuntimeError(f"the {self.name} backend cannot capture graphs")

    def capture_begin(self, index: int, stream: Any, pool: Any) -> None:
        """Start recording the work launched on native ``stream`` into a graph, allocating from ``pool``."""
        raise RuntimeError(f"the {self.name} backend cannot capture graphs")

    def capture_end(self, index: int, stream: Any) -> Any:
        """Stop recording; return the replayable native graph."""
        raise RuntimeError(f"the {self.name} backend cannot capture graphs")

    def replay(self, graph: Any, stream: Any) -> None:
        """Launch a captured native graph on native ``stream``."""
        raise RuntimeError(f"the {self.name} backend cannot capture graphs")

    # -- exchange -----------------------------------------------------------------------
    def to_dlpack(self, array: _Array, stream: Any = None, max_version: tuple[int, int] | None = None) -> Any:
        """Export an array through DLPack (``array.__dlpack__``); ``max_version``: the newest DLPack
        version the consumer reads (a versioned capsule carries the read-only flag, so that a writable
        array is imported writable; without it, NumPy imports read-only)."""
        kwargs: dict[str, Any] = {}
        if stream is not None:
            kwargs["stream"] = stream
        if max_version is not None:
            kwargs["max_version"] = max_version
        if not hasattr(array, "__dlpack__"):  # the DLPack protocol's error, as from_dlpack's is
            raise BufferError(f"the {self.name} backend does not export DLPack")
        return array.__dlpack__(**kwargs)

    def from_dlpack(self, obj: Any) -> tuple[_Array, int]:
        """Import an object exposing ``__dlpack__``; returns ``(array, device_index)``."""
        raise NotImplementedError(f"{self.name} backend does not support DLPack")

    def __repr__(self) -> str:
        return f"<ember backend {self.name!r} on {self.device_type!r}>"


# -- choosing the backend of a device type --------------------------------------------------
def use(device_type: str, name: str) -> None:
    """Serve ``device_type`` with the backend called ``name`` for the rest of the process.

    Args:
        device_type: the device type, ``"cpu"``, ``"cuda"``, ...
        name: the name a backend plugin registered for that type.

    Example::

        >>> ember.backends.use("cpu", "numpy")
    """
    from ember.plugin import backend_registry
    from ember.tensor import _forget_backend_cache

    backend_registry().use(device_type, name)
    _forget_backend_cache()


def get_backend(device: _device | str = "cpu") -> Backend:
    """The backend object serving ``device`` (a device or string).

    Args:
        device: an :class:`ember.device` or its string, ``"cpu"``, ``"cuda:1"``, ...

    Example::

        >>> ember.backends.get_backend("cpu").name
        'numpy'
    """
    from ember.device import device as _device
    from ember.tensor import backend_for_device

    return backend_for_device(_device(device))


def list_backends() -> list[tuple[BackendSpec, list[tuple[str, str]]]]:
    """Every registered backend, loaded, as ``(spec, devices)`` with the failure reason in ``spec.error``.

    ``devices`` lists ``(device string, device name)`` for each device the backend drives
    (empty where it failed to load).

    Example::

        >>> specs = {spec.name: devices for spec, devices in ember.backends.list_backends()}
        >>> specs["numpy"][0][0]
        'cpu:0'
    """
    from ember.plugin import backend_registry

    result: list[tuple[BackendSpec, list[tuple[str, str]]]] = []
    for spec in backend_registry().specs():
        backend = spec.load()
        devices: list[tuple[str, str]] = []
        if backend is not None:
            devices = [(f"{spec.device_type}:{i}", backend.device_name(i)) for i in range(backend.device_count())]
        result.append((spec, devices))
    return result
