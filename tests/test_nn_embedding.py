"""Embedding and EmbeddingBag against PyTorch; sparse COO gradients; max_norm; errors; seed examples."""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import assert_close, randn

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable

torch = pytest.importorskip("torch")
TF = torch.nn.functional

WEIGHT = randn(10, 3)
INDICES = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])


def _pair(device, dtype):
    we = ember.tensor(WEIGHT, dtype=dtype, device=device, requires_grad=True)
    wt = torch.tensor(WEIGHT, dtype=getattr(torch, dtype.name), requires_grad=True)
    return we, wt


def _backward(ye, yt, device):
    up = randn(*yt.shape)
    (ye * ember.tensor(up, dtype=ye.dtype, device=device)).sum().backward()
    (yt * torch.tensor(up, dtype=yt.dtype)).sum().backward()


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                    {"padding_idx": 4, "scale_grad_by_freq": True}])  # fmt: skip
def test_embedding_functional(kwargs, device, dtype):
    we, wt = _pair(device, dtype)
    ye = F.embedding(ember.tensor(INDICES, device=device), we, **kwargs)
    yt = TF.embedding(torch.tensor(INDICES), wt, **kwargs)
    assert_close(ye, yt, dtype)
    _backward(ye, yt, device)
    assert_close(we.grad, wt.grad, dtype, what="weight grad")


def test_embedding_max_norm(device, dtype):
    we, wt = _pair(device, dtype)
    ye = F.embedding(ember.tensor(INDICES, device=device), we.detach(), max_norm=1.0)
    yt = TF.embedding(torch.tensor(INDICES), wt.detach(), max_norm=1.0)
    assert_close(ye, yt, dtype)
    m = nn.Embedding(10, 3, max_norm=0.5, norm_type=1.0).to(device)
    m(ember.tensor([0, 1, 1], device=device))
    norms = m.weight.detach().abs().sum(1).cpu().numpy()
    assert np.all(norms[:2] <= 0.5 + 1e-5)


def test_embedding_module(device, dtype):
    m = nn.Embedding(10, 3, padding_idx=0).to(device=device, dtype=dtype)
    tm = torch.nn.Embedding(10, 3, padding_idx=0)
    assert repr(m) == repr(tm)
    assert not np.any(m.weight[0].detach().cpu().numpy())
    with ember.no_grad():
        m.weight.copy_(ember.tensor(tm.weight.detach().numpy(), dtype=dtype, device=device))
    tm.to(getattr(torch, dtype.name))
    ye, yt = m(ember.tensor(INDICES, device=device)), tm(torch.tensor(INDICES))
    assert_close(ye, yt, dtype)
    _backward(ye, yt, device)
    assert_close(m.weight.grad, tm.weight.grad, dtype)


def test_from_pretrained(device):
    w = ember.tensor(WEIGHT, device=device)
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    assert_close(m(ember.tensor([1], device=device)), torch.tensor(WEIGHT[[1]]))
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert nn.EmbeddingBag.from_pretrained(w).weight.shape == (10, 3)


def test_sparse_gradient(device, dtype):
    we, wt = _pair(device, dtype)
    for _ in range(2):  # the second backward accumulates sparse + sparse
        ye = F.embedding(ember.tensor(INDICES, device=device), we, sparse=True, padding_idx=3)
        yt = TF.embedding(torch.tensor(INDICES), wt, sparse=True, padding_idx=3)
        _backward(ye, yt, device)
    grad = we.grad
    assert grad.is_sparse and grad.shape == (10, 3) and grad.dtype is dtype
    assert grad._indices().dtype is ember.int64 and grad._indices().shape == (1, 14)
    assert grad._values().shape == (14, 3)
    assert_close(grad.to_dense(), wt.grad.to_dense(), dtype)
    c = grad.coalesce()
    tc = wt.grad.coalesce()
    assert_close(c._indices(), tc._indices())
    assert_close(c._values(), tc._values(), dtype)
    assert_close((c * 2.0).to_dense(), tc.to_dense() * 2, dtype)
    assert_close(we.detach() + c, wt.detach() + tc, dtype)  # dense + sparse: the order PyTorch allows


