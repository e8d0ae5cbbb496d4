"""Convolution through cuDNN's graph API (the ``nvidia-cudnn-frontend`` package) on CuPy memory.

CuPy 14 has no cuDNN module of its own; the frontend's ``cudnn.pygraph`` takes raw device
pointers, so CuPy arrays are passed by ``array.data.ptr``. One graph is built per
(operation, shapes, dtype, geometry, precision) and cached. :func:`run` returns None when
the frontend is missing or cuDNN supports no engine for the case; callers then use the
portable kernel (im2col + cuBLAS).
"""

from __future__ import annotations

import cupy

from ember.backend import native_dtype_name

__all__ = ["run", "available"]

try:
    import cudnn
except ImportError:  # the frontend is optional: im2col + cuBLAS serve without it
    cudnn = None

_DATA_TYPES = {"float32": "FLOAT", "float16": "HALF", "float64": "DOUBLE"}
_graphs = {}
_handles = {}
_unsupported = set()


def available():
    """True when the cuDNN frontend imported."""
    return cudnn is not None


def _handle():
    device = cupy.cuda.Device().id
    handle = _handles.get(device)
    if handle is None:
        handle = _handles[device] = cudnn.create_handle()
    cudnn.set_stream(handle=handle, stream=cupy.cuda.get_current_stream().ptr)
    return handle


def _packed_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return list(reversed(strides))


def _build(kind, x_shape, w_shape, y_shape, dtype, stride, padding, dilation, precision):
    allow_tf32, deterministic = precision
    data_type = getattr(cudnn.data_type, _DATA_TYPES[dtype])
    graph = cudnn.pygraph(
        io_data_type=data_type,
        intermediate_data_type=cudnn.data_type.FLOAT if dtype != "float64" else data_type,
        compute_data_type=cudnn.data_type.FLOAT if dtype != "float64" else data_type,
        handle=_handle(),
    )

    def tensor(name, shape):
        return graph.tensor(name=name, dim=list(shape), stride=_packed_strides(shape), data_type=data_type)

    geometry = {"padding": list(padding), "stride": list(stride), "dilation": list(dilation)}
    if kind == "fprop":
        x, w = tensor("X", x_shape), tensor("W", w_shape)
        y = graph.conv_fprop(image=x, weight=w, **geometry)
        y.set_output(True).set_dim(list(y_shape)).set_stride(_packed_strides(y_shape)).set_data_type(data_type)
        operands = ("x", "w", "y"), (x, w, y)
    elif kind == "dgrad":
        dy, w = tensor("DY", y_shape), tensor("W", w_shape)
        dx = graph.conv_dgrad(loss=dy, filter=w, **geometry)
        dx.set_output(True).set_dim(list(x_shape)).set_stride(_packed_strides(x_shape)).set_data_type(data_type)
        operands = ("y", "w", "x"), (dy, w, dx)
    else:
        x, dy = tensor("X", x_shape), tensor("DY", y_shape)
        dw = graph.conv_wgrad(image=x, loss=dy, **geometry)
        dw.set_output(True).set_dim(list(w_shape)).set_stride(_packed_strides(w_shape)).set_data_type(data_type)
        operands = ("x", "y", "w"), (x, dy, dw)
    graph.validate()
    graph.build_operation_graph()
    graph.create_execution_plans([cudnn.heur_mode.A, cudnn.heur_mode.FALLBACK])
    notes = getattr(cudnn, "numerical_note", None)
    refused = []
    if not allow_tf32 and dtype == "float32" and notes is not None:
        refused.append(notes.TENSOR_CORE)
    if deterministic and notes is not None and hasattr(notes, "NONDETERMINISTIC"):
        refused.append(notes.NONDETERMINISTIC)
    if refused:
        graph.deselect_numeric_notes(refused)
    graph.check_support()
    graph.build_plans()
    return graph, operands, graph.get_workspace_size()


def run(kind, arrays, x_shape, w_shape, y_shape, stride, padding, dilation, precision):
    """Run convolution ``kind`` ('fprop', 'dgrad', 'wgrad') and return the output array, or None.

    ``arrays`` maps the two inputs among ``x``, ``w``, ``y`` (``y`` is the output gradient
    for dgrad/wgrad) to contiguous CuPy arrays; ``padding`` is symmetric per spatial dim;
    ``precision`` is ``(allow_tf32, deterministic)``.
    """
    if cudnn is None:
        return None
    dtype = native_dtype_name(next(iter(arrays.values())).dtype)
    if dtype not in _DATA_TYPES:
        return None
    key = (kind, x_shape, w_shape, y_shape, dtype, stride, padding, dilation, precision, cupy.cuda.Device().id)
    if key in _unsupported:
        return None
    entry = _graphs.get(key)
    if entry is None:
        try:
            entry = _graphs[key] = _build(kind, x_shape, w_shape, y_shape, dtype, stride, padding, dilation, precision)
        except Exception:  # noqa: BLE001 - any frontend refusal means "use the portable kernel"
            _unsupported.add(key)
            return None
    graph, (names, tensors), workspace_size = entry
    out_shape = {"x": x_shape, "w": w_shape, "y": y_shape}[names[2]]
    output = cupy.empty(out_shape, dtype=dtype)
    workspace = cupy.empty(max(workspace_size, 1), dtype=cupy.uint8)
    pointers = {
        tensors[0]: arrays[names[0]].data.ptr,
        tensors[1]: arrays[names[1]].data.ptr,
        tensors[2]: output.data.ptr,
    }
    graph.execute(pointers, workspace.data.ptr, handle=_handle())
    return output
