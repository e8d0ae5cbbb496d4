"""``ember.testing``: :func:`assert_close` and :func:`make_tensor`, as PyTorch's, and the backend
conformance kit: what a backend author runs against their backend.

Run it with pytest on the device your backend serves::

    pytest --pyargs ember.testing --ember-device=mydev:0

It checks, in order of depth:

(a) every primitive of :data:`ember.backend.PRIMITIVES` and every method of
    :data:`ember.backend.BACKEND_METHODS` against NumPy, on tiny arrays of several dtypes,
    with broadcasting, 0-d and empty operands (``test_primitives.py``): the required ones,
    and the derived ones both as the backend serves them (its own, or the portable
    composition) and through the portable composition (``test_derived_composition``);
    ``test_primitive_overrides`` reports which derived ones the backend implements itself;
(b) the whole catalogue (:data:`ember.testing.catalogue.ENTRIES`: every module, functional
    form and loss, built from small generators) forward on the device against the same on
    the NumPy backend (``cpu``), plus float64 finite-difference gradient checks
    (:func:`ember.autograd.gradcheck`) where the device has float64 (``test_catalogue.py``);
(c) which kernels of :class:`ember.kernels.Kernels` the backend overrides
    (``test_kernel_overrides``, printed with ``-rP`` and written to the JSON report).

``--ember-report=PATH`` writes every test's outcome as JSON (the documentation's
conformance table is generated from such reports). The options come from the pytest plugin
:mod:`ember.testing.plugin`, which ember registers through the ``pytest11`` entry point.
"""

from __future__ import annotations

from .comparison import assert_allclose, assert_close
from .creation import make_tensor

__all__ = ["run", "assert_close", "assert_allclose", "make_tensor"]


def run(device: str, *pytest_args: str) -> int:
    """Run the conformance suite on ``device`` in this process; returns pytest's exit code.

    Args:
        device: the device under test, e.g. ``"restricted:0"``.
        *pytest_args: further pytest arguments (``"-q"``, ``"-k", "primitive"``, ...).
    """
    import pytest

    return int(
        pytest.main(["--pyargs", "ember.testing", f"--ember-device={device}", "-p", "no:cacheprovider", *pytest_args])
    )
