"""The ONNX graph under construction: value names of traced tensors, nodes and initializers."""

from __future__ import annotations

import itertools

import numpy as np

from ..tensor import Tensor
from .errors import UnsupportedOperatorError

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """Collects the nodes of an ONNX graph while the model's forward runs.

    Every traced tensor (a graph input or the output of a recorded operation) has a value
    name; any other tensor an operation reads becomes an initializer (a parameter under
    its ``state_dict`` name), unless it was computed from an input by an operation the
    exporter did not record, which is an error rather than a silently frozen value.
    """

    def __init__(self, onnx, opset, param_names, module_names, export_params):
        self.onnx, self.opset = onnx, opset
        self._module_names = module_names
        self.nodes, self.initializers, self.param_inputs = [], [], []
        self._param_names, self._export_params = param_names, export_params
        self._names, self._versions, self._keep = {}, {}, []
        self._constants = {}
        self.data_dependent = {}  # value name -> axes whose size depends on the input's values
        self._tainted = {}  # id of a tensor computed from traced values by an unrecorded op -> the op's name
        self._renamed = {}  # value name -> the output name it was given
        self._counter = itertools.count()

    # -- names ------------------------------------------------------------------------------
    def fresh(self, hint):
        return f"{hint}_{next(self._counter)}"

    def bind(self, tensor, name):
        """Make ``name`` the value of ``tensor`` from now on."""
        self._names[id(tensor)] = name
        self._versions[id(tensor)] = tensor._version_counter.value
        self._keep.append(tensor)  # keeps ids unique while the trace lives

    def module_name(self, module):
        """The module's qualified name in the exported model (``"rnn"``, ``"encoder.0"``)."""
        return self._module_names.get(id(module)) or type(module).__name__

    def is_traced(self, tensor):
        return id(tensor) in self._names

    @property
    def exports_params(self):
        """Whether the parameters are stored in the model (else they are graph inputs)."""
        return self._export_params

    def is_parameter(self, tensor):
        """Whether ``tensor`` is one of the model's parameters or buffers."""
        return id(tensor) in self._param_names

    def is_tainted(self, tensor):
        return id(tensor) in self._tainted

    def taint(self, result, op):
        """Mark the tensors of ``result`` (computed from traced values by ``op``, which has no converter)."""
        if isinstance(result, (tuple, list)):
            for item in result:
                self.taint(item, op)
        elif hasattr(result, "_fields") or isinstance(result, dict):
            for item in result.values() if isinstance(result, dict) else tuple(result):
                self.taint(item, op)
        elif isinstance(result, Tensor):
            if id(result) not in self._names:  # the outermost unrecorded call names the operation
                self._tainted[id(result)] = op
                self._keep.append(result)

    def value(self, tensor):
        """The value name of ``tensor``: traced, a parameter or buffer, or a constant."""
        key = id(tensor)
        name = self._names.get(key)
        if name is not None:
            if tensor._version_counter.value != self._versions[key]:
                raise UnsupportedOperatorError(
                    f"onnx export: a traced value of shape {list(tensor.shape)} was modified in place by an "
                    "operation the exporter does not record; use the out-of-place form"
                )
            return name
        op = self._tainted.get(key)
        if op is not None:
            raise UnsupportedOperatorError(
                f"onnx export: exporting the operator '{op}' to ONNX opset version {self.opset} is not supported: "
                f"the exporter does not record it (it computed a tensor of shape {list(tensor.shape)} from the inputs)"
            )
        if tensor.grad_fn is not None:
            raise UnsupportedOperatorError(
                f"onnx export: a tensor of shape {list(tensor.shape)} was computed from the inputs by "
                f"{type(tensor.grad_fn).__name__}, an operation the exporter does not record"
            )
        name = self._constants.get(key)
        if name is None:
            name = self._param_names.get(key)
            array = tensor.detach().cpu().numpy()
            if name is not None and not self._export_params:
                self.param_inputs.append(self._value_info(name, array.dtype, array.shape))
            else:
                name = self.constant(array, name or "const")
            self._constants[key] = name
            self._keep.append(tensor)
        return name

    # -- graph pieces -----------------------------------------------------------------------
    def constant(self, array, hint="const"):
        """An initializer holding the NumPy ``array``; returns its name."""
        name = hint if hint != "const" and hint not in self._taken() else self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def _taken(self):
        return {init.name for init in self.initializers}

    def ints(self, values):
        """An int64 initializer (shapes, axes, slice bounds)."""
        return self.constant(np.asarray(values, dtype=np.int64), "ints")

    def node(self, op, inputs, outputs=1, **attributes):
        """Append an ``op`` node; returns its output name (or list of names when ``outputs > 1``)."""
        names = [self.fresh(op.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    def name_output(self, value, name):
        """Make the value ``value`` a graph output called ``name`` (renaming it where a node of ours made it)."""
        value = self._renamed.get(value, value)
        producers = [node for node in self.nodes if value in node.output]
        if not producers or value in self._renamed.values():
            self.nodes.append(self.onnx.helper.make_node("Identity", [value], [name]))
            return
        for node in self.nodes:
            for field in (node.input, node.output):
                for i, item in enumerate(field):
                    if item == value:
                        field[i] = name
        self._renamed[value] = name

    def _value_info(self, name, dtype, shape):
        element = self.onnx.helper.np_dtype_to_tensor_dtype(dtype)
        return self.onnx.helper.make_tensor_value_info(name, element, list(shape))

    def value_info(self, name, tensor, dynamic):
        """The typed description of a graph input/output, ``dynamic`` mapping axes to dimension names."""
        shape = [dynamic.get(axis, size) for axis, size in enumerate(tensor.shape)]
        return self._value_info(name, np.dtype(tensor.dtype.name), shape)
