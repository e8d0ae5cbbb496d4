"""PyTorch's top-level forms of ember's nn computations that programs call directly: the recurrent cells
(``torch.lstm_cell``, ...), against PyTorch."""

from __future__ import annotations

import pytest
from reference import check, randn

import ember

torch = pytest.importorskip("torch")

CELLS = {"lstm_cell": 4, "gru_cell": 3, "rnn_tanh_cell": 1, "rnn_relu_cell": 1}


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("biases", ["both", "none", "b_hh only"])
def test_recurrent_cells(device, dtype, name, biases):
    # ember had none of them (AttributeError)
    gates, n, features, hidden = CELLS[name], 3, 4, 5
    arrays = [randn(n, features), randn(n, hidden), randn(n, hidden)]
    arrays += [randn(gates * hidden, features), randn(gates * hidden, hidden)]
    arrays += [randn(gates * hidden), randn(gates * hidden)]

    def call(lib):
        def run(x, h, c, w_ih, w_hh, b_ih, b_hh):
            bias = {"both": (b_ih, b_hh), "none": (), "b_hh only": (None, b_hh)}[biases]
            state = (h, c) if name == "lstm_cell" else h
            return getattr(lib, name)(x, state, w_ih, w_hh, *bias)

        return run

    check(call(ember), call(torch), arrays, device=device, dtype=dtype)


def test_recurrent_cell_errors():
    for lib in (ember, torch):
        x, h, w_ih, w_hh = lib.ones(3, 4), lib.ones(3, 5), lib.ones(20, 4), lib.ones(20, 5)
        with pytest.raises(RuntimeError, match="^lstm_cell expects two hidden states$"):
            lib.lstm_cell(x, (h,), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^input has inconsistent input_size: got 3 expected 4$"):
            lib.lstm_cell(lib.ones(3, 3), (h, h), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^Input batch size 3 doesn't match hidden1 batch size 2$"):
            lib.lstm_cell(x, (h, h[:2]), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^hidden0 has inconsistent hidden_size: got 4, expected 5$"):
            lib.gru_cell(x, lib.ones(3, 4), lib.ones(15, 4), lib.ones(15, 5))
