"""A plain tensor indexed by, or combined through its operators with, a tensor-subclass instance, against PyTorch.

PyTorch hands ``plain[sub]``, ``plain[sub] = v`` and ``plain.__add__(sub)`` to the subclass's
``__torch_function__``: the handler sees ``Tensor.__getitem__``, ``Tensor.__setitem__`` or the method PyTorch
passes for the operator (``Tensor.add``, or the operator itself: ``Tensor.__rsub__``), with the operands in
the order written, and decides the result (by default an instance of the subclass). ``plain + sub`` runs as
``plain.__add__(sub)``. The same logging subclass is written for both libraries; the tests compare the
calls its handler sees (function, ``types``, arguments), the result's class and values, and the indexed
tensor afterwards.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _logged_class(lib, names):
    """A subclass whose handler records ``(public name, types, arguments by name)`` of each call."""

    def name_of(value):
        for name, known in names.items():
            if known is value:
                return name
        if isinstance(value, (tuple, list)):
            return type(value)(name_of(item) for item in value)
        return type(value).__name__ if isinstance(value, lib.Tensor) else value

    class Logged(lib.Tensor):
        calls: list = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            name = lib.overrides.resolve_name(func).partition(".")[2]
            if name != "Tensor.tolist":  # the test's own read of the result
                cls.calls.append((name, [t.__name__ for t in types], [name_of(a) for a in args]))
            return super().__torch_function__(func, types, args, kwargs)

    return Logged


def _setitem(target, index, value):
    target[index] = value
    return target


def _run(lib, program, dtype_name="float64", device=None):
    """``program`` on plain ``a`` (4 values), ``b`` (4 x 4) and ``i`` (4 int64) with subclass operands: ``s`` (int64
    indices), ``m`` (a bool mask), ``f`` (4 floats), ``k`` (4 int64), ``v`` (2 floats), ``w`` (4 x 4 floats)."""
    names: dict = {}
    Logged = _logged_class(lib, names)
    dtype = getattr(lib, dtype_name)
    kwargs = {} if lib is torch else {"device": device}
    names.update(
        a=lib.arange(4, dtype=dtype, **kwargs),
        b=lib.arange(16, dtype=dtype, **kwargs).reshape(4, 4),
        i=lib.arange(4, **kwargs),
        s=lib.tensor([1, 3], **kwargs).as_subclass(Logged),
        m=lib.tensor([True, False, True, False], **kwargs).as_subclass(Logged),
        f=lib.tensor([1.0, 3.0, 2.0, 0.5], dtype=dtype, **kwargs).as_subclass(Logged),
        k=lib.tensor([1, 3, 2, 1], **kwargs).as_subclass(Logged),
        v=lib.tensor([5.0, 6.0], dtype=dtype, **kwargs).as_subclass(Logged),
        w=lib.ones(4, 4, dtype=dtype, **kwargs).as_subclass(Logged),
    )
    Logged.calls.clear()
    try:
        result = eval(program, {"setitem": _setitem, **names})  # noqa: S307 - the test's own programs
        outcome = (type(result).__name__, None if result is None else result.tolist())
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        outcome = (type(error).__name__, str(error))
    return outcome, list(Logged.calls), names["a"].tolist(), names["b"].tolist()


INDEXING = [
    "a[s]",
    "a[s.long()]",
    "a[m]",
    "a[f > 1]",
    "a[(s,)]",
    "a[[s]]",
    "b[0, s]",
    "b[s, s]",
    "b[:, s]",
    "b[..., s]",
    "b[None, s]",
    "b[[s, s]]",
    "b[s][:, 1]",
    "a.__getitem__(s)",
    "setitem(a, s, 9.0)",
    "setitem(a, m, 9.0)",
    "setitem(a, s, v)",
    "setitem(a, i[1:3], v)",
    "setitem(a, 0, v[0])",
    "setitem(b, (s, 0), v)",
    "a.__setitem__(s, 1.0)",
]

OPERATORS = [
    "a.__add__(f)",
    "a.__radd__(f)",
    "a.__sub__(f)",
    "a.__rsub__(f)",
    "a.__mul__(f)",
    "a.__rmul__(f)",
    "a.__truediv__(f)",
    "a.__rtruediv__(f)",
    "a.__div__(f)",
    "a.__rdiv__(f)",
    "a.__floordiv__(f)",
    "a.__rfloordiv__(f)",
    "a.__mod__(f)",
    "a.__pow__(f)",
    "a.__rpow__(f)",
    "a.__matmul__(w)",
    "a.__rmatmul__(w)",
    "a.__eq__(f)",
    "a.__ne__(f)",
    "a.__lt__(f)",
    "a.__le__(f)",
    "a.__gt__(f)",
    "a.__ge__(f)",
    "i.__and__(k)",
    "i.__rand__(k)",
    "i.__or__(k)",
    "i.__ror__(k)",
    "i.__xor__(k)",
    "i.__rxor__(k)",
    "i.__lshift__(k)",
    "i.__rlshift__(k)",
    "i.__rshift__(k)",
    "i.__rrshift__(k)",
    "a.__add__(s)",
    # the in-place operators: PyTorch's handlers see Tensor.add_ for __iadd__, but Tensor.__iand__ itself
    "a.__iadd__(f)",
    "a.__imul__(f)",
    "a.__itruediv__(f)",
    "a.__ipow__(f)",
    "i.__iand__(k)",
    "i.__ior__(k)",
    "i.__ixor__(k)",
    "i.__ilshift__(k)",
    "i.__irshift__(k)",
    "f.__ipow__(a)",
    "f.__ipow__(2)",
    "k.__iand__(i)",
    # the operators: the plain left operand's runs first, with the operands in the order written
    "a + f",
    "a - f",
    "a * f",
    "a / f",
    "a ** f",
    "a // f",
    "a @ w",
    "a < f",
    "a == f",
    "i & k",
    "i << k",
    "a + s",
    # the subclass on the left, as before
    "f + a",
    "f - a",
    "f ** a",
    "f ** 2",
    "f // a",
    "2 ** f",
    "2 - f",
    "f.__rsub__(a)",
    "f.__rtruediv__(a)",
    "f == 1",
]


def _same(program, device, dtype_name="float64"):
    expected = _run(torch, program, dtype_name)
    got = _run(ember, program, dtype_name, device)
    if "nan" in repr(expected):  # nan != nan: compare the values apart
        np.testing.assert_equal(np.asarray(got[0][1], dtype=float), np.asarray(expected[0][1], dtype=float))
        expected, got = (expected[0][0], *expected[1:]), (got[0][0], *got[1:])
    if ember.device(device).type in ("cpu", "restricted"):
        assert got == expected, program
    else:  # another device's pow and division may round a float64 one unit apart (OpenCL's pow: 2 ** 0.5)
        assert _close(got, expected), (program, got, expected)


def _close(got, expected):
    """``got == expected``, but floats within a relative 1e-14."""
    if isinstance(got, float) and isinstance(expected, float):
        return math.isclose(got, expected, rel_tol=1e-14)
    if isinstance(got, (list, tuple)) and isinstance(expected, (list, tuple)):
        return type(got) is type(expected) and len(got) == len(expected) and all(map(_close, got, expected))
    return got == expected


@pytest.mark.parametrize("program", INDEXING)
def test_indexing_with_a_subclass_index_goes_to_its_handler(program, device):
    _same(program, device)


@pytest.mark.parametrize("program", ["a[s]", "a[m]", "setitem(a, s, v)"])
def test_indexing_in_float32(program, device):
    _same(program, device, "float32")


@pytest.mark.parametrize("program", OPERATORS)
def test_operators_with_a_subclass_operand_go_to_its_handler(program, device):
    _same(program, device)


def _doubling(lib):
    class Doubled(lib.Tensor):
        """A handler that changes the result: every floating result is doubled."""

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            with lib._C.DisableTorchFunctionSubclass():
                result = func(*args, **(kwargs or {}))
            if isinstance(result, lib.Tensor) and result.is_floating_point():
                result = (result * 2).as_subclass(cls)
            return result

    return Doubled


@pytest.mark.parametrize("program", ["a[s]", "a.__getitem__(m)", "a + f", "a.__rsub__(f)", "a @ w"])
def test_the_handler_decides_the_result(program):
    results = []
    for lib in (torch, ember):
        Doubled = _doubling(lib)
        env = {
            "a": lib.arange(4.0),
            "s": lib.tensor([1, 3]).as_subclass(Doubled),
            "m": lib.tensor([True, False, True, True]).as_subclass(Doubled),
            "f": lib.tensor([1.0, 3.0, 2.0, 0.5]).as_subclass(Doubled),
            "w": lib.ones(4, 4).as_subclass(Doubled),
        }
        result = eval(program, env)  # noqa: S307 - the test's own programs
        results.append((type(result).__name__, result.tolist()))
    assert results[1] == results[0] and results[0][0] == "Doubled"


def test_a_declining_handler_raises_pytorchs_typeerror():
    messages = []
    for lib in (torch, ember):

        class Declines(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented

        env = {"a": lib.arange(4.0), "index": lib.tensor([1]).as_subclass(Declines)}
        for program in ("a[index]", "a.__setitem__(index, 1.0)", "a - index.float()"):
            with pytest.raises(TypeError, match="Multiple dispatch failed") as error:
                eval(program, env)  # noqa: S307 - the test's own programs
            messages.append(str(error.value).split(";")[0].replace(lib.__name__, "lib"))
    assert messages[3:] == messages[:3]


def test_gradients_flow_through_an_indexing_handler(device):
    results = {}
    for lib in (torch, ember):
        Logged = _logged_class(lib, {})
        kwargs = {} if lib is torch else {"device": device}
        x = lib.tensor([1.0, -2.0, 3.0, 0.5], dtype=lib.float64, requires_grad=True, **kwargs)
        index = lib.tensor([3, 0, 3], **kwargs).as_subclass(Logged)
        mask = lib.tensor([True, False, True, True], **kwargs).as_subclass(Logged)
        out = (x[index] * x[mask].sum()).sum()
        out.backward()
        results[lib.__name__] = (type(out).__name__, out.item(), x.grad.tolist())
    assert results["ember"] == results["torch"]


def test_plain_operands_stay_plain():
    """The checks that hand ``plain[sub]`` and ``plain + sub`` to the handler leave plain calls as they were."""
    Logged = _logged_class(ember, {})
    Logged.calls.clear()
    x, index = ember.arange(6.0).reshape(2, 3), ember.tensor([1, 0])
    x[index, 0] = 7.0
    results = (x[0], x[index], x[:, 1:], x + x, 1 - x, x**2, 2**x, x @ x.mT, x == 1, x.long() & 1)
    assert all(type(r) is ember.Tensor for r in results) and Logged.calls == []
    assert x.tolist() == [[7.0, 1.0, 2.0], [7.0, 4.0, 5.0]]


def test_reflected_floor_division_of_two_tensors_warns_nothing():
    """``plain.__rfloordiv__(tensor)`` is ``tensor // plain``: no copy-construct warning (the number path's)."""
    values = {}
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values[lib.__name__] = lib.arange(1.0, 5.0).__rfloordiv__(lib.tensor([1.0, 3.0, 2.0, 0.5])).tolist()
    assert values["ember"] == values["torch"]


