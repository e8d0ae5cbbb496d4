"""Run a callback once a given module has been imported, whether that happened before ember was
imported or happens later. ember uses it to hand libraries that look for PyTorch's tensors their
ember counterpart (einops: :mod:`ember.einops_backend`) without importing those libraries itself.

A finder at the head of ``sys.meta_path`` sees the module's import, lets the finders behind it
find and load the module, and calls the callback when the module's code has run; it then leaves
``sys.meta_path``. Other imports pass through it with one string comparison.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


def call_after_import(name: str, callback: Callable[[], object]) -> None:
    """Call ``callback()`` now if module ``name`` is imported, else right after it is.

    Args:
        name (str): the module's full name, e.g. ``"einops._backends"``.
        callback (callable): called with no arguments, once.

    Example::

        >>> from ember.after_import import call_after_import
        >>> call_after_import("json", lambda: print("json is imported"))
        json is imported
    """
    if name in sys.modules:
        callback()
    else:
        sys.meta_path.insert(0, _ImportWatcher(name, callback))


class _ImportWatcher(MetaPathFinder):
    def __init__(self, name: str, callback: Callable[[], object]) -> None:
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once: the finders behind find the module itself
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ThenCall(spec.loader, self.callback)
                return spec
        return None


class _ThenCall(Loader):
    """The module's own loader, with the callback after the module's code has run."""

    def __init__(self, loader: Loader, callback: Callable[[], object]) -> None:
        self.loader, self.callback = loader, callback

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.callback()

    def __getattr__(self, name: str) -> Any:  # resources, source and code queries: the module's loader
        return getattr(self.loader, name)
