"""Autocast on cpu against PyTorch 2.13, the calls off the main road of test_amp_ops: the ``out=`` and
in-place forms of the listed ops (PyTorch autocasts the plain overloads only), ops that reach a listed
op in one of their forms (``max_pool3d`` with indices, ``torch.lu``, ``local_response_norm`` of a 4-D
input, ``convolution``), the top-level recurrent cells and the recurrent and Transformer modules with
16-bit parameters of another type than the region's, composites whose inner steps stack or
concatenate, and the normalizations' refusal of 16-bit parameters of a float32 input.

Each case runs under ``autocast(cpu, bfloat16)`` and ``autocast(cpu, float16)`` with float32,
bfloat16 and float64 inputs; the output dtype must be PyTorch's, the values within the autocast
dtype's tolerance, and an error of the same type where PyTorch refuses. The cases run on each device
of EMBER_TEST_DEVICES that follows the cpu policy table (cpu, restricted).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

pytest.importorskip("ml_dtypes")

TOL = {"bfloat16": 3e-2, "float16": 4e-3}


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


C, X, W, M = _arrays(0, (4, 3), (4, 6), (6, 3), (6, 6))


def _state(d):
    """A cell's state: bfloat16 beside float32 or bfloat16 inputs (a float64 cell with a 16-bit state
    is refused by PyTorch's linear ops, which ember's cells do not mirror)."""
    return d if d == "float64" else "bfloat16"


# name -> fn(m, t) where t(array, dtype_name) makes a tensor of m (ember on the test device, or torch)
CASES = {
    # out= forms run in their operands' own dtypes (ember cast them and refused the out tensor)
    "mm_out": lambda m, t, d: m.mm(t(X, d), t(W, d), out=m.empty(4, 3, dtype=t(X, d).dtype, device=t(X, d).device)),
    "mm_out_float32": lambda m, t, d: m.mm(t(X, d), t(W, d), out=m.zeros(4, 3, dtype=m.float32, device=t(X, d).device)),
    "matmul_out": lambda m, t, d: m.matmul(
        t(X, d), t(W, d), out=m.empty(0, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "bmm_out": lambda m, t, d: m.bmm(
        t(X, d)[None], t(W, d)[None], out=m.empty(1, 4, 3, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "addmm_out": lambda m, t, d: m.addmm(
        t(C, d), t(X, d), t(W, d), out=m.empty(4, 3, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "baddbmm_out": lambda m, t, d: m.baddbmm(
        t(C, d)[None], t(X, d)[None], t(W, d)[None], out=m.empty(1, 4, 3, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "cat_out_mixed": lambda m, t, d: m.cat(
        [t(X, d), t(X, "bfloat16")], out=m.empty(8, 6, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "stack_out": lambda m, t, d: m.stack(
        [t(X, d), t(X, "float32")], out=m.empty(2, 4, 6, dtype=m.float32, device=t(X, d).device)
    ),
    "addbmm_out": lambda m, t, d: m.addbmm(
        t(C, d), t(X, d)[None], t(W, d)[None], out=m.empty(4, 3, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "linalg_vecdot_out": lambda m, t, d: m.linalg.vecdot(
        t(X, d), t(X, d), out=m.empty(4, dtype=t(X, d).dtype, device=t(X, d).device)
    ),
    "linalg_svdvals_out": lambda m, t, d: m.linalg.svdvals(
        t(M, d), out=m.empty(6, dtype=t(M, d).dtype, device=t(M, d).device)
    ),
    "linalg_solve_out": lambda m, t, d: m.linalg.solve(
        t(M + 6 * np.eye(6, dtype=np.float32), d),
        t(W, d),
        out=m.empty(6, 3, dtype=t(W, d).dtype, device=t(W, d).device),
    ),
    "prod_out": lambda m, t, d: m.prod(t(C, d), 1, out=m.empty(4, dtype=t(C, d).dtype, device=t(C, d).device)),
    # in-place forms run in self's dtype (ember computed addmm_ in the region's dtype and wrote it back)
    "addmm_": lambda m, t, d: t(C, d).clone().addmm_(t(X, d), t(W, d)),
    "baddbmm_": lambda m, t, d: t(C, d)[None].clone().baddbmm_(t(X, d)[None], t(W, d)[None]),
    "addbmm_": lambda m, t, d: t(C, d).clone().addbmm_(t(X, d)[None], t(W, d)[None], alpha=0.5),
    "index_copy_": lambda m, t, d: t(X, d).index_copy_(
        0, m.tensor([1, 0], device=t(X, d).device), t(X[:2], "bfloat16")
    ),
    # listed ops reached in one form only
    "max_pool3d_indices": lambda m, t, d: m.nn.functional.max_pool3d(
        t(M.reshape(1, 1, 2, 3, 6), d), 2, return_indices=True
    )[0],
    "max_pool3d_with_indices": lambda m, t, d: m.nn.functional.max_pool3d_with_indices(
        t(M.reshape(1, 1, 2, 3, 6), d), 2
    )[0],
    "max_pool3d": lambda m, t, d: m.nn.functional.max_pool3d(t(M.reshape(1, 1, 2, 3, 6), d), 2),
    "convolution": lambda m, t, d: m.convolution(
        t(X.reshape(1, 4, 6), d), t(M[:4].reshape(2, 4, 3), d), None, [1], [0], [1], False, [0], 1
    ),
    "lu": lambda m, t, d: m.lu(t(M, d))[0],
    "Tensor.lu": lambda m, t, d: t(M, d).lu()[0],
    "local_response_norm_4d": lambda m, t, d: m.nn.functional.local_response_norm(t(M.reshape(1, 2, 3, 6), d), 2),
    "local_response_norm_3d": lambda m, t, d: m.nn.functional.local_response_norm(t(M.reshape(2, 3, 6), d), 2),
    # the top-level cells are linear ops in PyTorch (ember ran rnn_tanh_cell in the input's dtype)
    "rnn_tanh_cell": lambda m, t, d: m.rnn_tanh_cell(t(X, d), t(C, d), t(W.T, d), t(M[:3, :3], d)),
    "rnn_relu_cell": lambda m, t, d: m.rnn_relu_cell(t(X, d), t(C, d), t(W.T, d), t(M[:3, :3], d), t(C[0], d), None),
    "lstm_cell": lambda m, t, d: m.lstm_cell(
        t(X, d), (t(C, d), t(C, _state(d))), t(np.tile(W.T, (4, 1)), d), t(np.tile(M[:3, :3], (4, 1)), d)
    )[1],
    "gru_cell": lambda m, t, d: m.gru_cell(
        t(X, d), t(C, _state(d)), t(np.tile(W.T, (3, 1)), d), t(np.tile(M[:3, :3], (3, 1)), d)
    ),
    # composites whose inner stack/cat are no autocast op (ember refused 16-bit operands of another type)
    "linalg_cross": lambda m, t, d: m.linalg.cross(t(C, d), t(C[::-1].copy(), d)),
    "vander": lambda m, t, d: m.vander(t(X[0], d), 3),
    "block_diag": lambda m, t, d: m.block_diag(t(C, d), t(X, d)),
}


def _tensor_maker(m, device):
    def make(a, name):
        if m is torch:
            return torch.tensor(a).to(getattr(torch, name))
        return ember.tensor(a, device=device).to(getattr(ember, name))

    return make


def _run(m, device_type, fast, fn, make, input_dtype):
    try:
        with m.autocast(device_type, dtype=getattr(m, fast)):
            return fn(m, make, input_dtype)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        return exc


def _name(dtype):
    return str(dtype).split(".")[-1]


def _compare(got, want, fast, label):
    if isinstance(want, Exception):
        assert isinstance(got, type(want)), f"{label}: PyTorch raised {want!r}, ember gave {got!r}"
        return
    assert not isinstance(got, Exception), f"{label}: PyTorch gave {want.dtype}, ember raised {got!r}"
    assert _name(got.dtype) == _name(want.dtype), (label, got.dtype, want.dtype)
    tol = TOL["bfloat16" if "bfloat16" in (fast, _name(want.dtype)) else fast]
    expected = want.detach().double().numpy()
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(got.detach().double().cpu().numpy(), expected, rtol=tol, atol=tol * scale, err_msg=label)


@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_cpu_autocast_edge_matches_torch(amp_device, case, fast, input_dtype):
    device, device_type = amp_device
    fn = CASES[case]
    want = _run(torch, "cpu", fast, fn, _tensor_maker(torch, None), input_dtype)
    got = _run(ember, device_type, fast, fn, _tensor_maker(ember, device), input_dtype)
    _compare(got, want, fast, f"{case} under {fast} with {input_dtype} inputs")


def test_in_place_addmm_keeps_float32_precision(amp_device):
    """``c.addmm_(a, b)`` on float32 tensors in a bfloat16 region: PyTorch computes in float32 (no
    autocast of in-place overloads); ember computed in bfloat16 and wrote it back, 0.015 off."""
    device, device_type = amp_device
    exact = C.astype(np.float64) + X.astype(np.float64) @ W.astype(np.float64)
    with ember.autocast(device_type):
        c = ember.tensor(C, device=device)
        c.addmm_(ember.tensor(X, device=device), ember.tensor(W, device=device))
    assert c.dtype is ember.float32
    np.testing.assert_allclose(c.cpu().numpy(), exact, rtol=1e-5, atol=1e-5)


MODULES = {
    "GRU": (lambda m: m.nn.GRU(6, 5), [(4, 2, 6)]),
    "LSTM_proj": (lambda m: m.nn.LSTM(6, 5, proj_size=3), [(4, 2, 6)]),
    "LSTM_bidirectional": (lambda m: m.nn.LSTM(6, 5, bidirectional=True, batch_first=True), [(2, 4, 6)]),
    "RNN_2_layers": (lambda m: m.nn.RNN(6, 5, num_layers=2), [(4, 2, 6)]),
    "LSTMCell": (lambda m: m.nn.LSTMCell(6, 5), [(3, 6)]),
    "GRUCell": (lambda m: m.nn.GRUCell(6, 5), [(3, 6)]),
    "RNNCell": (lambda m: m.nn.RNNCell(6, 5), [(3, 6)]),
    "TransformerEncoderLayer": (lambda m: m.nn.TransformerEncoderLayer(6, 2, 8, dropout=0.0), [(4, 2, 6)]),
    "TransformerDecoderLayer": (lambda m: m.nn.TransformerDecoderLayer(6, 2, 8, dropout=0.0), [(4, 2, 6), (3, 2, 6)]),
    "MultiheadAttention": (lambda m: m.nn.MultiheadAttention(6, 2), [(4, 2, 6)] * 3),
}


def _outputs(result):
    flat = []

    def walk(r):
        if isinstance(r, (tuple, list)):
            for x in r:
                walk(x)
        elif r is not None:
            flat.append(r)

    walk(result)
    return flat


@pytest.mark.parametrize("param_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_in_a_region_matches_torch(amp_device, name, fast, param_dtype):
    """Modules whose parameters (and inputs) are bfloat16 inside a float16 region: PyTorch's gates
    promote the float16 linear outputs with the bfloat16 state to float32 (ember stayed in bfloat16 or
    refused the inner stack), its layer norm refuses a float32 input with bfloat16 parameters."""
    device, device_type = amp_device
    make, shapes = MODULES[name]
    torch.manual_seed(0)
    t_mod = make(torch).eval()
    e_mod = make(ember).eval()
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()})
    t_mod, e_mod = t_mod.to(getattr(torch, param_dtype)), e_mod.to(device=device, dtype=getattr(ember, param_dtype))
    arrays = _arrays(3, *shapes)
    t_in = [torch.tensor(a).to(getattr(torch, param_dtype)) for a in arrays]
    e_in = [ember.tensor(a, device=device).to(getattr(ember, param_dtype)) for a in arrays]
    try:
        with torch.autocast("cpu", dtype=getattr(torch, fast)):
            want = t_mod(*t_in)
    except RuntimeError as exc:  # float16 LSTM layers (no kernel), layer norms of mixed types
        match = "mixed dtype" if "mixed dtype" in str(exc) else "float16 autocast on .* is not supported"
        with pytest.raises(RuntimeError, match=match), ember.autocast(device_type, dtype=getattr(ember, fast)):
            e_mod(*e_in)
        return
    with ember.autocast(device_type, dtype=getattr(ember, fast)):
        got = e_mod(*e_in)
    want, got = _outputs(want), _outputs(got)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        _compare(g, w, fast, f"{name} output {i}")


@pytest.mark.parametrize(
    "input_dtype, param_dtype",
    [("float16", "bfloat16"), ("bfloat16", "float16"), ("bfloat16", "float64"), ("float16", "float32")],
)
@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "batch_norm", "instance_norm", "batch_norm_eval"])
def test_normalization_parameters_of_a_16_bit_input_as_torch(device, op, input_dtype, param_dtype):
    """A 16-bit input takes parameters of its own dtype or float32; PyTorch refuses others (ember
    computed a float16 input with bfloat16 parameters)."""
    if device.startswith("opencl"):
        pytest.skip("opencl has no bfloat16")

    def call(m, make):
        f = m.nn.functional
        x, w = make(M.reshape(2, 6, 3), input_dtype), make(np.abs(M[0]) + 0.5, param_dtype)
        if op == "layer_norm":
            return f.layer_norm(x, (3,), w[:3], w[:3])
        if op == "group_norm":
            return f.group_norm(x, 2, w, w)
        if op == "batch_norm":
            return f.batch_norm(x, None, None, w, w, training=True)
        if op == "instance_norm":
            return f.instance_norm(x, weight=w, bias=w)
        return f.batch_norm(x, w.clone(), w.clone(), None, None, training=False)

    results = []
    for m, make in ((torch, _tensor_maker(torch, None)), (ember, _tensor_maker(ember, device))):
        try:
            results.append(_name(call(m, make).dtype))
        except RuntimeError as exc:
            results.append("mixed dtype" if "mixed dtype (CPU)" in str(exc) else repr(exc))
    assert results[0] == results[1]
