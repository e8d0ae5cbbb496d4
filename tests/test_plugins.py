"""The plugin host: a third-party backend package installed into a temporary target and used in a subprocess.

``tests/plugin_package`` is a tiny distribution (``ember-toy``) that registers, through the
entry-point group ``ember``, two backends for a new device type ``toy`` (priorities 10 and 1),
one backend whose loader raises, and a plugin module whose import fails.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ember

PACKAGE = Path(__file__).parent / "plugin_package"


@pytest.fixture(scope="module")
def toy_target(tmp_path_factory):
    """A directory holding the installed ember-toy package (built from a copy, so the tree stays clean)."""
    root = tmp_path_factory.mktemp("toy")
    source = root / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    # setuptools >= 70.1 (in the test extra) builds the wheel without network or the `wheel` package
    assert result.returncode == 0, f"could not install the toy plugin package: {result.stderr[-500:]}"
    return target


def run(target, code, prelude="", **env):
    """Run ``prelude`` and ``code`` in a fresh interpreter that sees the toy plugin; returns its parsed JSON output."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_BACKEND_")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), environ.get("PYTHONPATH")]))
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(prelude) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return (
        json.loads(result.stdout.strip().splitlines()[-1])
        if result.stdout.strip().startswith(("{", "["))
        else result.stdout
    )


#: The prelude of scripts that try a device: ``device_error(device)`` is the message of the
#: RuntimeError that making a tensor there raises, or None.
DEVICE_ERROR = """
import json, ember


def device_error(device):
    try:
        ember.ones(1, device=device)
    except RuntimeError as exc:
        return str(exc)
    return None
"""


def test_tensors_and_autograd_on_plugin_device(toy_target):
    out = run(
        toy_target,
        """
        import json, ember
        x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ember.float64, device="toy", requires_grad=True)
        w = ember.randn(2, 3, device="toy:1", requires_grad=True)
        y = (x @ ember.ones(2, 2, dtype=ember.float64, device="toy")).tanh().sum()
        y.backward()
        mixed = None
        try:
            x + ember.ones(2, 2)
        except RuntimeError as exc:
            mixed = str(exc)
        print(json.dumps({
            "device": str(x.device), "w_device": str(w.device), "backend": x._backend.name,
            "grad": x.grad.tolist(), "grad_device": str(x.grad.device),
            "moved": x.detach().cpu().tolist(), "mixed": mixed, "repr": repr(ember.ones(1, device="toy")),
        }))
        """,
    )
    assert out["device"] == "toy" and out["w_device"] == "toy:1" and out["backend"] == "toy"
    assert out["grad_device"] == "toy" and out["moved"] == [[1.0, 2.0], [3.0, 4.0]]
    import numpy as np

    expected = 1 - np.tanh(np.array([[3.0, 3.0], [7.0, 7.0]])) ** 2
    np.testing.assert_allclose(out["grad"], expected.sum(1, keepdims=True).repeat(2, 1), rtol=1e-6)
    assert "toy and cpu" in out["mixed"] and "cpu" in out["mixed"]
    assert out["repr"] == "tensor([1.], device='toy')"


def test_info_lists_plugin_backends_and_failures(toy_target):
    out = run(toy_target, "from ember.__main__ import main; main(['info'])")
    assert "toy (toy): 2 device(s)" in out
    assert "toy:1: Toy accelerator #1 (toy)" in out
    assert "toy_alt (toy): 2 device(s)" in out
    assert "toy_missing (toyfail): unavailable - RuntimeError: no toy accelerator driver found" in out
    assert "plugin toy_broken: failed to load - ModuleNotFoundError" in out
    assert "numpy (cpu)" in out
    cli = subprocess.run(
        [sys.executable, "-m", "ember", "info"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(toy_target)},
    )
    assert cli.returncode == 0 and "toy (toy)" in cli.stdout


