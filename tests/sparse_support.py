"""Helpers of the sparse-tensor tests (``test_sparse_*.py``): the same dense data in ember and torch,
and the comparison of two results (sparse ones through their dense form) with dtypes and shapes."""

from __future__ import annotations

import numpy as np
import torch

import ember


def dense_pair(device, dtype, *shape, seed=0, requires_grad=False):
    """Standard-normal values of ``shape`` (from ``seed``) as an ember tensor on ``device`` and a torch
    tensor, both of ``dtype``."""
    values = np.random.default_rng(seed).standard_normal(shape)
    ours = ember.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)
    theirs = torch.tensor(values, dtype=getattr(torch, dtype.name), requires_grad=requires_grad)
    return ours, theirs


def dense_numpy(x):
    """The NumPy values of an ember or torch tensor, a sparse one through ``to_dense()``."""
    if not isinstance(x, (ember.Tensor, torch.Tensor)) or x.layout not in (ember.strided, torch.strided):
        x = x.to_dense()
    return np.asarray(x.detach().cpu().numpy())


def assert_dense_close(ours, theirs, dtype=ember.float64):
    """Same shape, NumPy dtype and values (1e-12 in float64, else 1e-5) of ember's and torch's result."""
    tol = 1e-12 if dtype is ember.float64 else 1e-5
    a, b = dense_numpy(ours), dense_numpy(theirs)
    assert a.shape == b.shape and str(a.dtype) == str(b.dtype), (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
