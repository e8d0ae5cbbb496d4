"""The recurrent family off the main road, differential against PyTorch: the top-level stacked layers
``ember.lstm``/``gru``/``rnn_tanh``/``rnn_relu`` (padded and packed overloads), a module's
``_flat_weights``, the functional cells' checks, an LSTM cell state of another dtype, the
constructors' type checks, and PackedSequence/pad_sequence details."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from reference import TOLERANCES, assert_close, randn

import ember
from ember import nn

torch = pytest.importorskip("torch")

FUNCTIONS = {"rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}), "gru": ("GRU", {}),
             "lstm": ("LSTM", {})}  # fmt: skip
# (num_layers, bias, bidirectional, proj_size, layout): layout "padded", "batch_first" or "packed"
LAYER_CONFIGS = [
    (1, True, False, 0, "padded"),
    (2, False, True, 0, "batch_first"),
    (3, True, True, 0, "packed"),
    (2, True, True, 2, "padded"),
    (2, False, False, 2, "packed"),
    (1, True, True, 3, "batch_first"),
]
I, H, T, B = 3, 4, 4, 3
LENGTHS = [4, 2, 1]


def _tdtype(dtype):
    return getattr(torch, dtype.name)


def _modules(fn, dtype, device, **kwargs):
    """The torch module for ``fn`` and an ember one loaded from its state_dict."""
    name, extra = FUNCTIONS[fn]
    t = getattr(torch.nn, name)(I, H, **extra, **kwargs).to(_tdtype(dtype))
    e = getattr(nn, name)(I, H, **extra, **kwargs, dtype=dtype, device=device)
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in t.state_dict().items()})
    return e, t


def _leaf_pair(array, dtype, device):
    return (
        ember.tensor(array, dtype=dtype, device=device, requires_grad=True),
        torch.tensor(array, dtype=_tdtype(dtype), requires_grad=True),
    )


def _backward_both(e_outs, t_outs, dtype):
    e_loss, t_loss = 0, 0
    for e, t in zip(e_outs, t_outs):
        up = randn(*t.shape)
        e_loss = e_loss + (e * ember.tensor(up, dtype=dtype, device=e.device)).sum()
        t_loss = t_loss + (t * torch.tensor(up, dtype=t.dtype)).sum()
    e_loss.backward()
    t_loss.backward()


@pytest.mark.parametrize(
    "fn,config",
    [(fn, c) for fn in sorted(FUNCTIONS) for c in LAYER_CONFIGS if fn == "lstm" or not c[3]],  # proj: LSTM's
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else v,
)
def test_top_level_layers_match_torch(fn, config, device, dtype):
    num_layers, bias, bidirectional, proj, layout = config
    kwargs = {"num_layers": num_layers, "bias": bias, "bidirectional": bidirectional}
    if proj:
        kwargs["proj_size"] = proj
    _, t_module = _modules(fn, dtype, "cpu", **kwargs)
    directions = 2 if bidirectional else 1
    x = _leaf_pair(randn(B, T, I) if layout == "batch_first" else randn(T, B, I), dtype, device)
    h = _leaf_pair(randn(directions * num_layers, B, proj or H), dtype, device)
    c = _leaf_pair(randn(directions * num_layers, B, H), dtype, device)
    params = [_leaf_pair(p.detach().numpy(), dtype, device) for p in t_module._flat_weights]
    results = []
    for k, lib in enumerate((ember, torch)):
        hx = (h[k], c[k]) if fn == "lstm" else h[k]
        flat = [p[k] for p in params]
        if layout == "packed":
            packed = lib.nn.utils.rnn.pack_padded_sequence(x[k], LENGTHS)
            args = (packed.data, packed.batch_sizes, hx, flat, bias, num_layers, 0.0, False, bidirectional)
        else:
            args = (x[k], hx, flat, bias, num_layers, 0.0, False, bidirectional, layout == "batch_first")
        results.append(getattr(lib, fn)(*args))
    e_out, t_out = results
    assert isinstance(e_out, tuple) and len(e_out) == len(t_out) == (3 if fn == "lstm" else 2)
    rtol, atol = TOLERANCES[dtype.name]
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        assert e.dtype is dtype
        assert_close(e, t, dtype, rtol, atol, what=f"output {k}")
    _backward_both(e_out, t_out, dtype)
    leaves = [x, h, *([c] if fn == "lstm" else []), *params]
    for k, (e, t) in enumerate(leaves):
        assert_close(e.grad, t.grad, dtype, rtol, atol, what=f"grad of leaf {k}")


@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_top_level_layers_with_dropout_draw_as_torch(fn):
    """In training the dropout between layers takes the same draws as PyTorch's for the same seed."""
    _, t_module = _modules(fn, ember.float64, "cpu", num_layers=3)
    x = randn(5, 2, I)
    h = np.zeros((3, 2, H))
    results = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        hx = (lib.tensor(h), lib.tensor(h)) if fn == "lstm" else lib.tensor(h)
        params = [lib.tensor(p.detach().numpy()) for p in t_module._flat_weights]
        results.append(getattr(lib, fn)(lib.tensor(x), hx, params, True, 3, 0.5, True, False, False))
    for e, t in zip(*results):
        assert_close(e, t, ember.float64)