def test_broken_plugin_never_breaks_import(toy_target):
    out = run(
        toy_target,
        """
        import json, ember, ember.plugin
        print(json.dumps({"failed": ember.plugin.failed_plugins(), "ok": ember.ones(2).sum().item()}))
        """,
    )
    assert "toy_broken" in out["failed"] and "ember_toy_nonexistent_dependency" in out["failed"]["toy_broken"]
    assert out["ok"] == 2.0


def test_unavailable_backend_reason(toy_target):
    out = run(
        toy_target,
        """
        message = device_error("toyfail")
        specs = {spec.name: spec.error for spec, _ in ember.backends.list_backends()}
        print(json.dumps({"message": message, "error": specs["toy_missing"]}))
        """,
        prelude=DEVICE_ERROR,
    )
    assert "toyfail" in out["message"] and "no toy accelerator driver found" in out["message"]
    assert out["error"] == "RuntimeError: no toy accelerator driver found (libtoy.so)"


PICK = """
import json, ember
x = ember.ones(2, device="toy")
first = ember.backends.get_backend("toy").name
flavour = x._backend.flavour
ember.backends.use("toy", "toy_alt" if first == "toy" else "toy")
y = ember.ones(2, device="toy")
z = (y * 2).sum()
print(json.dumps({"first": first, "flavour": flavour, "after": y._backend.name, "z": z.item()}))
"""


def test_priority_and_use(toy_target):
    out = run(toy_target, PICK)
    assert out == {"first": "toy", "flavour": "toy", "after": "toy_alt", "z": 4.0}


def test_environment_override(toy_target):
    out = run(toy_target, PICK, EMBER_BACKEND_TOY="toy_alt")
    assert out["first"] == "toy_alt" and out["flavour"] == "alt" and out["after"] == "toy"


def test_environment_override_to_unknown_backend(toy_target):
    out = run(toy_target, 'print(json.dumps({"error": device_error("toy")}))', DEVICE_ERROR, EMBER_BACKEND_TOY="nosuch")
    assert out["error"] and "toy" in out["error"]


def test_disable_autoload(toy_target):
    out = run(
        toy_target,
        """
        import ember.plugin
        error = device_error("toy")
        import ember_toy.plugin
        ember.plugin.get_plugin_manager().register(ember_toy.plugin, name="toy")
        ok = ember.ones(2, device="toy").sum().item()
        print(json.dumps({"error": error, "failed": ember.plugin.failed_plugins(), "ok": ok}))
        """,
        prelude=DEVICE_ERROR,
        EMBER_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert "device type at start of device string: toy" in out["error"]
    assert out["failed"] == {} and out["ok"] == 2.0


def test_use_rejects_unknown_backend():
    with pytest.raises(ValueError, match="no backend named"):
        ember.backends.use("cpu", "nosuch")


def test_registry_rejects_duplicate_names():
    from ember.plugin import BackendRegistry

    registry = BackendRegistry()
    registry.register_backend("a", "dev", lambda: None)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_backend("a", "dev", lambda: None)


def test_subsystems_declare_the_registries_the_host_fills():
    from ember import plugin
    from ember.distributed import CommunicatorRegistry
    from ember.serialization import CheckpointFormatRegistry

    assert isinstance(plugin.checkpoint_format_registry(), CheckpointFormatRegistry)
    assert isinstance(plugin.communicator_registry(), CommunicatorRegistry)
    assert plugin.filled_registry("ember_register_communicators") is plugin.communicator_registry()
    # declaring the same registry again is harmless; a different one for a hook is refused
    plugin.declare_registry("ember_register_communicators", CommunicatorRegistry)
    with pytest.raises(
        ValueError, match="different registry is already declared for hook 'ember_register_communicators'"
    ):
        plugin.declare_registry("ember_register_communicators", CheckpointFormatRegistry)
    with pytest.raises(LookupError, match="no registry is declared for hook 'ember_register_nothing'"):
        plugin.filled_registry("ember_register_nothing")
