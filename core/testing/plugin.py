"""The pytest plugin behind ``pytest --pyargs ember.testing --ember-device=TYPE[:INDEX]``.

ember registers it through the ``pytest11`` entry point, so it is active wherever ember is
installed. It adds two options and the fixtures the conformance tests use; outside the
conformance suite it does nothing.

Options:
    ``--ember-device``: the device under test (default: ``$EMBER_TEST_DEVICE`` or ``cpu``).
    ``--ember-report``: write a JSON report of every conformance test's outcome to this path.
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..backend import Backend

__all__ = ["ember_device", "ember_backend"]

_HERE = pathlib.Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ember", "ember backend conformance (ember.testing)")
    group.addoption(
        "--ember-device",
        default=None,
        help="device the ember.testing conformance suite runs on, e.g. restricted:0 (default: $EMBER_TEST_DEVICE or cpu)",
    )
    group.addoption(
        "--ember-report", default=None, metavar="PATH", help="write the conformance results as JSON to PATH"
    )


def _device_option(config: pytest.Config) -> str:
    return config.getoption("--ember-device") or os.environ.get("EMBER_TEST_DEVICE") or "cpu"


class _KitModule(pytest.Module):
    """Imports the kit's test modules as ``ember.testing.<name>``, whatever folder holds them."""

    def _getobj(self) -> Any:
        return importlib.import_module(f"ember.testing.{self.path.stem}")


def pytest_pycollect_makemodule(module_path: pathlib.Path, parent: Any) -> pytest.Module | None:
    # Without this, pytest would name a module of an editable install after its folder
    # (``core.testing.test_catalogue``) and import a second copy of ember.
    if pathlib.Path(module_path).resolve().parent == _HERE:
        return _KitModule.from_parent(parent, path=module_path)
    return None


@pytest.fixture(scope="session")
def ember_device(request: pytest.FixtureRequest) -> str:
    """The device under test (``--ember-device``); the session stops if its backend is unavailable."""
    import ember

    name = _device_option(request.config)
    try:
        ember.backends.get_backend(name)
    except Exception as exc:  # noqa: BLE001 - report whatever the backend raised
        pytest.exit(f"ember.testing: device {name!r} is unavailable: {exc}", returncode=4)
    return name


@pytest.fixture(scope="session")
def ember_backend(ember_device: str) -> Backend:
    """The :class:`ember.backend.Backend` serving the device under test."""
    import ember

    return ember.backends.get_backend(ember_device)


class _Report:
    """Collects the outcome of every test of the kit, for ``--ember-report``."""

    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path
        self.results: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.kit = {item.nodeid for item in items if pathlib.Path(item.path).resolve().parent == _HERE}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in getattr(self, "kit", ()):
            return
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            previous = self.results.get(name)
            if previous in (None, "passed"):
                self.results[name] = "skipped" if report.skipped else report.outcome

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        import ember

        device = _device_option(self.config)
        try:
            backend = ember.backends.get_backend(device)
            info = {"backend": backend.name, "overridden": type(backend.kernels).overridden()}
        except Exception as exc:  # noqa: BLE001
            info = {"backend": None, "overridden": [], "error": str(exc)}
        payload = {"device": device, "python": sys.version.split()[0], **info, "results": self.results}
        pathlib.Path(self.path).write_text(json.dumps(payload, indent=1, sort_keys=True))


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--ember-report", default=None)
    if path:
        config.pluginmanager.register(_Report(config, path), "ember-testing-report")
