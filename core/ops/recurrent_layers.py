"""Stacked recurrent layers with the weights passed in, as PyTorch exposes them at the top level
(``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``, ``torch.rnn_relu``): the computation that
:class:`ember.nn.LSTM` and its siblings run, on a padded batch or on the ``(data, batch_sizes)`` of a
packed one.

Each function has PyTorch's two overloads::

    lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)

``params`` is the flat list of every layer's and direction's ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``
(a module's ``_flat_weights``). An LSTM has projections when its ``h`` and ``c`` differ in size, as in
PyTorch.

:mod:`ember` imports this module on the first access to one of these names, so that ``import ember``
does not load ``ember.nn``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..amp.state import state as _amp
from ..nn.modules.rnn import _GATES, run_layers
from ..ops.operands import check_same_device, invalid_combination
from ..tensor import Tensor

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu"]

_PADDED = ("input", "hx", "params", "has_biases", "num_layers", "dropout", "train", "bidirectional", "batch_first")
_PACKED = ("data", "batch_sizes", "hx", "params", "has_biases", "num_layers", "dropout", "train", "bidirectional")


def _bind(name: str, args: tuple, kwargs: dict, lstm: bool) -> tuple[bool, dict]:
    """Which overload the call is (packed or padded) and its arguments by name, or PyTorch's TypeError."""

    def state_ok(hx):
        if lstm:
            return isinstance(hx, Sequence) and all(isinstance(h, Tensor) for h in hx)
        return isinstance(hx, Tensor)

    def fits(names):
        if len(args) > len(names) or set(kwargs) - set(names):
            return None
        bound = dict(zip(names, args))
        if set(bound) & set(kwargs) or len(bound) + len(kwargs) != len(names):
            return None
        bound.update(kwargs)
        checks = {
            "input": lambda v: isinstance(v, Tensor),
            "data": lambda v: isinstance(v, Tensor),
            "batch_sizes": lambda v: isinstance(v, Tensor),
            "hx": state_ok,
            "params": lambda v: isinstance(v, Sequence) and all(isinstance(p, Tensor) for p in v),
            "has_biases": lambda v: isinstance(v, bool),
            "num_layers": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "dropout": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "train": lambda v: isinstance(v, bool),
            "bidirectional": lambda v: isinstance(v, bool),
            "batch_first": lambda v: isinstance(v, bool),
        }
        return bound if all(checks[k](bound[k]) for k in names) else None

    for packed, names in ((False, _PADDED), (True, _PACKED)):
        bound = fits(names)
        if bound is not None:
            return packed, bound
    state = "tuple of Tensors hx" if lstm else "Tensor hx"
    raise invalid_combination(
        name,
        args,
        kwargs,
        (
            f"Tensor data, Tensor batch_sizes, {state}, tuple of Tensors params, bool has_biases, int num_layers, "
            "float dropout, bool train, bool bidirectional",
            f"Tensor input, {state}, tuple of Tensors params, bool has_biases, int num_layers, float dropout, "
            "bool train, bool bidirectional, bool batch_first",
        ),
    )


def _same_dtype(x: Tensor, others: Sequence[Tensor]) -> None:
    for t in others:
        if t.dtype is not x.dtype:
            raise RuntimeError(
                f"mat1 and mat2 must have the same dtype, but got {_scalar_name(x.dtype)} and {_scalar_name(t.dtype)}"
            )


def _scalar_name(dtype: Any) -> str:
    """PyTorch's scalar type name of a dtype (``Float``, ``Double``, ``Half``, ``BFloat16``, ``Long``)."""
    name = str(dtype).split(".")[-1]
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}.get(name, name)  # fmt: skip


