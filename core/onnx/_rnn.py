"""RNN, LSTM and GRU as ONNX's recurrent operators, one node per layer.

ONNX keeps the weights of both directions stacked, its gates in another order
(LSTM ``i, o, f, c`` for PyTorch's ``i, f, g, o``; GRU ``z, r, h`` for ``r, z, n``) and the
sequence first; GRU's ``linear_before_reset=1`` is PyTorch's formulation.
"""

from __future__ import annotations

import numpy as np

from .errors import UnsupportedOperatorError

__all__ = ["convert_rnn", "convert_cell"]

_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


def _gates(array, mode, hidden):
    order = _GATE_ORDER.get(mode)
    if order is None:
        return array
    return np.concatenate([array[g * hidden : (g + 1) * hidden] for g in order])


def _layer_weights(b, m, layer, directions):
    """The ``W``, ``R`` and ``B`` initializers of one layer, both directions stacked."""
    hidden, mode = m.hidden_size, m.mode if m.mode in ("LSTM", "GRU") else "RNN"
    ws, rs, bs = [], [], []
    for suffix in ("", "_reverse")[:directions]:

        def param(kind, suffix=suffix):
            value = getattr(m, f"{kind}_l{layer}{suffix}", None)
            return None if value is None else value.detach().cpu().numpy()

        w_ih, w_hh = param("weight_ih"), param("weight_hh")
        ws.append(_gates(w_ih, mode, hidden))
        rs.append(_gates(w_hh, mode, hidden))
        b_ih, b_hh = param("bias_ih"), param("bias_hh")
        if b_ih is None:
            b_ih = b_hh = np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
        bs.append(np.concatenate([_gates(b_ih, mode, hidden), _gates(b_hh, mode, hidden)]))
    prefix = f"{b.module_name(m)}.l{layer}"
    if not b.exports_params:  # the parameters are graph inputs: W, R, B are computed from them in the graph
        params = [
            {
                kind: getattr(m, f"{kind}_l{layer}{suffix}", None)
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            for suffix in ("", "_reverse")[:directions]
        ]
        return _packed_from_inputs(b, params, mode, hidden, bs)
    return (
        b.constant(np.stack(ws), f"{prefix}.W"),
        b.constant(np.stack(rs), f"{prefix}.R"),
        b.constant(np.stack(bs), f"{prefix}.B"),
    )


def _reordered(b, tensor, mode, hidden):
    """The value of a parameter with its gates in ONNX's order."""
    order = _GATE_ORDER.get(mode)
    name = b.value(tensor)
    if order is None:
        return name
    pieces = b.node("Split", [name, b.ints([hidden] * len(order))], outputs=len(order), axis=0)
    return b.node("Concat", [pieces[g] for g in order], axis=0)


def _packed_from_inputs(b, params, mode, hidden, zero_biases):
    """W, R, B of ONNX's recurrent operator from the parameters' values (one dict per direction)."""

    def stacked(names):
        names = [b.node("Unsqueeze", [n, b.ints([0])]) for n in names]
        return names[0] if len(names) == 1 else b.node("Concat", names, axis=0)

    w = stacked([_reordered(b, p["weight_ih"], mode, hidden) for p in params])
    r = stacked([_reordered(b, p["weight_hh"], mode, hidden) for p in params])
    if params[0]["bias_ih"] is None:
        bias = b.constant(np.stack(zero_biases))
    else:
        pairs = [[_reordered(b, p["bias_ih"], mode, hidden), _reordered(b, p["bias_hh"], mode, hidden)] for p in params]
        bias = stacked([b.node("Concat", pair, axis=0) for pair in pairs])
    return w, r, bias


def _initial(b, state, layer, directions, batched):
    """The slice of an initial state ``(layers * directions, N, H)`` that feeds ``layer``."""
    if state is None:
        return ""
    name = b.value(state)
    if not batched:
        name = b.node("Unsqueeze", [name, b.ints([1])])
    return b.node("Slice", [name, b.ints([layer * directions]), b.ints([(layer + 1) * directions]), b.ints([0])])


def convert_rnn(b, m, args, kwargs, out):
    if getattr(m, "proj_size", 0):
        raise UnsupportedOperatorError("onnx export: LSTM with proj_size > 0 is not supported")
    x = args[0]
    state = args[1] if len(args) > 1 else kwargs.get("hx")
    h0, c0 = state if isinstance(state, (tuple, list)) else (state, None)
    lstm = m.mode == "LSTM"
    op = "LSTM" if lstm else "GRU" if m.mode == "GRU" else "RNN"
    directions = 2 if m.bidirectional else 1
    batched = x.ndim == 3
    name = b.value(x)
    if not batched:
        name = b.node("Unsqueeze", [name, b.ints([1])])
    elif m.batch_first:
        name = b.node("Transpose", [name], perm=[1, 0, 2])
    attrs = {"hidden_size": m.hidden_size, "direction": "bidirectional" if m.bidirectional else "forward"}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Relu" if m.mode == "RNN_RELU" else "Tanh"] * directions
    finals_h, finals_c = [], []
    for layer in range(m.num_layers):
        w, r, bias = _layer_weights(b, m, layer, directions)
        inputs = [name, w, r, bias, "", _initial(b, h0, layer, directions, batched)]
        if lstm:
            inputs.append(_initial(b, c0, layer, directions, batched))
        outputs = b.node(op, inputs, outputs=3 if lstm else 2, **attrs)
        # Y is (S, D, N, H): the next layer reads (S, N, D * H)
        sequence = b.node("Transpose", [outputs[0]], perm=[0, 2, 1, 3])
        name = b.node("Reshape", [sequence, b.ints([0, 0, -1])])
        finals_h.append(outputs[1])
        if lstm:
            finals_c.append(outputs[2])

    def stacked(names):
        value = names[0] if len(names) == 1 else b.node("Concat", names, axis=0)
        return value if batched else b.node("Squeeze", [value, b.ints([1])])

    if not batched:
        name = b.node("Squeeze", [name, b.ints([1])])
    elif m.batch_first:
        name = b.node("Transpose", [name], perm=[1, 0, 2])
    output, final = out
    b.bind(output, name)
    if lstm:
        b.bind(final[0], stacked(finals_h))
        b.bind(final[1], stacked(finals_c))
    else:
        b.bind(final, stacked(finals_h))


def convert_cell(b, m, args, kwargs, out):
    """RNNCell, LSTMCell, GRUCell: one step of ONNX's recurrent operator."""
    x = args[0]
    state = args[1] if len(args) > 1 else kwargs.get("hx")
    h0, c0 = state if isinstance(state, (tuple, list)) else (state, None)
    kind = type(m).__name__
    op = {"LSTMCell": "LSTM", "GRUCell": "GRU"}.get(kind, "RNN")
    hidden = m.hidden_size

    def array(name):
        value = getattr(m, name, None)
        return None if value is None else value.detach().cpu().numpy()

    w, r = _gates(array("weight_ih"), op, hidden), _gates(array("weight_hh"), op, hidden)
    b_ih, b_hh = array("bias_ih"), array("bias_hh")
    if b_ih is None:
        b_ih = b_hh = np.zeros(w.shape[0], dtype=w.dtype)
    prefix = b.module_name(m)
    biases = np.concatenate([_gates(b_ih, op, hidden), _gates(b_hh, op, hidden)])
    if not b.exports_params:  # the parameters are graph inputs: W, R, B are computed from them in the graph
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        inputs = list(_packed_from_inputs(b, [{k: getattr(m, k, None) for k in kinds}], op, hidden, [biases]))
    else:
        inputs = [
            b.constant(w[None], f"{prefix}.W"),
            b.constant(r[None], f"{prefix}.R"),
            b.constant(biases[None], f"{prefix}.B"),
        ]
    batched = x.ndim == 2
    lead = [0] if batched else [0, 1]
    sequence = b.node("Unsqueeze", [b.value(x), b.ints(lead)])  # (1, N, I)

    def initial(tensor):
        return "" if tensor is None else b.node("Unsqueeze", [b.value(tensor), b.ints(lead)])

    inputs = [sequence, *inputs, "", initial(h0)] + ([initial(c0)] if op == "LSTM" else [])
    attrs = {"hidden_size": hidden}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Relu" if getattr(m, "nonlinearity", "tanh") == "relu" else "Tanh"]
    outputs = b.node(op, inputs, outputs=3 if op == "LSTM" else 2, **attrs)

    def final(name):  # (1, 1, N, H) from Y_h's (num_directions, N, H)
        return b.node("Squeeze", [name, b.ints(lead)])

    if op == "LSTM":
        b.bind(out[0], final(outputs[1]))
        b.bind(out[1], final(outputs[2]))
    else:
        b.bind(out, final(outputs[1]))
