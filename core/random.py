"""Seeding and generator state: ``ember.manual_seed`` reseeds every device's default generator;
``get_rng_state``/``set_rng_state`` and :func:`fork_rng` save and restore streams as uint8 tensors."""

from __future__ import annotations

import contextlib
import json
import numbers
import secrets
from collections.abc import Iterable, Iterator
from typing import Any, Self

from . import dtypes
from .autograd import function as autograd_function
from .device import device as _device
from .tensor import Tensor, backend_for_device, backend_registry, placement, tensor
from .type_names import type_name

__all__ = [
    "manual_seed", "seed", "initial_seed", "Generator", "default_generator", "get_rng_state", "set_rng_state",
    "fork_rng", "thread_safe_generator",
]  # fmt: skip

_DEFAULT_SEED = 67280421310721  # PyTorch's: of a fresh process's generators and of every new Generator
_initial_seed = _DEFAULT_SEED  # the last seed of manual_seed: that of default generators created later


def initial_seed() -> int:
    """The seed of the CPU default generator: the last one given to it, or the one of the state last
    restored into it (:func:`set_rng_state`).

    Example::

        >>> _ = ember.manual_seed(42)
        >>> ember.initial_seed()
        42
    """
    return default_generator.initial_seed()


def _seed_value(seed: int) -> int:
    """PyTorch's 64-bit seed of the integer ``seed``: a negative one (from ``-2**63``) modulo ``2**64``."""
    if not -(1 << 63) <= seed < 1 << 64:
        raise ValueError("Overflow when unpacking long long")
    return seed + (1 << 64) if seed < 0 else seed


