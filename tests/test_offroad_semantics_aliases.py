"""PyTorch's other names of ops (``arctan`` for ``atan``, ``clip`` for ``clamp``, ...) are functions of
their own named after themselves, at the top level and on Tensor, and compute what the op computes; a
``__torch_function__`` handler sees the name that was called."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

ALIASES = {
    "absolute": "abs", "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2",
    "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh", "clip": "clamp", "concat": "cat",
    "concatenate": "cat", "divide": "div", "ger": "outer", "greater": "gt", "greater_equal": "ge", "less": "lt",
    "less_equal": "le", "moveaxis": "movedim", "multiply": "mul", "negative": "neg", "not_equal": "ne",
    "row_stack": "vstack", "subtract": "sub", "swapdims": "transpose",
}  # fmt: skip
METHOD_ALIASES = {
    **{a: n for a, n in ALIASES.items() if a not in ("concat", "concatenate", "row_stack")},
    "absolute_": "abs_", "arccos_": "acos_", "arctan_": "atan_", "arctan2_": "atan2_", "clip_": "clamp_",
    "divide_": "div_", "multiply_": "mul_", "subtract_": "sub_", "negative_": "neg_", "greater_": "gt_",
    "less_equal_": "le_", "not_equal_": "ne_", "true_divide_": "div_",
}  # fmt: skip


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_top_level_alias_is_its_own_function(alias):
    name = ALIASES[alias]
    for lib in (torch, ember):
        assert getattr(lib, alias) is not getattr(lib, name)
        assert getattr(lib, alias).__name__ == alias


@pytest.mark.parametrize("alias", sorted(METHOD_ALIASES))
def test_method_alias_is_its_own_function(alias):
    name = METHOD_ALIASES[alias]
    for lib in (torch, ember):
        assert getattr(lib.Tensor, alias) is not getattr(lib.Tensor, name)
        assert getattr(lib.Tensor, alias).__name__ == alias


# alias -> (arguments after the tensor, as lists of python values or "t" for a second tensor)
CALLS = {
    "absolute": (), "arccos": (), "arcsin": (), "arctan": (), "arctan2": ("t",), "arcsinh": (), "arctanh": (),
    "clip": (-0.25, 0.5), "divide": ("t",), "ger": ("t",), "greater": ("t",), "greater_equal": (0.0,), "less": ("t",),
    "less_equal": ("t",), "moveaxis": (0, 0), "multiply": ("t",), "negative": (), "not_equal": ("t",),
    "subtract": ("t",), "swapdims": (0, 0),
}  # fmt: skip


@pytest.mark.parametrize("alias", sorted(CALLS))
def test_alias_computes_the_op_and_its_gradient(device, dtype, alias):
    results = {}
    for lib, dev in ((torch, "cpu"), (ember, device)):
        dt = getattr(lib, str(dtype).split(".")[-1])
        x = lib.tensor([-0.75, -0.2, 0.1, 0.6], dtype=dt, device=dev, requires_grad=True)
        y = lib.tensor([0.5, -0.3, 0.9, 0.2], dtype=dt, device=dev)
        args = [y if a == "t" else a for a in CALLS[alias]]
        out = getattr(lib, alias)(x, *args)
        method = getattr(x, alias)(*args)
        grad = None
        if out.requires_grad:
            (grad,) = lib.autograd.grad(out.sum(), x)
            grad = grad.cpu().tolist()
        flat = (out.detach().cpu().reshape(-1).tolist(), method.detach().cpu().reshape(-1).tolist())
        results[lib] = (*flat, grad, type(out.grad_fn).__name__)
    got, expected = results[ember], results[torch]
    rel = 1e-12 if dtype is ember.float64 else 1e-6
    for g, e in zip(got[:2], expected[:2]):
        assert g == pytest.approx(e, rel=rel)
    assert (got[2] is None) == (expected[2] is None)
    if expected[2] is not None:
        assert got[2] == pytest.approx(expected[2], rel=rel)
    assert got[3] == expected[3]


def test_torch_function_handler_sees_the_alias_called():
    for lib in (torch, ember):

        class Spy(lib.Tensor):
            seen: list = []

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                cls.seen.append(func)
                return super().__torch_function__(func, types, args, kwargs)

        x = lib.ones(2).as_subclass(Spy)
        lib.arctan(x)
        lib.atan(x)
        lib.clip(x, 0, 1)
        assert Spy.seen == [lib.arctan, lib.atan, lib.clip]
        assert [f.__name__ for f in Spy.seen] == ["arctan", "atan", "clip"]
