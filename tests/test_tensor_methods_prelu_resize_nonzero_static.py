"""Tensor methods ember lacked: ``prelu``, the deprecated out-of-place ``resize``/``resize_as``,
``nonzero_static`` and ``as_subclass``, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn

import ember

torch = pytest.importorskip("torch")


def test_prelu_method(device, dtype):
    check(lambda x, w: x.prelu(w), lambda x, w: x.prelu(w), [randn(2, 3, 4), randn(3)], device=device, dtype=dtype)
    check(lambda x, w: x.prelu(w), lambda x, w: x.prelu(w), [randn(5), randn(1)], device=device, dtype=dtype)


@pytest.mark.parametrize("transposed", [False, True])
def test_resize_and_resize_as_reshape_with_a_warning(device, dtype, transposed):
    def program(lib):
        def run(x):
            x = x.t() if transposed else x
            with pytest.warns(UserWarning, match="^non-inplace resize is deprecated$"):
                a = x.resize(3, 4)
            with pytest.warns(UserWarning, match="^non-inplace resize_as is deprecated$"):
                b = x.resize_as(lib.empty(2, 6))
            return a, b

        return run

    check(program(ember), program(torch), [randn(4, 3)], device=device, dtype=dtype)
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.zeros(2, 3, device=dev)
        with pytest.warns(UserWarning):
            r = x.resize(6)
        r[0] = 1  # a contiguous tensor's resize is a view
        found.append(x.sum().item())
        with pytest.raises(RuntimeError) as refused, pytest.warns(UserWarning):
            x.resize(4)
        found.append(str(refused.value))
    assert found[:2] == found[2:]


def test_nonzero_static(device):
    # ember had neither the method nor ember.nonzero_static
    x = np.array([[0, 1, 0], [2, 0, 3]])
    for size, fill in ((0, -1), (2, -1), (3, -1), (6, -9)):
        got = ember.nonzero_static(ember.tensor(x, device=device), size=size, fill_value=fill)
        expected = torch.nonzero_static(torch.tensor(x), size=size, fill_value=fill)
        assert got.dtype is ember.int64 and got.device == ember.device(device)
        assert got.cpu().tolist() == expected.tolist() and tuple(got.shape) == tuple(expected.shape)
    for value in (0.0, 3.0):
        got = ember.tensor(value, device=device).nonzero_static(size=2)
        assert tuple(got.shape) == tuple(torch.tensor(value).nonzero_static(size=2).shape) == (2, 0)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="^nonzero_static: 'size' must be an non-negative integer$"):
            lib.nonzero_static(lib.ones(2), size=-1)
        with pytest.raises(TypeError, match="'size' must be int, not float"):
            lib.nonzero_static(lib.ones(2), size=2.0)


def test_as_subclass(device):
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):

        class Tagged(lib.Tensor):
            pass

        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        t = x.as_subclass(Tagged)
        (t * 3).sum().backward()
        zeros = lib.zeros(2, device=dev)
        plain = zeros.as_subclass(Tagged)
        plain.add_(1)  # shares the memory of the tensor it was made from
        found.append((type(t).__name__, t.requires_grad, t.is_leaf, x.grad.tolist(), plain.requires_grad))
        found.append(zeros.tolist())
    assert found[:2] == found[2:]
    assert found[1] == [1.0, 1.0]


def test_igamma_igammac_and_conj_physical_in_place(device):
    # ember had no igamma_, igammac_, conj_physical_ nor const_data_ptr (AttributeError)
    found = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        a = lib.tensor([1.0, 2.0, 0.5], device=dev)
        b = lib.tensor([0.5, 3.0, 2.0], device=dev)
        x, y = a.clone(), a.clone()
        results = (x.igamma_(b) is x, y.igammac_(b) is y, a.clone().conj_physical_().tolist())
        found.append((results, np.round(x.cpu().tolist(), 5).tolist(), np.round(y.cpu().tolist(), 5).tolist()))
        on_cpu = a.cpu()  # a device may give no address
        assert on_cpu.const_data_ptr() == on_cpu.data_ptr()
    assert found[0] == found[1]
    z = ember.tensor([1 + 2j, -3j])
    assert z.conj_physical_() is z and z.tolist() == [1 - 2j, 3j]


def _map2_refusals(lib):
    errors = []
    for call in (
        lambda: lib.ones(2).map2_(lib.ones(1), lib.ones(1, dtype=lib.int64), max),
        lambda: lib.ones(2).map2_(lib.ones(1, requires_grad=True), lib.ones(1), max),
        lambda: lib.ones(2).map2_(3, lib.ones(1), max),
    ):
        with pytest.raises((TypeError, RuntimeError)) as refused:
            call()
        errors.append(str(refused.value).replace("torch.", "ember."))
    return errors


def test_map2_():
    # ember had no Tensor.map2_ (AttributeError); like map_, it runs on CPU tensors only
    found = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        x.map2_(lib.tensor([10.0, 20.0, 30.0]), lib.tensor([[1.0], [-1.0]]), lambda a, b, c: a + b * c)
        found.append((x.tolist(), x._version, _map2_refusals(lib)))
    assert found[0] == found[1]
