"""The real-tensor forms of PyTorch's complex API (real, imag, conj, adjoint, H, mH, ...), the
``*_copy`` functions, the split spellings, and select/slice/diagonal_scatter and put/put_,
against PyTorch: values, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")


def test_real_tensor_complex_api(device):
    x = ember.arange(6.0, device=device).reshape(2, 3)
    for name in ("real", "conj", "conj_physical", "resolve_conj", "resolve_neg"):
        assert getattr(ember, name)(x) is x
    assert x.real is x and x.conj() is x and x.resolve_conj() is x and x.resolve_neg() is x
    assert x.is_conj() is False and x.is_neg() is False and ember.is_conj(x) is False and ember.is_neg(x) is False
    for fn in (lambda lib, t: t.imag, lambda lib, t: lib.imag(t)):
        for lib, t in ((ember, x), (torch, torch.zeros(2, 3))):
            with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
                fn(lib, t)


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3)])
def test_adjoint_and_conjugate_transposes(device, dtype, shape):
    x = randn(*shape)
    check(lambda t: t.adjoint(), lambda t: t.adjoint(), [x], device=device, dtype=dtype)
    check(lambda t: ember.adjoint(t), lambda t: torch.adjoint(t), [x], device=device, dtype=dtype)
    check(lambda t: t.mH, lambda t: t.mH, [x], device=device, dtype=dtype)
    if len(shape) == 2:
        check(lambda t: t.H, lambda t: t.H, [x], device=device, dtype=dtype)


def test_conjugate_transpose_errors(device):
    for lib in (ember, torch):
        one, three = lib.ones(3), lib.ones(2, 2, 2)
        with pytest.raises(
            RuntimeError, match="tensor.adjoint\\(\\) is only supported on matrices or batches of matrices. Got 1-D"
        ):
            one.adjoint()
        with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices \\(2-D tensors\\). Got 1-D"):
            _ = one.H
        with pytest.raises(RuntimeError, match="Got 3-D tensor. For batches of matrices, consider using tensor.mH"):
            _ = three.H
        with pytest.raises(
            RuntimeError, match="tensor.mH is only supported on matrices or batches of matrices. Got 1-D"
        ):
            _ = one.mH


_COPIES = [
    ("view_copy", ((3, 8),)),
    ("permute_copy", ((1, 0),)),
    ("transpose_copy", (0, 1)),
    ("t_copy", ()),
    ("unsqueeze_copy", (1,)),
    ("squeeze_copy", ()),
    ("expand_copy", ((2, 4, 6),)),
    ("select_copy", (1, 2)),
    ("slice_copy", (1, 1, None, 2)),
    ("diagonal_copy", (1,)),
    ("detach_copy", ()),
    ("narrow_copy", (1, 2, 3)),
    ("as_strided_copy", ((3, 2), (1, 2), 1)),
]


@pytest.mark.parametrize("name,args", _COPIES, ids=[n for n, _ in _COPIES])
def test_copy_functions(device, dtype, name, args):
    x = randn(4, 6)
    e, _ = check(lambda t: getattr(ember, name)(t, *args), lambda t: getattr(torch, name)(t, *args), [x],
                 device=device, dtype=dtype, grad=name != "detach_copy")  # fmt: skip
    assert e[0].is_contiguous()
    before = ember.tensor(x, dtype=dtype, device=device)
    out = getattr(ember, name)(before, *args)
    out.fill_(7.0)
    assert_close(before, torch.tensor(x, dtype=getattr(torch, dtype.name)))  # the input untouched


def test_split_copies_and_spellings(device, dtype):
    x = randn(5, 4)
    check(lambda t: ember.unbind_copy(t, 1), lambda t: torch.unbind_copy(t, 1), [x], device=device, dtype=dtype)
    check(lambda t: ember.split_copy(t, 2), lambda t: torch.split_copy(t, 2), [x], device=device, dtype=dtype)
    check(lambda t: ember.split_with_sizes_copy(t, [1, 3], 1), lambda t: torch.split_with_sizes_copy(t, [1, 3], 1),
          [x], device=device, dtype=dtype)  # fmt: skip
    check(lambda t: t.split_with_sizes([2, 3]), lambda t: t.split_with_sizes([2, 3]), [x], device=device, dtype=dtype)
    check(
        lambda t: ember.split_with_sizes(t, [2, 3]),
        lambda t: torch.split_with_sizes(t, [2, 3]),
        [x],
        device=device,
        dtype=dtype,
    )
    check(lambda t: t.unsafe_split(2, 1), lambda t: t.unsafe_split(2, 1), [x], device=device, dtype=dtype)
    check(lambda t: t.unsafe_chunk(3), lambda t: t.unsafe_chunk(3), [x], device=device, dtype=dtype)
    check(lambda t: ember.unsafe_split_with_sizes(t, [1, 4]), lambda t: torch.unsafe_split_with_sizes(t, [1, 4]),
          [x], device=device, dtype=dtype)  # fmt: skip
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 4"):
            lib.split_with_sizes(lib.ones(2, 4), [1, 1], 1)


def test_select_slice_diagonal_scatter(device, dtype):
    x = randn(3, 4)
    check(lambda t, s: ember.select_scatter(t, s, 0, 1), lambda t, s: torch.select_scatter(t, s, 0, 1), [x, randn(4)],
          device=device, dtype=dtype)  # fmt: skip
    check(
        lambda t, s: t.select_scatter(s, -1, 2),
        lambda t, s: t.select_scatter(s, -1, 2),
        [x, randn(3)],
        device=device,
        dtype=dtype,
    )
    check(lambda t, s: ember.slice_scatter(t, s, 1, 0, None, 2), lambda t, s: torch.slice_scatter(t, s, 1, 0, None, 2),
          [x, randn(3, 2)], device=device, dtype=dtype)  # fmt: skip
    check(
        lambda t, s: t.slice_scatter(s, start=1),
        lambda t, s: t.slice_scatter(s, start=1),
        [x, randn(2, 4)],
        device=device,
        dtype=dtype,
    )
    check(lambda t, s: ember.diagonal_scatter(t, s, 1), lambda t, s: torch.diagonal_scatter(t, s, 1), [x, randn(3)],
          device=device, dtype=dtype)  # fmt: skip
    check(
        lambda t, s: t.diagonal_scatter(s, -1),
        lambda t, s: t.diagonal_scatter(s, -1),
        [x, randn(2)],
        device=device,
        dtype=dtype,
    )
    for lib in (ember, torch):
        y = lib.zeros(2, 3)
        with pytest.raises(
            RuntimeError,
            match="expected src to have a size equal to the slice of self. src size = \\[2\\], slice size = \\[3\\]",
        ):
            lib.select_scatter(y, lib.zeros(2), 0, 1)
        with pytest.raises(RuntimeError, match="src size = \\[2, 2\\], slice size = \\[2, 1\\]"):
            lib.slice_scatter(y, lib.zeros(2, 2), 1, 1, 2)
        with pytest.raises(RuntimeError, match="src size = \\[3\\], slice size = \\[2\\]"):
            lib.diagonal_scatter(y, lib.zeros(3))


@pytest.mark.parametrize("accumulate", [False, True])
def test_put(device, dtype, accumulate):
    x = randn(3, 4)
    index = np.array([0, 11, -1, 5, 5]) if accumulate else np.array([0, 11, -2, 5])
    src = randn(len(index))
    check(lambda t, s: t.put(ember.tensor(index, device=device), s, accumulate),
          lambda t, s: t.put(torch.tensor(index), s, accumulate), [x, src], device=device, dtype=dtype)  # fmt: skip
    check(lambda t, s: ember.put(t, ember.tensor(index, device=device), s, accumulate),
          lambda t, s: torch.put(t, torch.tensor(index), s, accumulate), [x, src], device=device, dtype=dtype)  # fmt: skip
    e, t = ember.tensor(x, dtype=dtype, device=device).t(), torch.tensor(x, dtype=getattr(torch, dtype.name)).t()
    e.put_(ember.tensor(index, device=device), ember.tensor(src, dtype=dtype, device=device), accumulate)
    t.put_(torch.tensor(index), torch.tensor(src, dtype=t.dtype), accumulate)
    assert_close(e, t)


def test_put_errors(device):
    x = ember.zeros(2, 2, device=device)
    with pytest.raises(RuntimeError, match="put_\\(\\): Expected a long tensor for index"):
        x.put(ember.tensor([1.0], device=device), ember.tensor([9.0], device=device))
    with pytest.raises(IndexError, match="put_\\(\\): Expected source and index to have the same number of elements"):
        x.put(ember.tensor([1, 2], device=device), ember.tensor([9.0], device=device))
    with pytest.raises(IndexError):
        x.put(ember.tensor([4], device=device), ember.tensor([9.0], device=device))


def test_put_dtype_mismatch(device):
    for lib, dev in ((ember, device), (torch, "cpu")):
        with pytest.raises(
            RuntimeError,
            match="put_\\(\\): self and source expected to have the same dtype, but got self.dtype = Float and source.dtype = Double",
        ):
            lib.zeros(3, device=dev).put(lib.tensor([0], device=dev), lib.tensor([1.0], dtype=lib.float64, device=dev))