def test_sparse_coo_tensor(device):
    s = ember.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (4,), device=device)
    assert s.is_sparse and s.size() == (4,) and s.device == ember.device(device)
    assert s.coalesce().to_dense().tolist() == [4.0, 0.0, 2.0, 0.0]
    s2 = ember.sparse_coo_tensor(ember.tensor([[1, 0], [2, 2]], device=device), ember.ones(2, 3, device=device))
    assert s2.shape == (2, 3, 3)
    with pytest.raises(RuntimeError, match="same nnz"):
        ember.sparse_coo_tensor([[0, 1]], [1.0], (3,))
    with pytest.raises(RuntimeError, match="inconsistent"):
        ember.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 4}, {"include_last_offset": True}])
def test_embedding_bag_offsets(mode, kwargs, device, dtype):
    inp, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4, 4])
    if kwargs.get("include_last_offset"):
        off = np.array([0, 3, 3, 8])
    we, wt = _pair(device, dtype)
    ye = F.embedding_bag(ember.tensor(inp, device=device), we, ember.tensor(off, device=device), mode=mode, **kwargs)
    yt = TF.embedding_bag(torch.tensor(inp), wt, torch.tensor(off), mode=mode, **kwargs)
    assert_close(ye, yt, dtype)
    _backward(ye, yt, device)
    assert_close(we.grad, wt.grad, dtype)


def test_embedding_bag_2d_per_sample_weights_and_sparse(device, dtype):
    we, wt = _pair(device, dtype)
    psw = randn(2, 4)
    ye = F.embedding_bag(ember.tensor(INDICES, device=device), we, mode="sum", sparse=True,
                         per_sample_weights=ember.tensor(psw, dtype=dtype, device=device))  # fmt: skip
    yt = TF.embedding_bag(torch.tensor(INDICES), wt, mode="sum", sparse=True,
                          per_sample_weights=torch.tensor(psw, dtype=getattr(torch, dtype.name)))  # fmt: skip
    assert_close(ye, yt, dtype)
    _backward(ye, yt, device)
    assert we.grad.is_sparse
    assert_close(we.grad.to_dense(), wt.grad.to_dense(), dtype)


def test_embedding_bag_module(device):
    m = nn.EmbeddingBag(10, 3, mode="max")
    assert repr(m) == repr(torch.nn.EmbeddingBag(10, 3, mode="max"))
    assert m.to(device)(ember.tensor(INDICES, device=device)).shape == (2, 3)


def test_errors(device):
    w = ember.randn(10, 3, device=device)
    for bad in (10, -1):
        if device.startswith("cuda"):  # as PyTorch's device-side assert: checked on the GPU, raised at the next sync
            out = F.embedding(ember.tensor([bad], device=device), w)
            with pytest.raises(RuntimeError, match="device-side assert triggered: embedding: index out of range"):
                out.sum().item()
        else:
            with pytest.raises(IndexError, match="index out of range in self"):
                F.embedding(ember.tensor([bad], device=device), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(ember.tensor([1.0], device=device), w)
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ember.tensor(INDICES, device=device), w, ember.tensor([0, 1], device=device))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        F.embedding_bag(ember.tensor([1, 2], device=device), w)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(ember.tensor(INDICES, device=device), w, per_sample_weights=ember.ones(2, 4))


