"""float16/bfloat16 CPU numerics bit for bit as PyTorch's CPU kernels: layer norm's forward.

Layer norm's forward of 16-bit rows takes PyTorch's ``RowwiseMoments`` order (chunked Welford
recurrences over 8-lane vectors, merged as a cascade, a scalar tail; :mod:`ember.nn.functional.rowwise_moments`)
and its fused ``x * rstd - rstd * mean`` then ``* weight + bias``: the output, the saved statistics (float32
with float32 parameters, 16-bit otherwise) and, end to end, the gradients equal PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

pytest.importorskip("ml_dtypes")


def _cpu_kernels_only(device):
    """These tests follow PyTorch's CPU kernels' order: on another device type ember computes these 16-bit
    ops in float32 and rounds once (and may have no bfloat16)."""
    if ember.device(device).type not in ("cpu", "restricted"):
        pytest.skip("PyTorch's CPU kernels' order of a 16-bit op: cpu-kind devices only")


def _host(t):
    return np.asarray(t.detach().float().cpu().numpy())


def _same(ours, theirs, what):
    assert str(ours.dtype) == str(theirs.dtype).replace("torch", "ember"), what
    assert tuple(ours.shape) == tuple(theirs.shape), what
    np.testing.assert_array_equal(_host(ours), _host(theirs), err_msg=what)


#: (shape, normalized dims): rows of a scalar tail only, one vector and a tail, one chunk of 16 vectors,
#: several chunks (a cascade 2, 3 and 5 deep), several normalized dims
LAYER_NORM_CASES = [
    ((40, 7), 1),
    ((40, 12), 1),
    ((40, 16), 1),
    ((64, 45), 1),
    ((128, 100), 1),
    ((21, 257), 1),
    ((64, 768), 1),
    ((33, 1024), 1),
    ((5, 5000), 1),
    ((3, 4, 6, 50), 2),
]


@pytest.mark.parametrize("params", ["rounded", "mixed", "weight", "bias", "none"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", LAYER_NORM_CASES, ids=str)
def test_layer_norm_forward_bit_exact(device, case, dtype, params):
    """The output and the saved mean and reciprocal standard deviation against ``torch.native_layer_norm``;
    then the gradients of both, end to end."""
    _cpu_kernels_only(device)
    shape, dims = case
    normalized = shape[-dims:]
    rng = np.random.default_rng(LAYER_NORM_CASES.index(case))
    x, dy = ((rng.standard_normal(shape) * 2 + 0.5).astype(np.float32) for _ in range(2))
    w, b = (rng.standard_normal(normalized).astype(np.float32) for _ in range(2))
    kind, theirs_kind = getattr(ember, dtype), getattr(torch, dtype)
    param_kinds = (ember.float32, torch.float32) if params == "mixed" else (kind, theirs_kind)
    given = {"weight": (True, False), "bias": (False, True), "none": (False, False)}.get(params, (True, True))
    ours = [
        None if not g else ember.tensor(v, device=device).to(param_kinds[0]).requires_grad_()
        for g, v in zip(given, (w, b))
    ]
    theirs = [None if not g else torch.tensor(v).to(param_kinds[1]).requires_grad_() for g, v in zip(given, (w, b))]
    ex = ember.tensor(x, device=device).to(kind).requires_grad_()
    tx = torch.tensor(x).to(theirs_kind).requires_grad_()
    ey = ember.nn.functional.layer_norm(ex, normalized, *ours, 1e-5)
    ty, tmean, trstd = torch.native_layer_norm(tx, list(normalized), *theirs, 1e-5)
    _same(ey, ty, "output")
    _same(ey.grad_fn._saved_result1, tmean, "mean")
    _same(ey.grad_fn._saved_result2, trstd, "rstd")
    ey.backward(ember.tensor(dy, device=device).to(kind))
    ty.backward(torch.tensor(dy).to(theirs_kind))
    _same(ex.grad, tx.grad, "grad of input")
    for name, a, t in zip(("weight", "bias"), ours, theirs):
        if a is not None:
            _same(a.grad, t.grad, f"grad of {name}")


def test_layer_norm_forward_odd_values(device):
    """A row holding inf gives NaN statistics and outputs, as PyTorch's; a constant row a zero variance."""
    _cpu_kernels_only(device)
    x = np.ones((3, 40), dtype=np.float32)
    x[1, 5] = np.inf
    x[2] = np.arange(40)
    ey = ember.nn.functional.layer_norm(ember.tensor(x, device=device).to(ember.bfloat16), (40,))
    ty = torch.nn.functional.layer_norm(torch.tensor(x).to(torch.bfloat16), (40,))
    _same(ey, ty, "output")


