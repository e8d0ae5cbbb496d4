"""Mixed precision off the main road, differential against PyTorch's CPU: the softmax of a 16-bit input
over a dim that is not the last (attention over heads or positions laid out first, a softmax over the
channels of an image), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

SHAPES = [((3, 30, 10), 1), ((3, 30, 40), 1), ((5, 7, 33), 1), ((300, 3), 0), ((2, 3, 4, 70), 1), ((7, 129), 0)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_softmax_of_16_bit_over_a_leading_dim_as_torch(device, name, threads, torch_threads, numpy_threads):
    """PyTorch's CPU kernel (``_vec_softmax``) goes through each thread's share of the positions in runs of
    a 16-bit vector's width, computed in float32 and rounded once; the positions left at the end of a row
    or of a share take its scalar loop, which rounds each exponential to the 16-bit type before dividing.
    ember computed all in float32: 5 of 900 bfloat16 values of a (3, 300) softmax over dim 0 one unit off,
    54 of 900 of a (3, 30, 10) one over dim 1 (float16: 4 and 7)."""
    if name == "bfloat16" and ember.device(device).type == "opencl":
        pytest.skip("opencl has no bfloat16")
    torch_threads(threads)
    numpy_threads(threads)
    rng = np.random.default_rng(0)
    for shape, dim in SHAPES:
        values = (rng.standard_normal(shape) * 30).astype(np.float32)
        want = torch.tensor(values).to(getattr(torch, name)).softmax(dim)
        got = ember.tensor(values, device=device).to(getattr(ember, name)).softmax(dim)
        assert str(got.dtype) == f"ember.{name}"
        np.testing.assert_array_equal(got.float().cpu().numpy(), want.float().numpy(), err_msg=f"{shape} {dim}")