def _run(mode: str, args: tuple, kwargs: dict) -> tuple[Tensor, ...]:
    name = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}.get(mode, mode.lower())
    lstm = mode == "LSTM"
    packed, a = _bind(name, args, kwargs, lstm)
    x = a["data"] if packed else a["input"]
    states = list(a["hx"]) if lstm else [a["hx"]]
    if lstm and len(states) != 2:
        raise RuntimeError("lstm expects two hidden states")
    params, has_biases, num_layers = list(a["params"]), a["has_biases"], a["num_layers"]
    bidirectional, batch_first = a["bidirectional"], (False if packed else a["batch_first"])
    directions = 2 if bidirectional else 1
    if not packed and x.ndim != 3:  # (PyTorch broadcasts a 2-D input over the states' batch)
        raise RuntimeError(f"{name}: input must have 3 dimensions, got {list(x.shape)}")
    check_same_device(name, x, *states, *params)
    if not _amp.active:  # autocast casts them, as in PyTorch
        _same_dtype(x, [*states, *params])
    h0, c0 = states[0], (states[1] if lstm else None)
    for k, h in enumerate(states):
        if h.ndim != 3:
            raise RuntimeError(f"{name}: expected hidden state {k} of 3 dimensions, got {list(h.shape)}")
    projected = lstm and h0.shape[2] != c0.shape[2]  # type: ignore[union-attr]  # PyTorch's rule
    group = 2 + 2 * has_biases + projected
    if num_layers < 1 or len(params) != group * num_layers * directions:
        raise RuntimeError("got an incorrect number of RNN parameters")
    for h in states:
        if h.shape[0] != num_layers * directions:
            raise RuntimeError(
                f"{name}: expected hidden states of {num_layers * directions} layers x directions "
                f"(num_layers={num_layers}, bidirectional={bidirectional}), got {list(h.shape)}"
            )
    # the batch as packed rows
    if packed:
        batch_sizes_t = a["batch_sizes"]
        if batch_sizes_t.ndim != 1 or batch_sizes_t.device.type != "cpu" or batch_sizes_t.dtype is not dtypes.int64:
            raise RuntimeError(
                f"{name}: batch_sizes should always be a 1D CPU int64 tensor, got {batch_sizes_t.ndim}D "
                f"{batch_sizes_t.device.type} {batch_sizes_t.dtype}"
            )
        batch_sizes = tuple(int(b) for b in batch_sizes_t.tolist())
        if x.ndim != 2 or not batch_sizes or sum(batch_sizes) != x.shape[0] or any(
            b < c for b, c in zip(batch_sizes, batch_sizes[1:])
        ) or batch_sizes[-1] < 1:  # fmt: skip
            raise RuntimeError(
                f"{name}: packed data {list(x.shape)} does not match batch_sizes {list(batch_sizes)} (a 2-D "
                "tensor of sum(batch_sizes) rows, batch sizes positive and non-increasing, expected)"
            )
        batch, data = batch_sizes[0], x
    else:
        if batch_first:
            x = x.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        batch_sizes = (batch,) * steps
        data = x.reshape(steps * batch, x.shape[2])
    strided = not packed and not x.is_contiguous()
    # the weights, checked against the states and each layer's input
    hidden = c0.shape[2] if lstm else h0.shape[2]  # type: ignore[union-attr]  # c0 is a tensor when lstm
    real_hidden = h0.shape[2]
    gates = _GATES[mode] * hidden
    weights = []
    for k in range(num_layers * directions):
        w = params[k * group : (k + 1) * group]
        w_ih, w_hh = w[0], w[1]
        b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
        w_hr = w[-1] if projected else None
        layer_input = data.shape[1] if k < directions else real_hidden * directions
        expected = {"w_ih": (gates, layer_input), "w_hh": (gates, real_hidden), "b_ih": (gates,), "b_hh": (gates,),
                    "w_hr": (real_hidden, hidden)}  # fmt: skip
        for what, t in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh), ("w_hr", w_hr)):
            if t is not None and tuple(t.shape) != expected[what]:
                layer, direction = divmod(k, directions)
                raise RuntimeError(
                    f"{name}: {what} of layer {layer}{' (reverse)' if direction else ''} must be "
                    f"{list(expected[what])} for input size {layer_input}, hidden size {hidden}"
                    f"{f' and projection size {real_hidden}' if projected else ''}, got {list(t.shape)}"
                )
        weights.append((w_ih, w_hh, b_ih, b_hh, w_hr))
    for k, h in enumerate(states):
        want = (num_layers * directions, batch, real_hidden if k == 0 else hidden)
        if tuple(h.shape) != want:
            raise RuntimeError(f"{name}: expected hidden state {k} of size {list(want)}, got {list(h.shape)}")
    output, h_n, c_n = run_layers(
        mode, data, batch_sizes, h0, c0, weights, num_layers, bidirectional, float(a["dropout"]), a["train"], strided
    )
    if not packed:
        output = output.reshape(len(batch_sizes), batch, output.shape[1])
        if batch_first:
            output = output.transpose(0, 1)
    return (output, h_n, c_n) if lstm else (output, h_n)  # type: ignore[return-value]


