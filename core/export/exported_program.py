"""``ExportedProgram``: a captured graph with its state, and the module that runs it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..autograd.grad_mode import no_grad
from ..fx.graph import Graph
from ..fx.graph_module import GraphModule
from ..fx.interpreter import Interpreter
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from . import _pytree
from ._aten import running_on
from .dynamic_shapes import check_inputs
from .graph_signature import ExportGraphSignature, InputKind, OutputKind

__all__ = ["ExportedProgram"]


class ExportedProgram:
    """A program captured by :func:`ember.export.export` or read by :func:`ember.export.load`.

    As ``torch.export.ExportedProgram``: :attr:`graph_module` is the graph with the parameters,
    buffers and constants *lifted* to inputs (their roles in :attr:`graph_signature`), the values
    in :attr:`state_dict` and :attr:`constants`; :meth:`module` gives an :class:`ember.nn.Module`
    that holds the state and runs the graph on the user's inputs.

    Example::

        >>> import ember.export
        >>> ep = ember.export.export(ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU()), (ember.randn(4, 3),))
        >>> sorted(ep.state_dict)
        ['0.bias', '0.weight']
        >>> m = ep.module()
        >>> m(ember.ones(4, 3)).shape
        ember.Size([4, 2])
    """

    def __init__(
        self,
        graph_module: GraphModule,
        graph_signature: ExportGraphSignature,
        state_dict: dict[str, Tensor],
        constants: dict[str, Any] | None = None,
        *,
        in_spec: Any = None,
        out_spec: Any = None,
        forward_arg_names: list[str] | None = None,
        range_constraints: dict[str, Any] | None = None,
        input_guards: list[Any] | None = None,
        example_inputs: tuple[tuple[Any, ...], dict[str, Any]] | None = None,
    ) -> None:
        self._graph_module = graph_module
        self._graph_signature = graph_signature
        self._state_dict = state_dict
        self._constants = dict(constants or {})
        self._in_spec = in_spec
        self._out_spec = out_spec
        self._forward_arg_names = list(forward_arg_names or [])
        self._range_constraints = dict(range_constraints or {})
        self._input_guards = list(input_guards or [])
        self._example_inputs = example_inputs

    @property
    def graph_module(self) -> GraphModule:
        """The graph as a :class:`~ember.fx.GraphModule` whose inputs are the lifted state and the user's inputs."""
        return self._graph_module

    @property
    def graph(self) -> Graph:
        """:attr:`graph_module`'s graph."""
        return self._graph_module.graph

    @property
    def graph_signature(self) -> ExportGraphSignature:
        """What each input and output of :attr:`graph` is."""
        return self._graph_signature

    @property
    def state_dict(self) -> dict[str, Tensor]:
        """The parameters and (persistent and non-persistent) buffers, by qualified name."""
        return self._state_dict

    @property
    def constants(self) -> dict[str, Any]:
        """The tensor constants the graph takes, by name."""
        return self._constants

    @property
    def example_inputs(self) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """``(args, kwargs)`` the program was exported with, where the archive or :func:`export` kept them."""
        return self._example_inputs

    @property
    def range_constraints(self) -> dict[str, Any]:
        """The value ranges of the symbolic sizes, ``{symbol: (min, max)}``."""
        return self._range_constraints

    def parameters(self) -> Iterator[Tensor]:
        """The parameters the graph takes, in order."""
        for _, p in self.named_parameters():
            yield p

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """``(name, parameter)`` for each parameter the graph takes."""
        for name in self._graph_signature.parameters:
            yield name, self._state_dict[name]

    def buffers(self) -> Iterator[Any]:
        """The buffers the graph takes, in order."""
        for _, b in self.named_buffers():
            yield b

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        """``(name, buffer)`` for each buffer the graph takes."""
        for name in self._graph_signature.buffers:
            value = self._state_dict.get(name, self._constants.get(name))
            yield name, value

    def module(self) -> Module:
        """An :class:`ember.nn.Module` holding the state that runs the graph on the user's inputs.

        Parameters and buffers are registered under their qualified names (shared with
        :attr:`state_dict`); buffers the graph updates (batch norm's running statistics in training
        mode) are written back after each call, as PyTorch's unlifted module does.
        """
        return _ExportedModule(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Unable to call ExportedProgram directly. You should use `exported_program.module()` instead."
        )

    def __str__(self) -> str:
        code = self._graph_module.print_readable(print_output=False).replace("\n", "\n    ")
        return f"ExportedProgram:\n    {code}\nGraph signature: {self._graph_signature}\nRange constraints: {self._range_constraints}\n"

    __repr__ = __str__