#: (shape, dim) of softmax: over a dim that is not the last (runs of 32 positions and scalar tails, an
#: inner size of 1), over the last (whole vectors and tails)
SOFTMAX_CASES = [
    ((8, 50, 33), 1),
    ((16, 64, 65), 1),
    ((2, 100, 129), 1),
    ((5, 300, 20), 1),
    ((64, 40), 0),
    ((9, 13, 1), 1),
    ((8, 50, 33), 2),
    ((40, 1000), 1),
    ((100, 24), 1),
]


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=str)
def test_softmax_forward_bit_exact(device, case, dtype, count):
    """Softmax of 16-bit values, with ``Vectorized<float>::exp`` (Sleef's) in the vector loops and the C
    library's in the scalar ones, against PyTorch's at one and two threads; a few masked (-inf) inputs."""
    _cpu_kernels_only(device)
    shape, dim = case
    before = (ember.get_num_threads(), torch.get_num_threads())
    ember.set_num_threads(count)
    torch.set_num_threads(count)
    try:
        rng = np.random.default_rng(SOFTMAX_CASES.index(case))
        x = (rng.standard_normal(shape) * 3).astype(np.float32)
        x[rng.random(shape) < 0.03] = -np.inf
        ours = ember.softmax(ember.tensor(x, device=device).to(getattr(ember, dtype)), dim)
        theirs = torch.softmax(torch.tensor(x).to(getattr(torch, dtype)), dim)
    finally:
        ember.set_num_threads(before[0])
        torch.set_num_threads(before[1])
    _same(ours, theirs, "output")


def test_vectorized_exp_is_sleefs(device):
    """:func:`ember.ops.vector_exp.vectorized_exp` against PyTorch's ``Vectorized<float>::exp``, read from its
    float32 log-softmax backward over a dim that is not the last (``grad - exp(output) * sum(grad)``, with a
    gradient of 0 at the element and a sum of 1: ``-exp(output)`` exactly)."""
    _cpu_kernels_only(device)
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.standard_normal(20000) * 8 - 3, [0.0, -104.5, -103.9, 88.0, 100.5, -np.inf]])
    values = values.astype(np.float32)
    output = torch.zeros(2, values.size)
    output[0] = torch.tensor(values)
    grad = torch.zeros(2, values.size)
    grad[1] = 1
    theirs = -torch.ops.aten._log_softmax_backward_data(grad, output, 0, torch.float32)[0].numpy()
    if ember.tensor([1.0], device=device)._backend.kernels.VECTOR_LANES:
        from ember.ops.vector_exp import vectorized_exp

        x = ember.tensor(values, device=device)
        ours = np.asarray(x._make(vectorized_exp(x._backend, x._data)).cpu().numpy())
        np.testing.assert_array_equal(ours[: values.size - values.size % 16], theirs[: values.size - values.size % 16])


#: (dims, input shape, weight shape, options) of convolutions with oneDNN off
CONV_CASES = [
    (1, (4, 6, 30), (8, 6, 5), {}),
    (1, (3, 4, 40), (6, 2, 3), {"groups": 2, "stride": 2, "padding": 1}),
    (2, (2, 5, 12, 11), (7, 5, 3, 3), {}),
    (2, (4, 8, 9, 9), (8, 1, 3, 3), {"groups": 8, "padding": 1}),
    (2, (2, 16, 10, 10), (12, 16, 1, 1), {}),
    (3, (2, 3, 6, 7, 5), (4, 3, 3, 2, 2), {"padding": 1}),
]


@pytest.fixture
def mkldnn_off():
    """``ember.backends.mkldnn.enabled`` and ``torch.backends.mkldnn.enabled`` False; both restored afterwards
    (by the flags' context managers: a test that ran torch's disable_global_flags forbids plain assignment)."""
    import ember.backends.mkldnn

    with ember.backends.mkldnn.flags(enabled=False), torch.backends.mkldnn.flags(enabled=False):
        yield


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_with_onednn_off(device, mkldnn_off, case, dtype):
    """With oneDNN off PyTorch's CPU convolves both 16-bit types in its im2col kernels (products rounded to the
    type, the weight gradient rounded sample by sample), not in float32 rounded once: ember's follow. bfloat16
    bit for bit; float16 with its GEMM's few units (a known gap, also where ``ONEDNN_MAX_CPU_ISA`` sends float16
    to these kernels): the input gradient exact, the output and weight gradient at most one unit apart on
    under 0.5% of the elements."""
    _cpu_kernels_only(device)
    nd, x_shape, w_shape, options = case
    rng = np.random.default_rng(CONV_CASES.index(case))
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.3).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    kind, theirs_kind = getattr(ember, dtype), getattr(torch, dtype)
    ours = [ember.tensor(a, device=device).to(kind).requires_grad_() for a in (x, w, b)]
    theirs = [torch.tensor(a).to(theirs_kind).requires_grad_() for a in (x, w, b)]
    ey = getattr(ember.nn.functional, f"conv{nd}d")(*ours, **options)
    ty = getattr(torch.nn.functional, f"conv{nd}d")(*theirs, **options)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ey.backward(ember.tensor(g, device=device).to(kind))
    ty.backward(torch.tensor(g).to(theirs_kind))
    pairs = [("output", ey, ty)] + [(f"grad of {n}", a.grad, t.grad) for n, a, t in zip("xwb", ours, theirs)]
    for what, a, t in pairs:
        if dtype == "bfloat16" or what in ("grad of x", "grad of b"):
            _same(a, t, what)
            continue
        mine, ref = _host(a), _host(t)
        spacing = np.spacing(np.abs(ref).astype(np.float16)).astype(np.float32)
        assert np.all(np.abs(mine - ref) <= spacing), what
        assert np.count_nonzero(mine != ref) <= max(1, ref.size // 200), what
