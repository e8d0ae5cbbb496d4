"""bfloat16 casts and ReLU on the bits (the NumPy backend's shift and compiled loops) against PyTorch,
over every bfloat16 pattern and a million random float32 ones, with and without the compiled loops."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.backends.numpy import loops

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(ember.dtypes.numpy_bfloat16() is None, reason="needs ml_dtypes")

#: float32 patterns around the rounding and range edges: zeros, infinities, the largest finite values
#: (which round to infinity or not), ties of both parities, subnormals, NaNs of both signs
EDGES = np.array(
    [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0x3F808000, 0x3F818000]
    + [0x00008000, 0x00018000, 0x807FFFFF, 0x7FC00000, 0xFFC00001, 0x7F800001, 0xFFFFFFFF],
    dtype=np.uint32,
)


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Each test once with the compiled loops (where Numba is installed) and once without them."""
    if request.param == "compiled" and not loops.runtime.installed():
        pytest.skip("needs numba")
    if request.param == "numpy":
        monkeypatch.setattr(loops.runtime, "enabled", False)
    return request.param


def _float32_patterns():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 1 << 20, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([bits, np.tile(EDGES, 100)]).view(np.float32)


def _bits(t):
    return t.view(ember.int16).numpy().view(np.uint16) if isinstance(t, ember.Tensor) else t.view(torch.int16).numpy()


def _every_bfloat16():
    """Every bfloat16 pattern (as int16), twice: enough elements for the compiled loops."""
    return np.tile(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16), 2)


def _both(bits):
    """ember's and PyTorch's bfloat16 tensors of the int16 patterns ``bits``."""
    return ember.tensor(bits).view(ember.bfloat16), torch.from_numpy(bits.copy()).view(torch.bfloat16)


@pytest.mark.parametrize("size", [5, 1 << 20])
def test_float32_to_bfloat16_rounds_as_torch(path, size):
    """Round to nearest, ties to even, overflow to infinity, subnormals kept: PyTorch's bits; a NaN gives
    the canonical quiet NaN of its sign (PyTorch's vectorized cast gives 0xFFFF: both NaN)."""
    x = _float32_patterns()[-size:]
    got = ember.tensor(x).bfloat16()
    expected = torch.from_numpy(x.copy()).bfloat16()
    finite = ~np.isnan(x)
    np.testing.assert_array_equal(_bits(got)[finite], _bits(expected).view(np.uint16)[finite])
    sign = np.signbit(x[~finite])
    np.testing.assert_array_equal(_bits(got)[~finite], np.where(sign, 0xFFC0, 0x7FC0))


def test_bfloat16_to_float32_is_exact(path):
    """Every bfloat16 pattern widens to the float32 with its bits in the upper half, NaN payloads included."""
    narrow, ref = _both(_every_bfloat16())
    np.testing.assert_array_equal(narrow.float().numpy().view(np.int32), ref.float().view(torch.int32).numpy())
    transposed, ref_transposed = narrow.reshape(512, 256).t(), ref.reshape(512, 256).t()
    assert transposed.float().stride() == ref_transposed.float().stride()
    np.testing.assert_array_equal(transposed.float().numpy().view(np.int32), ref_transposed.float().view(torch.int32))


def test_relu_and_its_gradient_match_torch_on_every_pattern(path):
    """ReLU keeps NaN and -0. and zeroes the ordered negatives; its gradient is 0 where the output is
    <= 0 (zeros of both signs) and passes elsewhere (NaN outputs included)."""
    x, ref = (t.requires_grad_() for t in _both(_every_bfloat16()))
    values = ref.detach().float().numpy()
    grad = np.random.default_rng(1).standard_normal(values.size).astype(np.float32)
    y, y_ref = ember.relu(x), torch.relu(ref)
    y.backward(ember.tensor(grad).bfloat16())
    y_ref.backward(torch.from_numpy(grad).bfloat16())
    nan = np.isnan(values)
    np.testing.assert_array_equal(_bits(y.detach())[~nan], _bits(y_ref.detach()).view(np.uint16)[~nan])
    assert np.isnan(y.detach().float().numpy()[nan]).all()
    np.testing.assert_array_equal(_bits(x.grad), _bits(ref.grad).view(np.uint16))
