"""Configuration modules as PyTorch's compiler stack has them (``torch._dynamo.config``,
``torch._inductor.config``): plain modules whose attributes are the settings (a nested class groups
some, as ``config.triton.cudagraphs``), plus ``patch`` to change settings for a ``with`` block or a
decorated function and ``get_config_copy`` to read them all. ember compiles nothing, so the settings
are kept for the programs that set and read them and steer nothing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


class ConfigPatch(contextlib.ContextDecorator):
    """Settings of ``module`` changed for a ``with`` block or a decorated function, restored after.

    Args:
        module (module): the configuration module.
        changes (dict): setting name to value.

    Example::

        >>> import ember._dynamo.config as config
        >>> with config.patch(suppress_errors=True):
        ...     config.suppress_errors
        True
        >>> config.suppress_errors
        False
    """

    def __init__(self, module: ModuleType, changes: dict[str, Any]) -> None:
        self.module, self.changes = module, changes
        self.targets: dict[str, tuple[Any, str]] = {}  # dotted name -> (the module or group holding it, its name there)
        self.saved: list[dict[str, Any]] = []

    def __enter__(self) -> None:
        for name in self.changes:  # checked on entry, as PyTorch's
            *group, setting = name.split(".")
            owner = getattr(self.module, group[0], None) if group else self.module
            if len(group) > 1 or owner is None or not hasattr(owner, setting):
                raise AttributeError(f"{self.module.__name__}.{name} does not exist")
            self.targets[name] = (owner, setting)
        self.saved.append({name: getattr(*self.targets[name]) for name in self.changes})
        for name, value in self.changes.items():
            setattr(*self.targets[name], value)

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.pop().items():
            setattr(*self.targets[name], value)


class ConfigModule(ModuleType):
    """The class of a configuration module: an assignment to a name that is neither one of its settings
    nor one of PyTorch's for the module (``known``) is PyTorch's AttributeError, and so is reading one
    (a misspelt setting would otherwise be kept and steer nothing, silently)."""

    _known: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("__") and name not in self.__dict__ and name not in self._known:
            raise AttributeError(f"{self.__name__}.{name} does not exist")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if not name.startswith("__"):
            raise AttributeError(f"{self.__name__}.{name} cannot be deleted")
        super().__delattr__(name)

    def __getattr__(self, name: str) -> Any:  # only for a name the module does not have
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"{self.__name__}.{name} does not exist")


def install(module_name: str, known: frozenset[str]) -> None:
    """Make module ``module_name`` a :class:`ConfigModule` that also accepts PyTorch's settings ``known``."""
    module = sys.modules[module_name]
    module.__class__ = type(ConfigModule.__name__, (ConfigModule,), {"_known": known, "__module__": __name__})


def patcher(module_name: str) -> Callable[..., ConfigPatch]:
    """The ``patch`` function of configuration module ``module_name``: ``patch(name, value)``,
    ``patch({name: value})`` or ``patch(name=value, ...)``."""

    def patch(arg: str | dict[str, Any] | None = None, value: Any = None, **kwargs: Any) -> ConfigPatch:
        changes = dict(kwargs)
        if isinstance(arg, dict):
            changes.update(arg)
        elif arg is not None:
            changes[arg] = value
        return ConfigPatch(sys.modules[module_name], changes)

    return patch


def copier(module_name: str) -> Callable[[], dict[str, Any]]:
    """The ``get_config_copy`` function of configuration module ``module_name``: every setting by
    name, a grouped one by its dotted name (``"triton.cudagraphs"``)."""

    def get_config_copy() -> dict[str, Any]:
        found = {}
        for name, value in vars(sys.modules[module_name]).items():
            if name.startswith("_") or isinstance(value, ModuleType) or callable(value) and not isinstance(value, type):
                continue
            if isinstance(value, type):  # a group of settings
                found.update({f"{name}.{k}": v for k, v in vars(value).items() if not k.startswith("_")})
            else:
                found[name] = value
        return found

    return get_config_copy