@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_module_flat_weights_feed_the_top_level_function(fn, device):
    kwargs = {"num_layers": 2, "bidirectional": True, **({"proj_size": 2} if fn == "lstm" else {})}
    e, t = _modules(fn, ember.float64, device, **kwargs)
    assert e._flat_weights_names == t._flat_weights_names
    assert [tuple(p.shape) for p in e._flat_weights] == [tuple(p.shape) for p in t._flat_weights]
    assert all(a is getattr(e, n) for a, n in zip(e._flat_weights, e._flat_weights_names))
    x = randn(5, 2, I)
    hx_shapes = [(4, 2, 2), (4, 2, H)] if fn == "lstm" else [(4, 2, H)]
    states = [randn(*s) for s in hx_shapes]
    e_hx = [ember.tensor(s, device=device) for s in states]
    e_module = e(ember.tensor(x, device=device), tuple(e_hx) if fn == "lstm" else e_hx[0])
    e_function = getattr(ember, fn)(
        ember.tensor(x, device=device), e_hx if fn == "lstm" else e_hx[0], e._flat_weights, True, 2, 0.0, False,
        True, False,
    )  # fmt: skip
    module_flat = [e_module[0], *(e_module[1] if fn == "lstm" else [e_module[1]])]
    for a, b in zip(module_flat, e_function):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    # a reassigned parameter is the one listed, as in PyTorch
    w = randn(*t.weight_ih_l0.shape)
    e.weight_ih_l0 = nn.Parameter(ember.tensor(w, device=device))
    t.weight_ih_l0 = torch.nn.Parameter(torch.tensor(w))
    assert e._flat_weights[0] is e.weight_ih_l0
    e_out = e(ember.tensor(x, device=device))[0]
    t_out = t(torch.tensor(x))[0]
    assert_close(e_out, t_out, ember.float64)
    clone = copy.deepcopy(e)
    assert clone._flat_weights[0] is clone.weight_ih_l0 and clone._flat_weights[0] is not e.weight_ih_l0


def _raises_as_torch(call, exc, match):
    for lib in (torch, ember):
        with pytest.raises(exc, match=match):
            call(lib)


def _lstm_args(lib, **change):
    module = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=2)
    params = [lib.tensor(p.detach().numpy()) for p in module._flat_weights]
    args = {"input": lib.zeros(5, 2, I), "hx": (lib.zeros(4, 2, 2), lib.zeros(4, 2, H)), "params": params,
            "has_biases": True, "num_layers": 2, "dropout": 0.0, "train": False, "bidirectional": True,
            "batch_first": False}  # fmt: skip
    args.update(change)
    return args


