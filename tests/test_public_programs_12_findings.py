"""Differences from PyTorch found by the round-12 public programs (tests/test_public_programs_12.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _flat(out):
    """The tensors of a recurrent module's result (``output, (h, c)`` and the like), in order."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _recurrent_under_autocast(lib, which, dtype_name, device="cpu", device_type="cpu"):
    lib.manual_seed(0)
    x = lib.randn(5, 3, 6).to(device).requires_grad_()
    h = lib.randn(3, 4).to(device)
    if which == "LSTMCell":
        module = lib.nn.LSTMCell(6, 4)
        run = lambda: module(x[0], (h, h * 0.5))  # noqa: E731
    elif which == "GRUCell":
        module = lib.nn.GRUCell(6, 4)
        run = lambda: module(x[0], h)  # noqa: E731
    elif which == "GRUCell-no-bias":
        module = lib.nn.GRUCell(6, 4, bias=False)
        run = lambda: module(x[0])  # noqa: E731
    elif which == "lstm_cell":
        module = lib.nn.LSTMCell(6, 4)
        run = lambda: lib.lstm_cell(x[0], (h, h), module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh)  # noqa: E731
    elif which == "GRU":
        module = lib.nn.GRU(6, 4, num_layers=2)
        run = lambda: module(x, lib.stack([h, -h]))  # noqa: E731
    elif which == "GRU-batch-first-bidirectional":
        # PyTorch's linear op of the strided (time-major view of a batch-first) input is a product, then the bias
        module = lib.nn.GRU(6, 4, num_layers=2, bidirectional=True, batch_first=True)
        run = lambda: module(x.transpose(0, 1).contiguous())  # noqa: E731
    elif which == "gru-batch-first":
        module = lib.nn.GRU(6, 4, batch_first=True)

        def run():
            batch_first = x.transpose(0, 1).contiguous()
            return lib.gru(batch_first, h[None], module._flat_weights, True, 1, 0.0, False, False, True)

    elif which == "RNN":
        module = lib.nn.RNN(6, 4, num_layers=2, batch_first=True)
        run = lambda: module(x.transpose(0, 1).contiguous())  # noqa: E731
    elif which == "LSTM-projected":
        # PyTorch runs an LSTM with projections as linear ops (oneDNN's layer has none): its cell state stays
        # float32, h is the projection's bfloat16/float16 product
        module = lib.nn.LSTM(6, 4, proj_size=3, bidirectional=True, batch_first=True)
        run = lambda: module(x.transpose(0, 1).contiguous())  # noqa: E731
    elif which == "RNNCell":
        module = lib.nn.RNNCell(6, 4, nonlinearity="relu")
        run = lambda: module(x[0], h)  # noqa: E731
    elif which == "GRU-bidirectional-packed":
        module = lib.nn.GRU(6, 4, bidirectional=True, batch_first=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(
            x.transpose(0, 1), lib.tensor([5, 2, 4]), batch_first=True, enforce_sorted=False
        )
        run = lambda: lib.nn.utils.rnn.pad_packed_sequence(module(packed)[0], batch_first=True)[0]  # noqa: E731
    module.to(device)
    with lib.autocast(device_type, dtype=getattr(lib, dtype_name)):
        out = run()
    out = _flat(out)
    sum(o.float().sum() * (k + 1) for k, o in enumerate(out)).backward()
    grads = [x.grad] + [p.grad for p in module.parameters()]
    return out, grads


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize(
    "which",
    [
        "LSTMCell",
        "GRUCell",
        "GRUCell-no-bias",
        "lstm_cell",
        "GRU",
        "GRU-batch-first-bidirectional",
        "gru-batch-first",
        "GRU-bidirectional-packed",
        "RNN",
        "RNNCell",
        "LSTM-projected",
    ],
)
def test_gru_and_lstm_cells_under_autocast_run_their_linear_ops_in_the_lower_precision_as_torch(
    amp_device, which, dtype_name
):
    # PyTorch's cpu LSTM and GRU cells (and its GRU layers) are linear ops and gate arithmetic: in an autocast
    # region the linear ops give float16/bfloat16 gates and the arithmetic on them rounds to that type until it
    # meets the float32 state. ember computed the whole cell in float32 there: an LSTMCell's h off by 8e-3
    # relative under bfloat16 (0.08281 where PyTorch gives 0.08212)
    ours, our_grads = _recurrent_under_autocast(ember, which, dtype_name, *amp_device)
    theirs, their_grads = _recurrent_under_autocast(torch, which, dtype_name)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        _assert_same_roundings(a.detach().float().cpu().numpy(), b.detach().float().numpy())
    # the gradients: a few roundings apart where two directions or layers add into one gradient
    for a, b in zip(our_grads, their_grads):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        _assert_same_roundings(a.float().cpu().numpy(), b.float().numpy(), rtol=1e-2, atol=1e-3)


def _assert_same_roundings(actual, expected, rtol=1e-5, atol=1e-6):
    """The values agree to float32 precision but for the rare element where a float32 result one ulp away
    from PyTorch's (its own exp in a sigmoid or tanh) rounds to the neighbouring bfloat16 value, and the steps
    after it: at most one in ten, and those within a few bfloat16 roundings (the old float32 cells were off almost
    everywhere)."""
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    assert close.mean() >= 0.9, f"{(~close).sum()} of {close.size} differ: {actual[~close]} vs {expected[~close]}"
    np.testing.assert_allclose(actual, expected, rtol=5e-2, atol=1e-2)


def _recurrent_in_16_bits(lib, which, dtype_name, device="cpu"):
    lib.manual_seed(0)
    dtype = getattr(lib, dtype_name)
    x = lib.randn(5, 3, 6).to(device=device, dtype=dtype).requires_grad_()
    h = lib.randn(3, 4).to(device=device, dtype=dtype)
    make = {
        "RNN": lambda: lib.nn.RNN(6, 4, num_layers=2),
        "RNN-relu-batch-first": lambda: lib.nn.RNN(6, 4, nonlinearity="relu", batch_first=True),
        "GRU": lambda: lib.nn.GRU(6, 4, bidirectional=True),
        "RNNCell": lambda: lib.nn.RNNCell(6, 4),
        "GRUCell": lambda: lib.nn.GRUCell(6, 4),
        "LSTMCell": lambda: lib.nn.LSTMCell(6, 4),
        "LSTM-projected": lambda: lib.nn.LSTM(6, 4, proj_size=3),
    }
    module = make[which]().to(device=device, dtype=dtype)
    if which == "LSTMCell":
        out = module(x[0], (h, h))
    elif which.endswith("Cell"):
        out = (module(x[0], h),)
    elif which.endswith("batch-first"):
        out = module(x.transpose(0, 1).contiguous())
    else:
        out = module(x)
    out = _flat(out)
    sum(o.float().sum() * (k + 1) for k, o in enumerate(out)).backward()
    return out + [x.grad] + [p.grad for p in module.parameters()]


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize(
    "which", ["RNN", "RNN-relu-batch-first", "GRU", "RNNCell", "GRUCell", "LSTMCell", "LSTM-projected"]
)
def test_16_bit_recurrent_layers_and_cells_round_after_each_op_as_torch(device, which, dtype_name):
    # PyTorch's cpu RNN/GRU layers and RNN/GRU/LSTM cells in float16 or bfloat16 (and RNN ones under autocast)
    # are linear ops and gate arithmetic, each rounding to the 16-bit type; ember's fused kernels rounded
    # once per step: a bfloat16 GRU's weight gradient off by 0.03 (of 2.6), outputs by a bfloat16 ulp
    if dtype_name == "bfloat16" and device.startswith("opencl"):
        pytest.skip("opencl has no bfloat16")
    ours = _recurrent_in_16_bits(ember, which, dtype_name, device)
    theirs = _recurrent_in_16_bits(torch, which, dtype_name)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        _assert_same_roundings(a.detach().float().cpu().numpy(), b.detach().float().numpy())
