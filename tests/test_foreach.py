"""``ember._foreach_*`` against ``torch._foreach_*``: each op over a list of tensors with a number, a
list of numbers, a tensor or a list of tensors, out of place (a tuple) and in place (the list)."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _lists(lib, device=None, dtype="float64"):
    rng = np.random.default_rng(0)
    shapes = [(2,), (3, 2), ()]
    out = []
    for _ in range(3):
        values = [np.abs(rng.standard_normal(s)) + 0.1 for s in shapes]
        tensors = [lib.tensor(v, dtype=getattr(lib, dtype)) for v in values]
        out.append([t.to(device) for t in tensors] if device else tensors)
    return out


#: name -> fn(T, a, b, c) on three lists of tensors
CALLS = {
    "add_scalar": lambda T, a, b, c: T._foreach_add(a, 1.5),
    "add_list_alpha": lambda T, a, b, c: T._foreach_add(a, b, alpha=-2),
    "add_scalar_list": lambda T, a, b, c: T._foreach_add(a, [1.0, 2.0, 3.0]),
    "sub_list": lambda T, a, b, c: T._foreach_sub(a, b),
    "mul_tensor": lambda T, a, b, c: T._foreach_mul(a, b[2]),
    "div_list": lambda T, a, b, c: T._foreach_div(a, b),
    "maximum_list": lambda T, a, b, c: T._foreach_maximum(a, b),
    "clamp_min_scalar": lambda T, a, b, c: T._foreach_clamp_min(a, 0.8),
    "pow_scalar": lambda T, a, b, c: T._foreach_pow(a, 2.5),
    "sqrt": lambda T, a, b, c: T._foreach_sqrt(a),
    "neg": lambda T, a, b, c: T._foreach_neg(a),
    "addcmul_value": lambda T, a, b, c: T._foreach_addcmul(a, b, c, value=0.5),
    "addcdiv_scalar_list": lambda T, a, b, c: T._foreach_addcdiv(a, b, c, [1.0, -1.0, 0.5]),
    "lerp_scalar": lambda T, a, b, c: T._foreach_lerp(a, b, 0.3),
    "lerp_tensors": lambda T, a, b, c: T._foreach_lerp(a, b, c),
    "norm": lambda T, a, b, c: T._foreach_norm(a),
    "norm_inf": lambda T, a, b, c: T._foreach_norm(a, float("inf")),
    "max": lambda T, a, b, c: T._foreach_max(a),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_out_of_place(name, device):
    expected = CALLS[name](torch, *_lists(torch))
    actual = CALLS[name](ember, *_lists(ember, device))
    assert isinstance(actual, tuple) and len(actual) == len(expected)
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a.cpu().numpy(), e.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in CALLS if not n.startswith(("norm", "max"))])
def test_in_place_returns_the_list(name, device):
    expected_lists, actual_lists = _lists(torch), _lists(ember, device)
    expected = CALLS[name](_InPlace(torch), *expected_lists)
    actual = CALLS[name](_InPlace(ember), *actual_lists)
    assert expected is expected_lists[0] and actual is actual_lists[0]
    for e, a in zip(expected_lists[0], actual_lists[0]):
        np.testing.assert_allclose(a.cpu().numpy(), e.numpy(), rtol=1e-12)


class _InPlace:
    """``lib`` whose ``_foreach_<op>`` is the in-place ``_foreach_<op>_``."""

    def __init__(self, lib):
        self.lib = lib

    def __getattr__(self, name):
        return getattr(self.lib, name + "_" if name.startswith("_foreach_") else name)


def test_ema_update_and_helpers(device):
    for lib, dev in ((torch, None), (ember, device)):
        ema, params, _ = _lists(lib, dev)
        lib._foreach_mul_(ema, 0.9)
        lib._foreach_add_(ema, params, alpha=0.1)
        copies = lib._foreach_clone(ema)
        lib._foreach_zero_(ema)
        assert all(float(t.abs().sum()) == 0 for t in ema)
        lib._foreach_copy_(ema, copies)
        if lib is torch:
            expected = [t.numpy() for t in ema]
        else:
            for e, a in zip(expected, ema):
                np.testing.assert_allclose(a.cpu().numpy(), e, rtol=1e-12)


def test_mismatched_lists_raise_as_in_pytorch():
    for lib in (torch, ember):
        a, b, _ = _lists(lib)
        with pytest.raises(RuntimeError, match="Tensor lists must have the same number of tensors, got 3 and 2"):
            lib._foreach_add(a, b[:2])
        with pytest.raises(RuntimeError, match="Tensor list must have same number of elements as scalar list"):
            lib._foreach_mul(a, [1.0, 2.0])