@pytest.mark.parametrize(
    "change,exc,match",
    [
        (lambda lib, a: a.update(params=a["params"][:-1]), RuntimeError, "^got an incorrect number of RNN parameters$"),
        (lambda lib, a: a.update(has_biases=False), RuntimeError, "^got an incorrect number of RNN parameters$"),
        (lambda lib, a: a.update(hx=a["hx"][:1]), RuntimeError, "^lstm expects two hidden states$"),
        (lambda lib, a: a.update(input=a["input"][:0]), RuntimeError, "Expected sequence length to be larger than 0"),
        (lambda lib, a: a.update(input=a["input"].double()), RuntimeError, "must have the same dtype"),
        (lambda lib, a: a.update(hx=(a["hx"][0].double(), a["hx"][1])), RuntimeError, "same dtype"),
        (lambda lib, a: a.update(has_biases=1), TypeError, r"lstm\(\) received an invalid combination of arguments"),
        (lambda lib, a: a.pop("batch_first"), TypeError, r"lstm\(\) received an invalid combination of arguments"),
    ],
)
def test_top_level_lstm_errors_as_torch(change, exc, match):
    def call(lib):
        args = _lstm_args(lib)
        change(lib, args)
        if "batch_first" not in args:  # positionally, as PyTorch's parser sees it
            return lib.lstm(*args.values())
        return lib.lstm(**args)

    _raises_as_torch(call, exc, match)


def test_top_level_gru_errors():
    """Wrong shapes PyTorch reports from inside its matrix products: ember names the operand instead."""

    def gru(lib, x=(5, 2, I), h=(1, 2, H), w_ih=(3 * H, I), w_hh=(3 * H, H)):
        return lib.gru(lib.zeros(*x), lib.zeros(*h), [lib.zeros(*w_ih), lib.zeros(*w_hh)], False, 1, 0.0, False,
                       False, False)  # fmt: skip

    for kwargs, match in [
        ({"w_ih": (3 * H, H)}, r"gru: w_ih of layer 0 must be \[12, 3\]"),
        ({"w_ih": (11, I), "w_hh": (11, H)}, r"gru: w_ih of layer 0 must be \[12, 3\]"),
        ({"h": (1, 3, H)}, r"gru: expected hidden state 0 of size \[1, 2, 4\], got \[1, 3, 4\]"),
        ({"x": (5, 2, I, 1)}, r"gru: input must have 3 dimensions, got \[5, 2, 3, 1\]"),
    ]:  # fmt: skip
        with pytest.raises(RuntimeError):
            gru(torch, **kwargs)
        with pytest.raises(RuntimeError, match=match):
            gru(ember, **kwargs)
    with pytest.raises(RuntimeError, match=r"gru: input must have 3 dimensions, got \[5, 3\]"):
        gru(ember, x=(5, I))  # PyTorch broadcasts it over the states' batch (undocumented)
    with pytest.raises(TypeError, match=r"gru\(\) received an invalid combination"):
        ember.gru(ember.zeros(5, 2, I), (ember.zeros(1, 2, H),), [], False, 1, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="batch_sizes"):  # PyTorch reads past the data here
        ember.gru(ember.zeros(10, I), ember.tensor([2, 2, 2, 2, 1]), ember.zeros(1, 2, H),
                  [ember.zeros(3 * H, I), ember.zeros(3 * H, H)], False, 1, 0.0, False, False)  # fmt: skip


def test_top_level_layers_zero_batch():
    for lib in (ember, torch):
        out, h = lib.gru(lib.zeros(5, 0, I), lib.zeros(1, 0, H), [lib.zeros(3 * H, I), lib.zeros(3 * H, H)], False,
                         1, 0.0, False, False, False)  # fmt: skip
        assert tuple(out.shape) == (5, 0, H) and tuple(h.shape) == (1, 0, H)


