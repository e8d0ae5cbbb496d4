"""Sweep 27, against PyTorch: the layout of gradients (a leaf's ``.grad`` after backward to an empty,
transposed or channels-last leaf, and the views that ``autograd.grad`` returns from ``sum``'s backward),
``unsqueeze``'s strides, ``Tensor.numpy()``/``numpy.asarray`` of empty and strided views, RNN gradients
accumulated over two backward passes, ``MaskedTensor`` gradients, and ``_sample_dirichlet``'s rows."""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")


def _on(lib, device):
    return {} if lib is torch else {"device": device}


# -- 1. the layout of gradients ---------------------------------------------------------------------------

LEAVES = {
    "empty-0x3": lambda lib, kw: lib.zeros(0, 3, **kw),
    "empty-2x0": lambda lib, kw: lib.zeros(2, 0, **kw),
    "empty-0": lambda lib, kw: lib.zeros(0, **kw),
    "empty-3x0-t": lambda lib, kw: lib.zeros(3, 0, **kw).t(),
    "empty-permuted": lambda lib, kw: lib.zeros(2, 0, 3, **kw).permute(2, 0, 1),
    "transposed": lambda lib, kw: lib.arange(12.0, **kw).reshape(3, 4).t(),
    "channels-last": lambda lib, kw: (
        lib.arange(120.0, **kw).reshape(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
    ),
    "channels-last-1x1": lambda lib, kw: (
        lib.arange(6.0, **kw).reshape(2, 3, 1, 1).contiguous(memory_format=lib.channels_last)
    ),
    "sliced": lambda lib, kw: lib.arange(24.0, **kw).reshape(4, 6)[:, ::2],
}

LOSSES = {
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: x.mean(),
    "expand-sum": lambda lib, x: x.expand(2, *x.shape).sum(),
    "broadcast-mul": lambda lib, x: (x * lib.ones((2,) + (1,) * x.dim(), dtype=x.dtype, device=x.device)).sum(),
    "square": lambda lib, x: (x * x).sum(),
}


@pytest.mark.parametrize("leaf", sorted(LEAVES))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_leaf_grad_layout(device, leaf, loss):
    """A leaf's .grad takes the leaf's strides where the leaf is dense and non-overlapping (PyTorch's
    AccumulateGrad policy), a second backward adding into it in place."""
    results = []
    for lib in (torch, ember):
        x = LEAVES[leaf](lib, _on(lib, device)).requires_grad_()
        LOSSES[loss](lib, x).backward()
        first = (x.grad.stride(), x.grad.is_contiguous())
        LOSSES[loss](lib, x).backward()
        results.append((first, x.grad.stride(), x.grad.is_contiguous(), np.asarray(x.grad.detach().cpu()).tolist()))
    assert results[1] == results[0]


# (shape, the reduction whose backward autograd.grad returns as a view)
SUM_VIEWS = [
    ((2, 1), "x.sum()"),
    ((1, 3), "x.sum()"),
    ((1, 1), "x.sum()"),
    ((1, 3, 1, 1), "x.sum()"),
    ((2, 1, 3), "x.sum()"),
    ((1,), "x.sum()"),
    ((2, 1), "x.sum(dim=())"),
    ((1, 3, 1, 1), "x.sum(dim=())"),
    ((2, 1), "x.sum(0).sum()"),
    ((2, 1), "x.sum(-1).sum()"),
    ((1, 3), "x.sum(-1).sum()"),
    ((1, 1), "x.sum(0).sum()"),
    ((1, 1), "x.sum(-1).sum()"),
    ((1, 3, 1, 1), "x.sum(0).sum()"),
    ((1, 3, 1, 1), "x.sum(-1).sum()"),
    ((2, 1, 3), "x.sum((0, 2))"),
    ((2, 1, 3), "x.sum(1, keepdim=True).sum()"),
    ((2, 3), "x.sum(0)"),
    ((2, 3), "x.sum()"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, expr", SUM_VIEWS, ids=[f"{s}-{e}" for s, e in SUM_VIEWS])
def test_sum_backward_view_strides(device, shape, expr, dtype):
    """sum()'s backward expands the gradient straight to the input's shape; sum(dim)'s unsqueezes it
    first (PyTorch's sum_backward): the strides differ along size-1 dimensions."""
    results = []
    for lib in (torch, ember):
        x = lib.ones(shape, dtype=getattr(lib, dtype), **_on(lib, device)).requires_grad_()
        y = eval(expr)  # noqa: S307 - the table's own expressions
        (grad,) = lib.autograd.grad(y, x, lib.ones_like(y))
        results.append((grad.stride(), grad.is_contiguous(), tuple(grad.shape), str(grad.dtype).split(".")[1]))
    assert results[1] == results[0]


UNSQUEEZED = {
    "dense": lambda lib, kw: lib.ones(3, 4, **kw),
    "transposed": lambda lib, kw: lib.ones(3, 4, **kw).t(),
    "size-1-transposed": lambda lib, kw: lib.ones(3, 1, **kw).t(),
    "column-transposed": lambda lib, kw: lib.ones(1, 4, **kw).t(),
    "stepped": lambda lib, kw: lib.ones(2, 3, 4, **kw)[:, ::2],
    "empty": lambda lib, kw: lib.ones(0, 3, **kw).t(),
    "expanded-scalar": lambda lib, kw: lib.tensor(1.0, **kw).expand(3),
    "expanded-to-1": lambda lib, kw: lib.tensor(1.0, **kw).expand(1),
    "channels-last": lambda lib, kw: lib.ones(2, 3, 1, 1, **kw).contiguous(memory_format=lib.channels_last),
    "column": lambda lib, kw: lib.ones(4, 4, **kw)[:, 1],
    "diagonal": lambda lib, kw: lib.ones(4, 4, **kw).diagonal(),
}


@pytest.mark.parametrize("name", sorted(UNSQUEEZED))
def test_unsqueeze_strides(device, name):
    """unsqueeze's new dimension steps over the one it is put before (1 at the end), the others keep theirs."""
    for dim in range(-3, 3):
        results = []
        for lib in (torch, ember):
            x = UNSQUEEZED[name](lib, _on(lib, device))
            if not -x.dim() - 1 <= dim <= x.dim():
                continue
            y = x.unsqueeze(dim)
            results.append((tuple(y.shape), y.stride(), y.storage_offset(), y.is_contiguous()))
        assert results[1:] == results[:1], dim


def test_unsqueeze_of_a_strided_view_writes_through():
    for lib in (torch, ember):
        x = lib.zeros(3, 4)
        x.t().unsqueeze(2)[1, 2, 0] = 5.0
        assert x[2, 1].item() == 5.0


# -- 2. numpy() of views ----------------------------------------------------------------------------------

VIEWS = {
    "columns-none": lambda lib: lib.arange(12.0).reshape(3, 4)[:, :0],
    "t-rows-none": lambda lib: lib.arange(12.0).reshape(3, 4).t()[:0],
    "rows-2:2": lambda lib: lib.arange(12.0).reshape(3, 4)[2:2],
    "empty-t": lambda lib: lib.empty(0, 3).t(),
    "empty-3d-sliced": lambda lib: lib.zeros(2, 0, 3)[:, :, 1:],
    "empty-int": lambda lib: lib.arange(12).reshape(3, 4)[:, 1:1],
    "t": lambda lib: lib.arange(12.0).reshape(3, 4).t(),
    "stepped": lambda lib: lib.arange(12.0).reshape(3, 4)[:, ::2],
    "corner": lambda lib: lib.arange(12.0).reshape(3, 4)[1:, 1:],
    "last-index": lambda lib: lib.arange(24.0).reshape(2, 3, 4)[..., 1],
    "expanded": lambda lib: lib.arange(3.0).expand(2, 3),
    "diagonal": lambda lib: lib.arange(9.0).reshape(3, 3).diagonal(),
    "channels-last": lambda lib: lib.arange(24.0).reshape(1, 2, 3, 4).contiguous(memory_format=lib.channels_last),
    "scalar": lambda lib: lib.tensor(3.0),
}


def _as_array(name, lib, convert):
    t = VIEWS[name](lib)
    a = convert(t)
    shared = None
    if a.size:
        a.flat[0] = 99
        shared = bool((t == 99).any())
    return a.shape, a.strides, a.dtype.str, a.flags.writeable, shared


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("convert", ["numpy", "asarray", "numpy-force"])
def test_numpy_of_views(name, convert):
    """Shape, byte strides (0 along every dimension of an empty array) and shared memory."""
    conversions = {
        "numpy": lambda t: t.numpy(),
        "asarray": np.asarray,
        "numpy-force": lambda t: t.numpy(force=True),
    }
    ours = _as_array(name, ember, conversions[convert])
    assert ours == _as_array(name, torch, conversions[convert])


# -- 3. RNN gradients over two backward passes ------------------------------------------------------------

RNN_CASES = [
    (cls, bidirectional, layers, batch_first, packed)
    for cls in ("RNN", "GRU", "LSTM")
    for bidirectional, layers, batch_first, packed in [
        (False, 1, False, False),
        (True, 2, False, False),
        (True, 1, True, True),
        (False, 2, True, True),
    ]
]


def _rnn_grads(lib, cls, kwargs, state, inputs, h0, c0, packed, dtype):
    module = getattr(lib.nn, cls)(**kwargs).to(getattr(lib, dtype))
    module.load_state_dict({k: lib.tensor(v).to(getattr(lib, dtype)) for k, v in state.items()})
    for x_np in inputs:
        x = lib.tensor(x_np).to(getattr(lib, dtype))
        hx = lib.tensor(h0).to(getattr(lib, dtype))
        if cls == "LSTM":
            hx = (hx, lib.tensor(c0).to(getattr(lib, dtype)))
        if packed:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2], batch_first=kwargs["batch_first"])
        out, h = module(x, hx)
        if packed:
            out = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=kwargs["batch_first"])[0]
        h = h[0] + 2 * h[1] if cls == "LSTM" else h
        (out.pow(2).sum() + 0.5 * (h * h).sum()).backward()
    return {name: p.grad.detach().double().numpy() for name, p in module.named_parameters()}


