"""The backend contract is declared in one place (:mod:`ember.backend`) and kept.

No backend class (NumPy, restricted, meta, OpenCL and CuPy where they import, the example plugin in
``contrib/ember-backend-example``) and no kernel table adds a public attribute that its base
(:class:`ember.backend.Backend`, :class:`ember.kernels.Kernels`) lacks, or changes the
signature of a method the base declares; generators keep the signatures of
:class:`ember.backend.Generator`. The core calls no backend method the base does not
declare, and probes none with ``hasattr``.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re
import sys

import pytest

from ember.backend import DERIVED, REQUIRED, Backend, Generator
from ember.kernels import Kernels
from ember.primitives import overridden

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "contrib" / "ember-backend-example"

#: (module, backend class, kernel table class or None, generator class or None); the
#: CuPy and OpenCL entries are checked where their libraries import.
CLASSES = [
    ("ember.backends.numpy.backend", "NumpyBackend", None, None),
    ("ember.backends.numpy.cpu_generator", None, None, "CpuGenerator"),
    ("ember.backends.numpy.kernels", None, "NumpyKernels", None),
    ("ember.backends.restricted.backend", "RestrictedBackend", None, None),
    ("ember.backends.meta.backend", "MetaBackend", None, "MetaGenerator"),
    ("ember.backends.opencl.backend", "OpenCLBackend", None, "PhiloxGenerator"),
    ("ember.backends.opencl.kernels", None, "OpenCLKernels", None),
    ("ember.backends.cupy.backend", "CupyBackend", None, None),
    ("ember.backends.cupy.kernels", None, "CupyKernels", None),
    ("ember_backend_example.backend", "ExampleBackend", None, "ExampleGenerator"),
]


def _import(module):
    if module.startswith("ember_backend_example") and str(EXAMPLE) not in sys.path:
        sys.path.append(str(EXAMPLE))  # the example plugin, installed or not
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # CuPy or PyOpenCL absent
        pytest.skip(f"{module} does not import here: {exc}")


def _public(cls):
    return {name for name in dir(cls) if not name.startswith("_")}


def _declared_methods(base):
    return {name for name in _public(base) if inspect.isfunction(inspect.getattr_static(base, name))}


def _call_signature(fn):
    """``fn``'s parameters (names, kinds, defaults), without annotations: an override keeps the
    declared call, while its annotations (the native array type it takes) are the type checker's
    to compare."""
    signature = inspect.signature(fn)
    return signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )


def _signature_changes(cls, base):
    changes = []
    for name in sorted(_declared_methods(base)):
        mine, declared = inspect.getattr_static(cls, name), inspect.getattr_static(base, name)
        if mine is declared:
            continue
        if not inspect.isfunction(mine):
            changes.append(f"{cls.__name__}.{name} is a {type(mine).__name__}, {base.__name__} declares a method")
        elif _call_signature(mine) != _call_signature(declared):
            changes.append(
                f"{cls.__name__}.{name}{_call_signature(mine)} != {base.__name__}.{name}{_call_signature(declared)}"
            )
    return changes


@pytest.mark.parametrize(
    "module, backend, kernels", [(m, b, k) for m, b, k, _ in CLASSES], ids=[m for m, *_ in CLASSES]
)
def test_no_public_additions_and_signatures_kept(module, backend, kernels):
    mod = _import(module)
    for name, base in ((backend, Backend), (kernels, Kernels)):
        if name is None:
            continue
        cls = getattr(mod, name)
        assert issubclass(cls, base)
        added = sorted(_public(cls) - _public(base))
        assert not added, f"{module}.{name} adds public attributes {base.__name__} does not declare: {added}"
        changes = _signature_changes(cls, base)
        assert not changes, f"{module}.{name} changes declared signatures: {changes}"


@pytest.mark.parametrize("module, generator", [(m, g) for m, _, _, g in CLASSES if g], ids=lambda v: str(v))
def test_generators_keep_the_declared_signatures(module, generator):
    cls = getattr(_import(module), generator)
    assert issubclass(cls, Generator)
    changes = _signature_changes(cls, Generator)
    assert not changes, f"{module}.{generator} changes declared signatures: {changes}"


def test_the_checker_sees_an_addition_and_a_changed_signature():
    class Extra(Backend):
        def prefetch(self, array):
            return array

        def to_host(self, array, stream):
            return array

    assert sorted(_public(Extra) - _public(Backend)) == ["prefetch"]
    assert [c.split("(")[0] for c in _signature_changes(Extra, Backend)] == ["Extra.to_host"]


# -- what the core calls ---------------------------------------------------------------------
_CALL = re.compile(r"(?<![\w.])(?:(?!ember\.)\w+\.)?_?backend(?:\(\))?\.([a-z]\w*)")  # not ember.backend.X
_PROBE = re.compile(r"hasattr\([^,()]*backend[^,]*,")


def _core_sources():
    return sorted((ROOT / "core").rglob("*.py"))


def test_the_core_calls_only_declared_backend_attributes():
    undeclared = {}
    for path in _core_sources():
        for name in _CALL.findall(path.read_text()):
            if not hasattr(Backend, name) and name not in ("xp", "kernels"):
                undeclared.setdefault(name, path.relative_to(ROOT).as_posix())
    assert not undeclared, f"the core calls backend attributes Backend does not declare: {undeclared}"


def test_the_core_probes_no_backend_with_hasattr():
    probes = [
        f"{path.relative_to(ROOT).as_posix()}:{n}"
        for path in _core_sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _PROBE.search(line)
    ]
    assert not probes, f"hasattr probes of a backend (declare the method on Backend instead): {probes}"


# -- the two tiers of primitives ---------------------------------------------------------------
def test_restricted_backend_implements_only_the_required_tier():
    from ember.backends.restricted.backend import RestrictedBackend

    xp = RestrictedBackend.xp
    assert overridden(xp) == [], "the restricted backend must take every derived primitive from its composition"
    assert all(callable(getattr(xp, name)) for name in REQUIRED + DERIVED)


def test_numpy_backend_overrides_every_derived_primitive():
    from ember.backends.numpy.backend import NumpyBackend

    assert overridden(NumpyBackend.xp) == list(DERIVED)
