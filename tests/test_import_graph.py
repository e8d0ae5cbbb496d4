"""The package's import graph has no cycle.

Every ``import`` statement under ``core/`` (``ember``) and ``backends/`` (``ember.backends``)
counts, including the ones inside functions (an import deferred into a function body still ties
the two modules together; it only hides the circle from the interpreter). Imports under
``if TYPE_CHECKING:`` do not run and are left out, and so is the implicit import of a parent
package (importing ``ember.ops.operands`` runs ``ember/__init__.py``): a package's ``__init__``
gathering its submodules is its job, not a circle.

Run as a script to print the graph's cycles and the imports that close them:
``python tests/test_import_graph.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the folders that map into the one import package (setup.py's FOLDERS), checked here
FOLDERS = {"ember": ROOT / "core", "ember.backends": ROOT / "backends"}
# folders that map in but are not checked; their modules are still resolved as import targets
OTHER_FOLDERS = {"ember.plugins": ROOT / "plugins", "ember.contrib": ROOT / "contrib"}


def _modules(folders):
    found = {}
    for package, folder in folders.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder)
            if any(
                part.startswith((".", "__")) and part != "__init__.py" and not part.endswith(".py")
                for part in relative.parts
            ):
                continue
            if any("-" in part for part in relative.parts[:-1]):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _targets(module, is_package, node, known):
    """The project modules one import statement loads, most specific first."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{alias.name}" for alias in node.names]
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            yield name


def _is_type_checking(node):
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree):
    """Every import statement of a module, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.AST))


def import_graph():
    """``{module: {module it imports: [line numbers]}}`` over the checked folders."""
    checked = _modules(FOLDERS)
    known = {**_modules(OTHER_FOLDERS), **checked}
    graph = {}
    for module, path in checked.items():
        edges = graph.setdefault(module, {})
        for node in _imports(ast.parse(path.read_text(), str(path))):
            for target in _targets(module, path.name == "__init__.py", node, known):
                if target in checked:
                    edges.setdefault(target, []).append(node.lineno)
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def describe(graph, component):
    members = set(component)
    lines = [f"cycle of {len(component)} modules:"]
    for module in component:
        for target, numbers in sorted(graph[module].items()):
            if target in members:
                lines.append(f"  {module} -> {target} (lines {', '.join(map(str, numbers))})")
    return "\n".join(lines)


def test_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 100, "the import graph should cover the whole package"
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, component) for component in found)


if __name__ == "__main__":
    graph = import_graph()
    found = cycles(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} edges, {len(found)} cycles")
    for component in found:
        print(describe(graph, component))
    sys.exit(1 if found else 0)
