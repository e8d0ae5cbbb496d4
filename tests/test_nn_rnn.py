"""Recurrent layers and cells, differential against PyTorch: outputs, final states, and the
gradients of the input, the initial states and every parameter."""

from __future__ import annotations

import numpy as np
import pytest
from reference import TOLERANCES, assert_close, randn

import ember
from ember import nn
from ember.nn.utils import rnn as ember_rnn

torch = pytest.importorskip("torch")
from torch.nn.utils import rnn as torch_rnn  # noqa: E402

MODES = ["RNN", "RNN_relu", "LSTM", "GRU"]
# (num_layers, bias, batch_first, bidirectional, initial state): a covering set of combinations
CONFIGS = [
    (1, True, False, False, False),
    (1, False, True, False, True),
    (2, True, False, True, True),
    (2, False, False, True, False),
    (2, True, True, False, False),
    (1, True, True, True, True),
]
I, H, T, B = 3, 4, 4, 2


def _tdtype(dtype):
    return getattr(torch, dtype.name)


def _make(mode, *args, **kwargs):
    """The torch module and an ember module loaded from its state_dict (keys and shapes unchanged)."""
    name, extra = (mode.split("_") + [None])[:2]
    if extra:
        kwargs["nonlinearity"] = extra
    ember_dtype = kwargs.pop("dtype")
    device = kwargs.pop("device")
    t = getattr(torch.nn, name)(*args, **kwargs).to(_tdtype(ember_dtype))
    e = getattr(nn, name)(*args, **kwargs, dtype=ember_dtype, device=device)
    state = t.state_dict()
    assert list(e.state_dict()) == list(state)
    assert [tuple(v.shape) for v in e.state_dict().values()] == [tuple(v.shape) for v in state.values()]
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in state.items()})
    return e, t


def _pair(array, dtype, device):
    return (
        ember.tensor(array, dtype=dtype, device=device, requires_grad=True),
        torch.tensor(array, dtype=_tdtype(dtype), requires_grad=True),
    )


