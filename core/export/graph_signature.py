"""The graph signature of an exported program: what each input and output of the graph is.

As ``torch.export``'s: the graph takes the parameters, buffers and tensor constants as inputs
("lifted") before the user's inputs, and returns the new values of mutated buffers before the
user's outputs.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

__all__ = ["InputKind", "OutputKind", "InputSpec", "OutputSpec", "ExportGraphSignature"]


class InputKind(enum.Enum):
    """What an input of the graph holds (``torch.export.graph_signature.InputKind``)."""

    USER_INPUT = enum.auto()
    PARAMETER = enum.auto()
    BUFFER = enum.auto()
    CONSTANT_TENSOR = enum.auto()
    CUSTOM_OBJ = enum.auto()
    TOKEN = enum.auto()


class OutputKind(enum.Enum):
    """What an output of the graph holds (``torch.export.graph_signature.OutputKind``)."""

    USER_OUTPUT = enum.auto()
    LOSS_OUTPUT = enum.auto()
    BUFFER_MUTATION = enum.auto()
    PARAMETER_MUTATION = enum.auto()
    GRADIENT_TO_PARAMETER = enum.auto()
    GRADIENT_TO_USER_INPUT = enum.auto()
    USER_INPUT_MUTATION = enum.auto()
    TOKEN = enum.auto()


@dataclasses.dataclass
class InputSpec:
    """One input of the graph: its ``kind``, the placeholder's name ``arg`` and the state ``target``.

    ``target`` is the parameter's, buffer's or constant's qualified name (``"bn.running_mean"``),
    None for a user input; ``persistent`` tells whether a buffer is in the state dict. ``value``
    is the value of a non-tensor user input that was exported as a constant.
    """

    kind: InputKind
    arg: str
    target: str | None
    persistent: bool | None = None
    value: Any = None


@dataclasses.dataclass
class OutputSpec:
    """One output of the graph: its ``kind``, the output's name ``arg`` and the state ``target`` it updates."""

    kind: OutputKind
    arg: str | None
    target: str | None


@dataclasses.dataclass
class ExportGraphSignature:
    """The inputs and outputs of an exported graph, in order (``torch.export.ExportGraphSignature``).

    Example::

        >>> import ember.export
        >>> ep = ember.export.export(ember.nn.Linear(2, 1), (ember.randn(3, 2),))
        >>> ep.graph_signature.parameters
        ['weight', 'bias']
        >>> [s.kind.name for s in ep.graph_signature.input_specs]
        ['PARAMETER', 'PARAMETER', 'USER_INPUT']
    """

    input_specs: list[InputSpec]
    output_specs: list[OutputSpec]

    def _inputs(self, kind: InputKind) -> list[str]:
        return [s.target for s in self.input_specs if s.kind is kind and s.target is not None]

    @property
    def parameters(self) -> list[str]:
        """The qualified names of the parameters the graph takes, in order."""
        return self._inputs(InputKind.PARAMETER)

    @property
    def buffers(self) -> list[str]:
        """The qualified names of the buffers the graph takes, in order."""
        return self._inputs(InputKind.BUFFER)

    @property
    def non_persistent_buffers(self) -> list[str]:
        """The buffers that are left out of the state dict."""
        return [s.target for s in self.input_specs if s.kind is InputKind.BUFFER and s.persistent is False and s.target]

    @property
    def lifted_tensor_constants(self) -> list[str]:
        """The qualified names of the tensor constants the graph takes, in order."""
        return self._inputs(InputKind.CONSTANT_TENSOR)

    @property
    def user_inputs(self) -> list[str]:
        """The placeholder names of the user's inputs, in order."""
        return [s.arg for s in self.input_specs if s.kind is InputKind.USER_INPUT]

    @property
    def user_outputs(self) -> list[str | None]:
        """The names of the user's outputs, in order."""
        return [s.arg for s in self.output_specs if s.kind in (OutputKind.USER_OUTPUT, OutputKind.LOSS_OUTPUT)]

    @property
    def inputs_to_parameters(self) -> dict[str, str]:
        """Placeholder name -> parameter name."""
        return {s.arg: s.target for s in self.input_specs if s.kind is InputKind.PARAMETER and s.target}

    @property
    def inputs_to_buffers(self) -> dict[str, str]:
        """Placeholder name -> buffer name."""
        return {s.arg: s.target for s in self.input_specs if s.kind is InputKind.BUFFER and s.target}

    @property
    def buffers_to_mutate(self) -> dict[str, str]:
        """Output name -> the buffer it is written to."""
        return {
            s.arg: s.target for s in self.output_specs if s.kind is OutputKind.BUFFER_MUTATION and s.arg and s.target
        }

    def __str__(self) -> str:
        lines = ["# inputs"]
        for s in self.input_specs:
            target = f" target={s.target!r}" if s.target is not None else ""
            persistent = f" persistent={s.persistent}" if s.kind is InputKind.BUFFER else ""
            lines.append(f"{s.arg}: {s.kind.name}{target}{persistent}")
        lines.append("")
        lines.append("# outputs")
        for o in self.output_specs:
            target = f" target={o.target!r}" if o.target is not None else ""
            lines.append(f"{o.arg}: {o.kind.name}{target}")
        return "\n".join(lines)
