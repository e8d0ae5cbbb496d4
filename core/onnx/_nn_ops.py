"""Converters of ``ember.nn.functional``: activations, normalizations, padding, resampling, linear.

The layers of the catalogue that call these functions (``nn.Hardtanh``, ``nn.LayerNorm``,
``nn.Upsample``, the padding layers ...) are exported through them. Same contract as
:mod:`ember.onnx._ops`.
"""

from __future__ import annotations

import numbers
import types

import numpy as np

import ember

from ._ops import _arg, _cast_to, _operand
from ._tensor_ops import constant_of, reduce_node
from .errors import UnsupportedOperatorError

__all__ = ["CONVERTERS", "FUNCTIONAL"]


def _input(b, args, out):
    return _cast_to(b, b.value(args[0]), args[0], out.dtype)


def _const(b, out):
    return lambda v: constant_of(b, v, out.dtype)


def _clamped(low, high):
    def convert(b, args, kwargs, out):
        lo = low if low is not None else _arg(args, kwargs, 1, "min_val", -1.0)
        hi = high if high is not None else _arg(args, kwargs, 2, "max_val", 1.0)
        c = _const(b, out)
        b.bind(out, b.node("Min", [b.node("Max", [_input(b, args, out), c(lo)]), c(hi)]))

    return convert


def _threshold(b, args, kwargs, out):
    c = _const(b, out)
    x = _input(b, args, out)
    limit, value = _arg(args, kwargs, 1, "threshold"), _arg(args, kwargs, 2, "value")
    b.bind(out, b.node("Where", [b.node("Greater", [x, c(limit)]), x, c(value)]))


def _hardsigmoid(b, args, kwargs, out):
    b.bind(out, b.node("HardSigmoid", [_input(b, args, out)], alpha=1 / 6, beta=0.5))


def _selu(b, args, kwargs, out):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    b.bind(out, b.node("Selu", [_input(b, args, out)], alpha=alpha, gamma=scale))


def _celu(b, args, kwargs, out):
    b.bind(out, b.node("Celu", [_input(b, args, out)], alpha=float(_arg(args, kwargs, 1, "alpha", 1.0))))


def _prelu(b, args, kwargs, out):
    x, weight = args[0], _arg(args, kwargs, 1, "weight")
    slope = b.value(weight)
    if weight.numel() > 1 and x.ndim >= 2:  # (C,) slopes apply along dim 1
        slope = b.node("Reshape", [slope, b.ints([weight.numel()] + [1] * (x.ndim - 2))])
    b.bind(out, b.node("PRelu", [b.value(x), slope]))


def _softplus(b, args, kwargs, out):
    beta, limit = float(_arg(args, kwargs, 1, "beta", 1.0)), float(_arg(args, kwargs, 2, "threshold", 20.0))
    c = _const(b, out)
    x = _input(b, args, out)
    scaled = b.node("Mul", [x, c(beta)]) if beta != 1 else x
    soft = b.node("Softplus", [scaled])
    if beta != 1:
        soft = b.node("Div", [soft, c(beta)])
    b.bind(out, b.node("Where", [b.node("Greater", [scaled, c(limit)]), x, soft]))


def _softshrink(b, args, kwargs, out):
    lambd = float(_arg(args, kwargs, 1, "lambd", 0.5))
    c = _const(b, out)
    x = _input(b, args, out)
    below = b.node("Where", [b.node("Less", [x, c(-lambd)]), b.node("Add", [x, c(lambd)]), c(0)])
    b.bind(out, b.node("Where", [b.node("Greater", [x, c(lambd)]), b.node("Sub", [x, c(lambd)]), below]))


def _hardshrink(b, args, kwargs, out):
    lambd = float(_arg(args, kwargs, 1, "lambd", 0.5))
    c = _const(b, out)
    x = _input(b, args, out)
    keep = b.node("Or", [b.node("Greater", [x, c(lambd)]), b.node("Less", [x, c(-lambd)])])
    b.bind(out, b.node("Where", [keep, x, c(0)]))


def _logsigmoid(b, args, kwargs, out):
    b.bind(out, b.node("Neg", [b.node("Softplus", [b.node("Neg", [_input(b, args, out)])])]))


