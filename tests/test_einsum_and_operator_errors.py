"""einsum's errors, binary operators with operands they do not take, and keyword errors, against PyTorch.

- einsum: a seeded fuzz of equations (ellipses, size-1 dimensions, repeated subscripts, mismatched sizes, too
  many or too few operands, bad characters, "->" errors); each error as PyTorch's (type and message: its
  checks run in its order, an ellipsis dimension is numbered within the operand), the valid cases' values too.
- ``x + "a"``, ``None - x``, ``x @ {}``: PyTorch's operators return NotImplemented, so the TypeError is
  Python's ("unsupported operand type(s) for +: 'Tensor' and 'str'").
- ``x.add_(y, out=None)``, ``x.mul_(y, foo=1)``: in-place methods take no ``out``, and name themselves.
- ``ember.where(cond, input=x)``: the argument parser's "got (...)" lists keywords by name.
"""

from __future__ import annotations

import operator
import random

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")


# -- einsum -------------------------------------------------------------------------------------------------
def _einsum_case(rng):
    """One fuzzed einsum call: the equation and the operands' shapes."""
    pool = rng.choice(["ab", "abc", "ijk", "aB", "abcd"])
    sizes = {c: rng.choice([1, 2, 3]) for c in pool}
    terms, shapes = [], []
    for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
        letters = [rng.choice(pool) for _ in range(rng.randint(0, 3))]
        ellipsis = rng.random() < 0.4
        at = rng.randint(0, len(letters))
        shape = [sizes[c] if rng.random() < 0.7 else rng.choice([1, 2, 3]) for c in letters]
        shape[at:at] = [rng.choice([1, 2, 3]) for _ in range(rng.randint(0, 2) if ellipsis else 0)]
        r = rng.random()
        if r < 0.08 and shape:
            shape.pop()
        elif r < 0.16:
            shape.append(rng.choice([1, 2]))
        terms.append("".join(letters[:at]) + ("..." if ellipsis else "") + "".join(letters[at:]))
        shapes.append(tuple(shape))
    equation = ",".join(terms)
    if rng.random() < 0.45:
        present = sorted({c for t in terms for c in t if c.isalpha()})
        out = rng.sample(present, rng.randint(0, len(present)))
        if rng.random() < 0.3:
            out.insert(rng.randint(0, len(out)), "...")
        if rng.random() < 0.1 and present:
            out.append(rng.choice(present))
        if rng.random() < 0.1:
            out.append("z")
        equation += "->" + "".join(out)
    m = rng.random()
    if m < 0.05:
        equation = equation.replace(",", ",,", 1) if "," in equation else equation + ","
    elif m < 0.10:
        i = rng.randint(0, len(equation))
        equation = equation[:i] + rng.choice("1#_.-> ") + equation[i:]
    elif m < 0.13:
        equation += rng.choice(["->", "->...", "->->", "-", ">", "..", "...."])
    elif m < 0.16 and "..." in equation:
        equation = equation.replace("...", rng.choice(["..", ". ..", "......"]), 1)
    m = rng.random()
    if m < 0.06:
        shapes.append((2,))
    elif m < 0.12 and len(shapes) > 1:
        shapes.pop()
    return equation, shapes


def _einsum(lib, equation, shapes, dtype="float64", device="cpu"):
    arrays = np.random.default_rng(0).standard_normal(sum(int(np.prod(s)) for s in shapes)).tolist()
    operands, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        operands.append(lib.tensor(arrays[start : start + n], dtype=getattr(lib, dtype), device=device).reshape(shape))
        start += n
    return lib.einsum(equation, *operands)


def _einsum_sample(errors, count):
    """The first ``count`` fuzzed cases (seeded) that PyTorch refuses (``errors``) or computes."""
    rng, cases = random.Random(2026), []
    while len(cases) < count:
        equation, shapes = _einsum_case(rng)
        try:
            _einsum(torch, equation, shapes)
            refused = False
        except RuntimeError:
            refused = True
        if refused == errors and (equation, shapes) not in cases:
            cases.append((equation, shapes))
    return cases


@pytest.mark.parametrize(("equation", "shapes"), _einsum_sample(True, 300), ids=str)
def test_einsum_error_as_torch(equation, shapes):
    same_error(lambda lib: _einsum(lib, equation, shapes))


