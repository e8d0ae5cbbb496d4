"""Fused scaled dot-product attention through cuDNN's graph API (the ``nvidia-cudnn-frontend``
package, ``graph.sdpa`` / ``graph.sdpa_backward``) on CuPy memory, as :mod:`.cudnn_conv` does
convolution.

cuDNN's fused SDPA takes float16 and bfloat16 (float32 and float64 stay on the portable
kernels), head dims that are multiples of 8, and here no mask or the causal flag (top-left
aligned, as PyTorch's ``is_causal``): a bool or float mask, whose fully masked rows PyTorch
turns into zeros, stays portable. The batch axes are flattened into cuDNN's ``B`` with one
head: ``(B, 1, L, E)``. The forward saves cuDNN's softmax statistics ``(B, 1, L, 1)`` (float32,
the log-sum-exp of each row), never the probabilities. One graph is built per (pass, shapes,
dtype, scale, causal, device) and cached; :func:`supports` builds the forward one, and
:func:`forward` / :func:`backward` return None when the frontend is missing or has no engine
for the case, so that the portable kernels serve. Importing this module needs neither CuPy
nor the frontend.
"""

from __future__ import annotations

from ember.backend import native_dtype_name

try:
    import cupy

    from .cudnn_conv import _handle, _packed_strides, cudnn
except ImportError:  # no CuPy (or no frontend): nothing here is used
    cupy = cudnn = None

__all__ = ["supports", "forward", "backward", "available"]

_DATA_TYPES = {"float16": "HALF", "bfloat16": "BFLOAT16"}
_graphs = {}
_unsupported = set()


def available():
    """True when CuPy and the cuDNN frontend imported."""
    return cudnn is not None


def _sdpa_options(causal):
    """The keyword arguments of ``graph.sdpa`` / ``sdpa_backward`` for the causal flag: the
    diagonal band of frontends 1.13 and later, ``use_causal_mask`` before them."""
    alignment = getattr(cudnn, "diagonal_alignment", None)
    if alignment is None:
        return {"use_causal_mask": causal}
    return {"diagonal_alignment": alignment.TOP_LEFT, "diagonal_band_right_bound": 0} if causal else {}


def _build(kind, dtype, B, L, S, E, EV, scale, causal):
    data_type = getattr(cudnn.data_type, _DATA_TYPES[dtype])
    graph = cudnn.pygraph(
        io_data_type=data_type,
        intermediate_data_type=cudnn.data_type.FLOAT,
        compute_data_type=cudnn.data_type.FLOAT,
        handle=_handle(),
    )

    def tensor(name, shape, tensor_type=data_type):
        return graph.tensor(name=name, dim=list(shape), stride=_packed_strides(shape), data_type=tensor_type)

    def output(t, shape, tensor_type=data_type):
        t.set_output(True).set_dim(list(shape)).set_stride(_packed_strides(shape)).set_data_type(tensor_type)

    shapes = {"q": (B, 1, L, E), "k": (B, 1, S, E), "v": (B, 1, S, EV), "o": (B, 1, L, EV), "stats": (B, 1, L, 1)}
    q, k, v = tensor("Q", shapes["q"]), tensor("K", shapes["k"]), tensor("V", shapes["v"])
    options = {"attn_scale": float(scale), **_sdpa_options(causal)}
    if kind == "forward":
        try:
            o, stats = graph.sdpa(name="sdpa", q=q, k=k, v=v, generate_stats=True, **options)
        except TypeError:  # a frontend before 1.13 spells generate_stats as its negation
            o, stats = graph.sdpa(name="sdpa", q=q, k=k, v=v, is_inference=False, **options)
        output(o, shapes["o"])
        output(stats, shapes["stats"], cudnn.data_type.FLOAT)
        tensors = {"q": q, "k": k, "v": v, "o": o, "stats": stats}
    else:
        o, dO = tensor("O", shapes["o"]), tensor("dO", shapes["o"])
        stats = tensor("stats", shapes["stats"], cudnn.data_type.FLOAT)
        dq, dk, dv = graph.sdpa_backward(name="sdpa_backward", q=q, k=k, v=v, o=o, dO=dO, stats=stats, **options)
        output(dq, shapes["q"])
        output(dk, shapes["k"])
        output(dv, shapes["v"])
        tensors = {"q": q, "k": k, "v": v, "o": o, "dO": dO, "stats": stats, "dq": dq, "dk": dk, "dv": dv}
    graph.validate()
    graph.build_operation_graph()
    graph.create_execution_plans([cudnn.heur_mode.A, cudnn.heur_mode.FALLBACK])
    graph.check_support()
    graph.build_plans()
    return graph, tensors, graph.get_workspace_size()


