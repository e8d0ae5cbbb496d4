"""``out=``: the result is written into the given tensor, with PyTorch's checks (dtype, grad, device, shape)."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

# fmt: off
WRITES = [
    ("add", lambda T, o, d: T.add(T.tensor([1.0, 2.0], device=d), T.tensor([3.0, 4.0], device=d), alpha=2, out=o)),
    ("sub", lambda T, o, d: T.sub(T.tensor([1.0, 2.0], device=d), 1, out=o)),
    ("mul", lambda T, o, d: T.mul(T.tensor([1, 2], device=d), 3, out=o)),
    ("div", lambda T, o, d: T.div(T.tensor([1.0, 2.0], device=d), 4, out=o)),
    ("div_floor", lambda T, o, d: T.div(T.tensor([7, -7], device=d), 2, rounding_mode="floor", out=o)),
    ("cat", lambda T, o, d: T.cat([T.tensor([1.0], device=d), T.tensor([2.0], device=d)], out=o)),
    ("normalize", lambda T, o, d: T.nn.functional.normalize(T.tensor([3.0, 4.0], device=d), dim=0, out=o)),
    ("zeros", lambda T, o, d: T.zeros(2, device=d, out=o)),
    ("ones", lambda T, o, d: T.ones(2, device=d, out=o)),
    ("full", lambda T, o, d: T.full((2,), 7, device=d, out=o)),
    ("arange", lambda T, o, d: T.arange(2, device=d, out=o)),
]
# fmt: on


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [pytest.param(f, id=n) for n, f in WRITES])
def test_out_receives_the_result(make, dtype, device):
    expected_out = torch.empty(2, dtype=getattr(torch, dtype))
    expected = make(torch, expected_out, "cpu")
    out = ember.empty(2, dtype=getattr(ember, dtype), device=device)
    result = make(ember, out, device)
    assert result is out
    assert out.dtype is getattr(ember, dtype)
    assert out.tolist() == expected_out.tolist() == expected.tolist()


def test_out_of_another_shape_is_resized_with_a_warning():
    out = ember.empty(3)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        ember.add(ember.ones(2), 1, out=out)
    assert out.shape == (2,) and out.tolist() == [2.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.add(ember.ones(2), 1, out=ember.empty(0))  # no elements: resized silently, as in PyTorch
        assert ember.zeros(2, 2, out=ember.empty(5)).shape == (2, 2)  # factories resize silently


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda T: T.add(T.ones(2), 1.5, out=T.empty(2, dtype=T.int64)), RuntimeError, "result type Float can't be cast to the desired output type Long"),
        (lambda T: T.div(T.tensor([1, 2]), 2, out=T.empty(2, dtype=T.int64)), RuntimeError, "result type Float can't be cast"),
        (lambda T: T.mul(T.tensor([1, 2]), 2, out=T.empty(2, dtype=T.bool)), RuntimeError, "result type Long can't be cast to the desired output type Bool"),
        (lambda T: T.cat([T.ones(2)], out=T.empty(2, dtype=T.int64)), TypeError, "cat\\(\\): input types can't be cast to the desired output type Long"),
        (lambda T: T.add(T.ones(2, requires_grad=True), 1, out=T.empty(2)), RuntimeError, "add\\(\\): functions with out=... arguments don't support automatic differentiation"),
        (lambda T: T.cat([T.ones(2, requires_grad=True)], out=T.empty(2)), RuntimeError, "cat\\(\\): functions with out=..."),
        (lambda T: T.zeros(2, out=T.empty(2, requires_grad=True)), RuntimeError, "zeros\\(\\): functions with out=..."),
        (lambda T: T.zeros(2, dtype=T.float32, out=T.empty(2, dtype=T.int64)), RuntimeError, "dtype Float does not match dtype of out parameter \\(Long\\)"),
        (lambda T: T.arange(3, dtype=T.int64, out=T.empty(3)), RuntimeError, "dtype Long does not match dtype of out parameter \\(Float\\)"),
    ],
)  # fmt: skip
def test_out_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(torch)
    with pytest.raises(exc, match=match):
        call(ember)


def test_out_without_grad_mode_may_require_grad():
    out = ember.empty(2, requires_grad=True)
    with ember.no_grad():
        ember.add(ember.ones(2), 1, out=out)
    assert out.tolist() == [2.0, 2.0] and out.requires_grad


def test_factory_out_takes_out_dtype_and_requires_grad():
    out = ember.empty(2, dtype=ember.int64)
    assert ember.full((2,), 3, out=out).tolist() == [3, 3] and out.dtype is ember.int64
    out = ember.empty(2)
    assert ember.zeros(2, out=out, requires_grad=True).requires_grad


def test_out_on_another_device_is_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    with pytest.raises(RuntimeError, match=f"found at least two devices, {ember.device(device)} and cpu"):
        ember.add(ember.ones(2, device=device), 1, out=ember.empty(2))
