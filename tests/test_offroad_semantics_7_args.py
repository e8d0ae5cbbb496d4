"""Off the main road, differential against PyTorch: bool arguments given something else than ``True`` or
``False`` (``x.sum(0, keepdim=1)``, ``x.topk(2, largest=0)``, ``x.sort(descending="no")``, a NumPy bool, None)
are PyTorch's TypeError naming the op and the argument, never read as truthy; and ``dtype=`` arguments that are
no ember dtype nor float/int/bool/complex (a name, a NumPy type or dtype) are its TypeError, never a cast."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _x(L):
    return L.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])


# name -> (f(lib, value), the op and argument both name in the error)
BOOL_ARGUMENTS = {
    "sum keepdim": (lambda L, v: _x(L).sum(0, keepdim=v), "keepdim"),
    "ember.sum keepdim": (lambda L, v: L.sum(_x(L), 0, keepdim=v), "keepdim"),
    "mean keepdim": (lambda L, v: _x(L).mean(0, keepdim=v), "keepdim"),
    "prod keepdim": (lambda L, v: _x(L).prod(0, keepdim=v), "keepdim"),
    "amax keepdim": (lambda L, v: _x(L).amax(0, keepdim=v), "keepdim"),
    "amin keepdim": (lambda L, v: _x(L).amin(0, keepdim=v), "keepdim"),
    "max keepdim": (lambda L, v: _x(L).max(0, keepdim=v), "keepdim"),
    "min keepdim": (lambda L, v: _x(L).min(0, keepdim=v), "keepdim"),
    "argmax keepdim": (lambda L, v: _x(L).argmax(0, keepdim=v), "keepdim"),
    "argmin keepdim": (lambda L, v: _x(L).argmin(0, keepdim=v), "keepdim"),
    "aminmax keepdim": (lambda L, v: _x(L).aminmax(dim=0, keepdim=v), "keepdim"),
    "logsumexp keepdim": (lambda L, v: _x(L).logsumexp(0, keepdim=v), "keepdim"),
    "nansum keepdim": (lambda L, v: _x(L).nansum(0, keepdim=v), "keepdim"),
    "nanmean keepdim": (lambda L, v: _x(L).nanmean(0, keepdim=v), "keepdim"),
    "median keepdim": (lambda L, v: _x(L).median(0, keepdim=v), "keepdim"),
    "nanmedian keepdim": (lambda L, v: _x(L).nanmedian(0, keepdim=v), "keepdim"),
    "mode keepdim": (lambda L, v: _x(L).mode(0, keepdim=v), "keepdim"),
    "kthvalue keepdim": (lambda L, v: _x(L).kthvalue(1, 0, keepdim=v), "keepdim"),
    "std keepdim": (lambda L, v: _x(L).std(0, keepdim=v), "keepdim"),
    "var keepdim": (lambda L, v: _x(L).var(0, keepdim=v), "keepdim"),
    "var unbiased": (lambda L, v: _x(L).var(0, unbiased=v), "unbiased"),
    "std_mean keepdim": (lambda L, v: L.std_mean(_x(L), 0, keepdim=v), "keepdim"),
    "any keepdim": (lambda L, v: _x(L).any(0, keepdim=v), "keepdim"),
    "all keepdim": (lambda L, v: _x(L).all(0, keepdim=v), "keepdim"),
    "norm keepdim": (lambda L, v: _x(L).norm(dim=0, keepdim=v), "keepdim"),
    "vector_norm keepdim": (lambda L, v: L.linalg.vector_norm(_x(L), dim=0, keepdim=v), "keepdim"),
    "topk largest": (lambda L, v: _x(L).topk(2, largest=v), "largest"),
    "topk sorted": (lambda L, v: _x(L).topk(2, sorted=v), "sorted"),
    "sort descending": (lambda L, v: _x(L).sort(descending=v), "descending"),
    "sort stable": (lambda L, v: _x(L).sort(stable=v), "stable"),
    "argsort descending": (lambda L, v: _x(L).argsort(descending=v), "descending"),
    "unique sorted": (lambda L, v: _x(L).unique(sorted=v), "sorted"),
    "unique return_inverse": (lambda L, v: _x(L).unique(return_inverse=v), "return_inverse"),
    "unique return_counts": (lambda L, v: _x(L).unique(return_counts=v), "return_counts"),
    "nonzero as_tuple": (lambda L, v: _x(L).nonzero(as_tuple=v), "as_tuple"),
    "searchsorted right": (lambda L, v: L.searchsorted(L.tensor([1, 2, 3]), L.tensor([2]), right=v), "right"),
    "quantile keepdim": (lambda L, v: L.quantile(_x(L), 0.5, dim=0, keepdim=v), "keepdim"),
    "nanquantile keepdim": (lambda L, v: L.nanquantile(_x(L), 0.5, dim=0, keepdim=v), "keepdim"),
    "unique_consecutive return_inverse": (lambda L, v: L.unique_consecutive(_x(L), return_inverse=v), "return_inverse"),
    "unique_consecutive return_counts": (lambda L, v: L.unique_consecutive(_x(L), return_counts=v), "return_counts"),
    "to copy": (lambda L, v: _x(L).to(L.float64, copy=v), "copy"),
    "to non_blocking": (lambda L, v: _x(L).to(L.float64, non_blocking=v), "non_blocking"),
    "searchsorted out_int32": (
        lambda L, v: L.searchsorted(L.tensor([1, 2, 3]), L.tensor([2]), out_int32=v),
        "out_int32",
    ),
}


@pytest.mark.parametrize("value", [1, 0, "no", np.bool_(True)], ids=["1", "0", "str", "numpy_bool"])
@pytest.mark.parametrize("case", list(BOOL_ARGUMENTS))
def test_bool_arguments_must_be_bool(case, value):
    # ember read them as truthy: x.sum(0, keepdim=1) kept the dim, x.topk(2, largest=0) took the smallest
    fn, name = BOOL_ARGUMENTS[case]
    with pytest.raises(TypeError) as expected:
        fn(torch, value)
    kind = type(value)
    shown = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    with pytest.raises(TypeError) as got:
        fn(ember, value)
    if str(got.value) != str(expected.value):  # PyTorch's words exactly (std_mean's invalid combination), or these
        assert re.search(rf"argument '{name}' must be bool, not {shown}$", str(got.value)), str(got.value)


@pytest.mark.parametrize("case", list(BOOL_ARGUMENTS))
@pytest.mark.parametrize("value", [True, False])
def test_bool_arguments_still_taken(case, value):
    fn, _ = BOOL_ARGUMENTS[case]
    expected, got = fn(torch, value), fn(ember, value)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6)


def test_none_is_no_bool_except_for_sort_stable():
    with pytest.raises(TypeError, match="^sum\\(\\): argument 'keepdim' must be bool, not NoneType$"):
        _x(ember).sum(0, keepdim=None)
    with pytest.raises(TypeError, match="argument 'largest' must be bool, not NoneType"):
        _x(ember).topk(1, largest=None)
    assert _x(ember).sort(stable=None).values.tolist() == _x(torch).sort(stable=None).values.tolist()


# name -> f(lib, dtype)
DTYPE_ARGUMENTS = {
    "sum": lambda L, d: _x(L).sum(dtype=d),
    "sum dim": lambda L, d: _x(L).sum(0, dtype=d),
    "mean": lambda L, d: _x(L).mean(dtype=d),
    "prod dim": lambda L, d: _x(L).prod(0, dtype=d),
    "nansum": lambda L, d: _x(L).nansum(dtype=d),
    "nanmean": lambda L, d: _x(L).nanmean(dtype=d),
    "cumsum": lambda L, d: _x(L).cumsum(0, dtype=d),
    "cumprod": lambda L, d: _x(L).cumprod(0, dtype=d),
    "softmax": lambda L, d: _x(L).softmax(0, dtype=d),
    "log_softmax": lambda L, d: _x(L).log_softmax(0, dtype=d),
    "F.softmax": lambda L, d: L.nn.functional.softmax(_x(L), 0, dtype=d),
    "vector_norm": lambda L, d: L.linalg.vector_norm(_x(L), dtype=d),
    "matrix_norm": lambda L, d: L.linalg.matrix_norm(_x(L), dtype=d),
    "scalar_tensor": lambda L, d: L.scalar_tensor(2, dtype=d),
    "hann_window": lambda L, d: L.hann_window(3, dtype=d),
    "to positional": lambda L, d: _x(L).to(d),
    "to keyword": lambda L, d: _x(L).to(dtype=d),
}
NOT_DTYPES = {"name": "float64", "numpy dtype": np.dtype("float64"), "numpy type": np.float64}


@pytest.mark.parametrize(
    ("case", "given"),
    # (a name given to() positionally is a device string: PyTorch's RuntimeError, not this case)
    [(c, g) for c in DTYPE_ARGUMENTS for g in NOT_DTYPES if (c, g) != ("to positional", "name")],
)
def test_dtype_arguments_must_be_dtypes(case, given):
    # ember cast: x.sum(0, dtype="float64") and x.cumsum(0, dtype=numpy.dtype("float64")) gave float64
    fn, value = DTYPE_ARGUMENTS[case], NOT_DTYPES[given]
    with pytest.raises(TypeError):
        fn(torch, value)
    with pytest.raises(TypeError):
        fn(ember, value)


@pytest.mark.parametrize("case", list(DTYPE_ARGUMENTS))
@pytest.mark.parametrize("given", ["float64", "float"])
def test_dtype_arguments_still_taken(case, given):
    expected = DTYPE_ARGUMENTS[case](torch, getattr(torch, given) if given != "float" else float)
    got = DTYPE_ARGUMENTS[case](ember, getattr(ember, given) if given != "float" else float)
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


# name -> f(lib): div's rounding_mode that is no mode (RuntimeError) or no str (TypeError)
ROUNDING_MODES = {
    "'round'": lambda L: L.div(L.tensor([1]), 2, rounding_mode="round"),  # ember raised ValueError
    "method 'x'": lambda L: L.tensor([1.0]).div(2, rounding_mode="x"),
    "in place 'x'": lambda L: L.tensor([1.0]).div_(2, rounding_mode="x"),
    "5": lambda L: L.div(L.tensor([1]), 2, rounding_mode=5),
}


@pytest.mark.parametrize("case", list(ROUNDING_MODES))
def test_div_rounding_mode_errors(case):
    with pytest.raises(Exception) as expected:
        ROUNDING_MODES[case](torch)
    if isinstance(expected.value, RuntimeError):
        with pytest.raises(RuntimeError, match=f"^{re.escape(str(expected.value))}$"):
            ROUNDING_MODES[case](ember)
    else:
        with pytest.raises(type(expected.value), match="rounding_mode"):
            ROUNDING_MODES[case](ember)