def _softmin(b, args, kwargs, out):
    dim = _arg(args, kwargs, 1, "dim")
    if dim is None or kwargs.get("dtype") is not None:
        raise UnsupportedOperatorError("onnx export: softmin needs an explicit dim and no dtype")
    axis = dim + out.ndim if dim < 0 else dim
    b.bind(out, b.node("Softmax", [b.node("Neg", [_input(b, args, out)])], axis=axis))


def _hardswish(b, args, kwargs, out):
    b.bind(out, b.node("HardSwish", [_input(b, args, out)]))


def _mish(b, args, kwargs, out):
    x = _input(b, args, out)
    if b.opset >= 18:
        b.bind(out, b.node("Mish", [x]))
    else:
        b.bind(out, b.node("Mul", [x, b.node("Tanh", [b.node("Softplus", [x])])]))


def _glu(b, args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim", -1)
    axis = dim + x.ndim if dim < 0 else dim
    half = x.shape[axis] // 2
    first, second = b.node("Split", [b.value(x), b.ints([half, half])], outputs=2, axis=axis)
    b.bind(out, b.node("Mul", [first, b.node("Sigmoid", [second])]))


def _rrelu(b, args, kwargs, out):
    lower, upper = float(_arg(args, kwargs, 1, "lower", 1 / 8)), float(_arg(args, kwargs, 2, "upper", 1 / 3))
    if _arg(args, kwargs, 3, "training", False):
        raise UnsupportedOperatorError("onnx export: rrelu with training=True draws random slopes; export in eval mode")
    b.bind(out, b.node("LeakyRelu", [_input(b, args, out)], alpha=(lower + upper) / 2))


def _normalized(b, name, axes, eps, const):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance)."""
    centered = b.node("Sub", [name, reduce_node(b, "ReduceMean", name, axes, True)])
    var = reduce_node(b, "ReduceMean", b.node("Mul", [centered, centered]), axes, True)
    return b.node("Div", [centered, b.node("Sqrt", [b.node("Add", [var, const(eps)])])])


def _layer_norm(b, args, kwargs, out):
    x, shape = args[0], _arg(args, kwargs, 1, "normalized_shape")
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    eps = float(_arg(args, kwargs, 4, "eps", 1e-5))
    count = 1 if isinstance(shape, numbers.Integral) else len(tuple(shape))
    name = b.value(x)
    if b.opset >= 17:
        scale = b.value(weight) if weight is not None else b.constant(np.ones(x.shape[-count:], dtype=x.dtype.name))
        inputs = [name, scale] + ([b.value(bias)] if bias is not None else [])
        b.bind(out, b.node("LayerNormalization", inputs, axis=-count, epsilon=eps))
        return
    y = _normalized(b, name, list(range(x.ndim - count, x.ndim)), eps, _const(b, out))
    if weight is not None:
        y = b.node("Mul", [y, b.value(weight)])
    if bias is not None:
        y = b.node("Add", [y, b.value(bias)])
    b.bind(out, y)


def _channel_affine(b, y, weight, bias, ndim):
    """``y * weight + bias`` with ``(C,)`` parameters along dim 1 of an ``ndim``-d value."""
    if weight is None and bias is None:
        return y
    shape = b.ints([-1] + [1] * (ndim - 2))
    if weight is not None:
        y = b.node("Mul", [y, b.node("Reshape", [b.value(weight), shape])])
    if bias is not None:
        y = b.node("Add", [y, b.node("Reshape", [b.value(bias), shape])])
    return y


def _group_norm(b, args, kwargs, out):
    x, groups = args[0], int(_arg(args, kwargs, 1, "num_groups"))
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    eps = float(_arg(args, kwargs, 4, "eps", 1e-5))
    name = b.value(x)
    grouped = b.node("Reshape", [name, b.ints([0, groups, -1])])
    y = _normalized(b, grouped, [2], eps, _const(b, out))
    y = b.node("Reshape", [y, b.node("Shape", [name])])
    b.bind(out, _channel_affine(b, y, weight, bias, x.ndim))


def _instance_norm(b, args, kwargs, out):
    x = args[0]
    mean, var = _arg(args, kwargs, 1, "running_mean"), _arg(args, kwargs, 2, "running_var")
    weight, bias = _arg(args, kwargs, 3, "weight"), _arg(args, kwargs, 4, "bias")
    use_input_stats = _arg(args, kwargs, 5, "use_input_stats", True)
    eps = float(_arg(args, kwargs, 7, "eps", 1e-5))
    channels = x.shape[1]
    dtype = x.dtype.name
    scale = b.value(weight) if weight is not None else b.constant(np.ones(channels, dtype=dtype))
    shift = b.value(bias) if bias is not None else b.constant(np.zeros(channels, dtype=dtype))
    if use_input_stats:
        b.bind(out, b.node("InstanceNormalization", [b.value(x), scale, shift], epsilon=eps))
    else:
        inputs = [b.value(x), scale, shift, b.value(mean), b.value(var)]
        b.bind(out, b.node("BatchNormalization", inputs, epsilon=eps))


def _rms_norm(b, args, kwargs, out):
    x, shape = args[0], _arg(args, kwargs, 1, "normalized_shape")
    weight, eps = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "eps")
    count = 1 if isinstance(shape, numbers.Integral) else len(tuple(shape))
    eps = float(ember.finfo(x.dtype).eps if eps is None else eps)
    c = _const(b, out)
    name = b.value(x)
    mean_square = reduce_node(b, "ReduceMean", b.node("Mul", [name, name]), list(range(x.ndim - count, x.ndim)), True)
    y = b.node("Mul", [name, b.node("Reciprocal", [b.node("Sqrt", [b.node("Add", [mean_square, c(eps)])])])])
    b.bind(out, b.node("Mul", [y, b.value(weight)]) if weight is not None else y)


def _local_response_norm(b, args, kwargs, out):
    x, size = args[0], int(_arg(args, kwargs, 1, "size"))
    alpha, beta = float(_arg(args, kwargs, 2, "alpha", 1e-4)), float(_arg(args, kwargs, 3, "beta", 0.75))
    k = float(_arg(args, kwargs, 4, "k", 1.0))
    if size % 2 == 0 or x.ndim < 3:
        raise UnsupportedOperatorError(
            f"onnx export: local_response_norm with size {size} on a {x.ndim}-d input: only odd sizes on inputs "
            "with at least 3 dimensions are supported"
        )
    b.bind(out, b.node("LRN", [b.value(x)], size=size, alpha=alpha, beta=beta, bias=k))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def circular_pad(b, name, shape, begin, end):
    """``name`` padded circularly (``begin``/``end`` per axis) with Slice and Concat."""
    for axis, (before, after) in enumerate(zip(begin, end)):
        if not (before or after):
            continue
        if before < 0 or after < 0 or before > shape[axis] or after > shape[axis]:
            raise UnsupportedOperatorError(
                f"onnx export: circular padding by ({before}, {after}) of an axis of size {shape[axis]} is not supported"
            )
        pieces = [name]
        if before:
            pieces.insert(0, b.node("Slice", [name, b.ints([-before]), b.ints([shape[axis]]), b.ints([axis])]))
        if after:
            pieces.append(b.node("Slice", [name, b.ints([0]), b.ints([after]), b.ints([axis])]))
        name = b.node("Concat", pieces, axis=axis)
        shape = list(shape)
        shape[axis] += before + after
    return name


def _pad(b, args, kwargs, out):
    x, pad = args[0], list(_arg(args, kwargs, 1, "pad"))
    mode, value = _arg(args, kwargs, 2, "mode", "constant"), _arg(args, kwargs, 3, "value")
    if mode not in _PAD_MODES:
        raise UnsupportedOperatorError(f"onnx export: pad mode {mode!r} is not supported")
    begin, end = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):  # PyTorch lists (begin, end) pairs from the last dimension backwards
        begin[x.ndim - 1 - i], end[x.ndim - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    if mode == "circular" and b.opset < 19:  # Pad's 'wrap' mode arrived in opset 19
        b.bind(out, circular_pad(b, b.value(x), list(x.shape), begin, end))
        return
    inputs = [b.value(x), b.ints(begin + end)]
    if mode == "constant":
        inputs.append(_operand(b, 0 if value is None else value, out))
    b.bind(out, b.node("Pad", inputs, mode=_PAD_MODES[mode]))


_RESIZE_MODES = {"nearest": "nearest", "nearest-exact": "nearest", "linear": "linear", "bilinear": "linear"}
_RESIZE_MODES.update({"trilinear": "linear", "bicubic": "cubic"})


def _interpolate(b, args, kwargs, out):
    x = args[0]
    size, scale = _arg(args, kwargs, 1, "size"), _arg(args, kwargs, 2, "scale_factor")
    mode, align = _arg(args, kwargs, 3, "mode", "nearest"), _arg(args, kwargs, 4, "align_corners")
    recompute, antialias = _arg(args, kwargs, 5, "recompute_scale_factor"), _arg(args, kwargs, 6, "antialias", False)
    if mode not in _RESIZE_MODES or antialias:
        raise UnsupportedOperatorError(f"onnx export: interpolate with mode {mode!r} (antialias={antialias})")
    spatial = x.ndim - 2
    attrs = {"mode": _RESIZE_MODES[mode]}
    if mode == "nearest":
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    elif mode == "nearest-exact":
        attrs.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    else:
        attrs["coordinate_transformation_mode"] = "align_corners" if align else "half_pixel"
    if mode == "bicubic":
        attrs["cubic_coeff_a"] = -0.75
    name = b.value(x)
    if size is None and not recompute and not align:
        scales = [float(s) for s in (scale if isinstance(scale, (tuple, list)) else [scale] * spatial)]
        b.bind(
            out, b.node("Resize", [name, "", b.constant(np.asarray([1.0, 1.0] + scales, dtype=np.float32))], **attrs)
        )
        return
    if b.opset >= 18:
        sizes = b.ints(list(out.shape[2:]))
        attrs["axes"] = list(range(2, x.ndim))
    else:
        sizes = b.ints(list(out.shape))
    b.bind(out, b.node("Resize", [name, "", "", sizes], **attrs))


def _linear(b, args, kwargs, out):
    x, weight, bias = args[0], _arg(args, kwargs, 1, "weight"), _arg(args, kwargs, 2, "bias")
    inputs = [b.value(x), b.value(weight)] + ([b.value(bias)] if bias is not None else [])
    if x.ndim == 2 and weight.ndim == 2:
        b.bind(out, b.node("Gemm", inputs, transB=1))
        return
    w = inputs[1] if weight.ndim == 1 else b.node("Transpose", [inputs[1]], perm=[1, 0])
    y = b.node("MatMul", [inputs[0], w])
    b.bind(out, b.node("Add", [y, inputs[2]]) if bias is not None else y)


def _normalize(b, args, kwargs, out):
    x, p = args[0], float(_arg(args, kwargs, 1, "p", 2.0))
    dim, eps = _arg(args, kwargs, 2, "dim", 1), float(_arg(args, kwargs, 3, "eps", 1e-12))
    if p not in (1.0, 2.0) or kwargs.get("out") is not None:
        raise UnsupportedOperatorError(f"onnx export: normalize with p={p}: only p=1 and p=2 are supported")
    name = b.value(x)
    axis = dim + x.ndim if dim < 0 else dim
    norm = reduce_node(b, "ReduceL2" if p == 2 else "ReduceL1", name, [axis], True)
    b.bind(out, b.node("Div", [name, b.node("Max", [norm, constant_of(b, eps, out.dtype)])]))


def _one_hot(b, args, kwargs, out):
    x = args[0]
    depth = b.constant(np.asarray(out.shape[-1], dtype=np.int64))
    values = b.constant(np.asarray([0, 1], dtype=np.int64))
    b.bind(out, b.node("OneHot", [b.value(x), depth, values], axis=-1))


def _embedding(b, args, kwargs, out):
    x, weight = args[0], _arg(args, kwargs, 1, "weight")
    if _arg(args, kwargs, 3, "max_norm") is not None:
        raise UnsupportedOperatorError("onnx export: embedding with max_norm is not supported")
    b.bind(out, b.node("Gather", [b.value(weight), b.value(x)], axis=0))


CONVERTERS = {
    "hardtanh": _clamped(None, None),
    "relu6": _clamped(0.0, 6.0),
    "threshold": _threshold,
    "hardsigmoid": _hardsigmoid,
    "selu": _selu,
    "celu": _celu,
    "prelu": _prelu,
    "softplus": _softplus,
    "softshrink": _softshrink,
    "hardshrink": _hardshrink,
    "logsigmoid": _logsigmoid,
    "softmin": _softmin,
    "rrelu": _rrelu,
    "hardswish": _hardswish,
    "mish": _mish,
    "glu": _glu,
    "layer_norm": _layer_norm,
    "group_norm": _group_norm,
    "instance_norm": _instance_norm,
    "rms_norm": _rms_norm,
    "local_response_norm": _local_response_norm,
    "pad": _pad,
    "interpolate": _interpolate,
    "linear": _linear,
    "normalize": _normalize,
    "one_hot": _one_hot,
    "embedding": _embedding,
}

#: functions of ``ember.nn.functional`` recorded through these converters
FUNCTIONAL = list(CONVERTERS)


def _projection(b, x, weight, bias):
    y = b.node("MatMul", [x, b.node("Transpose", [weight], perm=[1, 0])])
    return b.node("Add", [y, bias]) if bias is not None else y


def _part(b, name, index, size):
    """Rows ``index * size`` to ``(index + 1) * size`` of a packed projection parameter."""
    return b.node("Slice", [name, b.ints([index * size]), b.ints([(index + 1) * size]), b.ints([0])])


def _additive_mask(b, mask, out):
    """A float mask to add to the attention scores (a bool mask's True is -inf)."""
    if mask.dtype is ember.bool:
        neg = constant_of(b, float("-inf"), out.dtype)
        return b.node("Where", [b.value(mask), neg, constant_of(b, 0.0, out.dtype)])
    return _cast_to(b, b.value(mask), mask, out.dtype)


def _multi_head_attention(b, args, kwargs, out):
    names = [
        "query", "key", "value", "embed_dim_to_check", "num_heads", "in_proj_weight", "in_proj_bias", "bias_k",
        "bias_v", "add_zero_attn", "dropout_p", "out_proj_weight", "out_proj_bias", "training", "key_padding_mask",
        "need_weights", "attn_mask", "use_separate_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight",
        "static_k", "static_v", "average_attn_weights", "is_causal",
    ]  # fmt: skip
    a = dict(zip(names, args))
    a.update(kwargs)
    query, key, value = a["query"], a["key"], a["value"]
    heads, embed = int(a["num_heads"]), query.shape[-1]
    if a.get("bias_k") is not None or a.get("add_zero_attn") or a.get("static_k") is not None:
        raise UnsupportedOperatorError(
            "onnx export: multi_head_attention_forward with add_bias_kv, add_zero_attn or static keys is not supported"
        )
    if a.get("training", True) and a.get("dropout_p", 0.0):
        raise UnsupportedOperatorError("onnx export: attention dropout in training mode; export the model in eval mode")
    attention, weights_out = out
    batched = query.ndim == 3
    q, k, v = (b.value(t) for t in (query, key, value))
    if not batched:
        q, k, v = (b.node("Unsqueeze", [n, b.ints([1])]) for n in (q, k, v))
    length, source = query.shape[0], key.shape[0]
    if a.get("use_separate_proj_weight"):
        weights = [b.value(a[f"{p}_proj_weight"]) for p in "qkv"]
    else:
        packed = b.value(a["in_proj_weight"])
        weights = [_part(b, packed, i, embed) for i in range(3)]
    bias = a.get("in_proj_bias")
    biases = [None] * 3 if bias is None else [_part(b, b.value(bias), i, embed) for i in range(3)]
    q, k, v = (_projection(b, n, w, c) for n, w, c in zip((q, k, v), weights, biases))
    head = embed // heads

    def split_heads(name):  # (T, N, E) -> (N, H, T, head)
        name = b.node("Reshape", [name, b.ints([0, -1, heads, head])])  # T copied: a dynamic length stays so
        return b.node("Transpose", [name], perm=[1, 2, 0, 3])

    q, k, v = split_heads(q), split_heads(k), split_heads(v)
    scale = constant_of(b, 1.0 / np.sqrt(head), attention.dtype)
    scores = b.node("MatMul", [b.node("Mul", [q, scale]), b.node("Transpose", [k], perm=[0, 1, 3, 2])])
    mask, padding = a.get("attn_mask"), a.get("key_padding_mask")
    if mask is None and a.get("is_causal"):
        causal = np.triu(np.full((length, source), -np.inf, dtype=attention.dtype.name), 1)
        scores = b.node("Add", [scores, b.constant(causal)])
    if mask is not None:
        additive = _additive_mask(b, mask, attention)
        if mask.ndim == 3:  # (N * H, L, S)
            additive = b.node("Reshape", [additive, b.ints([-1, heads, length, source])])
        scores = b.node("Add", [scores, additive])
    if padding is not None:
        additive = _additive_mask(b, padding, attention)
        scores = b.node("Add", [scores, b.node("Reshape", [additive, b.ints([0, 1, 1, -1])])])
    probabilities = b.node("Softmax", [scores], axis=-1)
    y = b.node("Transpose", [b.node("MatMul", [probabilities, v])], perm=[2, 0, 1, 3])  # (L, N, H, head)
    y = b.node("Reshape", [y, b.ints([0, -1, embed])])
    out_bias = a.get("out_proj_bias")
    y = _projection(b, y, b.value(a["out_proj_weight"]), b.value(out_bias) if out_bias is not None else None)
    b.bind(attention, y if batched else b.node("Squeeze", [y, b.ints([1])]))
    if weights_out is not None:
        w = probabilities
        if a.get("average_attn_weights", True):
            w = reduce_node(b, "ReduceMean", w, [1], False)
        b.bind(weights_out, w if batched else b.node("Squeeze", [w, b.ints([0])]))


#: the layer converters of :mod:`._modules` that the functional forms reuse ("conv", "conv_transpose",
#: "pool"), installed by it (it builds on this module)
LAYER_CONVERTERS: dict = {}


def _functional_layer(kind, n, names):
    """``F.conv2d``/``F.max_pool2d``...: the layer's converter on a stand-in holding the call's arguments."""

    def convert(b, args, kwargs, out):
        values = dict(zip(names, args))
        values.update(kwargs)
        spec = types.SimpleNamespace(onnx_dims=n, **values)
        if kind in ("conv", "conv_transpose"):
            weight = values["weight"]
            spec.kernel_size = tuple(weight.shape[2:])
            spec.bias = values.get("bias")
            spec.padding_mode = "zeros"
            for key, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("output_padding", 0)):
                setattr(spec, key, values.get(key, default))
            converter = LAYER_CONVERTERS[kind]
            converter(b, spec, (values["input"],), {}, out)
            return
        for key, default in (("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False)):
            setattr(spec, key, values.get(key, default))
        spec.count_include_pad = values.get("count_include_pad", True)
        spec.return_indices = values.get("return_indices", False)
        spec.divisor_override = values.get("divisor_override")
        LAYER_CONVERTERS["pool"]("MaxPool" if kind == "max" else "AveragePool")(b, spec, (values["input"],), {}, out)

    return convert


_CONV_ARGS = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]
_CONV_T_ARGS = ["input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"]
_MAX_ARGS = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
_AVG_ARGS = ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]
for _n in (1, 2, 3):
    CONVERTERS[f"conv{_n}d"] = _functional_layer("conv", _n, _CONV_ARGS)
    CONVERTERS[f"conv_transpose{_n}d"] = _functional_layer("conv_transpose", _n, _CONV_T_ARGS)
    CONVERTERS[f"max_pool{_n}d"] = _functional_layer("max", _n, _MAX_ARGS)
    CONVERTERS[f"avg_pool{_n}d"] = _functional_layer("avg", _n, _AVG_ARGS)