def initial_seed_for(backend, index):
    """Seed for a default generator created lazily on ``backend``'s device ``index``."""
    return _initial_seed


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every device of every loaded backend.

    Devices first used later start from the same seed, so a run is reproducible
    per device. Returns the CPU default :class:`Generator`.

    Args:
        seed (int): the seed.

    Example::

        >>> _ = ember.manual_seed(7)
        >>> a = ember.rand(2)
        >>> _ = ember.manual_seed(7)
        >>> bool((a == ember.rand(2)).all())
        True
    """
    global _initial_seed
    value = _seed_value(int(seed))
    _initial_seed = value
    for spec in backend_registry().specs():
        if spec.instance is not None:
            spec.instance.manual_seed(value)
    return default_generator


def seed() -> int:
    """Seed every default generator with a non-deterministic value and return it.

    Example::

        >>> s = ember.seed()
        >>> ember.initial_seed() == s
        True
    """
    value = secrets.randbits(63)
    manual_seed(value)
    return value


class Generator:
    """A random-number stream on one device, for the ``generator=`` argument of sampling ops.

    Args:
        device: where the numbers are produced. Default: ``"cpu"``.

    Example::

        >>> g = ember.Generator().manual_seed(0)
        >>> a = ember.rand(3, generator=g)
    """

    def __init__(self, device: _device | str = "cpu", _native: Any = None) -> None:
        self._backend, self.device = placement(device)
        self._native = _native or self._backend.create_generator(self.device.index, _DEFAULT_SEED)
        self._seed = _DEFAULT_SEED

    def manual_seed(self, value: int) -> Self:
        """Reseed this generator with the integer ``value`` (a negative one modulo ``2**64``); returns ``self``.

        Example::

            >>> ember.Generator().manual_seed(-1).initial_seed()
            18446744073709551615
        """
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise RuntimeError(f"manual_seed expected a long, but got {type(value).__name__}")
        seed = _seed_value(int(value))
        self._seed = seed
        self._native.manual_seed(seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """A snapshot of the stream as a CPU uint8 tensor (restore it with :meth:`set_state`).

        Example::

            >>> g = ember.Generator().manual_seed(3)
            >>> state = g.get_state()
            >>> a = ember.rand(2, generator=g)
            >>> bool((ember.rand(2, generator=g.set_state(state)) == a).all())
            True
        """
        return encode_state(self._native.get_state())

    def set_state(self, new_state: Tensor) -> Self:
        """Restore a snapshot taken by :meth:`get_state`; returns ``self``.

        Args:
            new_state (ember.ByteTensor): the state to restore.

        Example::

            >>> g = ember.Generator().manual_seed(3)
            >>> g.set_state(g.get_state()) is g
            True
        """
        self._native.set_state(decode_state(new_state, self._native.raw_state))
        if self._native.raw_state:  # PyTorch's layout, whose seed the backend generator took
            self._seed = self._native.initial_seed()
        return self

    def clone_state(self) -> Generator:
        """A new generator on this one's device, with its seed and its state.

        Example::

            >>> g = ember.Generator().manual_seed(3)
            >>> c = g.clone_state()
            >>> bool((ember.rand(2, generator=c) == ember.rand(2, generator=g)).all())
            True
        """
        clone = Generator(self.device).set_state(self.get_state())
        clone._seed = self.initial_seed()
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        # as PyTorch pickles a generator: rebuilt on its device, then given (seed, offset, state)
        return Generator, (str(self.device),), (self.initial_seed(), None, self.get_state())

    def __setstate__(self, state: tuple[int, int | None, Tensor]) -> None:
        seed, _, new_state = state  # the offset of PyTorch's CUDA (Philox) generators: none here
        self.set_state(new_state)
        self._seed = seed

    def graphsafe_get_state(self) -> Generator:
        """Only CUDA generators take part in graph capture: raises ``NotImplementedError`` on this device."""
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state: Generator) -> Self:
        """Only CUDA generators take part in graph capture: raises ``NotImplementedError`` on this device."""
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")


class _DefaultGenerator(Generator):
    """The CPU default generator, bound lazily so that ``import ember`` loads no backend."""

    def __init__(self):
        self.device = _device("cpu")

    @property
    def _native(self):
        return backend_for_device(self.device).generator(0)

    @property
    def _seed(self):
        return self._native.initial_seed()

    @_seed.setter
    def _seed(self, value):
        pass


default_generator = _DefaultGenerator()


def encode_state(state: Any) -> Tensor:
    """A backend generator's state as a CPU uint8 tensor: its bytes as they are (a generator whose
    ``raw_state`` is true), else numbers, strings, lists and dicts of them as JSON."""
    raw = state if isinstance(state, bytes) else json.dumps(state).encode()
    return tensor(list(raw), dtype=dtypes.uint8)


def decode_state(new_state: Tensor, raw: bool = False) -> Any:
    """The backend generator state that :func:`encode_state` wrote into ``new_state`` (its bytes where
    ``raw``, for a generator whose ``raw_state`` is true)."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a ember.ByteTensor, but got {type(new_state).__name__}")
    if new_state.dtype is not dtypes.uint8:
        raise TypeError("RNG state must be a ember.ByteTensor")
    state = bytes(new_state.reshape(-1).tolist())
    if raw:
        return state
    try:
        return json.loads(state)
    except ValueError:
        raise RuntimeError(
            f"set_rng_state: the {new_state.numel()} bytes given are not a saved generator state"
        ) from None