def _flat(out):
    if isinstance(out, (ember_rnn.PackedSequence, torch_rnn.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flat(item)]
    return [out]


def _compare(e_out, t_out, e_leaves, t_leaves, dtype, tol=1.0):
    rtol, atol = (v * tol for v in TOLERANCES[dtype.name])
    e_out, t_out = _flat(e_out), _flat(t_out)
    assert len(e_out) == len(t_out)
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        assert_close(e, t, dtype, rtol, atol, what=f"output {k}")
    e_loss, t_loss = 0, 0
    for e, t in zip(e_out, t_out):
        up = randn(*t.shape)
        e_loss = e_loss + (e * ember.tensor(up, dtype=dtype, device=e.device)).sum()
        t_loss = t_loss + (t * torch.tensor(up, dtype=t.dtype)).sum()
    e_loss.backward()
    t_loss.backward()
    for k, (e, t) in enumerate(zip(e_leaves, t_leaves)):
        assert e.grad is not None, f"leaf {k}: ember computed no gradient"
        assert_close(e.grad, t.grad, dtype, rtol, atol, what=f"grad of leaf {k}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS)
def test_module_matches_torch(mode, config, device, dtype):
    _module_case(mode, config, device, dtype)


@pytest.mark.parametrize("config", CONFIGS)
def test_lstm_numpy_kernels_match_torch(config, device, dtype, no_onednn):
    """The NumPy backend's own LSTM kernels, where oneDNN's primitive would otherwise take float32."""
    _module_case("LSTM", config, device, dtype)


def _module_case(mode, config, device, dtype):
    layers, bias, batch_first, bidirectional, with_state = config
    e, t = _make(
        mode,
        I,
        H,
        layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        dtype=dtype,
        device=device,
    )
    ex, tx = _pair(randn(B, T, I) if batch_first else randn(T, B, I), dtype, device)
    e_leaves, t_leaves = [ex], [tx]
    e_args, t_args = [ex], [tx]
    if with_state:
        states = [_pair(randn(layers * (2 if bidirectional else 1), B, H), dtype, device) for _ in range(2)]
        if mode == "LSTM":
            e_args.append((states[0][0], states[1][0]))
            t_args.append((states[0][1], states[1][1]))
            e_leaves += [states[0][0], states[1][0]]
            t_leaves += [states[0][1], states[1][1]]
        else:
            e_args.append(states[0][0])
            t_args.append(states[0][1])
            e_leaves.append(states[0][0])
            t_leaves.append(states[0][1])
    e_leaves += list(e.parameters())
    t_leaves += list(t.parameters())
    _compare(e(*e_args), t(*t_args), e_leaves, t_leaves, dtype)


@pytest.mark.parametrize("onednn", [True, False], ids=["onednn", "numpy-kernels"])
def test_lstm_language_model_shape_matches_torch(device, dtype, onednn, request):
    """A batch of 16 and 256 hidden units, in both directions: the NumPy backend splits these
    per-step products into column blocks (OpenBLAS's small-matrix GEMM) unless oneDNN's primitive
    takes the layer, so this covers both paths."""
    if not onednn:
        request.getfixturevalue("no_onednn")
    e, t = _make("LSTM", 32, 256, 1, bidirectional=True, dtype=dtype, device=device)
    ex, tx = _pair(randn(3, 16, 32), dtype, device)
    e_state = [_pair(randn(2, 16, 256), dtype, device) for _ in range(2)]
    e_leaves = [ex, *(p[0] for p in e_state), *e.parameters()]
    t_leaves = [tx, *(p[1] for p in e_state), *t.parameters()]
    e_out = e(ex, (e_state[0][0], e_state[1][0]))
    t_out = t(tx, (e_state[0][1], e_state[1][1]))
    _compare(e_out, t_out, e_leaves, t_leaves, dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_input(mode, bidirectional, enforce_sorted, device, dtype):
    lengths = [4, 3, 1] if enforce_sorted else [2, 4, 1]
    e, t = _make(mode, I, H, 2, bidirectional=bidirectional, dtype=dtype, device=device)
    ex, tx = _pair(randn(4, 3, I), dtype, device)
    d = 2 if bidirectional else 1
    eh, th = _pair(randn(2 * d, 3, H), dtype, device)
    ec, tc = _pair(randn(2 * d, 3, H), dtype, device)
    e_in = ember_rnn.pack_padded_sequence(ex, lengths, enforce_sorted=enforce_sorted)
    t_in = torch_rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    if mode == "LSTM":
        e_out, (e_h, e_c) = e(e_in, (eh, ec))
        t_out, (t_h, t_c) = t(t_in, (th, tc))
        e_states, t_states = [e_h, e_c], [t_h, t_c]
        e_leaves, t_leaves = [ex, eh, ec], [tx, th, tc]
    else:
        e_out, e_h = e(e_in, eh)
        t_out, t_h = t(t_in, th)
        e_states, t_states = [e_h], [t_h]
        e_leaves, t_leaves = [ex, eh], [tx, th]
    assert isinstance(e_out, ember_rnn.PackedSequence)
    assert e_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
    e_pad, e_len = ember_rnn.pad_packed_sequence(e_out)
    t_pad, t_len = torch_rnn.pad_packed_sequence(t_out)
    assert e_len.tolist() == t_len.tolist()
    _compare(
        [e_pad, *e_states],
        [t_pad, *t_states],
        e_leaves + list(e.parameters()),
        t_leaves + list(t.parameters()),
        dtype,
    )


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_lstm_projections(bidirectional, packed, device, dtype):
    e, t = _make("LSTM", I, H, 2, proj_size=2, bidirectional=bidirectional, dtype=dtype, device=device)
    d = 2 if bidirectional else 1
    ex, tx = _pair(randn(T, 3, I), dtype, device)
    eh, th = _pair(randn(2 * d, 3, 2), dtype, device)
    ec, tc = _pair(randn(2 * d, 3, H), dtype, device)
    e_in, t_in = ex, tx
    if packed:
        e_in = ember_rnn.pack_padded_sequence(ex, [2, 4, 1], enforce_sorted=False)
        t_in = torch_rnn.pack_padded_sequence(tx, [2, 4, 1], enforce_sorted=False)
    e_out, t_out = e(e_in, (eh, ec)), t(t_in, (th, tc))
    assert _flat(e_out)[0].shape == _flat(t_out)[0].shape
    _compare(e_out, t_out, [ex, eh, ec, *e.parameters()], [tx, th, tc, *t.parameters()], dtype)


def test_gradcheck_lstm_projection(device):
    m = nn.LSTM(2, 3, proj_size=2, dtype=ember.float64, device=device)
    x = ember.tensor(randn(3, 2, 2), device=device, requires_grad=True)
    h = ember.tensor(randn(1, 2, 2), device=device, requires_grad=True)
    c = ember.tensor(randn(1, 2, 3), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(lambda *a: m(a[0], (a[1], a[2]))[0], (x, h, c))


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input(mode, device, dtype):
    e, t = _make(mode, I, H, 2, bidirectional=True, dtype=dtype, device=device)
    ex, tx = _pair(randn(T, I), dtype, device)
    eh, th = _pair(randn(4, H), dtype, device)
    if mode == "LSTM":
        ec, tc = _pair(randn(4, H), dtype, device)
        _compare(e(ex, (eh, ec)), t(tx, (th, tc)), [ex, eh, ec], [tx, th, tc], dtype)
    else:
        _compare(e(ex, eh), t(tx, th), [ex, eh], [tx, th], dtype)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_eval_matches_and_train_shape(mode, device, dtype):
    e, t = _make(mode, I, H, 2, dropout=0.5, dtype=dtype, device=device)
    e.eval()
    t.eval()
    ex, tx = _pair(randn(T, B, I), dtype, device)
    _compare(e(ex), t(tx), [ex], [tx], dtype)
    e.train()
    out, _ = e(ember.tensor(randn(T, B, I), dtype=dtype, device=device))
    assert out.shape == (T, B, H)


def test_dropout_arguments():
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("cell", ["RNNCell", "RNNCell_relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(cell, bias, batched, with_state, device, dtype):
    name, extra = (cell.split("_") + [None])[:2]
    kwargs = {"nonlinearity": extra} if extra else {}
    t = getattr(torch.nn, name)(I, H, bias=bias, **kwargs).to(_tdtype(dtype))
    e = getattr(nn, name)(I, H, bias=bias, **kwargs, dtype=dtype, device=device)
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in t.state_dict().items()})
    lead = (B,) if batched else ()
    ex, tx = _pair(randn(*lead, I), dtype, device)
    e_leaves, t_leaves = [ex], [tx]
    e_args, t_args = [ex], [tx]
    if with_state:
        pairs = [_pair(randn(*lead, H), dtype, device) for _ in range(2 if name == "LSTMCell" else 1)]
        e_leaves += [p[0] for p in pairs]
        t_leaves += [p[1] for p in pairs]
        if name == "LSTMCell":
            e_args.append(tuple(p[0] for p in pairs))
            t_args.append(tuple(p[1] for p in pairs))
        else:
            e_args.append(pairs[0][0])
            t_args.append(pairs[0][1])
    _compare(e(*e_args), t(*t_args), e_leaves + list(e.parameters()), t_leaves + list(t.parameters()), dtype)


def _layer_fn(mode, batch_sizes, reverse):
    from ember.nn.modules.rnn import _RecurrentLayer

    def fn(x, h0, *rest):
        c0 = rest[0] if mode == "LSTM" else None
        weights = rest[1:] if mode == "LSTM" else rest
        return _RecurrentLayer.apply(x, h0, c0, *weights, None, mode, batch_sizes, reverse)

    return fn


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_layer(mode, reverse, device):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    batch_sizes = (3, 2, 1)
    shapes = [(6, 2), (3, 2)] + ([(3, 2)] if mode == "LSTM" else []) + [(gates * 2, 2), (gates * 2, 2)]
    shapes += [(gates * 2,), (gates * 2,)]
    inputs = [ember.tensor(randn(*s) * 0.5, device=device, requires_grad=True) for s in shapes]
    assert ember.autograd.gradcheck(_layer_fn(mode, batch_sizes, reverse), tuple(inputs))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_gradgradcheck_layer_uses_composite(mode, device):
    gates = {"LSTM": 4, "GRU": 3}[mode]
    shapes = [(4, 2), (2, 2)] + ([(2, 2)] if mode == "LSTM" else []) + [(gates * 2, 2), (gates * 2, 2)]
    shapes += [(gates * 2,), (gates * 2,)]
    inputs = [ember.tensor(randn(*s) * 0.5, device=device, requires_grad=True) for s in shapes]
    assert ember.autograd.gradgradcheck(_layer_fn(mode, (2, 2), False), tuple(inputs))


def test_double_backward_matches_torch(device):
    e, t = _make("LSTM", 2, 3, dtype=ember.float64, device=device)
    ex, tx = _pair(randn(3, 2, 2), ember.float64, device)
    (eg,) = ember.autograd.grad(e(ex)[0].tanh().sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad(t(tx)[0].tanh().sum(), tx, create_graph=True)
    assert_close(eg, tg, ember.float64)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    assert_close(ex.grad, tx.grad, ember.float64)
    assert_close(e.weight_hh_l0.grad, t.weight_hh_l0.grad, ember.float64)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("packed", [False, True])
def test_forward_mode_matches_torch(mode, packed, device):
    """jvp through a (bidirectional, two-layer) recurrent module with respect to its input and a weight,
    or, for a packed input (PyTorch's packing has no forward rule), the weight alone (the fused layer
    has no forward rule: under a dual level the module runs its composite form)."""
    e, t = _make(mode, I, H, 2, bidirectional=True, dtype=ember.float64, device=device)
    x, tangent, weight_tangent = randn(T, B, I), randn(T, B, I), randn(*t.weight_hh_l0.shape)

    def run(lib, module, rnn_utils, x, dx, dw):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            if packed:
                x = rnn_utils.pack_padded_sequence(x, [T, T - 1])
            else:
                x = fw.make_dual(x, dx)
            w = fw.make_dual(module.weight_hh_l0.detach(), dw)
            out, state = lib.func.functional_call(module, {"weight_hh_l0": w}, (x,), strict=False)
            outs = _flat((out.data if packed else out, state))
            return [fw.unpack_dual(o).primal.detach() for o in outs] + [fw.unpack_dual(o).tangent for o in outs]

    def as_e(a):
        return ember.tensor(a, dtype=ember.float64, device=device)

    got = run(ember, e, ember_rnn, as_e(x), as_e(tangent), as_e(weight_tangent))
    expected = run(torch, t, torch_rnn, torch.tensor(x), torch.tensor(tangent), torch.tensor(weight_tangent))
    got, expected = _flat(got), _flat(expected)
    assert len(got) == len(expected)
    for k, (g, w) in enumerate(zip(got, expected)):
        assert_close(g, w, ember.float64, what=f"primal/tangent {k}")


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_forward_mode_matches_torch(cell, device):
    import torch.autograd.forward_ad as torch_fw

    import ember.autograd.forward_ad as ember_fw

    t = getattr(torch.nn, cell)(I, H).double()
    e = getattr(nn, cell)(I, H, dtype=ember.float64, device=device)
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in t.state_dict().items()})
    x, tangent = randn(B, I), randn(B, I)
    results = []
    for lib, fw, module in ((ember, ember_fw, e), (torch, torch_fw, t)):
        place = {"device": device} if lib is ember else {}
        with fw.dual_level():
            out = module(fw.make_dual(lib.tensor(x, **place), lib.tensor(tangent, **place)))
            results.append([fw.unpack_dual(o).tangent for o in (out if isinstance(out, tuple) else (out,))])
    for g, w in zip(*results):
        assert_close(g, w, ember.float64)


def test_parameters_layout_and_repr():
    m = nn.LSTM(10, 20, 2, bias=False, bidirectional=True)
    t = torch.nn.LSTM(10, 20, 2, bias=False, bidirectional=True)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [[tuple(p.shape) for p in ws] for ws in m.all_weights] == [
        [tuple(p.shape) for p in ws] for ws in t.all_weights
    ]
    assert repr(m) == repr(t)
    assert repr(nn.RNN(3, 4, nonlinearity="relu", batch_first=True)) == repr(
        torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True)
    )
    assert repr(nn.GRUCell(3, 4, bias=False)) == repr(torch.nn.GRUCell(3, 4, bias=False))
    bound = 1 / np.sqrt(20)
    assert all(float(p.abs().max()) <= bound for p in m.parameters())


def test_seed_examples():
    rnn = nn.RNN(10, 20, 2)
    output, hn = rnn(ember.randn(5, 3, 10), ember.randn(2, 3, 20))
    assert output.shape == (5, 3, 20) and hn.shape == (2, 3, 20)
    lstm = nn.LSTM(10, 20, 2)
    output, (hn, cn) = lstm(ember.randn(5, 3, 10), (ember.randn(2, 3, 20), ember.randn(2, 3, 20)))
    assert output.shape == (5, 3, 20) and hn.shape == cn.shape == (2, 3, 20)
    gru = nn.GRU(10, 20, 2)
    output, hn = gru(ember.randn(5, 3, 10), ember.randn(2, 3, 20))
    assert output.shape == (5, 3, 20) and hn.shape == (2, 3, 20)
    cell = nn.RNNCell(10, 20)
    inputs, hx = ember.randn(6, 3, 10), ember.randn(3, 20)
    for i in range(6):
        hx = cell(inputs[i], hx)
    assert hx.shape == (3, 20)
    cell = nn.LSTMCell(10, 20)
    hx, cx = ember.randn(3, 20), ember.randn(3, 20)
    for i in range(6):
        hx, cx = cell(inputs[i], (hx, cx))
    assert hx.shape == cx.shape == (3, 20)
    cell = nn.GRUCell(10, 20)
    hx = ember.randn(3, 20)
    for i in range(6):
        hx = cell(inputs[i], hx)
    assert hx.shape == (3, 20)


def test_bad_inputs():
    rnn = nn.RNN(10, 20, 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 10, got 5"):
        rnn(ember.randn(5, 3, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 20\), got \[1, 3, 20\]"):
        rnn(ember.randn(5, 3, 10), ember.randn(1, 3, 20))
    with pytest.raises(ValueError, match="RNN: Expected input to be 2D or 3D, got 4D tensor instead"):
        rnn(ember.randn(5, 3, 10, 1))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"):
        rnn(ember.randn(5, 3, 10), ember.randn(3, 20))
    with pytest.raises(ValueError, match=r"RNN input dtype \(ember.float64\) does not match weight dtype"):
        rnn(ember.randn(5, 3, 10, dtype=ember.float64))
    lstm = nn.LSTM(10, 20)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 20\), got \[1, 2, 20\]"):
        lstm(ember.randn(5, 3, 10), (ember.randn(1, 3, 20), ember.randn(1, 2, 20)))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    cell = nn.LSTMCell(10, 20)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 10"):
        cell(ember.randn(3, 5))
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 19, expected 20"):
        cell(ember.randn(3, 10), (ember.randn(3, 19), ember.randn(3, 20)))
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D instead"):
        nn.GRUCell(10, 20)(ember.randn(1, 3, 10))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.GRU(3, 4)(lib.randn(2, 1, 3), lib.randn(1, 1, 4, dtype=lib.float64)),
        lambda lib: lib.nn.LSTM(3, 4)(lib.randn(2, 1, 3), (lib.randn(1, 1, 4), lib.randn(1, 1, 4, dtype=lib.float64))),
        lambda lib: lib.nn.GRUCell(3, 4)(lib.randn(2, 3), lib.randn(2, 4, dtype=lib.float64)),
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.randn(3), (lib.randn(4, dtype=lib.float64), lib.randn(4))),
        lambda lib: lib.nn.RNNCell(3, 4)(lib.randn(2, 3, dtype=lib.float64)),
        lambda lib: lib.nn.RNN(3, 4)(lib.randn(2, 1, 3, dtype=lib.float64)),
    ],
)
def test_dtype_mismatch_errors_as_torch(call):
    """A hidden state of another dtype than the weights was used as it was (GRU gave float32 outputs
    from a float64 h0); PyTorch refuses it. A cell's input of another dtype raises RuntimeError, as PyTorch's."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(ember)


def test_hidden_state_of_another_dtype_under_cpu_autocast():
    """Under autocast the layer's operands are cast, so a bfloat16 h0/c0 is taken, as in PyTorch."""
    outputs = []
    for lib in (ember, torch):
        lstm = lib.nn.LSTM(3, 4)
        h0 = (lib.zeros(1, 1, 4, dtype=lib.bfloat16), lib.zeros(1, 1, 4, dtype=lib.bfloat16))
        with lib.autocast("cpu", dtype=lib.bfloat16):
            outputs.append(str(lstm(lib.randn(2, 1, 3), h0)[0].dtype).split(".")[-1])
    assert outputs[0] == outputs[1] == "bfloat16"
