"""histogram / histogramdd and gradient against PyTorch: values, edges, weights, density, errors;
gradient's uniform and coordinate spacings, both edge orders, its autograd."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")


def _pair(e_result, t_result):
    assert type(e_result).__name__ == type(t_result).__name__
    assert_close(e_result.hist, t_result.hist)
    e_edges, t_edges = e_result.bin_edges, t_result.bin_edges
    if isinstance(t_edges, tuple):
        assert isinstance(e_edges, tuple) and len(e_edges) == len(t_edges)
        for a, b in zip(e_edges, t_edges):
            assert_close(a, b)
    else:
        assert_close(e_edges, t_edges)


@pytest.mark.parametrize(
    "bins,kwargs",
    [(5, {}), (4, {"range": (-1.0, 1.0)}), (3, {"density": True}), ("edges", {}), ("edges", {"density": True})],
)
def test_histogram(device, dtype, bins, kwargs):
    x = np.concatenate([randn(200), [1.0, -1.0, 0.0]])
    w = randn(203, low=0.0, high=2.0)
    e_x, t_x = ember.tensor(x, dtype=dtype, device=device), torch.tensor(x, dtype=getattr(torch, dtype.name))
    e_bins, t_bins = bins, bins
    if bins == "edges":
        edges = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5])
        e_bins, t_bins = ember.tensor(edges, dtype=dtype, device=device), torch.tensor(edges, dtype=t_x.dtype)
    _pair(ember.histogram(e_x, e_bins, **kwargs), torch.histogram(t_x, t_bins, **kwargs))
    _pair(e_x.histogram(e_bins, **kwargs), t_x.histogram(t_bins, **kwargs))
    e_w, t_w = ember.tensor(w, dtype=dtype, device=device), torch.tensor(w, dtype=t_x.dtype)
    _pair(ember.histogram(e_x, e_bins, weight=e_w, **kwargs), torch.histogram(t_x, t_bins, weight=t_w, **kwargs))


def test_histogram_edges_cases(device):
    for values, bins in (([1.0, 1.0], 3), ([], 2), ([0.0, 1.0, 2.0, 3.0], 3)):
        e = ember.histogram(ember.tensor(values, device=device), bins)
        _pair(e, torch.histogram(torch.tensor(values), bins))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="min should not exceed max, but got min 4 max 2 for dimension 0"):
            lib.histogram(lib.tensor([1.0, 2.0]), 3, range=(4.0, 2.0))
        with pytest.raises(RuntimeError, match="bins must be > 0, but got -1 for dimension 0"):
            lib.histogram(lib.tensor([1.0, 2.0]), -1)
        with pytest.raises(RuntimeError, match="range \\[nan, nan\\] is not finite"):
            lib.histogram(lib.tensor([1.0, float("nan")]), 2)
        with pytest.raises(NotImplementedError, match="\"histogramdd\" not implemented for 'Long'"):
            lib.histogram(lib.tensor([1, 2]), 3)
        with pytest.raises(RuntimeError, match="weight tensor is provided it should have the same shape"):
            lib.histogram(lib.tensor([1.0, 2.0]), 2, weight=lib.tensor([1.0]))


@pytest.mark.parametrize(
    "bins,kwargs", [([3, 4], {}), (2, {"range": [-1.0, 1.0, -2.0, 2.0]}), ([3, 2], {"density": True}), ("edges", {})]
)
def test_histogramdd(device, dtype, bins, kwargs):
    x = randn(100, 2)
    w = randn(100, low=0.0, high=1.0)
    e_x, t_x = ember.tensor(x, dtype=dtype, device=device), torch.tensor(x, dtype=getattr(torch, dtype.name))
    e_bins, t_bins = bins, bins
    if bins == "edges":
        edges = ([-3.0, 0.0, 3.0], [-1.0, -0.2, 0.4, 1.0])
        e_bins = [ember.tensor(e, dtype=dtype, device=device) for e in edges]
        t_bins = [torch.tensor(e, dtype=t_x.dtype) for e in edges]
    _pair(ember.histogramdd(e_x, e_bins, **kwargs), torch.histogramdd(t_x, t_bins, **kwargs))
    e_w, t_w = ember.tensor(w, dtype=dtype, device=device), torch.tensor(w, dtype=t_x.dtype)
    _pair(ember.histogramdd(e_x, e_bins, weight=e_w, **kwargs), torch.histogramdd(t_x, t_bins, weight=t_w, **kwargs))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="range should have 4 elements, but got 2"):
            lib.histogramdd(lib.ones(3, 2), [2, 2], range=[0.0, 1.0])


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"spacing": 0.5}, {"dim": 1}, {"dim": [0, -1], "spacing": [2.0, 0.25]}, {"spacing": "coordinates"}],
    ids=["default", "scalar", "dim", "dims", "coordinates"],
)
def test_gradient(device, dtype, edge_order, kwargs):
    f = randn(5, 6)
    e_kwargs, t_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("spacing") == "coordinates":
        coords = (np.cumsum(randn(5, low=0.2, high=1.0)), np.cumsum(randn(6, low=0.2, high=1.0)))
        e_kwargs["spacing"] = [ember.tensor(c, dtype=dtype, device=device) for c in coords]
        t_kwargs["spacing"] = [torch.tensor(c, dtype=getattr(torch, dtype.name)) for c in coords]
    rtol = 1e-4 if dtype is ember.float32 else 1e-10
    check(lambda t: ember.gradient(t, edge_order=edge_order, **e_kwargs),
          lambda t: torch.gradient(t, edge_order=edge_order, **t_kwargs), [f], device=device, dtype=dtype,
          rtol=rtol, atol=1e-5)  # fmt: skip


def test_gradient_integers_and_errors(device):
    e = ember.gradient(ember.tensor([1, 4, 9, 16], device=device))
    assert_close(e[0], torch.gradient(torch.tensor([1, 4, 9, 16]))[0])
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
            lib.gradient(lib.ones(3), edge_order=3)
        with pytest.raises(RuntimeError, match="expected spacing to be unspecified, a scalar, or a list of length"):
            lib.gradient(lib.ones(3), spacing=[1.0, 2.0])
        with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
            lib.gradient(lib.ones(3), dim=[0, 0])
        with pytest.raises(RuntimeError, match="expected each dimension size to be at least edge_order\\+1"):
            lib.gradient(lib.ones(2), edge_order=2)