def _set_nested(root: Module, qualified: str, value: Any, kind: str, persistent: bool = True) -> None:
    *path, name = qualified.split(".")
    module = root
    for part in path:
        child = module._modules.get(part)
        if child is None:
            child = Module()
            module.add_module(part, child)
        module = child
    if kind == "parameter":
        module.register_parameter(
            name, value if isinstance(value, Parameter) else Parameter(value, value.requires_grad)
        )
    elif kind == "buffer":
        module.register_buffer(name, value, persistent=persistent)
    else:
        object.__setattr__(module, name, value)


def _get_nested(root: Module, qualified: str) -> Any:
    value: Any = root
    for part in qualified.split("."):
        value = getattr(value, part)
    return value


class _ExportedModule(Module):
    """The module :meth:`ExportedProgram.module` returns: the state as attributes, the graph run on the inputs."""

    def __init__(self, ep: ExportedProgram) -> None:
        super().__init__()
        signature = ep.graph_signature
        object.__setattr__(self, "_ep_graph_module", ep.graph_module)  # not a submodule: it holds no state
        self._ep_signature = signature
        self._ep_in_spec = ep._in_spec
        self._ep_out_spec = ep._out_spec
        self._ep_arg_names = ep._forward_arg_names
        self._ep_guards = ep._input_guards
        for spec in signature.input_specs:
            if spec.target is None:
                continue
            if spec.kind is InputKind.PARAMETER:
                _set_nested(self, spec.target, ep.state_dict[spec.target], "parameter")
            elif spec.kind is InputKind.BUFFER:
                value = ep.state_dict[spec.target] if spec.target in ep.state_dict else ep.constants[spec.target]
                _set_nested(self, spec.target, value, "buffer", spec.persistent is not False)
            elif spec.kind is InputKind.CONSTANT_TENSOR:
                _set_nested(self, spec.target, ep.constants[spec.target], "constant")

    @property
    def graph(self) -> Graph:
        return self._ep_graph_module.graph

    def train(self, mode: bool = True) -> _ExportedModule:
        # the graph was captured in one mode (dropout, batch norm's statistics): PyTorch refuses to switch it
        raise NotImplementedError("Calling train() is not supported yet.")

    def eval(self) -> _ExportedModule:
        raise NotImplementedError("Calling eval() is not supported yet.")

    def _flat_user_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        names = self._ep_arg_names
        spec = self._ep_in_spec
        n_args = len(spec["children_spec"][0]["children_spec"]) if spec and spec.get("children_spec") else len(names)
        if kwargs and names:
            bound = list(args)
            for name in names[len(args) : n_args]:
                if name in kwargs:
                    bound.append(kwargs.pop(name))
            args = tuple(bound)
        return _pytree.flatten((args, kwargs), self._ep_in_spec)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        flat_user = self._flat_user_inputs(args, dict(kwargs))
        if self._ep_guards:
            check_inputs(self._ep_guards, flat_user)
        user_iter = iter(flat_user)
        inputs: list[Any] = []
        device = None
        for spec in self._ep_signature.input_specs:
            if spec.kind is InputKind.USER_INPUT:
                try:
                    value = next(user_iter)
                except StopIteration:
                    raise ValueError(
                        f"the exported module takes {len(self._ep_signature.user_inputs)} inputs, got {len(flat_user)}"
                    ) from None
                if spec.value is not None and not isinstance(value, Tensor) and value != spec.value:
                    raise AssertionError(f"Guard failed: {spec.arg} == {spec.value!r}")
            elif spec.kind is InputKind.TOKEN:
                value = None
            else:
                value = _get_nested(self, spec.target)  # type: ignore[arg-type]
            if device is None and isinstance(value, Tensor):
                device = value.device
            inputs.append(value)
        leftover = sum(1 for _ in user_iter)
        if leftover:
            raise ValueError(
                f"the exported module takes {len(self._ep_signature.user_inputs)} inputs, got {len(flat_user)}"
            )
        with running_on(device):
            outputs = Interpreter(self._ep_graph_module).run(*inputs)
        if not isinstance(outputs, (tuple, list)):
            outputs = (outputs,)
        user_outputs: list[Any] = []
        for out_spec, value in zip(self._ep_signature.output_specs, outputs):
            if out_spec.kind in (OutputKind.BUFFER_MUTATION, OutputKind.PARAMETER_MUTATION):
                with no_grad():
                    _get_nested(self, str(out_spec.target)).copy_(value)
            elif out_spec.kind is OutputKind.USER_INPUT_MUTATION:
                index = self._ep_signature.user_inputs.index(str(out_spec.target))
                with no_grad():
                    flat_user[index].copy_(value)
            elif out_spec.kind in (OutputKind.USER_OUTPUT, OutputKind.LOSS_OUTPUT):
                user_outputs.append(value)
            elif out_spec.kind is not OutputKind.TOKEN:
                raise NotImplementedError(f"ember.export: graph outputs of kind {out_spec.kind.name} are not supported")
        return _pytree.unflatten(user_outputs, self._ep_out_spec)