def _scaled_dot_product_attention(b, args, kwargs, out):
    names = ["query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa"]
    a = dict(zip(names, args))
    a.update(kwargs)
    query, key = a["query"], a["key"]
    if a.get("enable_gqa"):
        raise UnsupportedOperatorError("onnx export: scaled_dot_product_attention with enable_gqa is not supported")
    if a.get("dropout_p", 0.0):
        raise UnsupportedOperatorError("onnx export: scaled_dot_product_attention with dropout_p > 0")
    scale = a.get("scale")
    scale = 1.0 / np.sqrt(query.shape[-1]) if scale is None else float(scale)
    perm = list(range(key.ndim))
    perm[-2:] = perm[-1], perm[-2]
    q = b.node("Mul", [b.value(query), constant_of(b, scale, out.dtype)])
    scores = b.node("MatMul", [q, b.node("Transpose", [b.value(key)], perm=perm)])
    length, source = query.shape[-2], key.shape[-2]
    if a.get("is_causal"):  # PyTorch's causal mask is aligned to the top left
        causal = np.triu(np.full((length, source), -np.inf, dtype=out.dtype.name), 1)
        scores = b.node("Add", [scores, b.constant(causal)])
    mask = a.get("attn_mask")
    if mask is not None:
        if mask.dtype is ember.bool:  # True takes part in the attention
            neg, zero = constant_of(b, float("-inf"), out.dtype), constant_of(b, 0.0, out.dtype)
            additive = b.node("Where", [b.value(mask), zero, neg])
        else:
            additive = _cast_to(b, b.value(mask), mask, out.dtype)
        scores = b.node("Add", [scores, additive])
    b.bind(out, b.node("MatMul", [b.node("Softmax", [scores], axis=-1), b.value(a["value"])]))


