"""One step of a recurrent cell, as PyTorch exposes it at the top level (``torch.lstm_cell``,
``torch.gru_cell``, ``torch.rnn_tanh_cell``, ``torch.rnn_relu_cell``): the computation of
:class:`ember.nn.LSTMCell` and its siblings with the weights passed in, on a batch ``(N, input_size)``.

:mod:`ember` imports this module on the first access to one of these names, so that ``import ember``
does not load ``ember.nn``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..amp.state import state as _amp
from ..nn.modules.rnn import _GATES, autocast_cell_operands, cell_step, check_cell_hidden, check_cell_input
from ..tensor import Tensor

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]

#: PyTorch's C++ spelling of a dtype in its matmul errors
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}


def _step(
    mode: str,
    input: Tensor,
    states: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> tuple[Tensor, ...]:
    check_cell_input(input, w_ih.shape[1])
    for k, state in enumerate(states):
        check_cell_hidden(k, state, input.shape[0], w_hh.shape[1])
    gates = _GATES[mode] * w_hh.shape[1]
    for what, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w.shape[0] != gates:
            raise RuntimeError(f"{what} first dim must be {_GATES[mode]} * hidden_size = {gates}, but got {w.shape[0]}")
    operands = (input, states[0], states[1] if len(states) > 1 else None, w_ih, w_hh, b_ih, b_hh)
    if _amp.active:  # as the cell modules: PyTorch's cells are linear ops, which autocast
        operands = autocast_cell_operands(mode, operands, states[-1])
    input, h, c, w_ih, w_hh, b_ih, b_hh = operands
    for t in (w_ih, b_ih, h, w_hh, b_hh):  # PyTorch's matmuls refuse a mix (an LSTM's c promotes)
        if t is not None and t.dtype is not input.dtype:
            pair = (t.dtype, input.dtype) if t is h else (input.dtype, t.dtype)  # PyTorch's operand order
            a, b = (str(d).split(".")[-1] for d in pair)
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES.get(a, a)} != "
                               f"{_C_NAMES.get(b, b)}")  # fmt: skip
    return cell_step(mode, input, h, c, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(
    input: Tensor,
    hx: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""One step of an LSTM cell (gates ``i, f, g, o``, as :class:`ember.nn.LSTMCell`).

    Args:
        input (Tensor): ``(N, input_size)``.
        hx (sequence of two Tensors): ``(h, c)``, each ``(N, hidden_size)``.
        w_ih (Tensor): ``(4 * hidden_size, input_size)``.
        w_hh (Tensor): ``(4 * hidden_size, hidden_size)``.
        b_ih, b_hh (Tensor, optional): ``(4 * hidden_size,)`` each. Default: ``None``

    Returns:
        ``(h', c')``, each ``(N, hidden_size)``.

    Example::

        >>> h, c = ember.lstm_cell(ember.ones(1, 2), (ember.zeros(1, 1), ember.zeros(1, 1)),
        ...                        ember.full((4, 2), 0.5), ember.zeros(4, 1))
        >>> h, c
        (tensor([[0.3696]]), tensor([[0.5568]]))
    """
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    h, c = _step("LSTM", input, hx, w_ih, w_hh, b_ih, b_hh)
    return h, c


def gru_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    r"""One step of a GRU cell (gates ``r, z, n``, as :class:`ember.nn.GRUCell`).

    Args:
        input (Tensor): ``(N, input_size)``.
        hx (Tensor): ``(N, hidden_size)``.
        w_ih (Tensor): ``(3 * hidden_size, input_size)``.
        w_hh (Tensor): ``(3 * hidden_size, hidden_size)``.
        b_ih, b_hh (Tensor, optional): ``(3 * hidden_size,)`` each. Default: ``None``

    Returns:
        ``h'``, ``(N, hidden_size)``.

    Example::

        >>> ember.gru_cell(ember.ones(1, 2), ember.ones(1, 1), ember.full((3, 2), 0.5), ember.zeros(3, 1))
        tensor([[0.9359]])
    """
    return _step("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    r"""One step of an Elman cell: :math:`h' = \tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`
    (:class:`ember.nn.RNNCell`). Shapes as :func:`gru_cell`'s, with ``hidden_size`` rows in the weights.

    Example::

        >>> ember.rnn_tanh_cell(ember.ones(1, 2), ember.zeros(1, 1), ember.full((1, 2), 0.5), ember.zeros(1, 1))
        tensor([[0.7616]])
    """
    return _step("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    r""":func:`rnn_tanh_cell` with ReLU: :math:`h' = \max(0, x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`.

    Example::

        >>> ember.rnn_relu_cell(ember.ones(1, 2), ember.zeros(1, 1), ember.full((1, 2), -0.5), ember.zeros(1, 1))
        tensor([[0.]])
    """
    return _step("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]
