"""Tensor protocol details against PyTorch: methods that refuse ``out=``, keyword arguments of the binary
operators reached through a subclass's ``__torch_function__``, the ``types`` a handler sees for property
getters, the positions named in argument errors, and nanmedian's index of an all-NaN slice.
"""

from __future__ import annotations

import contextlib
import math

import pytest

import ember

torch = pytest.importorskip("torch")


def _libs(device):
    """``(library, keyword arguments of its factories)`` for torch (CPU) and ember (on ``device``)."""
    return ((torch, {}), (ember, {"device": device}))


def _error(call):
    """``(exception type name, message)`` of ``call()``; ``None`` when it does not raise."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error).__name__, str(error)
    return None


# -- nanmedian: the index of an all-NaN slice -----------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 13, 49, 100, 1000, 4097])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nanmedian_all_nan_slice_index(device, n, dtype):
    got = {}
    for lib, kwargs in _libs(device):
        x = lib.full((2, n), math.nan, dtype=getattr(lib, dtype), **kwargs)
        x[1, n // 2] = 1.0
        rows = lib.nanmedian(x, 1)
        columns = lib.nanmedian(x.t(), 0, keepdim=True)
        got[lib] = (rows.indices.tolist(), columns.indices.tolist(), rows.values[1].item())
        assert math.isnan(rows.values[0].item()) and math.isnan(lib.nanmedian(x[0]).item())
    assert got[ember] == got[torch]


def test_nanmedian_all_nan_strided_slices(device):
    got = {}
    for lib, kwargs in _libs(device):
        x = lib.full((3, 9), math.nan, **kwargs)
        got[lib] = (lib.nanmedian(x[:, ::2], 1).indices.tolist(), x.nanmedian(-1).indices.tolist())
    assert got[ember] == got[torch]


# -- argument errors name the argument's position ---------------------------------------------------------
_NOT_TENSOR_CALLS = {
    "relu": lambda lib, x: lib.nn.functional.relu([1.0]),
    "gelu": lambda lib, x: lib.nn.functional.gelu([1.0]),
    "silu": lambda lib, x: lib.nn.functional.silu([1.0]),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh([1.0]),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu([1.0]),
    "elu": lambda lib, x: lib.nn.functional.elu([1.0]),
    "sigmoid": lambda lib, x: lib.sigmoid([1.0]),
    "exp": lambda lib, x: lib.exp(3),
    "tanh": lambda lib, x: lib.tanh(None),
    "linear_input": lambda lib, x: lib.nn.functional.linear([1.0], x),
    "linear_weight": lambda lib, x: lib.nn.functional.linear(x, [1.0]),
    "bilinear_weight": lambda lib, x: lib.nn.functional.bilinear(x, x, [1.0]),
    "cosine_similarity": lambda lib, x: lib.nn.functional.cosine_similarity(x, [1.0]),
    "pairwise_distance": lambda lib, x: lib.nn.functional.pairwise_distance(x, [1.0]),
    "isclose": lambda lib, x: lib.isclose(x, [1.0]),
    "equal": lambda lib, x: lib.equal(x, [1.0]),
    "maximum": lambda lib, x: lib.maximum(x, 1),
}


@pytest.mark.parametrize("case", sorted(_NOT_TENSOR_CALLS))
def test_not_tensor_argument_error_names_position(device, case):
    errors = {}
    for lib, kwargs in _libs(device):
        x = lib.ones(2, 2, **kwargs)
        errors[lib] = _error(lambda: _NOT_TENSOR_CALLS[case](lib, x))  # noqa: B023 - called at once
    assert errors[ember] == errors[torch]
    assert "(position " in errors[ember][1]


# -- property getters: the ``types`` their handlers see ----------------------------------------------------
def _getter_calls(lib, device, make, under_mode):
    """``(getter name, types)`` of each getter call a handler sees while reading properties of ``make(lib)``."""
    log = []

    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((lib.overrides.resolve_name(func).partition(".")[2], [t.__name__ for t in types]))
            return super().__torch_function__(func, types, args, kwargs)

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(("mode " + lib.overrides.resolve_name(func).partition(".")[2], [t.__name__ for t in types]))
            return func(*args, **(kwargs or {}))

    class Opted(lib.Tensor):
        __torch_function__ = lib._C._disabled_torch_function_impl

    kinds = {"Logged": Logged, "Opted": Opted}
    x = make(lib, device if lib is ember else "cpu", kinds)
    with Mode() if under_mode else contextlib.nullcontext():
        for name in ("shape", "T", "grad", "real", "dtype", "requires_grad", "is_leaf", "mT"):
            getattr(x, name)
    return log


_GETTER_OPERANDS = {
    "plain": lambda lib, device, kinds: lib.ones(2, 2, device=device),
    "subclass": lambda lib, device, kinds: lib.ones(2, 2, device=device).as_subclass(kinds["Logged"]),
    "opted_out": lambda lib, device, kinds: lib.ones(2, 2, device=device).as_subclass(kinds["Opted"]),
    "parameter": lambda lib, device, kinds: lib.nn.Parameter(lib.ones(2, 2, device=device)),
}


@pytest.mark.parametrize("operand", sorted(_GETTER_OPERANDS))
@pytest.mark.parametrize("under_mode", [False, True])
def test_property_getter_types(device, operand, under_mode):
    make = _GETTER_OPERANDS[operand]
    assert _getter_calls(ember, device, make, under_mode) == _getter_calls(torch, device, make, under_mode)


# -- the binary operators' keyword arguments, through a subclass's handler ---------------------------------
def _operator_calls(lib, device, program, under_mode=False):
    """What ``program(plain, sub, other)`` gives (class and values, or NotImplemented) and the calls the handlers
    see: ``(function, types, argument classes, keyword arguments)``."""
    log = []

    def described(value):
        return type(value).__name__ if isinstance(value, lib.Tensor) else value

    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            name = lib.overrides.resolve_name(func).partition(".")[2]
            if name not in ("Tensor.tolist", "Tensor.__repr__"):
                log.append((name, [t.__name__ for t in types], [described(a) for a in args], kwargs or {}))
            return super().__torch_function__(func, types, args, kwargs)

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = lib.overrides.resolve_name(func).partition(".")[2]
            if name != "Tensor.tolist":
                log.append(("mode " + name, [t.__name__ for t in types], [described(a) for a in args], kwargs or {}))
            return func(*args, **(kwargs or {}))

    kwargs = {"dtype": lib.float64} if lib is torch else {"dtype": lib.float64, "device": device}
    plain = lib.tensor([4.0, 6.0], **kwargs)
    sub = lib.tensor([1.0, 2.0], **kwargs).as_subclass(Logged)
    other = lib.tensor([3.0, 5.0], **kwargs)
    with Mode() if under_mode else contextlib.nullcontext():
        result = program(plain, sub, other)
    shown = "NotImplemented" if result is NotImplemented else (type(result).__name__, result.tolist())
    return shown, log


_OPERATOR_PROGRAMS = {
    "plain_add_sub_alpha": lambda p, s, o: p.__add__(s, alpha=2),
    "sub_add_plain_alpha": lambda p, s, o: s.__add__(p, alpha=2),
    "plain_add_number_alpha": lambda p, s, o: p.__add__(2, alpha=3),
    "plain_radd_sub_alpha": lambda p, s, o: p.__radd__(s, alpha=2),
    "plain_sub_sub_alpha": lambda p, s, o: p.__sub__(s, alpha=2),
    "plain_truediv_sub_rounding": lambda p, s, o: p.__truediv__(s, rounding_mode="floor"),
    "plain_div_plain_rounding": lambda p, s, o: p.__div__(o, rounding_mode="trunc"),
    "plain_add_sub": lambda p, s, o: p.__add__(s),
    "plain_add_sub_out": lambda p, s, o: p.__add__(s, out=o),
    "plain_add_plain_out": lambda p, s, o: p.__add__(o, out=o),
    "plain_add_plain_rounding": lambda p, s, o: p.__add__(o, rounding_mode="floor"),
    "plain_radd_plain_out": lambda p, s, o: p.__radd__(o, out=o),
    "plain_truediv_plain_alpha": lambda p, s, o: p.__truediv__(o, alpha=2),
    "plain_add_plain_alpha": lambda p, s, o: p.__add__(o, alpha=2),
}


@pytest.mark.parametrize("case", sorted(_OPERATOR_PROGRAMS))
@pytest.mark.parametrize("under_mode", [False, True])
def test_operator_keywords(device, case, under_mode):
    program = _OPERATOR_PROGRAMS[case]
    assert _operator_calls(ember, device, program, under_mode) == _operator_calls(torch, device, program, under_mode)


# -- methods refuse out=, as PyTorch's ------------------------------------------------------------------
_OUT_CALLS = {  # method -> its arguments (besides out)
    "add": lambda lib, x: (x,),
    "mul": lambda lib, x: (x,),
    "sub": lambda lib, x: (x,),
    "matmul": lambda lib, x: (x,),
    "maximum": lambda lib, x: (x,),
    "atan2": lambda lib, x: (x,),
    "cumsum": lambda lib, x: (0,),
    "cumprod": lambda lib, x: (0,),
    "logsumexp": lambda lib, x: (0,),
    "gather": lambda lib, x: (0, lib.zeros(3, dtype=lib.int64, device=x.device)),
    "index_select": lambda lib, x: (0, lib.zeros(3, dtype=lib.int64, device=x.device)),
    "scatter_add": lambda lib, x: (0, lib.zeros(3, dtype=lib.int64, device=x.device), x),
    "amax": lambda lib, x: (),
    "argmax": lambda lib, x: (),
    "nansum": lambda lib, x: (),
    "tril": lambda lib, x: (),
    "exp": lambda lib, x: (),
    "abs": lambda lib, x: (),
    "absolute": lambda lib, x: (),
    "sigmoid": lambda lib, x: (),
    "neg": lambda lib, x: (),
    "__abs__": lambda lib, x: (),
    "__neg__": lambda lib, x: (),
    # PyTorch's overloaded methods: "received an invalid combination of arguments" (the type and name compared)
    "sum": lambda lib, x: (),
    "div": lambda lib, x: (x,),
    "clamp": lambda lib, x: (0, 1),
    "eq": lambda lib, x: (x,),
    "sort": lambda lib, x: (),
    "max": lambda lib, x: (),
    "std": lambda lib, x: (0,),
}


@pytest.mark.parametrize("name", sorted(_OUT_CALLS))
def test_method_refuses_out(device, name):
    errors, outs = {}, {}
    for lib, kwargs in _libs(device):
        x = lib.ones(3, **kwargs)
        out = lib.full((3,), 7.0, **kwargs)
        errors[lib] = _error(lambda: getattr(x, name)(*_OUT_CALLS[name](lib, x), out=out))  # noqa: B023 - called at once
        outs[lib] = out.tolist()
    assert errors[ember] is not None and errors[ember][0] == errors[torch][0] == "TypeError"
    if "invalid combination" in errors[torch][1]:
        assert errors[ember][1].startswith(f"{name}()")
    else:
        assert errors[ember][1] == errors[torch][1]
    assert outs[ember] == outs[torch] == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("name", ["add", "exp", "cumsum", "sum", "gather"])
def test_function_still_takes_out(device, name):
    x = ember.ones(3, device=device)
    out = ember.full((3,), 7.0, device=device) if name != "sum" else ember.empty((), device=device)
    args = _OUT_CALLS[name](ember, x)
    assert getattr(ember, name)(x, *args, out=out) is out
    assert out.tolist() == getattr(x, name)(*args).tolist()