@pytest.mark.parametrize("cls, bidirectional, layers, batch_first, packed", RNN_CASES)
def test_rnn_grads_accumulated_over_two_backwards(cls, bidirectional, layers, batch_first, packed):
    """float64: PyTorch's gradients to rounding; float32: no further from a float64 reference than
    PyTorch's own float32 gradients are (within 4x, both at float32 rounding)."""
    kwargs = dict(input_size=3, hidden_size=4, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    state = {k: v.detach().numpy() for k, v in getattr(torch.nn, cls)(**kwargs).double().state_dict().items()}
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((3, 5, 3) if batch_first else (5, 3, 3)) for _ in range(2)]
    h0 = rng.standard_normal((layers * (2 if bidirectional else 1), 3, 4))
    c0 = rng.standard_normal(h0.shape)
    args = (cls, kwargs, state, inputs, h0, c0, packed)
    reference = _rnn_grads(torch, *args, "float64")
    ours = _rnn_grads(ember, *args, "float64")
    theirs32 = _rnn_grads(torch, *args, "float32")
    ours32 = _rnn_grads(ember, *args, "float32")
    assert ours.keys() == reference.keys()
    for name, ref in reference.items():
        scale = np.abs(ref).max()
        np.testing.assert_allclose(ours[name], ref, rtol=0, atol=1e-13 * scale, err_msg=name)
        theirs_error = np.abs(theirs32[name] - ref).max()
        ours_error = np.abs(ours32[name] - ref).max()
        assert ours_error <= 4 * theirs_error + 4e-7 * scale, name