def get_rng_state() -> Tensor:
    """The state of the CPU default generator, as a uint8 tensor (restore it with :func:`set_rng_state`).

    Example::

        >>> state = ember.get_rng_state()
        >>> a = ember.rand(3)
        >>> ember.set_rng_state(state)
        >>> bool((ember.rand(3) == a).all())
        True
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU default generator to a state from :func:`get_rng_state`.

    Args:
        new_state (ember.ByteTensor): the state to restore.

    Example::

        >>> state = ember.get_rng_state()
        >>> ember.set_rng_state(state)
        >>> bool((ember.get_rng_state() == state).all())
        True
    """
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(
    devices: Iterable[Any] | None = None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str | None = None,
) -> Iterator[None]:
    """Run a block with random streams that are restored when it ends: the CPU default generator
    and those of ``devices`` of ``device_type``.

    Args:
        devices (iterable of int or device, optional): the devices whose default generators to fork;
            every device of ``device_type`` when omitted (none when that type has no backend).
        enabled (bool): ``False`` makes this a no-op. Default: ``True``.
        device_type (str, optional): the device type of ``devices``; ``"meta"`` forks nothing. Default: ``"cuda"``.

    Example::

        >>> with ember.random.fork_rng():
        ...     a = ember.rand(2)
        >>> bool((ember.rand(2) == a).all())
        True
    """
    if not enabled or device_type == "meta":
        yield
        return
    try:
        backend = backend_for_device(_device(device_type or "cuda", 0)) if device_type != "cpu" else None
    except Exception:  # noqa: BLE001 - no backend serves this device type: only the CPU stream is forked
        backend = None
    if backend is None:
        generators: list[Any] = []
    elif devices is None:
        generators = [backend.generator(index) for index in range(backend.device_count())]
    else:
        generators = [backend.generator(d if isinstance(d, int) else placement(d)[1].index) for d in devices]
    cpu_state = default_generator._native.get_state()
    device_states = [(generator, generator.get_state()) for generator in generators]
    try:
        yield
    finally:
        default_generator._native.set_state(cpu_state)
        for generator, state in device_states:
            generator.set_state(state)


def thread_safe_generator() -> Generator | None:
    """The generator of the current DataLoader thread worker, for code that draws random numbers there;
    ``None`` in the main process and in process workers, where ``generator=None`` draws from the default
    generator (ember's DataLoader workers are processes, so always ``None``).

    Example::

        >>> g = ember.random.thread_safe_generator()
        >>> print(g)
        None
        >>> ember.randint(0, 10, (3,), generator=g).shape
        ember.Size([3])
    """
    return None


def native_generator(generator, backend, index):
    """The backend generator to draw from: ``generator``'s, or the device default (always on the meta
    device, whose samples have no values: any generator is accepted there and left untouched, as in PyTorch).
    Under ``ember.vmap`` the draw is checked or replayed (``randomness="error"``/``"same"``)."""
    if generator is None or backend.device_type == "meta":
        native = backend.generator(index)
    else:
        try:
            kind = generator.device.type
        except AttributeError:  # PyTorch's argument parser's TypeError
            raise TypeError(f"argument 'generator' must be ember.Generator, not {type_name(generator)}") from None
        if kind != backend.device_type:  # PyTorch's check_generator
            raise RuntimeError(f"Expected a '{backend.device_type}' device type for generator but found '{kind}'")
        native = generator._native
    if autograd_function.vmap_level is not None:
        autograd_function.vmap_level.random_draw(native)
    return native


def check_probabilities(op, p):
    """PyTorch's check that probabilities ``p`` (a number or a tensor) lie in [0, 1] (NaN fails)."""
    if hasattr(p, "isnan"):  # a tensor (a meta one has no values to check)
        if not p.is_meta and bool(((p < 0) | (p > 1) | p.isnan()).any()):
            raise RuntimeError(
                f"{op}: expected all probabilities in [0, 1] (Expected p_in >= 0 && p_in <= 1 to be true, but got false.)"
            )
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def memory_order(tensor):
    """``(order, inverse)``: ``tensor``'s dimensions from the outermost to the innermost in memory and the
    permutation that undoes it; None where the memory order is the logical one."""
    if tensor.is_contiguous():
        return None
    order = tuple(tensor.dim_order())
    if order == tuple(range(len(order))):
        return None
    return order, tuple(sorted(range(len(order)), key=order.__getitem__))


def drawn_in_memory_order(tensor, draw, trailing=()):
    """``draw(shape)``, a native array of ``tensor``'s shape (plus ``trailing`` dimensions) whose values were
    drawn in the order ``tensor``'s elements lie in memory: PyTorch's samplers fill a transposed or
    channels-last tensor in its memory order, so the same seed gives the same value at the same address."""
    shape = tuple(tensor._data.shape)
    orders = memory_order(tensor)
    if orders is None:
        return draw(shape + tuple(trailing))
    order, inverse = orders
    drawn = draw(tuple(shape[d] for d in order) + tuple(trailing))
    return tensor._backend.xp.permute_dims(drawn, inverse + tuple(range(len(order), len(order) + len(trailing))))
