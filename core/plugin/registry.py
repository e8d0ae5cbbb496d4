"""The backend registry: which backend serves which device type, loaded lazily."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ..backend import Backend

__all__ = ["BackendRegistry", "BackendSpec", "BackendUnavailableError"]

# a "module:attribute" string, or a callable giving a backend or its class, or either itself
_Loader: TypeAlias = "str | Callable[[], Backend | type[Backend]] | Backend | type[Backend]"


class BackendUnavailableError(AssertionError, RuntimeError):
    """Backends claim a device type but none of them loads (its library is absent, or no device).

    PyTorch's CPU build raises ``AssertionError`` ("Torch not compiled with CUDA enabled") for
    ``.cuda()``, ``.to("cuda")`` or ``torch.zeros(2, device="cuda")``, its CUDA build on a machine
    without a GPU ``RuntimeError``: this error is both, so either ``except`` catches it. A device type
    that no backend claims at all (``"mps"``) stays a plain ``RuntimeError``, as PyTorch's.
    """


@dataclass
class BackendSpec:
    """A registered backend: how to load it, and what happened when it was loaded."""

    name: str
    device_type: str
    loader: _Loader
    priority: int = 0
    instance: Backend | None = None
    error: str | None = None
    loaded: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def load(self) -> Backend | None:
        """Import and instantiate the backend once; record the failure reason if any.

        Thread-safe: concurrent first calls import once, and every caller sees the outcome
        (``loaded`` turns true only after ``instance`` or ``error`` is set).
        """
        if self.loaded:
            return self.instance
        with self._lock:
            if not self.loaded:
                try:
                    target: Any = self.loader
                    if isinstance(target, str):
                        module, _, attr = target.partition(":")
                        target = getattr(importlib.import_module(module), attr)
                    backend = target() if callable(target) else target
                    if backend.device_count() < 1:
                        raise RuntimeError(f"no {self.device_type} device found")
                    self.instance = backend
                except Exception as exc:
                    self.error = f"{type(exc).__name__}: {exc}"
                self.loaded = True
        return self.instance


class BackendRegistry:
    """Backends by device type, with priority and per-process override.

    Thread-safe: changes and the first lookup of a device type hold a lock; a lookup that
    finds its device type already chosen takes no lock.
    """

    def __init__(self) -> None:
        self._specs: dict[str, BackendSpec] = {}
        self._chosen: dict[str, Backend] = {}
        self._overrides: dict[str, str] = {}
        self._lock = threading.RLock()

    def register_backend(
        self,
        name: str,
        device_type: str,
        loader: _Loader,
        priority: int = 0,
    ) -> None:
        """Add a backend (see :func:`ember.plugin.hookspec.ember_register_backends`)."""
        with self._lock:
            if name in self._specs:
                raise ValueError(f"backend {name!r} is registered twice")
            self._specs[name] = BackendSpec(name, device_type, loader, priority)
            self._chosen.pop(device_type, None)

    def specs(self) -> list[BackendSpec]:
        """Every registered backend spec, in registration order."""
        with self._lock:
            return list(self._specs.values())

    def device_types(self) -> list[str]:
        """The device types some backend claims."""
        return sorted({spec.device_type for spec in self.specs()})

    def use(self, device_type: str, name: str) -> None:
        """Serve ``device_type`` with backend ``name`` from now on in this process."""
        spec = self._specs.get(name)
        if spec is None or spec.device_type != device_type:
            raise ValueError(f"no backend named {name!r} claims device type {device_type!r}")
        with self._lock:
            self._overrides[device_type] = name
            self._chosen.pop(device_type, None)

    def candidates(self, device_type: str) -> list[BackendSpec]:
        """Specs claiming ``device_type``, the preferred first."""
        specs = [s for s in self.specs() if s.device_type == device_type]
        specs.sort(key=lambda s: -s.priority)
        preferred = self._overrides.get(device_type) or os.environ.get(f"EMBER_BACKEND_{device_type.upper()}")
        if preferred:
            specs.sort(key=lambda s: s.name != preferred)
        return specs

    def loaded_backend(self, device_type: str) -> Backend | None:
        """The backend serving ``device_type`` if one has been chosen and loaded already, else
        None; loads nothing."""
        return self._chosen.get(device_type)

    def backend_for(self, device_type: str) -> Backend:
        """The loaded backend serving ``device_type``; RuntimeError naming every reason if none."""
        backend = self._chosen.get(device_type)
        if backend is not None:
            return backend
        with self._lock:
            backend = self._chosen.get(device_type)
            return backend if backend is not None else self._choose(device_type)

    def _choose(self, device_type: str) -> Backend:
        specs = self.candidates(device_type)
        if not specs:
            known = ", ".join(self.device_types()) or "none"
            raise RuntimeError(f"unknown device type {device_type!r} (known device types: {known})")
        preferred = self._overrides.get(device_type) or os.environ.get(f"EMBER_BACKEND_{device_type.upper()}")
        for spec in specs:
            if preferred and spec.name != preferred:
                continue
            backend = spec.load()
            if backend is not None:
                backend.name = spec.name
                self._chosen[device_type] = backend
                return backend
        reasons = "; ".join(f"{s.name}: {s.error}" for s in specs if s.error)
        raise BackendUnavailableError(f"no backend available for device type {device_type!r} ({reasons})")