@pytest.mark.parametrize(("equation", "shapes"), _einsum_sample(False, 60), ids=str)
def test_einsum_values_as_torch(equation, shapes, dtype, device):
    name = str(dtype).split(".")[1]
    got = _einsum(ember, equation, shapes, name, device)
    expected = _einsum(torch, equation, shapes, name)
    assert str(got.dtype).split(".")[1] == name
    assert tuple(got.shape) == tuple(expected.shape)
    tolerance = 1e-5 if name == "float32" else 1e-12
    np.testing.assert_allclose(np.array(got.tolist()), expected.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("bbb,b...->b...", [(1, 1, 3), (1, 1, 3)]),  # repeated: this dimension's size first, 3 != 1
        ("aaa,->a", [(2, 2, 3), ()]),
        ("a...,b...->", [(2, 3, 4), (5, 2)]),  # an ellipsis dimension numbered within the operand
        ("aa,a...->", [(2, 3), (2, 2)]),  # the repeated subscript is checked before the broadcast
        ("a,a->a", [(2,), (3,)]),
        ("a b->b#", [(2, 3)]),  # spaces count in a bad subscript's index
        ("ab->aa", [(2, 3)]),
        ("ab->c", [(2, 3)]),
        ("é->", [(2,)]),  # the index counts the equation's bytes
    ],
)
def test_einsum_named_error_as_torch(equation, shapes):
    same_error(lambda lib: _einsum(lib, equation, shapes))


# -- binary operators with an operand they do not take -------------------------------------------------------
OPERATORS = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
    operator.matmul, operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
]  # fmt: skip
OTHERS = {"str": "a", "object": object(), "None": None, "dict": {"a": 1}, "list_of_str": ["a", "b"]}


@pytest.mark.parametrize("reflected", [False, True], ids=["tensor_first", "tensor_second"])
@pytest.mark.parametrize("other", list(OTHERS), ids=str)
@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_operator_with_unknown_operand_as_torch(op, other, reflected, dtype):
    def call(lib):
        x = lib.ones(2, dtype=getattr(lib, dtype))
        return op(OTHERS[other], x) if reflected else op(x, OTHERS[other])

    try:
        expected = call(torch)
    except TypeError:
        same_error(call)
    else:  # == and != with an operand neither side takes: Python's identity comparison
        assert call(ember) is expected


# -- in-place arithmetic methods given keywords ----------------------------------------------------------------
@pytest.mark.parametrize("keywords", [{"out": None}, {"foo": 1}, {"alpha": 2}, {"rounding_mode": "floor"}], ids=str)
@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_inplace_keywords_as_torch(method, keywords):
    def call(lib):
        x = lib.tensor([4.0, 6.0])
        getattr(x, method)(lib.tensor([2.0, 4.0]), **keywords)
        return x

    try:
        expected = call(torch)
    except TypeError:
        same_error(call)
    else:
        assert call(ember).tolist() == expected.tolist()


def test_inplace_keyword_refused_before_the_write():
    x = ember.tensor([4.0, 6.0])
    with pytest.raises(TypeError, match="^add_\\(\\) got an unexpected keyword argument 'out'$"):
        x.add_(ember.tensor([1.0, 1.0]), out=None)
    assert x.tolist() == [4.0, 6.0]


def test_inplace_operators_compute_the_methods():
    # PyTorch's in-place operators are functions of their own (they return NotImplemented where the method
    # raises a TypeError), which compute the method in place
    for name, method in (("__iadd__", "add_"), ("__imul__", "mul_"), ("__itruediv__", "div_")):
        assert (getattr(ember.Tensor, name) is getattr(ember.Tensor, method)) == (
            getattr(torch.Tensor, name) is getattr(torch.Tensor, method)
        )
    x = ember.ones(2)
    y = x
    y += ember.ones(2)
    y *= 3.0
    y /= 2
    assert y is x and x.tolist() == [3.0, 3.0]


# -- "got (...)": the arguments as the call gave them --------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, c, x: lib.where(c, input=x),
        lambda lib, c, x: lib.where(c, other=x),
        lambda lib, c, x: lib.where(condition=c, other=x),
        lambda lib, c, x: lib.where(condition=c, input=x),
        lambda lib, c, x: lib.where(c, x),
    ],
    ids=["input_keyword", "other_keyword", "keywords_only", "keywords_only_input", "positional"],
)
def test_where_one_operand_as_torch(call):
    same_error(lambda lib: call(lib, lib.tensor([True, False]), lib.ones(2)))


@pytest.mark.parametrize("keywords", [{"out": None}, {"foo": 1}], ids=str)
def test_keywords_listed_as_torch(keywords):
    same_error(lambda lib: lib.ones(2).div_(lib.ones(2), **keywords))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.sort(x, 0, stable=True),
        lambda lib, x: lib.sort(x, 0, stable=True, descending=True),
        lambda lib, x: lib.sort(x, 0, descending=True, stable=True),
        lambda lib, x: lib.argsort(x, out=None),
    ],
    ids=["sort_stable", "sort_two_keywords", "sort_two_keywords_reversed", "argsort_out"],
)
def test_sort_keywords_listed_as_torch(call):
    same_error(lambda lib: call(lib, lib.ones(3)))
