"""``ember.onnx``: export a model to the ONNX format, as ``torch.onnx.export`` does.

The exporter runs the model's forward pass once on example inputs and records it: each
call of a layer it knows (:class:`~ember.nn.Linear`, the convolutions, pooling, batch norm,
activations, dropout, :class:`~ember.nn.Embedding`, :class:`~ember.nn.RNN`/``LSTM``/``GRU``,
:class:`~ember.nn.Flatten`) becomes ONNX nodes, as do the tensor operations forward code
applies to the values flowing through (``reshape``/``view``/``flatten``, arithmetic,
``matmul``, ``cat``, ``transpose``/``permute``, ``squeeze``/``unsqueeze``, ``mean``/``sum``,
basic indexing, the activation functions). Control flow is resolved by the example input,
as in PyTorch's tracing exporter. A value computed from an input by an operation the
exporter does not record (a tensor method, an ``ember`` or ``ember.nn.functional`` function
or a custom autograd ``Function`` without a converter) is an error naming the operation,
never a silently frozen constant; so is a floating-point value computed by any other
unrecorded path (its autograd history shows it).

Importing this module needs nothing beyond ember; :func:`export` imports the ``onnx``
package (install the ``onnx`` extra: ``pip install ember[onnx]``).
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import os
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from ._graph import GraphBuilder
from ._tracer import is_in_onnx_export, tracing
from .errors import OnnxExporterError, UnsupportedOperatorError

if TYPE_CHECKING:
    from ..nn.modules.module import Module

__all__ = ["export", "is_in_onnx_export", "OnnxExporterError", "UnsupportedOperatorError", "TrainingMode"]

#: The opset :func:`export` writes when ``opset_version`` is not given (PyTorch 2.13's default).
DEFAULT_OPSET = 18
#: The oldest opset the exporter writes.
MIN_OPSET = 13


class TrainingMode(enum.IntEnum):
    """The mode in which :func:`export` runs the model, as ``torch.onnx.TrainingMode``.

    ``EVAL`` (the default) exports the eval-mode model (dropout is the identity, batch norm
    uses its running statistics) whatever the model's mode; ``PRESERVE`` exports the model in
    its current mode and ``TRAINING`` in training mode: ember exports only an eval-mode graph,
    so these two are accepted only for a model in eval mode (``PRESERVE``).

    Example::

        >>> import ember.onnx
        >>> ember.onnx.TrainingMode.EVAL.value
        0
    """

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2

    def __str__(self):
        return f"TrainingMode.{self.name}"


def _import_onnx():
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401 - the submodule the graph builder uses
    except ImportError as exc:
        raise ImportError(
            "ember.onnx.export needs the 'onnx' package: pip install 'ember[onnx]' (or pip install onnx)"
        ) from exc
    return onnx


def _flatten(value, path="output"):
    """The tensors of a (nested) tuple/list/dict result, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flatten(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _flatten(item)]
    raise OnnxExporterError(f"onnx export: the model returned {type(value).__name__}; expected tensors")


def _map_tensors(value, fn, path=""):
    """``value`` with each tensor ``t`` in its (nested) tuples and lists replaced by ``fn(t, path)``."""
    if isinstance(value, Tensor):
        return fn(value, path)
    if isinstance(value, (tuple, list)):
        return type(value)(_map_tensors(v, fn, f"{path}.{i}") for i, v in enumerate(value))
    return value