# -- cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda lib: lib.gru_cell(lib.zeros(2, I), lib.zeros(2, H), lib.zeros(16, I), lib.zeros(16, H)),
         r"^weight_ih first dim must be 3 \* hidden_size = 12, but got 16$"),
        (lambda lib: lib.gru_cell(lib.zeros(2, I), lib.zeros(2, H), lib.zeros(12, I), lib.zeros(16, H)),
         r"^weight_hh first dim must be 3 \* hidden_size = 12, but got 16$"),
        (lambda lib: lib.lstm_cell(lib.zeros(2, I), (lib.zeros(2, H), lib.zeros(2, H)), lib.zeros(12, I),
                                   lib.zeros(12, H)),
         r"^weight_ih first dim must be 4 \* hidden_size = 16, but got 12$"),
        (lambda lib: lib.rnn_tanh_cell(lib.zeros(2, I), lib.zeros(2, H), lib.zeros(H, I), lib.zeros(H, H).double()),
         r"^expected m1 and m2 to have the same dtype, but got: float != double$"),
        (lambda lib: lib.rnn_relu_cell(lib.zeros(2, I).double(), lib.zeros(2, H), lib.zeros(H, I), lib.zeros(H, H)),
         r"^expected m1 and m2 to have the same dtype, but got: double != float$"),
        (lambda lib: lib.gru_cell(lib.zeros(2, I), lib.zeros(2, H).double(), lib.zeros(12, I), lib.zeros(12, H)),
         r"^expected m1 and m2 to have the same dtype, but got: double != float$"),
    ],
)  # fmt: skip
def test_functional_cell_errors_as_torch(call, match):
    _raises_as_torch(call, RuntimeError, match)


@pytest.mark.parametrize("form", ["function", "module"])
def test_lstm_cell_state_of_another_dtype_promotes_as_torch(form, device):
    """PyTorch's LSTM cell computes its gates in the input's dtype and the new cell state (and from it h) in
    the type promoted with c's."""
    x, h, c = randn(2, I), randn(2, H), randn(2, H)
    w_ih, w_hh, b = randn(4 * H, I), randn(4 * H, H), randn(4 * H)
    results = []
    for lib in (ember, torch):
        kw = {"device": device} if lib is ember else {}
        xs = lib.tensor(x, dtype=lib.float32, requires_grad=True, **kw)
        cs = lib.tensor(c, dtype=lib.float64, requires_grad=True, **kw)
        hs = lib.tensor(h, dtype=lib.float32, **kw)
        if form == "function":
            ws = [lib.tensor(a, dtype=lib.float32, **kw) for a in (w_ih, w_hh, b, b)]
            out = lib.lstm_cell(xs, (hs, cs), *ws)
        else:
            cell = lib.nn.LSTMCell(I, H)
            with lib.no_grad():
                for p, a in zip(cell.parameters(), (w_ih, w_hh, b, b)):
                    p.copy_(lib.tensor(a, dtype=lib.float32))
            out = cell.to(**kw)(xs, (hs, cs))
        (out[0].sum() + out[1].pow(2).sum()).backward()
        results.append((out, xs.grad, cs.grad))
    (e_out, e_gx, e_gc), (t_out, t_gx, t_gc) = results
    for e, t in zip(e_out, t_out):
        assert e.dtype is ember.float64 and t.dtype is torch.float64
        assert_close(e, t, ember.float32)
    assert e_gx.dtype is ember.float32 and e_gc.dtype is ember.float64
    assert_close(e_gx, t_gx, ember.float32)
    assert_close(e_gc, t_gc, ember.float32)