def _graph(kind, dtype, B, L, S, E, EV, scale, causal):
    """The cached graph of ``kind`` ('forward', 'backward'), or None where cuDNN refuses it."""
    key = (kind, dtype, B, L, S, E, EV, float(scale), bool(causal), cupy.cuda.Device().id)
    if key in _unsupported:
        return None
    entry = _graphs.get(key)
    if entry is None:
        try:
            entry = _graphs[key] = _build(kind, dtype, B, L, S, E, EV, scale, causal)
        except Exception:  # noqa: BLE001 - any frontend refusal means "use the portable kernels"
            _unsupported.add(key)
            return None
    return entry


def _geometry(q, k, v):
    """``(B, L, S, E, EV)``: the batch axes flattened."""
    *batch, L, E = q.shape
    B = 1
    for n in batch:
        B *= n
    return B, L, k.shape[-2], E, v.shape[-1]


def supports(q, k, v, mask, is_causal, scale, dropout_p):
    """Whether cuDNN's fused SDPA serves the case (builds and caches the forward graph)."""
    if (
        cudnn is None
        or mask is not None
        or dropout_p > 0.0
        or native_dtype_name(q.dtype) not in _DATA_TYPES
        or q.ndim < 2
    ):
        return False
    B, L, S, E, EV = _geometry(q, k, v)
    if 0 in (B, L, S) or E % 8 or EV % 8:
        return False
    return _graph("forward", native_dtype_name(q.dtype), B, L, S, E, EV, scale, is_causal) is not None


def _run(entry, arrays, outputs):
    graph, tensors, workspace_size = entry
    workspace = cupy.empty(max(workspace_size, 1), dtype=cupy.uint8)
    pointers = {tensors[name]: a.data.ptr for name, a in {**arrays, **outputs}.items()}
    graph.execute(pointers, workspace.data.ptr, handle=_handle())


def forward(q, k, v, is_causal, scale):
    """``(out, stats)`` of the fused forward (:func:`supports` said True)."""
    B, L, S, E, EV = _geometry(q, k, v)
    entry = _graph("forward", native_dtype_name(q.dtype), B, L, S, E, EV, scale, is_causal)
    arrays = {name: cupy.ascontiguousarray(a) for name, a in (("q", q), ("k", k), ("v", v))}
    out = cupy.empty(q.shape[:-1] + (EV,), dtype=q.dtype)
    stats = cupy.empty((B, 1, L, 1), dtype=cupy.float32)
    _run(entry, arrays, {"o": out, "stats": stats})
    return out, stats


def backward(grad, q, k, v, is_causal, scale, out, stats):
    """``(dq, dk, dv)`` of the fused forward, or None where cuDNN has no backward engine."""
    B, L, S, E, EV = _geometry(q, k, v)
    entry = _graph("backward", native_dtype_name(q.dtype), B, L, S, E, EV, scale, is_causal)
    if entry is None:
        return None
    arrays = {name: cupy.ascontiguousarray(a) for name, a in (("q", q), ("k", k), ("v", v), ("dO", grad))}
    grads = {"dq": cupy.empty(q.shape, q.dtype), "dk": cupy.empty(k.shape, q.dtype), "dv": cupy.empty(v.shape, q.dtype)}
    _run(entry, {**arrays, "o": out, "stats": stats}, grads)
    return grads["dq"], grads["dk"], grads["dv"]