def _split_args(args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    if args and isinstance(args[-1], dict):  # PyTorch's convention: a trailing dict holds keyword arguments
        kwargs = {**args[-1], **(kwargs or {})}
        args = args[:-1]
    return args, dict(kwargs or {})


def _default_input_names(model, count):
    try:
        names = [
            p.name
            for p in inspect.signature(model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"input_{i}" for i in range(count)]


def _dynamic(dynamic_axes, name):
    axes = (dynamic_axes or {}).get(name, {})
    if isinstance(axes, dict):
        return {int(axis): str(label) for axis, label in axes.items()}
    return {int(axis): f"{name}_dynamic_axes_{i + 1}" for i, axis in enumerate(axes)}


@contextlib.contextmanager
def _functions_held_by(model):
    """Layers that hold a functional form (``TransformerEncoderLayer.activation = F.relu``) call the
    recorded one while tracing."""
    import ember.nn.functional as F

    saved = []
    for module in model.modules():
        for name, value in list(vars(module).items()):
            if isinstance(value, types.FunctionType):
                traced = getattr(F, value.__name__, None)
                if traced is not None and getattr(traced, "__wrapped__", None) is value:
                    saved.append((module, name, value))
                    setattr(module, name, traced)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def export(
    model: Module,
    args: Tensor | tuple[Any, ...] = (),
    f: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    kwargs: dict[str, Any] | None = None,
    export_params: bool = True,
    verbose: bool = False,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
    do_constant_folding: bool = True,
    training: object = None,
    keep_initializers_as_inputs: bool = False,
    dynamo: bool = False,
) -> Any:
    """Export ``model`` to an ONNX file by tracing its forward pass on ``args``.

    The model runs in eval mode during the export (its mode is restored afterwards), so
    dropout is the identity and batch norm uses its running statistics.

    Args:
        model (Module): the model to export.
        args (Tensor or tuple): the example inputs of ``forward``; a trailing ``dict`` holds
            keyword arguments, as in PyTorch.
        f (str, path or binary file): where to write the model; ``None`` writes nothing.
        kwargs (dict, optional): more keyword arguments of ``forward``. Their tensors are
            graph inputs too (after those of ``args``, named after their keywords).
        export_params (bool): store the parameters in the file; ``False`` makes them
            graph inputs named after the ``state_dict`` keys. Default: ``True``.
        verbose (bool): print the graph. Default: ``False``.
        input_names (list of str, optional): names of the graph inputs (the tensors of
            ``args``, nested tuples and lists flattened, in order). Default: the names of
            ``forward``'s parameters (``hidden.0``, ``hidden.1`` for a tuple argument).
        output_names (list of str, optional): names of the graph outputs (the tensors of
            the result, flattened in order). Default: ``output`` / ``output_0``, ...
        opset_version (int, optional): the ONNX opset, from 13 to the newest the installed
            ``onnx`` package defines; another raises :class:`OnnxExporterError`. Default: 18.
        dynamic_axes (dict, optional): ``{name: {axis: label}}`` or ``{name: [axes]}``:
            input and output axes whose size may differ from the example's (a batch
            axis). Reshapes keep a leading size equal to their input's as a copied axis.
        do_constant_folding (bool): accepted for compatibility; operations on constants
            are always computed at export (the graph holds only the traced path).
        training (TrainingMode, optional): ``EVAL`` (default, also ``None``) exports the
            eval-mode model whatever its mode; ``PRESERVE`` is accepted for a model in eval
            mode; ``TRAINING`` (and ``PRESERVE`` of a model in training mode) raise
            :class:`OnnxExporterError`: ember exports eval-mode graphs only.
        keep_initializers_as_inputs (bool): also list the initializers as graph inputs.
            Default: ``False``.
        dynamo (bool): must be ``False``: ember exports by tracing.

    Returns:
        onnx.ModelProto: the exported model (also written to ``f``).

    Raises:
        UnsupportedOperatorError: the forward pass used an operation or option the
            exporter cannot express.
        ImportError: the ``onnx`` package is not installed.

    Example::

        >>> import io
        >>> import ember.onnx
        >>> model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU())
        >>> proto = ember.onnx.export(model, ember.randn(2, 4), io.BytesIO(), input_names=["x"],
        ...                           dynamic_axes={"x": {0: "batch"}})
        >>> [node.op_type for node in proto.graph.node]
        ['Gemm', 'Relu']
    """
    onnx = _import_onnx()
    if dynamo:
        raise OnnxExporterError("onnx export: ember exports by tracing; dynamo=True is not available")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise OnnxExporterError(
            f"onnx export: Unsupported onnx_opset_version: {opset}: opset_version {opset} is not supported (ember "
            f"writes opsets {MIN_OPSET} to {newest}, the newest that the installed onnx package defines)"
        )
    mode = TrainingMode.EVAL if training in (None, False) else TrainingMode(int(getattr(training, "value", training)))  # type: ignore[call-overload]
    if mode is TrainingMode.TRAINING or (mode is TrainingMode.PRESERVE and model.training):
        raise OnnxExporterError(
            f"onnx export: training={mode} (the model in training mode) is not supported: ember exports the "
            "eval-mode model; call model.eval() or pass training=TrainingMode.EVAL"
        )
    args, kwargs = _split_args(args, kwargs)
    params: dict[str, Tensor] = dict(model.named_parameters())
    params.update(dict(model.named_buffers()))
    builder = GraphBuilder(
        onnx,
        opset,
        {id(t): name for name, t in params.items()},
        {id(m): name for name, m in model.named_modules() if name},
        export_params,
    )
    graph_inputs = []
    given = iter(input_names or [])

    def trace_input(tensor, default):
        name = next(given, default)
        traced = tensor.detach()
        if traced.dtype.is_floating_point:
            traced.requires_grad_()  # anything computed from it gets a grad_fn: unrecorded ops are caught
        builder.bind(traced, name)
        graph_inputs.append(builder.value_info(name, traced, _dynamic(dynamic_axes, name)))
        return traced

    traced_args = [
        _map_tensors(arg, lambda t, path, base=base: trace_input(t, base + path))
        for arg, base in zip(args, _default_input_names(model, len(args)))
    ]
    # keyword tensors are graph inputs too, after the positional ones, named after their keywords
    kwargs = {
        key: _map_tensors(value, lambda t, path, key=key: trace_input(t, key + path)) for key, value in kwargs.items()
    }

    was_training = model.training
    frozen = [p for p in model.parameters() if p.requires_grad]
    model.eval()
    for p in frozen:
        p.requires_grad_(False)
    try:
        with enable_grad(), tracing(builder), _functions_held_by(model):
            result = model(*traced_args, **kwargs)
    finally:
        for p in frozen:
            p.requires_grad_(True)
        model.train(was_training)

    outputs = _flatten(result)
    names = list(output_names or [])
    names += ["output" if len(outputs) == 1 else f"output_{i}" for i in range(len(names), len(outputs))]
    graph_outputs = []
    for tensor, name in zip(outputs, names):
        value = builder.value(tensor)
        dynamic = _dynamic(dynamic_axes, name)
        for axis in builder.data_dependent.get(value, ()):  # x[mask]: its length is known only when run
            dynamic.setdefault(axis, f"{name}_dim_{axis}")
        builder.name_output(value, name)
        graph_outputs.append(builder.value_info(name, tensor, dynamic))
    known = {info.name for info in graph_inputs + graph_outputs}
    for key in dynamic_axes or {}:
        if key not in known:  # PyTorch's warning: the axes of a name that is no input or output are ignored
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output name", stacklevel=2)
    graph_inputs += builder.param_inputs
    if keep_initializers_as_inputs:
        graph_inputs += [
            onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in builder.initializers
        ]
    graph = onnx.helper.make_graph(
        builder.nodes, type(model).__name__, graph_inputs, graph_outputs, builder.initializers
    )
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="ember")
    proto.ir_version = min(proto.ir_version, onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is not None:
        onnx.save_model(proto, f)
    return proto