def _lp_pool(n):
    def convert(b, args, kwargs, out):
        names = ["input", "norm_type", "kernel_size", "stride", "ceil_mode"]
        a = dict(zip(names, args))
        a.update(kwargs)
        x, p = a["input"], float(a["norm_type"])
        kernel = list(a["kernel_size"]) if isinstance(a["kernel_size"], (tuple, list)) else [a["kernel_size"]] * n
        stride = a.get("stride") or kernel
        stride = list(stride) if isinstance(stride, (tuple, list)) else [stride] * n
        c = _const(b, out)
        name = b.value(x)
        squeezed = x.ndim == n + 1
        if squeezed:
            name = b.node("Unsqueeze", [name, b.ints([0])])
        powered = b.node("Mul", [name, name]) if p == 2 else b.node("Pow", [name, c(p)])
        # PyTorch: avg_pool(x ** p), sign * relu(|.|) (no NaN from a negative mean), times the window, ** (1 / p)
        mean = b.node(
            "AveragePool", [powered], kernel_shape=kernel, strides=stride, ceil_mode=int(bool(a.get("ceil_mode"))),
            count_include_pad=0,
        )  # fmt: skip
        kept = b.node("Mul", [b.node("Sign", [mean]), b.node("Relu", [b.node("Abs", [mean])])])
        y = b.node("Pow", [b.node("Mul", [kept, c(float(np.prod(kernel)))]), c(1.0 / p)])
        b.bind(out, b.node("Squeeze", [y, b.ints([0])]) if squeezed else y)

    return convert


