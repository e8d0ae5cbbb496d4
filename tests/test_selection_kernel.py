"""``Kernels.stable_order_head`` (``topk``'s candidates): NumPy's partitioning override gives the head of
the stable order that the portable default takes from a whole sort, with equal elements, NaN, -0.0,
every axis and the NumPy and ml_dtypes types; and ``topk`` built on it keeps PyTorch's values."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import ember
from ember.kernels.selection import SelectionKernels

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int8, np.uint8, ml_dtypes.bfloat16]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("descending", [False, True])
def test_partitioned_head_is_the_head_of_the_stable_order(dtype, descending):
    kernels = ember.tensor([1.0], device="cpu")._backend.kernels
    rng = np.random.default_rng(int(descending))
    for _ in range(40):
        shape = [int(s) for s in rng.integers(1, 5, size=rng.integers(1, 4))]
        axis = int(rng.integers(0, len(shape)))
        shape[axis] = int(rng.integers(16, 1500))
        values = rng.integers(0, 6, shape).astype(dtype)
        if np.dtype(dtype).kind in "fV":
            values[rng.random(shape) < 0.05] = np.nan
            values[rng.random(shape) < 0.05] = -0.0
        m = int(rng.integers(1, max(2, shape[axis] // 16)))
        got = kernels.stable_order_head(values, m, axis, descending)
        want = SelectionKernels.stable_order_head(kernels, values, m, axis, descending)  # the whole sort
        np.testing.assert_array_equal(got, want, err_msg=f"{shape} axis {axis} m {m}")


@pytest.mark.parametrize("largest", [True, False])
def test_topk_of_long_rows_keeps_torchs_values(device, largest):
    values = np.random.default_rng(3).standard_normal((3, 50000)).astype(np.float32)
    expected = torch.topk(torch.tensor(values), 200, largest=largest)
    actual = ember.topk(ember.tensor(values, device=device), 200, largest=largest)
    assert actual.indices.tolist() == expected.indices.tolist()  # distinct values: one order
    np.testing.assert_array_equal(actual.values.cpu().numpy(), expected.values.numpy())
