"""A plain tensor's method called with a tensor-subclass argument, against PyTorch.

PyTorch hands ``plain.add(sub)`` to the subclass's ``__torch_function__`` (``func`` is ``Tensor.add``,
``types`` the subclass): the handler decides the result (by default an instance of the subclass). The same
subclass is written for both libraries; the tests compare the result's class, values, gradients and the
calls the handler sees.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _subclasses(lib):
    class Logged(lib.Tensor):
        calls: list = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append((func.__name__, tuple(t.__name__ for t in types)))
            return super().__torch_function__(func, types, args, kwargs)

    class Doubled(lib.Tensor):
        """A handler that changes the result: every call's tensor result is doubled."""

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            with lib._C.DisableTorchFunctionSubclass():
                result = func(*args, **(kwargs or {}))
                if not isinstance(result, lib.Tensor):
                    return result
                if result.is_floating_point():
                    result = result * 2
            return result.as_subclass(cls)

    class Declines(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    return Logged, Doubled, Declines


SUBCLASSES = {"ember": _subclasses(ember), "torch": _subclasses(torch)}

# (program, what it returns); ``p`` a plain (2, 3) float tensor, ``a`` a subclass instance of its shape, ``i``
# a subclass instance of int64 indices, ``m`` a subclass instance of a bool mask
PROGRAMS = [
    "p.add(a)",
    "p.add(other=a)",
    "p.add(a, alpha=2)",
    "p.sub(a, alpha=0.5)",
    "p.mul(a)",
    "p.div(a, rounding_mode='floor')",
    "p.pow(a)",
    "p.maximum(a)",
    "p.atan2(a)",
    "p.eq(a)",
    "p.lt(a)",
    "p.clone().add_(a)",
    "p.clone().mul_(a)",
    "p.clone().copy_(a)",
    "p.matmul(a.t())",
    "p.mm(a.t())",
    "p.where(m, a)",
    "p.masked_fill(m, 0.5)",
    "p.expand_as(a)",
    "p.view_as(a)",
    "p.type_as(a)",
    "p.index_select(1, i[0])",
    "p.gather(1, i.expand(2, 2))",
    "p.lerp(a, 0.25)",
    "p.addcmul(a, a, value=0.5)",
    "p.sum().add(a)",
    "p[0].dot(a[1])",
]


def _inputs(lib, cls):
    values = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]])
    p = lib.tensor(values * 1.5, dtype=lib.float64)
    a = lib.tensor(values, dtype=lib.float64).as_subclass(cls)
    i = lib.tensor([[2, 0]]).as_subclass(cls)
    m = lib.tensor([[True, False, True], [False, True, False]]).as_subclass(cls)
    return {"p": p, "a": a, "i": i, "m": m}


def _run(lib, kind, program):
    cls = SUBCLASSES[lib.__name__][kind]
    env = _inputs(lib, cls)
    if kind == 0:
        cls.calls.clear()
    return eval(program, {}, env), list(cls.calls) if kind == 0 else None  # noqa: S307 - the test's own programs


@pytest.mark.parametrize("program", PROGRAMS)
def test_plain_method_with_a_subclass_argument_goes_to_its_handler(program):
    (theirs, their_calls), (ours, our_calls) = _run(torch, 0, program), _run(ember, 0, program)
    assert type(ours).__name__ == type(theirs).__name__ == "Logged"
    assert our_calls == their_calls
    np.testing.assert_allclose(np.asarray(ours.tolist()), np.asarray(theirs.tolist()), rtol=1e-12)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


@pytest.mark.parametrize("program", ["p.add(a)", "p.mul(a)", "p.where(m, a)", "p.clone().sub_(a)"])
def test_the_handler_decides_the_result(program):
    theirs, ours = _run(torch, 1, program)[0], _run(ember, 1, program)[0]
    assert type(ours).__name__ == type(theirs).__name__ == "Doubled"
    np.testing.assert_allclose(np.asarray(ours.tolist()), np.asarray(theirs.tolist()), rtol=1e-12)


def test_a_declining_handler_raises_typeerror():
    with pytest.raises(TypeError, match="Multiple dispatch failed") as their_error:
        _run(torch, 2, "p.add(a)")
    with pytest.raises(TypeError, match="(?s)Multiple dispatch failed for 'ember.Tensor.add'.*Declines"):
        _run(ember, 2, "p.add(a)")
    assert "Tensor.add" in str(their_error.value)