# -- modules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"bias": 1}, "^bias should be of type bool, got: int$"),
        ({"bias": "relu"}, "^bias should be of type bool, got: str$"),
        ({"batch_first": 0}, "^batch_first should be of type bool, got: int$"),
        ({"input_size": 3.0}, "^input_size should be of type int, got: float$"),
    ],
)
def test_constructor_type_checks_as_torch(name, kwargs, match):
    kwargs = {"input_size": I, "hidden_size": H, **kwargs}
    _raises_as_torch(lambda lib: getattr(lib.nn, name)(**kwargs), TypeError, match)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_module_input_of_wrong_rank_message_as_torch(name):
    for shape in [(5,), (5, 2, I, 1)]:
        messages = []
        for lib in (torch, ember):
            with pytest.raises(ValueError) as info:
                getattr(lib.nn, name)(I, H)(lib.zeros(*shape))
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_lstm_given_one_tensor_as_state_reports_as_torch():
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            lib.nn.LSTM(I, H)(lib.zeros(5, 2, I), lib.zeros(2, 2, H))
        messages.append(str(info.value))
    assert (
        messages[0] == messages[1] == "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors"
    )
    for lib in (torch, ember):
        with pytest.raises(IndexError):
            lib.nn.LSTM(I, H)(lib.zeros(5, 2, I), (lib.zeros(1, 2, H),))
        with pytest.raises(IndexError):
            lib.nn.LSTM(I, H)(lib.zeros(5, 2, I), lib.zeros(1, 2, H))


# -- utils.rnn ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,dtype", [("long", "int64"), ("int", "int32"), ("short", "int16"),
                                          ("char", "int8"), ("byte", "uint8")])  # fmt: skip
def test_packed_sequence_integer_conversions(method, dtype, device):
    seqs = [[3, 1, 2], [5], [4, 6]]
    e = nn.utils.rnn.pack_sequence([ember.tensor(s, dtype=ember.float32, device=device) for s in seqs], False)
    t = torch.nn.utils.rnn.pack_sequence([torch.tensor(s, dtype=torch.float32) for s in seqs], False)
    e2, t2 = getattr(e, method)(), getattr(t, method)()
    assert type(e2) is type(e)
    assert e2.data.dtype is getattr(ember, dtype) and t2.data.dtype is getattr(torch, dtype)
    assert e2.data.tolist() == t2.data.tolist()
    assert e2.sorted_indices.tolist() == t2.sorted_indices.tolist()
    assert e2.batch_sizes.tolist() == t2.batch_sizes.tolist()


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"), ("float64", "int64")])
def test_pad_sequence_takes_the_first_sequences_dtype(dtypes, device):
    values = [[1.5, -2.5, 3.0], [4.75]]
    e = nn.utils.rnn.pad_sequence(
        [ember.tensor(v, device=device).to(getattr(ember, d)) for v, d in zip(values, dtypes)], padding_value=7
    )
    t = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(v).to(getattr(torch, d)) for v, d in zip(values, dtypes)], padding_value=7
    )
    assert e.dtype is getattr(ember, dtypes[0]) and t.dtype is getattr(torch, dtypes[0])
    assert e.tolist() == t.tolist()


def test_pack_padded_sequence_length_count_error_as_torch():
    _raises_as_torch(
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 2]),
        RuntimeError,
        r"^Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)$",
    )


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda lib: lib.nn.utils.rnn.pack_sequence([lib.zeros(0, 2)]), RuntimeError, "^Cannot pack empty tensors.$"),
        (lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 0, 2), []), RuntimeError,
         "^Cannot pack empty tensors.$"),
        (lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3), [3]), IndexError, ""),
        (lambda lib: lib.nn.utils.rnn.pack_sequence([lib.tensor(1.0)]), IndexError, ""),
    ],
)  # fmt: skip
def test_packing_errors_as_torch(call, exc, match):
    _raises_as_torch(call, exc, match)


