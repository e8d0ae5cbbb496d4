"""Seeding: ``ember.manual_seed`` reseeds every device's default generator."""

from __future__ import annotations

import secrets
from typing import Any, Self

from .device import device as _device
from .tensor import backend_for_device, backend_registry

__all__ = ["manual_seed", "seed", "initial_seed", "Generator", "default_generator"]

_initial_seed = 67280421310721  # PyTorch's default, so fresh processes are reproducible too


def initial_seed() -> int:
    """The seed the default generators were last seeded with.

    Example::

        >>> _ = ember.manual_seed(42)
        >>> ember.initial_seed()
        42
    """
    return _initial_seed


def initial_seed_for(backend, index):
    """Seed for a default generator created lazily on ``backend``'s device ``index``."""
    return _initial_seed


def manual_seed(value: int) -> Generator:
    """Seed the default generator of every device of every loaded backend.

    Devices first used later start from the same seed, so a run is reproducible
    per device. Returns the CPU default :class:`Generator`.

    Args:
        value (int): the seed.

    Example::

        >>> _ = ember.manual_seed(7)
        >>> a = ember.rand(2)
        >>> _ = ember.manual_seed(7)
        >>> bool((a == ember.rand(2)).all())
        True
    """
    global _initial_seed
    value = int(value)
    if value < 0:
        value += 1 << 64
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
        self.device = _device(device)
        self._backend = backend_for_device(self.device)
        self._native = _native or self._backend.create_generator(self.device.index, _initial_seed)
        self._seed = _initial_seed

    def manual_seed(self, value: int) -> Self:
        """Reseed this generator; returns ``self``."""
        self._seed = int(value)
        self._native.manual_seed(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        """An opaque snapshot of the stream (restore with :meth:`set_state`)."""
        return self._native.get_state()

    def set_state(self, state: Any) -> Self:
        self._native.set_state(state)
        return self


class _DefaultGenerator(Generator):
    """The CPU default generator, bound lazily so that ``import ember`` loads no backend."""

    def __init__(self):
        self.device = _device("cpu")

    @property
    def _native(self):
        return backend_for_device(self.device).generator(0)

    @property
    def _seed(self):
        return _initial_seed

    @_seed.setter
    def _seed(self, value):
        pass


default_generator = _DefaultGenerator()


def native_generator(generator, backend, index):
    """The backend generator to draw from: ``generator``'s, or the device default."""
    if generator is None:
        return backend.generator(index)
    return generator._native


def check_probabilities(op, p):
    """PyTorch's check that probabilities ``p`` (a number or a tensor) lie in [0, 1] (NaN fails)."""
    if hasattr(p, "isnan"):  # a tensor
        if bool(((p < 0) | (p > 1) | p.isnan()).any()):
            raise RuntimeError(
                f"{op}: expected all probabilities in [0, 1] (Expected p_in >= 0 && p_in <= 1 to be true, but got false.)"
            )
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
