"""The Tensor's surface is ember/tensor.py plus one table, ember.tensor_methods, and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import ember
from ember import tensor_methods
from ember.ops.operands import unguarded

PACKAGE = Path(ember.__file__).parent


def _installed(name):
    """``Tensor``'s method ``name`` (behind the argument check that ember.overrides has put on each method
    once a subclass takes part in ``__torch_function__``, if one has been defined in this process, and the
    refusal of ``out=`` that :func:`ember.tensor_methods.install` puts on each op that takes it)."""
    value = ember.Tensor.__dict__[name]
    value = value._ember_wrapped if getattr(value, "_ember_checked", False) else value
    return getattr(value, "_ember_op", value)


def test_every_table_entry_is_installed():
    Tensor = ember.Tensor
    for table in tensor_methods.TABLES:
        for name, implementation in table.items():
            assert _installed(name) is unguarded(implementation), name  # a method's self is a tensor: no check
    for name in tensor_methods.INPLACE_TWINS + tensor_methods.SHAPE_INPLACE_TWINS:
        assert callable(Tensor.__dict__[name + "_"]), name
    for alias, name in tensor_methods.INPLACE_ALIASES.items():
        own = _installed(alias)
        own = own.__wrapped__ if alias.startswith("__") else own  # an in-place operator computes its method
        code = _installed(name).__code__  # an alias runs the same code, its frames named after it
        assert (
            own is _installed(name) or own.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname) == code
        )


def test_aliases_are_functions_of_their_own_as_pytorchs():
    # PyTorch's other names are functions of their own, named after themselves (torch.arctan is not
    # torch.atan); an in-place operator is one of its own too (Tensor.__iadd__ is not Tensor.add_), which
    # Tensor.__idiv__ and Tensor.__itruediv__ share
    Tensor = ember.Tensor
    code = _installed("abs").__code__  # the same code, its frames named after the alias
    assert Tensor.absolute is not Tensor.abs
    assert _installed("absolute").__code__ == code.replace(co_name="absolute", co_qualname="absolute")
    assert Tensor.greater.__name__ == "greater" and Tensor.subtract_.__name__ == "subtract_"
    assert Tensor.__str__ is Tensor.__repr__ and Tensor.__iadd__ is not Tensor.add_
    assert Tensor.__idiv__ is Tensor.__itruediv__


def _attaches_to_tensor(node):
    """``setattr(Tensor, ...)`` or an assignment to ``Tensor.<name>``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
        return bool(node.args) and isinstance(node.args[0], ast.Name) and node.args[0].id == "Tensor"
    if isinstance(node, ast.Assign):
        targets = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
        return any(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "Tensor" for t in targets
        )
    return False


def test_no_other_module_attaches_tensor_methods():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "tensor_methods.py" and path.parent == PACKAGE:
            continue
        tree = ast.parse(path.read_text(), str(path))
        offenders += [f"{path.relative_to(PACKAGE)}:{n.lineno}" for n in ast.walk(tree) if _attaches_to_tensor(n)]
    assert offenders == [], f"Tensor methods attached outside ember/tensor_methods.py: {offenders}"


def _run_time_nodes(tree):
    """The nodes of ``tree`` outside ``if TYPE_CHECKING:`` blocks (imports for type checkers only)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    return ast.walk(tree)


def test_tensor_module_imports_no_layer_above_it():
    tree = ast.parse((PACKAGE / "tensor.py").read_text())
    imported = set()
    for node in _run_time_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            imported.add((node.module or "").split(".")[0] or node.names[0].name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ember"):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names if alias.name.startswith("ember"))
    # (dim_errors imports nothing of ember's: the dim TypeError the tensor raises too; nor does
    # _serialization_state: skip_data's thread state, which the tensor's pickling reads; nor does type_names:
    # the type names its TypeErrors print)
    assert imported <= {"dtypes", "device", "layout", "dim_errors", "_serialization_state", "type_names"}, imported
