"""add/sub with alpha, addcmul and lerp as PyTorch's CPU kernels compute them, with one fused
multiply-add (``fma(other, alpha, input)``, ``fma(value * tensor1, tensor2, input)``,
``fma(weight, end - input, input)`` below 0.5 and ``fma(weight - 1, end - input, end)`` above): bit
for bit on the NumPy backend, in float32 (through float64, or the compiled loops) and float64 (the
compiled loops' fma); elsewhere within rounding."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.backends.numpy import loops

torch = pytest.importorskip("torch")

CASES = {
    "add": lambda L, a, b, c, w: L.add(a, b, alpha=0.3),
    "sub": lambda L, a, b, c, w: L.sub(a, b, alpha=0.7),
    "add_": lambda L, a, b, c, w: a.clone().add_(b, alpha=-1e-3),
    "add broadcast": lambda L, a, b, c, w: L.add(a, b[:1], alpha=0.3),
    "addcmul": lambda L, a, b, c, w: L.addcmul(a, b, c, value=0.3),
    "addcmul value 1": lambda L, a, b, c, w: L.addcmul(a, b, c),
    "addcmul_": lambda L, a, b, c, w: a.clone().addcmul_(b, c, value=-0.01),
    "lerp 0.3": lambda L, a, b, c, w: L.lerp(a, b, 0.3),
    "lerp 0.7": lambda L, a, b, c, w: L.lerp(a, b, 0.7),
    "lerp tensor": lambda L, a, b, c, w: L.lerp(a, b, w),
    "lerp_": lambda L, a, b, c, w: a.clone().lerp_(b, 0.1),
}


def _operands(lib, dtype, device=None):
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((64, 1025)) for _ in range(3))
    w = rng.uniform(-0.5, 1.5, (64, 1025))
    kind = getattr(lib, dtype)
    where = {} if device is None else {"device": device}
    return [lib.tensor(x, **where).to(kind) for x in (a, b, c, w)]


def _exact(device, dtype):
    """Whether this device's fused multiply-add is PyTorch's bit for bit: a host backend's in float32
    (through float64), the NumPy backend's compiled loops' in float64."""
    name = ember.zeros(1, device=device)._backend.name
    if dtype == "float32":
        return name in ("numpy", "restricted")
    return name == "numpy" and loops.runtime.installed() and loops.get() is not None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
def test_values_equal_torchs(case, dtype, device):
    if dtype == "float64" and not ember.zeros(1, device=device)._backend.supports_float64:
        pytest.skip("no float64 on this device")
    got = CASES[case](ember, *_operands(ember, dtype, device)).cpu().numpy()
    expected = CASES[case](torch, *_operands(torch, dtype)).numpy()
    if _exact(device, dtype):
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == "float32" else 1e-14, atol=1e-7)


def test_without_the_compiled_loops_float32_stays_exact(monkeypatch):
    """The portable kernel computes float32 in float64, where the product is exact."""
    monkeypatch.setattr(loops.runtime, "enabled", False)
    for case in ("add", "addcmul", "lerp tensor"):
        got = CASES[case](ember, *_operands(ember, "float32")).numpy()
        np.testing.assert_array_equal(got, CASES[case](torch, *_operands(torch, "float32")).numpy())


@pytest.mark.parametrize("case", ["add", "sub", "addcmul", "addcmul value 1", "lerp tensor"])
def test_gradients_equal_torchs(case):
    """PyTorch's gradients: ``grad * alpha`` for add's other, ``grad * (tensor2 * value)`` for addcmul's tensor1."""
    grads = []
    for lib in (torch, ember):
        leaves = [t.requires_grad_() for t in _operands(lib, "float32")]
        out = CASES[case](lib, *leaves)
        out.backward(lib.ones_like(out) * 1.7)
        grads.append([None if t.grad is None else t.grad.numpy() for t in leaves])
    for expected, got in zip(*grads):
        assert (expected is None) == (got is None)
        if expected is not None:
            np.testing.assert_array_equal(got, expected)


def test_addcmul_names_the_operands_that_do_not_broadcast():
    for shapes in (((3,), (4,), (3,)), ((3,), (3,), (4,)), ((2, 1), (1, 3), (4, 1))):
        with pytest.raises(RuntimeError) as expected:
            torch.addcmul(*(torch.ones(s) for s in shapes), value=0.5)
        with pytest.raises(RuntimeError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            ember.addcmul(*(ember.ones(s) for s in shapes), value=0.5)


@pytest.mark.parametrize("weight", [1e40, -3.4028235e38, 3.4028234663852886e38, float("inf")])
def test_lerp_weight_beyond_float32_is_refused_as_torch(weight):
    """A finite weight beyond float32's range is PyTorch's RuntimeError for a float32 lerp; its
    largest float and infinity pass."""
    try:
        expected = torch.lerp(torch.tensor([1.0]), torch.tensor([3.0]), weight).numpy()
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=str(error)):
            ember.lerp(ember.tensor([1.0]), ember.tensor([3.0]), weight)
    else:
        np.testing.assert_array_equal(ember.lerp(ember.tensor([1.0]), ember.tensor([3.0]), weight).numpy(), expected)