def lstm(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor, Tensor]:
    r"""A stack of LSTM layers with the weights given, as :class:`ember.nn.LSTM` runs it.

    Two forms, as PyTorch's::

        lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)

    Args:
        input (Tensor): ``(L, N, H_in)`` (``(N, L, H_in)`` when ``batch_first``).
        data, batch_sizes (Tensor): a packed batch's rows ``(sum(batch_sizes), H_in)`` and its CPU int64
            batch sizes (:class:`~ember.nn.utils.rnn.PackedSequence`'s fields; sequences sorted by length).
        hx (sequence of two Tensors): ``(h_0, c_0)``, ``(D * num_layers, N, H_out)`` and
            ``(D * num_layers, N, H_cell)``; ``H_out`` smaller than ``H_cell`` means projections.
        params (sequence of Tensors): ``w_ih, w_hh[, b_ih, b_hh][, w_hr]`` of each layer and direction
            (the module's ``_flat_weights``).
        has_biases (bool): whether ``params`` holds the biases.
        num_layers (int): number of stacked layers.
        dropout (float): dropout probability on the outputs of every layer but the last.
        train (bool): apply the dropout.
        bidirectional (bool): run each layer in both directions (``D = 2``).
        batch_first (bool): ``input`` and ``output`` are batch first (padded form only).

    Returns:
        ``(output, h_n, c_n)``: ``output`` ``(L, N, D * H_out)`` (or packed rows ``(sum(batch_sizes),
        D * H_out)``), ``h_n`` and ``c_n`` the final states, shaped as ``hx``'s.

    Example::

        >>> w = [ember.full((4, 1), 0.5), ember.zeros(4, 1)]
        >>> out, h, c = ember.lstm(ember.ones(2, 1, 1), (ember.zeros(1, 1, 1), ember.zeros(1, 1, 1)), w,
        ...                        False, 1, 0.0, False, False, False)
        >>> out.shape, h
        (ember.Size([2, 1, 1]), tensor([[[0.2711]]]))
    """
    return _run("LSTM", args, kwargs)  # type: ignore[return-value]


def gru(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    r"""A stack of GRU layers with the weights given, as :class:`ember.nn.GRU` runs it.

    Two forms, as PyTorch's::

        gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        gru(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)

    Arguments as :func:`lstm`'s, with one hidden state ``hx`` ``(D * num_layers, N, H_out)`` and
    ``params`` ``w_ih, w_hh[, b_ih, b_hh]`` per layer and direction. Returns ``(output, h_n)``.

    Example::

        >>> w = [ember.full((3, 1), 0.5), ember.zeros(3, 1)]
        >>> out, h = ember.gru(ember.ones(2, 1, 1), ember.zeros(1, 1, 1), w, False, 1, 0.0, False, False, False)
        >>> h
        tensor([[[0.2831]]])
    """
    return _run("GRU", args, kwargs)  # type: ignore[return-value]


def rnn_tanh(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    r"""A stack of Elman layers with :math:`\tanh`, as :class:`ember.nn.RNN` runs it; arguments and results as
    :func:`gru`'s, with ``params`` ``w_ih, w_hh[, b_ih, b_hh]`` of ``hidden_size`` rows.

    Example::

        >>> w = [ember.full((1, 1), 0.5), ember.zeros(1, 1)]
        >>> ember.rnn_tanh(ember.ones(1, 1, 1), ember.zeros(1, 1, 1), w, False, 1, 0.0, False, False, False)[1]
        tensor([[[0.4621]]])
    """
    return _run("RNN_TANH", args, kwargs)  # type: ignore[return-value]


def rnn_relu(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    r""":func:`rnn_tanh` with ReLU, as :class:`ember.nn.RNN` with ``nonlinearity='relu'`` runs it.

    Example::

        >>> w = [ember.full((1, 1), -0.5), ember.zeros(1, 1)]
        >>> ember.rnn_relu(ember.ones(1, 1, 1), ember.zeros(1, 1, 1), w, False, 1, 0.0, False, False, False)[1]
        tensor([[[0.]]])
    """
    return _run("RNN_RELU", args, kwargs)  # type: ignore[return-value]