def _layouts(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's beta and prototype warnings
        return [
            lib.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2)),
            lib.ones(2, 2).to_sparse(),
            lib.ones(2, 2).to_sparse_csr(),
            lib.ones(2, 2).to_sparse_csc(),
            lib.nested.nested_tensor([lib.ones(2), lib.ones(3)]),
            lib.nested.nested_tensor([lib.ones(2, 4), lib.ones(3, 4)], layout=lib.jagged),
            lib.ones(2),
            [lib.ones(1)],
            2.0,
        ]


def test_is_tensor_of_sparse_and_nested_tensors():
    """``is_tensor`` is True for sparse (COO, compressed) and nested tensors, as PyTorch's. (Unlike PyTorch's,
    ember's sparse and nested tensors are not instances of ``ember.Tensor``: classes of their own.)"""
    assert [ember.is_tensor(t) for t in _layouts(ember)] == [torch.is_tensor(t) for t in _layouts(torch)]


MODE_PROGRAMS = [
    "x ** 2",
    "2 ** x",
    "1 - x",
    "x + 1",
    "x // 2",
    "x == 1",
    "x.__eq__(x)",
    "x[0]",
    "x[x > 2]",
    "x.__setitem__(0, 1.0)",
    "x.clone().__ipow__(2)",
    "x.long().__iand__(1)",
    "y = x.clone(); y **= 2",
    "y = x.long(); y |= 2",
]


@pytest.mark.parametrize("program", MODE_PROGRAMS)
def test_a_mode_sees_the_operators_as_pytorchs(program):
    """A TorchFunctionMode sees the function PyTorch passes for each operator, and its ``types`` (``Tensor`` for
    the operators PyTorch writes in Python, ``Tensor.__rsub__``)."""
    logs = [_mode_log(lib, program) for lib in (torch, ember)]
    assert logs[1] == logs[0]


def _mode_log(lib, program):
    log = []

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append((lib.overrides.resolve_name(func).partition(".")[2], [t.__name__ for t in types]))
            return func(*args, **(kwargs or {}))

    with Mode():
        exec(program, {"x": lib.arange(1.0, 7.0).view(2, 3)})  # noqa: S102 - the test's own programs
    return log
