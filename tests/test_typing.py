"""The public API's annotations, checked by mypy (issue 20, item 6).

``tests/typecheck/user_program.py`` (a typed training script) must check clean, and every line
of ``tests/typecheck/user_mistakes.py`` marked ``# E: <code>`` (a str where a Tensor, an int or a
float is expected, ...) must be reported with that error code, and nothing else there. mypy reads
``ember`` from a tree that maps the repository's folders as the installed package does, so this
holds for the source under test whether ember is installed editable or as a wheel.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPECHECK = ROOT / "tests" / "typecheck"
PROGRAM, MISTAKES = TYPECHECK / "user_program.py", TYPECHECK / "user_mistakes.py"
_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def _folders():
    """setup.py's FOLDERS: import package -> repository folder."""
    for node in ast.parse((ROOT / "setup.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FOLDERS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py defines no FOLDERS")


def _mapped_tree(where):
    """A folder holding ``ember/`` as installed: core's entries, and backends/plugins/contrib under it."""
    folders = _folders()
    package = where / "ember"
    package.mkdir(parents=True)
    for entry in (ROOT / folders.pop("ember")).iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in folders.items():
        (where / name.replace(".", "/")).symlink_to(ROOT / folder)
    return where


def _expected(path):
    return {
        i: m.group(1)
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if (m := re.search(r"# E: ([a-z-]+)$", line))
    }


def test_user_program_checks_clean_and_mistakes_are_caught(tmp_path, monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (it comes with the lint extra)")
    monkeypatch.setenv("MYPYPATH", str(_mapped_tree(tmp_path / "site")))
    stdout, stderr, status = api.run(
        [
            str(PROGRAM),
            str(MISTAKES),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert status in (0, 1), stderr or stdout
    found = {}
    for line in stdout.splitlines():
        m = _ERROR.match(line)
        if m:
            found.setdefault(Path(m["path"]).resolve(), {})[int(m["line"])] = m["code"]
    assert found.get(PROGRAM, {}) == {}, stdout
    assert found.get(MISTAKES, {}) == _expected(MISTAKES), stdout
    assert set(found) <= {PROGRAM, MISTAKES}, stdout


def test_tensor_surface_is_what_tensor_carries():
    """What ember._tensor_surface declares for checkers is what Tensor carries at run time: each
    ``name = module.function`` is that very function, each ``def`` takes the same operands."""
    ember = pytest.importorskip("ember")
    tree = ast.parse((ROOT / "core" / "_tensor_surface.py").read_text())
    assigned = [
        (node.targets[0].id, node.value.value.id, node.value.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute)
    ]
    surface = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "TensorSurface")
    spelt = [node for node in surface.body if isinstance(node, ast.FunctionDef)]
    assert len(assigned) > 100 and len(spelt) > 10
    for name, module, function in assigned:
        carried = getattr(ember.Tensor, name)
        # (behind the argument check ember.overrides puts on each method once a subclass with a handler exists,
        # and the refusal of out= that ember.tensor_methods puts on each op that takes it), the function's body
        # (a method's self is a tensor: ember.ops.operands.tensor_input's check is the function's alone)
        carried = getattr(carried, "_ember_wrapped", carried)
        carried = getattr(carried, "_ember_op", carried)
        op = getattr(importlib.import_module(f"ember.ops.{module}"), function)
        assert carried is getattr(op, "_ember_unguarded", op), name
    for node in spelt:
        parameters = inspect.signature(getattr(ember.Tensor, node.name)).parameters.values()
        runtime = [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY]  # the operands (out= aside)
        declared = [a.arg for a in node.args.args[1:]] + ([node.args.vararg.arg] if node.args.vararg else [])
        assert runtime[1:] == declared, node.name


def test_tensor_surface_declares_the_generated_methods():
    """The methods ember.tensor_methods makes at import time are declared in ember._tensor_surface:
    one ``name_ = _inplace(name)`` per in-place twin, one ``alias = name`` per other name of a twin
    (the operators aside), and each ``name: _NewFactory`` takes the operands of ``_NewFactory``."""
    ember = pytest.importorskip("ember")
    from ember import tensor_methods

    tree = ast.parse((ROOT / "core" / "_tensor_surface.py").read_text())
    assigns = [node for node in ast.walk(tree) if isinstance(node, ast.Assign)]
    twins = {
        node.targets[0].id: node.value.args[0].id
        for node in assigns
        if isinstance(node.value, ast.Call) and node.value.func.id == "_inplace"
    }
    made = tensor_methods.INPLACE_TWINS + tensor_methods.SHAPE_INPLACE_TWINS
    assert twins == {name + "_": name for name in made}
    aliases = {node.targets[0].id: node.value.id for node in assigns if isinstance(node.value, ast.Name)}
    assert aliases == {a: n for a, n in tensor_methods.INPLACE_ALIASES.items() if not a.startswith("__")}
    for alias, name in aliases.items():
        own, of = ember.Tensor.__dict__[alias], ember.Tensor.__dict__[name]
        # a function of its own, as PyTorch's: the same code, its frames named after the alias (a test's
        # __torch_function__ subclass may have wrapped both in the overrides' wrapper, whose code is named "method")
        code = own.__code__
        assert code == of.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname), alias
        assert own.__name__ == alias, alias
    protocol = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "_NewFactory")
    call = next(n for n in protocol.body if isinstance(n, ast.FunctionDef))
    operands = [call.args.vararg.arg] + [a.arg for a in call.args.kwonlyargs]
    factories = [
        node.target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and getattr(node.annotation, "id", None) == "_NewFactory"
    ]
    assert sorted(factories) == ["new_empty", "new_ones", "new_zeros"]
    for name in factories:
        assert list(inspect.signature(getattr(ember.Tensor, name)).parameters)[1:] == operands, name


def test_user_program_runs():
    """The typed program is a real one: it trains (a little) and round-trips a checkpoint.

    On the default device only (the CPU): what is tested here is the program's typing, which
    holds whatever the device; the ops it calls are tested on every device elsewhere.
    """
    accuracy = runpy.run_path(str(PROGRAM))["main"](epochs=1)
    assert 0.0 <= accuracy <= 1.0
