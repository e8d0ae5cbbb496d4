"""``logspace`` into an integer dtype rounds ``base ** x`` of the floating-point exponents, as PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("args", [(0, 1, 3), (0, 2, 5), (-1, 1, 5), (0, 1, 3, 2)])
def test_logspace_integer_dtype_like_torch(device, dtype, args):
    want = torch.logspace(*args, dtype=getattr(torch, dtype))
    got = ember.logspace(*args, dtype=getattr(ember, dtype), device=device)
    assert got.dtype is getattr(ember, dtype)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
