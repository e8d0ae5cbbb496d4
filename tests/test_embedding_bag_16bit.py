"""16-bit embedding_bag against PyTorch's CPU bit for bit: the bags summed in float32 (per-sample weights
multiplied in float32), rounded once (bfloat16 half away from zero, as FBGEMM's conversion; float16 to
nearest even), the means divided in the 16-bit type."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("mode, weighted", [("sum", False), ("sum", True), ("mean", False), ("max", False)])
def test_bag_results_equal_torchs(dtype, mode, weighted, device):
    if device.startswith("cuda"):
        pytest.skip("PyTorch's CUDA kernels round the float32 means once; the reference here is its CPU's")
    if device.startswith("opencl"):
        pytest.skip("OpenCL gathers no 16-bit rows")
    rng = np.random.default_rng(0)
    table, index = rng.standard_normal((50, 64)).astype(np.float32), rng.integers(0, 50, 4000)
    offsets = np.sort(rng.integers(0, 4000, 400))
    offsets[0] = 0
    sample_weights = rng.standard_normal(4000).astype(np.float32)
    results = []
    for lib, where in ((torch, "cpu"), (ember, device)):
        kind = getattr(lib, dtype)
        out = lib.nn.functional.embedding_bag(
            lib.tensor(index, device=where),
            lib.tensor(table, device=where).to(kind),
            lib.tensor(offsets, device=where),
            mode=mode,
            per_sample_weights=lib.tensor(sample_weights, device=where).to(kind) if weighted else None,
        )
        assert out.dtype is kind
        results.append(out.float().cpu().numpy())
    np.testing.assert_array_equal(results[1], results[0])