def _cosine_similarity(b, args, kwargs, out):
    first, second = args[0], _arg(args, kwargs, 1, "x2")
    dim, eps = _arg(args, kwargs, 2, "dim", kwargs.get("axis", 1)), float(_arg(args, kwargs, 3, "eps", 1e-8))
    ndim = max(first.ndim, second.ndim)
    axis = dim + ndim if dim < 0 else dim
    c = _const(b, out)

    def unit(t):  # t / max(||t||, eps), PyTorch's order of operations
        name = _cast_to(b, b.value(t), t, out.dtype)
        norm = reduce_node(b, "ReduceL2", name, [axis - (ndim - t.ndim)], True) if t.ndim else b.node("Abs", [name])
        return b.node("Div", [name, b.node("Max", [norm, c(eps)])])

    b.bind(out, reduce_node(b, "ReduceSum", b.node("Mul", [unit(first), unit(second)]), [axis], False))


for _n in (1, 2, 3):
    CONVERTERS[f"lp_pool{_n}d"] = _lp_pool(_n)
CONVERTERS["cosine_similarity"] = _cosine_similarity
CONVERTERS["multi_head_attention_forward"] = _multi_head_attention
CONVERTERS["scaled_dot_product_attention"] = _scaled_dot_product_attention
FUNCTIONAL = list(CONVERTERS)
