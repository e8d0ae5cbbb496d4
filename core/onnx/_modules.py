"""Converters of the catalogue's layers: a traced call of one of these modules becomes ONNX nodes.

Each converter takes the graph builder, the module, the call's arguments and its result.
The module's own forward runs as usual (its result is what the exported graph must
reproduce); the operations inside it are not recorded.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from . import _nn_ops
from ._ops import flatten_value, gelu_value
from ._rnn import convert_cell, convert_rnn
from ._tensor_ops import reduce_node
from .errors import UnsupportedOperatorError

__all__ = ["module_converters"]


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _batched(b, x, spatial):
    """``x`` as a batched value (an unbatched ``(C, *spatial)`` input gets a leading axis)."""
    if x.ndim == spatial + 1:
        return b.node("Unsqueeze", [b.value(x), b.ints([0])]), True
    return b.value(x), False


def _unbatched(b, name, squeezed):
    return b.node("Squeeze", [name, b.ints([0])]) if squeezed else name


def _linear(b, m, args, kwargs, out):
    x = args[0]
    inputs = [b.value(x), b.value(m.weight)]
    if m.bias is not None:
        inputs.append(b.value(m.bias))
    if x.ndim == 2:
        b.bind(out, b.node("Gemm", inputs, transB=1))
        return
    y = b.node("MatMul", [inputs[0], b.node("Transpose", [inputs[1]], perm=[1, 0])])
    b.bind(out, b.node("Add", [y, inputs[2]]) if m.bias is not None else y)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _conv_pads(m, n):
    if isinstance(m.padding, str):
        if m.padding == "valid":
            return [0] * n, [0] * n
        total = [d * (k - 1) for d, k in zip(_tuple(m.dilation, n), _tuple(m.kernel_size, n))]
        return [t // 2 for t in total], [t - t // 2 for t in total]
    pads = list(_tuple(m.padding, n))
    return pads, pads


def _conv(b, m, args, kwargs, out):
    x = args[0]
    n = len(m.kernel_size)
    name, squeezed = _batched(b, x, n)
    begin, end = _conv_pads(m, n)
    if m.padding_mode != "zeros" and any(begin + end):
        if m.padding_mode == "circular" and b.opset < 19:  # Pad's 'wrap' mode arrived in opset 19
            from ._nn_ops import circular_pad

            shape = [1, *x.shape] if squeezed else list(x.shape)  # the batched value's shape
            name = circular_pad(b, name, shape, [0, 0, *begin], [0, 0, *end])
        else:
            pads = b.ints([0, 0, *begin, 0, 0, *end])
            name = b.node("Pad", [name, pads], mode=_PAD_MODES[m.padding_mode])
        begin, end = [0] * n, [0] * n
    inputs = [name, b.value(m.weight)] + ([b.value(m.bias)] if m.bias is not None else [])
    y = b.node(
        "Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(_tuple(m.stride, n)), pads=begin + end,
        dilations=list(_tuple(m.dilation, n)), group=m.groups,
    )  # fmt: skip
    b.bind(out, _unbatched(b, y, squeezed))


def _conv_transpose(b, m, args, kwargs, out):
    if len(args) > 1 or kwargs.get("output_size") is not None:
        raise UnsupportedOperatorError("onnx export: ConvTranspose with output_size is not supported")
    x = args[0]
    n = len(m.kernel_size)
    name, squeezed = _batched(b, x, n)
    pads = list(_tuple(m.padding, n))
    inputs = [name, b.value(m.weight)] + ([b.value(m.bias)] if m.bias is not None else [])
    y = b.node(
        "ConvTranspose", inputs, kernel_shape=list(m.kernel_size), strides=list(_tuple(m.stride, n)),
        pads=pads + pads, dilations=list(_tuple(m.dilation, n)), group=m.groups,
        output_padding=list(_tuple(m.output_padding, n)),
    )  # fmt: skip
    b.bind(out, _unbatched(b, y, squeezed))


def _pool_dims(module):
    dims = getattr(module, "onnx_dims", None)  # the functional forms' stand-in (see _nn_ops)
    return dims if dims is not None else int(type(module).__name__[-2])


def _pool(op):
    def convert(b, m, args, kwargs, out):
        if getattr(m, "return_indices", False) or getattr(m, "divisor_override", None):
            raise UnsupportedOperatorError(
                f"onnx export: {type(m).__name__} with return_indices or divisor_override is not supported"
            )
        n = _pool_dims(m)
        name, squeezed = _batched(b, args[0], n)
        pads = list(_tuple(m.padding, n))
        kernel, strides = list(_tuple(m.kernel_size, n)), list(_tuple(m.stride or m.kernel_size, n))
        dilations = list(_tuple(getattr(m, "dilation", 1), n))
        ends, ceil_mode = list(pads), int(m.ceil_mode)
        if m.ceil_mode and (op == "MaxPool" or not m.count_include_pad):
            # PyTorch drops a last window that would start in the right padding, ONNX's ceil_mode
            # keeps it: pad the end to exactly PyTorch's windows (the padding is never counted here)
            sizes, outs = list(args[0].shape[-n:]), list(out.shape[-n:])
            ends = [
                (o - 1) * st + d * (k - 1) + 1 - i - p
                for o, st, d, k, i, p in zip(outs, strides, dilations, kernel, sizes, pads)
            ]
            ends = [max(e, 0) for e in ends]
            ceil_mode = 0
        attrs = dict(kernel_shape=kernel, strides=strides, pads=pads + ends, ceil_mode=ceil_mode)
        if op == "MaxPool":
            attrs["dilations"] = dilations
        else:
            attrs["count_include_pad"] = int(m.count_include_pad)
        y = b.node(op, [name], **attrs)
        if ceil_mode:  # average pooling counting the padding: drop the window PyTorch does not make
            outs = list(out.shape[-n:])
            spatial = range(out.ndim - n + (1 if squeezed else 0), out.ndim + (1 if squeezed else 0))
            y = b.node("Slice", [y, b.ints([0] * n), b.ints(outs), b.ints(list(spatial))])
        b.bind(out, _unbatched(b, y, squeezed))

    return convert


def _adaptive(op, global_op):
    def convert(b, m, args, kwargs, out):
        x = args[0]
        n = _pool_dims(m)
        if getattr(m, "return_indices", False):
            raise UnsupportedOperatorError(f"onnx export: {type(m).__name__} with return_indices=True")
        name, squeezed = _batched(b, x, n)
        sizes = tuple(x.shape[-n:])
        targets = [s if t is None else t for s, t in zip(sizes, _tuple(m.output_size, n))]
        if all(t == 1 for t in targets):
            y = b.node(global_op, [name])
        elif all(s % t == 0 for s, t in zip(sizes, targets)):
            kernel = [s // t for s, t in zip(sizes, targets)]
            y = b.node(op, [name], kernel_shape=kernel, strides=kernel)
        else:  # PyTorch's windows [floor(j * s / t), ceil((j + 1) * s / t)), one axis after the other
            reduce = "ReduceMean" if op == "AveragePool" else "ReduceMax"
            y = name
            for axis, (s, t) in enumerate(zip(sizes, targets), start=2):
                if s == t:
                    continue
                pieces = []
                for j in range(t):
                    start, stop = j * s // t, -(-(j + 1) * s // t)
                    piece = b.node("Slice", [y, b.ints([start]), b.ints([stop]), b.ints([axis])])
                    pieces.append(reduce_node(b, reduce, piece, [axis], True))
                y = pieces[0] if t == 1 else b.node("Concat", pieces, axis=axis)
        b.bind(out, _unbatched(b, y, squeezed))

    return convert


def _batch_norm(b, m, args, kwargs, out):
    x = args[0]
    if m.running_mean is None:  # no running statistics: PyTorch normalizes with the batch's, in eval too
        from ._nn_ops import _channel_affine, _normalized
        from ._tensor_ops import constant_of

        axes = [0] + list(range(2, x.ndim))
        y = _normalized(b, b.value(x), axes, float(m.eps), lambda v: constant_of(b, v, out.dtype))
        b.bind(out, _channel_affine(b, y, m.weight, m.bias, max(x.ndim, 2)))
        return
    channels = m.num_features
    dtype = m.running_mean.dtype.name
    scale = b.value(m.weight) if m.weight is not None else b.constant(np.ones(channels, dtype=dtype))
    bias = b.value(m.bias) if m.bias is not None else b.constant(np.zeros(channels, dtype=dtype))
    inputs = [b.value(x), scale, bias, b.value(m.running_mean), b.value(m.running_var)]
    b.bind(out, b.node("BatchNormalization", inputs, epsilon=float(m.eps)))


def _activation(op, **attributes):
    def convert(b, m, args, kwargs, out):
        attrs = {key: float(getattr(m, source)) for key, source in attributes.items()}
        b.bind(out, b.node(op, [b.value(args[0])], **attrs))

    return convert


def _softmax(op):
    def convert(b, m, args, kwargs, out):
        dim = m.dim
        if dim is None:  # PyTorch's implicit dim (deprecated): 0 for 0-, 1- and 3-d inputs, else 1
            dim = 0 if out.ndim in (0, 1, 3) else 1
        b.bind(out, b.node(op, [b.value(args[0])], axis=dim % max(out.ndim, 1)))

    return convert


def _gelu(b, m, args, kwargs, out):
    b.bind(out, gelu_value(b, args[0], m.approximate, out))


def _silu(b, m, args, kwargs, out):
    x = b.value(args[0])
    b.bind(out, b.node("Mul", [x, b.node("Sigmoid", [x])]))


def _identity(b, m, args, kwargs, out):
    b.bind(out, b.value(args[0]))


def _embedding(b, m, args, kwargs, out):
    if m.max_norm is not None:
        raise UnsupportedOperatorError("onnx export: Embedding with max_norm is not supported")
    b.bind(out, b.node("Gather", [b.value(m.weight), b.value(args[0])], axis=0))


def _flatten(b, m, args, kwargs, out):
    b.bind(out, flatten_value(b, args[0], m.start_dim, m.end_dim, out))


_nn_ops.LAYER_CONVERTERS.update(conv=_conv, conv_transpose=_conv_transpose, pool=_pool)


def module_converters():
    """``{module class: converter}`` for the catalogue's layers the exporter maps."""
    table = {
        nn.Linear: _linear,
        nn.ReLU: _activation("Relu"),
        nn.Sigmoid: _activation("Sigmoid"),
        nn.Tanh: _activation("Tanh"),
        nn.LeakyReLU: _activation("LeakyRelu", alpha="negative_slope"),
        nn.ELU: _activation("Elu", alpha="alpha"),
        nn.GELU: _gelu,
        nn.SiLU: _silu,
        nn.Softmax: _softmax("Softmax"),
        nn.LogSoftmax: _softmax("LogSoftmax"),
        nn.Identity: _identity,
        nn.Dropout: _identity,
        nn.Dropout1d: _identity,
        nn.Dropout2d: _identity,
        nn.Dropout3d: _identity,
        nn.AlphaDropout: _identity,
        nn.Embedding: _embedding,
        nn.Flatten: _flatten,
        nn.RNN: convert_rnn,
        nn.LSTM: convert_rnn,
        nn.GRU: convert_rnn,
        nn.RNNCell: convert_cell,
        nn.LSTMCell: convert_cell,
        nn.GRUCell: convert_cell,
    }
    for n in (1, 2, 3):
        table[getattr(nn, f"Conv{n}d")] = _conv
        table[getattr(nn, f"ConvTranspose{n}d")] = _conv_transpose
        table[getattr(nn, f"MaxPool{n}d")] = _pool("MaxPool")
        table[getattr(nn, f"AvgPool{n}d")] = _pool("AveragePool")
        table[getattr(nn, f"AdaptiveAvgPool{n}d")] = _adaptive("AveragePool", "GlobalAveragePool")
        table[getattr(nn, f"AdaptiveMaxPool{n}d")] = _adaptive("MaxPool", "GlobalMaxPool")
        table[getattr(nn, f"BatchNorm{n}d")] = _batch_norm
        if hasattr(nn, f"LPPool{n}d"):
            table[getattr(nn, f"LPPool{n}d")] = _lp_pool_layer(n)
    return table


def _lp_pool_layer(n):
    def convert(b, m, args, kwargs, out):
        from ._nn_ops import CONVERTERS

        CONVERTERS[f"lp_pool{n}d"](b, (args[0], m.norm_type, m.kernel_size, m.stride, m.ceil_mode), {}, out)

    return convert
