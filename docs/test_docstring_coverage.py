"""Every public function of ``ember``, ``ember.nn.functional`` and every public ``Tensor`` method
and property has a docstring with an example (a ``>>>`` line).

Part of ``tox -e docs`` (``.ci/suite docs`` collects ``docs/test_*.py``); ``test_doctests.py``
runs those examples. One case per surface, so that a gap in one does not hide the others; a
failure lists the names without an example, grouped by the module that defines them.
"""

from __future__ import annotations

import inspect
from collections import defaultdict

import pytest

import ember
import ember.nn.functional as F


def _has_example(obj) -> bool:
    return ">>>" in (inspect.getdoc(obj) or "")


def _defining_module(obj) -> str:
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    return getattr(target, "__module__", None) or "?"


def _functional():
    """The public callables of ``ember.nn.functional`` (its submodules left out)."""
    for name, obj in vars(F).items():
        if not name.startswith("_") and callable(obj) and not inspect.ismodule(obj):
            yield f"F.{name}", obj


def _namespace():
    """The public functions of the ``ember`` namespace defined by ember (classes, dtypes, modules left out)."""
    for name in dir(ember):
        obj = getattr(ember, name)
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isbuiltin(obj)):
            continue
        if _defining_module(obj).split(".")[0] == "ember":
            yield f"ember.{name}", obj


def _tensor():
    """The public methods (plain, static and class) and properties of ``ember.Tensor``."""
    for name in dir(ember.Tensor):
        if name.startswith("_"):
            continue
        obj = inspect.getattr_static(ember.Tensor, name)
        if isinstance(obj, (property, staticmethod, classmethod)) or inspect.isfunction(obj):
            yield f"Tensor.{name}", obj


_SURFACES = {"functional": _functional, "namespace": _namespace, "tensor": _tensor}


@pytest.mark.parametrize("surface", list(_SURFACES))
def test_every_public_name_has_an_example(surface):
    names = list(_SURFACES[surface]())
    assert names, f"{surface}: no public names found"
    missing = defaultdict(list)
    for name, obj in names:
        if not _has_example(obj):
            missing[_defining_module(obj)].append(name)
    if missing:
        count = sum(len(v) for v in missing.values())
        lines = [f"  {module} ({len(v)}): {', '.join(sorted(v))}" for module, v in sorted(missing.items())]
        header = f"{surface}: {count} of {len(names)} public names have no '>>>' example in their docstring:"
        pytest.fail("\n".join([header, *lines]), pytrace=False)