# -- 4. MaskedTensor gradients ----------------------------------------------------------------------------

MASKED_OPS = {
    "index-row": lambda lib, mt: mt[0].sum(),
    "index-column": lambda lib, mt: mt[:, 1].sum(),
    "exp": lambda lib, mt: mt.exp().sum(),
    "sum-0": lambda lib, mt: mt.sum(0).sum(),
    "sum-1": lambda lib, mt: mt.sum(1).sum(),
    "scaled-to-tensor": lambda lib, mt: (mt * 2).to_tensor(0).sum(),
    "exp-to-tensor": lambda lib, mt: mt.exp().to_tensor(0).sum(),
    "row-to-tensor": lambda lib, mt: mt[0].to_tensor(0).sum(),
    "sum-to-tensor": lambda lib, mt: mt.sum(1).to_tensor(0).sum(),
}


def _masked(lib):
    data = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)
    mask = lib.tensor([[True, False, True], [False, True, True]])
    return lib.masked.masked_tensor(data, mask, requires_grad=True)


def _described(grad):
    return type(grad).__name__, grad.get_data().tolist(), grad.get_mask().tolist()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("op", sorted(MASKED_OPS))
def test_masked_tensor_grads(op):
    """The leaf's grad is a MaskedTensor (the leaf's mask, or the mask the op read), in every path."""
    results = []
    for lib in (torch, ember):
        mt = _masked(lib)
        MASKED_OPS[op](lib, mt).backward()
        results.append(_described(mt.grad))
    assert results[1] == results[0]


@pytest.mark.filterwarnings("ignore")
def test_masked_tensor_non_leaf_retained_grad_and_relu():
    results = []
    for lib in (torch, ember):
        mt = _masked(lib)
        y = mt.exp()
        y.retain_grad()
        y.to_tensor(0).sum().backward()
        results.append((_described(y.grad), _described(mt.grad)))
    assert results[1] == results[0]
    # relu has no MaskedTensor rule in either: a TypeError naming the dispatch that failed
    with pytest.raises(TypeError) as theirs:
        torch.relu(_masked(torch))
    with pytest.raises(TypeError) as ours:
        ember.relu(_masked(ember))
    assert str(theirs.value).split("'")[0] == str(ours.value).split("'")[0]


# -- 6. _sample_dirichlet on wide rows --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_dirichlet_wide_rows(device, dtype):
    """PyTorch's samples on the CPU (to an ulp in float64, where the rows' sums are added in another
    order), rows that sum to 1 to within 2 ulps as PyTorch's (8 where a device adds the 1000 gammas of a
    row in its own order), the input's dtype."""
    alpha = np.random.default_rng(0).uniform(0.1, 2.1, (4, 1000)).astype(dtype)
    torch.manual_seed(3)
    ember.manual_seed(3)
    theirs = torch._sample_dirichlet(torch.tensor(alpha))
    ours = ember._sample_dirichlet(ember.tensor(alpha, device=device))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch", "ember")
    assert ours.shape == theirs.shape
    eps = np.finfo(dtype).eps
    row_error = np.abs(ours.cpu().numpy().astype(np.float64).sum(-1) - 1).max()
    assert row_error <= (2 if device in ("cpu", "restricted") else 8) * eps
    if device == "cpu":
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2 * eps, atol=0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64"])
def test_sample_dirichlet_refused_dtypes(dtype):
    same_error(
        lambda lib: lib._sample_dirichlet(lib.ones(3, dtype=getattr(lib, dtype))),
    )