@pytest.mark.parametrize(
    "indices, offsets, include_last_offset",
    [
        ([1, 2], [1], False),  # offsets[0] is not 0
        ([], [1], False),  # checked with no indices too
        ([1, 2], [0, 3], False),  # offsets[-1] past the input
        ([1, 2], [0, 3], True),
        ([1, 2], [], True),  # no end offset
    ],
)
def test_embedding_bag_offsets_errors_match_torch(device, indices, offsets, include_last_offset):
    """PyTorch's RuntimeError for offsets that do not describe bags of the input (ember accepted some)."""
    w = randn(5, 3)
    kwargs = {"include_last_offset": include_last_offset}
    with pytest.raises(RuntimeError) as expected:
        TF.embedding_bag(
            torch.tensor(indices, dtype=torch.long), torch.tensor(w), torch.tensor(offsets, dtype=torch.long), **kwargs
        )
    message = str(expected.value).splitlines()[0]
    with pytest.raises(RuntimeError, match=re.escape(message)):
        F.embedding_bag(
            ember.tensor(indices, dtype=ember.long, device=device),
            ember.tensor(w, device=device),
            ember.tensor(offsets, dtype=ember.long, device=device),
            **kwargs,
        )


@pytest.mark.parametrize("offsets", [[0, 3, 2], [0, 2, 1, 4]])
def test_embedding_bag_decreasing_offsets_raise(device, offsets):
    """A bag that ends before it starts: PyTorch's kernel has no check (it fails an index check at
    times, or returns what it read out of order); ember summed the entries into other bags."""
    w = ember.tensor(randn(5, 3), device=device)
    indices = ember.tensor([0, 1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(indices, w, ember.tensor(offsets, device=device))


def test_seed_examples():
    embedding = nn.Embedding(10, 3)
    input = Variable(ember.LongTensor([[1, 2, 4, 5], [4, 3, 2, 9]]))
    assert embedding(input).shape == (2, 4, 3)
    embedding = nn.Embedding(10, 3, padding_idx=0)
    input = Variable(ember.LongTensor([[0, 2, 0, 5]]))
    out = embedding(input)
    assert not np.any(out[0, 0].detach().numpy()) and not np.any(out[0, 2].detach().numpy())
    embedding_sum = nn.EmbeddingBag(10, 3, mode="sum")
    input = Variable(ember.LongTensor([1, 2, 4, 5, 4, 3, 2, 9]))
    offsets = Variable(ember.LongTensor([0, 4]))
    assert embedding_sum(input, offsets).shape == (2, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_embedding_backward_agrees_with_portable(dtype):
    """The NumPy weight gradient (first rows assigned, repeats added) equals the portable scatter-add
    value for value: repeated indices summed in the order given, untouched rows zero."""
    from ember.kernels import Kernels

    backend = ember.backends.get_backend("cpu")
    portable = Kernels(backend)
    rng = np.random.default_rng(5)
    for count, num in ((40, 7), (6, 50), (1, 3)):  # many repeats, none likely, one row
        indices = rng.integers(0, num, count)
        grad = rng.standard_normal((count, 5)).astype(dtype)
        got = backend.kernels.embedding_backward(grad, indices, num)
        assert got.dtype == dtype and got.shape == (num, 5)
        np.testing.assert_array_equal(got, portable.embedding_backward(grad, indices, num))


@pytest.mark.parametrize("bag", [False, True])
def test_sparse_gradient_refuses_scale_grad_by_freq_as_torch(device, bag):
    """PyTorch raises in backward for a sparse gradient scaled by frequency (ember once computed it)."""
    results = []
    for lib in (nn, torch.nn):
        new = (lambda a: ember.tensor(a, device=device)) if lib is nn else torch.tensor
        if bag:
            module = lib.EmbeddingBag(6, 3, mode="sum", sparse=True, scale_grad_by_freq=True)
            out = module.to(device)(new([1, 1, 2]), new([0])) if lib is nn else module(new([1, 1, 2]), new([0]))
        else:
            module = lib.Embedding(6, 3, sparse=True, scale_grad_by_freq=True)
            out = module.to(device)(new([1, 1, 2])) if lib is nn else module(new([1, 1, 2]))
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients") as info:
            out.sum().backward()
        results.append(type(info.value))
    assert results[0] is results[1]
