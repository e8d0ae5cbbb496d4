"""LSTM, GRU and RNN under cpu autocast against PyTorch: bfloat16 outputs for the LSTM (PyTorch's
cpu table lists ``mkldnn_rnn_layer``) and the Elman RNN (made of linear ops), float32 for the GRU,
and the LSTM refused under float16 autocast as PyTorch refuses it. Devices that do not follow the
cpu policy table (OpenCL) have no PyTorch autocast of their kind to compare with, and are skipped."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

MODULES = {
    "lstm": lambda nn: nn.LSTM(3, 4),
    "lstm_deep_bidirectional": lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    "gru": lambda nn: nn.GRU(3, 4),
    "rnn_tanh": lambda nn: nn.RNN(3, 4),
    "rnn_relu": lambda nn: nn.RNN(3, 4, nonlinearity="relu"),
}


def _autocast_type(device):
    backend = ember.backends.get_backend(device)
    if "cpu" not in (backend.device_type, backend.autocast_device_type):
        pytest.skip(f"{device} does not follow the cpu policy table (PyTorch has no autocast of its kind to compare)")
    return backend.device_type


def _pair(name, device):
    torch.manual_seed(0)
    t_module = MODULES[name](torch.nn)
    e_module = MODULES[name](ember.nn).to(device)
    e_module.load_state_dict(
        {k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_module.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    return t_module, e_module, torch.tensor(x, requires_grad=True), ember.tensor(x, device=device, requires_grad=True)


def _flat(result):
    output, hidden = result
    return [output, *hidden] if isinstance(hidden, tuple) else [output, hidden]


@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_recurrent_module_under_autocast_matches_torch(device, name, fast):
    region = _autocast_type(device)
    t_module, e_module, tx, ex = _pair(name, device)
    try:
        with torch.autocast("cpu", dtype=getattr(torch, fast)):
            expected = _flat(t_module(tx))
    except RuntimeError:  # PyTorch's cpu LSTM has no float16 kernel
        with pytest.raises(RuntimeError, match="float16"), ember.autocast(region, dtype=getattr(ember, fast)):
            e_module(ex)
        return
    with ember.autocast(region, dtype=getattr(ember, fast)):
        got = _flat(e_module(ex))
    for g, w in zip(got, expected, strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.float().detach().cpu().numpy(), w.float().detach().numpy(), atol=5e-2, rtol=5e-2)
    sum(g.float().sum() for g in got).backward()
    sum(w.float().sum() for w in expected).backward()
    assert ex.grad.dtype is ember.float32 and e_module.weight_ih_l0.grad.dtype is ember.float32
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), atol=1e-1, rtol=1e-1)


def _hidden(lib, module, dtype):
    layers = module.num_layers * (2 if module.bidirectional else 1)
    h = lib.zeros(layers, 3, module.proj_size or module.hidden_size, dtype=dtype)
    return (h, lib.zeros(layers, 3, module.hidden_size, dtype=dtype)) if isinstance(module, lib.nn.LSTM) else h


@pytest.mark.parametrize("hidden", [None, "float32", "bfloat16"])
@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", sorted(MODULES) + ["lstm_projections"])
def test_recurrent_module_takes_a_16_bit_input_under_autocast_as_torch(device, name, input_dtype, hidden):
    # a bfloat16 activation (a Linear's output in the region) fed to a float32 module: PyTorch's dtype
    # check stands aside under autocast; the GRU runs in its hidden state's dtype, the LSTM with
    # projections in bfloat16 with its cell state in the dtype it was given
    region = _autocast_type(device)
    build = MODULES.get(name, lambda nn: nn.LSTM(3, 4, proj_size=2))
    torch.manual_seed(0)
    t_module = build(torch.nn)
    e_module = build(ember.nn).to(device)
    e_module.load_state_dict(
        {k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_module.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    if getattr(t_module, "batch_first", False):
        x = x.transpose(1, 0, 2).copy()
    tx = torch.tensor(x).to(getattr(torch, input_dtype))
    ex = ember.tensor(x, device=device).to(getattr(ember, input_dtype))
    t_args = (tx,) if hidden is None else (tx, _hidden(torch, t_module, getattr(torch, hidden)))
    e_args = (ex,) if hidden is None else (ex, _hidden(ember, e_module, getattr(ember, hidden)))
    if hidden is not None:
        e_args = (ex, tuple(h.to(device) for h in e_args[1]) if isinstance(e_args[1], tuple) else e_args[1].to(device))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = _flat(t_module(*t_args))
    with ember.autocast(region, dtype=ember.bfloat16):
        got = _flat(e_module(*e_args))
    for g, w in zip(got, expected, strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.float().detach().cpu().numpy(), w.float().detach().numpy(), atol=5e-2, rtol=5e-2)


CELLS = {
    "rnn_cell": lambda nn: nn.RNNCell(3, 4),
    "gru_cell": lambda nn: nn.GRUCell(3, 4),
    "lstm_cell": lambda nn: nn.LSTMCell(3, 4),
}


@pytest.mark.parametrize("hidden", [None, "float32", "bfloat16"])
@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", sorted(CELLS))
def test_recurrent_cell_under_autocast_matches_torch(device, name, input_dtype, hidden):
    # PyTorch's cpu cells are linear ops: the Elman cell comes out in bfloat16, the GRU and LSTM cells
    # in their state's dtype (the input's when no state is given)
    region = _autocast_type(device)
    torch.manual_seed(0)
    t_cell = CELLS[name](torch.nn)
    e_cell = CELLS[name](ember.nn).to(device)
    e_cell.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_cell.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    results = []
    for lib, cell, dev in ((torch, t_cell, "cpu"), (ember, e_cell, device)):
        args = [lib.tensor(x, device=dev).to(getattr(lib, input_dtype))]
        if hidden is not None:
            h = lib.full((2, 4), 0.5, dtype=getattr(lib, hidden), device=dev)
            args.append((h, h * 2) if name == "lstm_cell" else h)
        with lib.autocast(region if lib is ember else "cpu", dtype=lib.bfloat16):
            out = cell(*args)
        results.append(list(out) if isinstance(out, tuple) else [out])
    for g, w in zip(*results[::-1], strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.float().detach().cpu().numpy(), w.float().detach().numpy(), atol=5e-2, rtol=5e-2)