def test_gradients_flow_through_the_handler(device):
    results = {}
    for lib in (torch, ember):
        Logged = SUBCLASSES[lib.__name__][0]
        kwargs = {} if lib is torch else {"device": device}
        p = lib.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=lib.float64, requires_grad=True, **kwargs)
        w = lib.tensor([[0.5, -2.0], [1.5, 4.0]], dtype=lib.float64, requires_grad=True, **kwargs)
        a = w.as_subclass(Logged)
        out = p.mul(a).add(p.matmul(a)).sum()
        out.backward()
        results[lib.__name__] = (type(out).__name__, p.grad.tolist(), w.grad.tolist(), out.item())
    assert results["ember"] == results["torch"]


def test_plain_operands_stay_plain_and_are_not_seen():
    Logged = SUBCLASSES["ember"][0]
    Logged.calls.clear()
    x = ember.ones(2, 3)
    assert type(x.add(x)) is ember.Tensor and type(x.mul(2)) is ember.Tensor and type(x.sum()) is ember.Tensor
    assert type(x.add(x, alpha=2)) is ember.Tensor and type(x.clamp(min=x)) is ember.Tensor
    assert Logged.calls == []


@pytest.mark.parametrize("program", ["p.new_tensor(a)", "p.new_full((2,), a.sum())"])
def test_data_arguments_are_not_handed_to_the_handler(program):
    """PyTorch reads ``new_tensor``'s data and ``new_full``'s fill value as data: the result is plain."""
    theirs, ours = _run(torch, 0, program)[0], _run(ember, 0, program)[0]
    assert type(ours).__name__ == type(theirs).__name__ == "Tensor"
    assert ours.tolist() == theirs.tolist()


def test_a_method_warning_still_points_at_the_callers_line():
    """A warning issued inside a method names the line that called it (stacklevel), with the argument
    checks on (a subclass is defined above): var's and std's 'degrees of freedom' warnings."""
    x = ember.ones(1, 3)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        x.var(0)
        x.std(dim=0)
    assert [w.filename for w in seen] == [__file__, __file__]


def test_vmap_refuses_a_mapped_scalar_read_with_the_checks_on():
    x = ember.arange(6.0).reshape(3, 2)
    with pytest.raises(RuntimeError, match=r"vmap: It looks like you're calling \.item\(\)"):
        ember.vmap(lambda r: r * r.sum().item())(x)


def test_dense_method_with_a_nested_argument():
    theirs_nt = torch.nested.nested_tensor([torch.ones(2, 4), torch.ones(3, 4)], layout=torch.jagged)
    ours_nt = ember.nested.nested_tensor([ember.ones(2, 4), ember.ones(3, 4)], layout=ember.jagged)
    weight = [0.5, -1.0, 2.0, 0.25]
    theirs = torch.tensor(weight).mul(theirs_nt)
    ours = ember.tensor(weight).mul(ours_nt)
    assert ours.is_nested and theirs.is_nested
    for t, e in zip(theirs.unbind(), ours.unbind()):
        assert e.tolist() == t.tolist()


def _family(lib, log):
    def handler(name, owner):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((name, func.__name__, [t.__name__ for t in types], len(args), sorted(kwargs or {})))
            return super(owner[0], cls).__torch_function__(func, types, args, kwargs)

        return __torch_function__

    classes = {}
    for name, base in (("A", lib.Tensor), ("B", "A"), ("C", lib.Tensor)):
        owner = []
        classes[name] = type(name, (classes.get(base, base),), {"__torch_function__": handler(name, owner)})
        owner.append(classes[name])
    return classes["A"], classes["B"], classes["C"]


@pytest.mark.parametrize(
    "program",
    ["p.add(other=b)", "p.where(p > 0, b)", "p.addcmul(a, b)", "p.addcmul(a, c)", "p.clamp(a, c)", "p.lerp(c, a)"],
)
def test_several_subclass_arguments_in_pytorchs_order(program):
    """A subclass's handler before its base's; two unrelated classes whose handlers both decline (each
    default handler declines the other's type) give PyTorch's TypeError."""
    outcomes = {}
    for lib in (torch, ember):
        log = []
        A, B, C = _family(lib, log)
        env = {"p": lib.ones(3), "a": lib.ones(3).as_subclass(A), "b": lib.ones(3).as_subclass(B)}
        env["c"] = lib.ones(3).as_subclass(C)
        try:
            result = type(eval(program, {}, env)).__name__  # noqa: S307 - the test's own programs
        except TypeError as error:
            result = "TypeError" if "Multiple dispatch failed" in str(error) else str(error)
        outcomes[lib.__name__] = (result, log)
    assert outcomes["ember"] == outcomes["torch"]