@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_top_level_layers_under_cpu_autocast_as_torch(fn, input_dtype):
    """Under autocast the top-level layers cast as the modules do (GRU keeps float32 on the CPU, as PyTorch's)."""
    _, t_module = _modules(fn, ember.float32, "cpu")
    x = randn(5, 2, I)
    results = []
    for lib in (ember, torch):
        params = [lib.tensor(p.detach().numpy()) for p in t_module._flat_weights]
        with lib.autocast("cpu", dtype=lib.bfloat16):
            hx = (lib.zeros(1, 2, H), lib.zeros(1, 2, H)) if fn == "lstm" else lib.zeros(1, 2, H)
            xs = lib.tensor(x, dtype=lib.float32).to(getattr(lib, input_dtype))
            results.append(getattr(lib, fn)(xs, hx, params, True, 1, 0.0, False, False, False))
    for e, t in zip(*results):
        assert e.dtype.name == str(t.dtype).split(".")[1]
        assert_close(e.float(), t.float(), ember.float32, 2e-2, 2e-2)


def _checking_helpers(lib):
    lstm = lib.nn.LSTM(I, H, num_layers=2, proj_size=2, batch_first=True)
    gru = lib.nn.GRU(I, H, bidirectional=True)
    x = lib.zeros(2, 5, I)
    got = [
        lstm.get_expected_hidden_size(x, None),
        lstm.get_expected_cell_size(x, None),
        lstm.get_expected_hidden_size(x, lib.tensor([3, 1])),
        gru.get_expected_hidden_size(x, None),
        gru.permute_hidden(lib.arange(6.0).reshape(1, 3, 2), lib.tensor([2, 0, 1])).tolist(),
        [h.tolist() for h in lstm.permute_hidden((lib.ones(1, 2, 1), lib.zeros(1, 2, 1)), None)],
    ]
    for call in [
        lambda: lstm.check_forward_args(x, (lib.zeros(4, 2, 2), lib.zeros(4, 2, 3)), None),
        lambda: lstm.check_forward_args(x, (lib.zeros(4, 2, 4), lib.zeros(4, 2, 4)), None),
        lambda: gru.check_forward_args(x, lib.zeros(2, 4, H), None),
        lambda: gru.check_input(x[0], None),
        lambda: gru.check_hidden_size(lib.zeros(1), (2,), "want {} got {}"),
    ]:
        with pytest.raises(RuntimeError) as info:
            call()
        got.append(str(info.value))
    lstm.check_forward_args(x, (lib.zeros(2, 2, 2), lib.zeros(2, 2, H)), None)
    return got


def test_rnn_base_checking_helpers_as_torch():
    """The helpers PyTorch's RNNBase exposes to subclasses: expected sizes, checks, permute_hidden."""
    assert _checking_helpers(torch) == _checking_helpers(ember)
    with pytest.raises(ValueError):
        ember.nn.GRU(I, H).check_input(ember.zeros(5, 2, I, dtype=ember.float64), None)


def test_packed_sequence_pin_memory_as_torch():
    """Without an accelerator both refuse to pin, with the same error; neither reports pinned data."""
    messages = []
    for lib in (torch, ember):
        packed = lib.nn.utils.rnn.pack_sequence([lib.ones(2), lib.ones(1)])
        assert packed.is_pinned() is False
        with pytest.raises(RuntimeError) as info:
            packed.pin_memory()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("fn", sorted(FUNCTIONS))
def test_module_dropout_in_training_draws_as_torch(fn, packed):
    """A module in training drops the same elements as PyTorch's for the same seed, call after call, padded or
    packed (the cpu generator is PyTorch's)."""
    kwargs = {"num_layers": 3, "dropout": 0.4, "bidirectional": True, **({"proj_size": 2} if fn == "lstm" else {})}
    e, t = _modules(fn, ember.float64, "cpu", **kwargs)
    x = randn(5, 3, I)
    outputs = []
    for lib, module in ((ember, e), (torch, t)):
        lib.manual_seed(11)
        got = []
        for _ in range(2):
            xs = lib.tensor(x)
            if packed:
                xs = lib.nn.utils.rnn.pack_padded_sequence(xs, [2, 5, 3], enforce_sorted=False)
            out = module(xs)
            got.append(out[0].data if packed else out[0])
        outputs.append(got)
    for e_out, t_out in zip(*outputs):
        assert_close(e_out, t_out, ember.float64)
