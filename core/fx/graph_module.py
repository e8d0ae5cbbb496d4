"""``ember.fx.graph_module``: :class:`GraphModule`, an ``nn.Module`` whose ``forward`` is generated from a graph."""

from __future__ import annotations

import copy
import itertools
import linecache
from typing import Any

import ember
from ember import nn

from .graph import _CUSTOM_BUILTINS, Graph

__all__ = ["GraphModule"]

_next_key = itertools.count()
# the function that rebuilds a pickled GraphModule by tracing its code: ember.fx._symbolic_trace
# installs it (it needs the tracer, which needs this module)
_REBUILD: dict[str, Any] = {}


def _forward_from_src(src: str, globals_: dict[str, Any]) -> Any:
    """Compiles the generated ``forward`` source with its globals; the source is kept in ``linecache`` so
    tracebacks through the generated code show its lines."""
    globals_copy = dict(globals_)
    key = f"<eval_with_key>.{next(_next_key)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_copy)  # noqa: S102 - the generated forward, from the graph
    return globals_copy["forward"]


def _copy_attr(from_module: nn.Module, to_module: nn.Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:  # a parent was copied already: it brings the child
            return
        if t is None:
            t = nn.Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, ember.Tensor) and not isinstance(orig, nn.Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj: Any, to_module: nn.Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = nn.Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, ember.Tensor) and not isinstance(from_obj, nn.Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


class _CodeOnlyModule(nn.Module):
    """A module made of an existing ``__dict__`` (for deepcopy and unpickling)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.__dict__ = body


class GraphModule(nn.Module):
    """An ``nn.Module`` made from a :class:`~ember.fx.Graph`: its ``forward`` is the Python code generated
    from the graph, and it holds the submodules, parameters and buffers the graph refers to.

    Assigning ``.graph`` regenerates the code; after editing the graph in place, call :meth:`recompile`.

    Args:
        root (Module or dict): where the graph's ``get_attr``/``call_module`` targets are taken from (a
            module, or a dict from qualified name to object).
        graph (Graph): the graph.
        class_name (str): the name of the generated class (``print_readable`` shows it).
            Default: ``'GraphModule'``.

    Example::

        >>> import ember, ember.fx
        >>> lin = ember.nn.Linear(3, 2)
        >>> g = ember.fx.Graph()
        >>> x = g.placeholder("x")
        >>> _ = g.output(g.call_method("tanh", (g.call_module("lin", (x,)),)))
        >>> gm = ember.fx.GraphModule({"lin": lin}, g)
        >>> print(gm.code.strip())
        def forward(self, x):
            lin = self.lin(x);  x = None
            tanh = lin.tanh();  lin = None
            return tanh
        >>> sorted(gm.state_dict())
        ['lin.bias', 'lin.weight']
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> GraphModule:
        # each instance gets its own class, on which recompile() sets ``forward``
        for t in cls.__mro__:
            if t.__qualname__.split(".")[-1] != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):  # type: ignore[valid-type, misc]
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root: nn.Module | dict[str, Any], graph: Graph, class_name: str = "GraphModule") -> None:
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, nn.Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets_to_copy = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(
                            f"Node {node} referenced target {node.target} but that target was not provided in ``root``!"
                        )
                    targets_to_copy.append(node.target)
            # parents before children, so that a child is assigned into the parent module itself
            for target in sorted(targets_to_copy, key=lambda t: t.count(".")):
                _assign_attr(root[target], self, target)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.meta: dict[str, Any] = dict(getattr(root, "meta", {}) or {}) if isinstance(root, nn.Module) else {}
        self._tracer_cls = graph._tracer_cls
        self.graph = graph

    @property
    def graph(self) -> Graph:
        """The graph the ``forward`` is generated from; assigning it regenerates the code."""
        return self.__dict__["_graph"]

    @graph.setter
    def graph(self, g: Graph) -> None:
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The Python source of the generated ``forward``."""
        if "_code" not in self.__dict__:
            raise RuntimeError("Code has not been generated! Please report a bug to ember")
        return self.__dict__["_code"]

    def recompile(self) -> Any:
        """Regenerates ``forward`` from :attr:`graph` (call it after editing the graph in place).

        Returns:
            the generated code object's :class:`~ember.fx.graph.PythonCode`.
        """
        python_code = self.graph.python_code(root_module="self")
        self.__dict__["_code"] = python_code.src
        type(self).forward = _forward_from_src(python_code.src, python_code.globals)
        return python_code

    def print_readable(self, print_output: bool = True) -> str:
        """The generated code as a class definition (the generated submodules' after it), as torch.fx prints it.

        Args:
            print_output (bool): print it. Default: ``True``.

        Returns:
            str: the text.
        """
        return _print_readable(self, type(self).__name__, print_output)

    def __str__(self) -> str:
        return f"{super().__str__()}\n\n\n\n{self.code}"

    def __copy__(self) -> GraphModule:
        res = GraphModule(self, self.graph, type(self).__name__)
        res.meta = getattr(self, "meta", {})
        return res

    def __deepcopy__(self, memo: dict[int, Any]) -> GraphModule:
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        body = {k: v for k, v in self.__dict__.items() if k != "_code"}
        fake_mod = _CodeOnlyModule(copy.deepcopy(body, memo))
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"], type(self).__name__)
        for k, v in fake_mod.__dict__.items():
            if k not in res.__dict__:
                res.__dict__[k] = v
        res.meta = copy.deepcopy(getattr(self, "meta", {}), memo)
        return res

    def __reduce__(self) -> tuple[Any, ...]:
        python_code = self.graph.python_code(root_module="self")
        globals_ = {k: v for k, v in python_code.globals.items() if k not in _CUSTOM_BUILTINS}
        body = {k: v for k, v in self.__dict__.items() if k not in ("_graph", "_code")}
        return (_REBUILD["graph_module"], (body, python_code.src, globals_, type(self).__name__))

    def add_submodule(self, target: str, m: nn.Module) -> bool:
        """Installs ``m`` at dotted path ``target``, making empty parent modules as needed.

        Returns:
            bool: ``False`` when a part of the path exists and is not a module.
        """
        *prefix, field = target.split(".")
        mod: nn.Module = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = nn.Module()
                setattr(mod, item, submod)
            if not isinstance(submod, nn.Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Removes the submodule at dotted path ``target``.

        Returns:
            bool: whether it existed.
        """
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod: nn.Module = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, nn.Module):
                return False
        if not hasattr(mod, target_submod) or not isinstance(getattr(mod, target_submod), nn.Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Removes the submodules that no ``call_module`` or ``get_attr`` node refers to."""
        used: list[str] = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                fullpath = node.target.split(".")
                used.extend(".".join(fullpath[:i]) for i in range(1, len(fullpath) + 1))
                if node.op == "call_module":
                    try:
                        submod = self.get_submodule(node.target)
                    except AttributeError:
                        continue
                    used.extend(f"{node.target}.{name}" for name, _ in submod.named_modules() if name)
        to_delete = [name for name, _ in self.named_modules() if name and name not in used]
        for name in to_delete:
            self.delete_submodule(name)


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first, rest = lines[0], lines[1:]
    return first + "\n" + "\n".join(" " * spaces + line if line.strip() else "" for line in rest)


def _print_readable(module: GraphModule, module_name: str, print_output: bool) -> str:
    module_code = module.graph.python_code(root_module="self", verbose=True).src.lstrip("\n")
    module_code = _addindent(f"class {module_name}(ember.nn.Module):\n" + module_code, 4)
    submodule_code = [""]
    for name, submodule in module.named_children():
        if isinstance(submodule, GraphModule):
            submodule_code.append(_print_readable(submodule, name, False))
    output = module_code + _addindent("\n".join(submodule_code), 4)
    if print_output:
        print(output)
    return output
