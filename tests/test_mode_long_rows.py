"""``mode`` of rows longer than the pairwise limit counts the runs of the sorted row: the same values and
indices as PyTorch (its CPU kernel sorts each row too), and memory that grows as the row, not its square."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import statistics
from ember.ops._std_select import follows_cpu_kernels

torch = pytest.importorskip("torch")

_LONG = statistics._PAIRWISE_MODE_LIMIT + 1


def _rows(kind, rng, rows, n):
    if kind == "int64":
        return rng.integers(0, 6, (rows, n)).astype(np.int64)
    if kind == "float32":
        return rng.integers(-3, 3, (rows, n)).astype(np.float32)
    if kind == "bool":
        return rng.random((rows, n)) < 0.5
    a = rng.integers(0, 4, (rows, n)).astype(np.float64)  # "float64 with NaN"
    a[rng.random(a.shape) < 0.1] = np.nan
    return a


@pytest.mark.parametrize("kind", ["int64", "float32", "bool", "float64 with NaN"])
@pytest.mark.parametrize("n", [_LONG, 3 * _LONG + 2])
def test_mode_of_long_rows_as_torch(device, kind, n):
    rng = np.random.default_rng(n)
    a = _rows(kind, rng, 5, n)
    if kind == "float64 with NaN" and not follows_cpu_kernels(ember.zeros(1, device=device)):
        pytest.skip("rows with NaN take PyTorch's CPU position on the host backends only")
    for dim in (0, 1):
        expected = torch.mode(torch.tensor(a), dim)
        got = ember.mode(ember.tensor(a, device=device), dim)
        np.testing.assert_array_equal(got.values.cpu().numpy(), expected.values.numpy())
        if follows_cpu_kernels(got.values):
            np.testing.assert_array_equal(got.indices.cpu().numpy(), expected.indices.numpy())
        else:  # another kernel's choice among equal elements: a position of the mode
            picked = np.take_along_axis(a, np.expand_dims(got.indices.cpu().numpy(), dim), dim).squeeze(dim)
            np.testing.assert_array_equal(picked, expected.values.numpy())


def test_mode_of_a_row_of_200000_elements(device):
    # comparing every pair would take 4e10 elements
    a = np.random.default_rng(0).integers(-50, 50, 200_000).astype(np.float32)
    expected = torch.mode(torch.tensor(a))
    got = ember.mode(ember.tensor(a, device=device))
    assert got.values.item() == expected.values.item()
    assert a[got.indices.item()] == expected.values.item()
