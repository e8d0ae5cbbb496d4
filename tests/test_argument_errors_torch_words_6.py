"""Refused calls against PyTorch 2.13: the exception's type and message (the leftovers of ``tensor_input``).

- Ops whose body takes what is no tensor without failing (a NumPy array has ``ndim`` and ``reshape``;
  ``is_conj`` reads nothing): their first argument checked before they run (``tensor_input_checked``).
- Aliases name themselves in their errors (``arccos``, ``fix``, ``concat``, ``row_stack``), as PyTorch's do.
- The top-level functions over ``ember.linalg`` (``det``, ``inverse``, ``matrix_exp``, ...) name themselves
  and their ``input``, as PyTorch's, not the linalg op and its ``A``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")

_NOT_TENSORS = {"list": [1.0, 2.0], "str": "ab", "None": None, "ndarray": np.ones(2)}


@pytest.mark.parametrize("kind", list(_NOT_TENSORS))
@pytest.mark.parametrize(
    "op",
    ["flatten", "positive", "combinations", "count_nonzero", "is_conj", "is_neg", "resolve_conj", "resolve_neg"],
)
def test_ops_that_take_anything_refuse_a_non_tensor(op, kind):
    same_error(lambda T: getattr(T, op)(_NOT_TENSORS[kind]))


@pytest.mark.parametrize("kind", ["list", "ndarray"])
@pytest.mark.parametrize("op", ["arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "fix"])
def test_aliases_name_themselves(op, kind):
    same_error(lambda T: getattr(T, op)(_NOT_TENSORS[kind]))


@pytest.mark.parametrize("kind", ["str", "None", "tensor"])
@pytest.mark.parametrize("op", ["concat", "concatenate", "row_stack"])
def test_joining_aliases_name_themselves(op, kind, device):
    def call(T):
        given = {"str": "ab", "None": None, "tensor": T.ones(2) if T is torch else ember.ones(2, device=device)}
        return getattr(T, op)(given[kind])

    same_error(call)


_LINALG_TOP_LEVEL = [
    "det", "inverse", "qr", "svd", "cholesky", "slogdet", "logdet", "pinverse", "matrix_exp", "cholesky_inverse",
]  # fmt: skip


@pytest.mark.parametrize("kind", ["list", "None", "ndarray"])
@pytest.mark.parametrize("op", [*_LINALG_TOP_LEVEL, "matrix_power"])
def test_linalg_backed_top_level_functions_name_themselves(op, kind):
    args = (2,) if op == "matrix_power" else ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation of qr, svd, cholesky
        same_error(lambda T: getattr(T, op)(_NOT_TENSORS[kind], *args))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensors_still_computed_as_torch(dtype, device):
    data = np.array([[2.0, 1.0], [1.0, 3.0]])
    t = torch.tensor(data, dtype=getattr(torch, dtype))
    e = ember.tensor(data, dtype=getattr(ember, dtype), device=device)
    pairs = [
        (torch.det(t), ember.det(e)),
        (torch.inverse(t), ember.inverse(e)),
        (torch.logdet(t), ember.logdet(e)),
        (torch.pinverse(t), ember.pinverse(e)),
        (torch.matrix_exp(t), ember.matrix_exp(e)),
        (torch.linalg.matrix_exp(t), ember.linalg.matrix_exp(e)),
        (torch.matrix_power(t, 2), ember.matrix_power(e, 2)),
        (torch.cholesky_inverse(t.tril()), ember.cholesky_inverse(e.tril())),
        (torch.cholesky_inverse(input=t.tril()), ember.cholesky_inverse(input=e.tril())),
        (torch.arccos(t / 4), ember.arccos(e / 4)),
        (torch.fix(t / 2), ember.fix(e / 2)),
        (torch.flatten(t), ember.flatten(e)),
        (torch.count_nonzero(t), ember.count_nonzero(e)),
        (torch.concat([t, t]), ember.concat([e, e])),
        (torch.row_stack([t, t]), ember.row_stack([e, e])),
    ]
    for expected, got in pairs:
        assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
        np.testing.assert_allclose(got.cpu().numpy(), expected.numpy(), rtol=1e-6)
    assert ember.positive(e) is e
    assert ember.resolve_conj(e) is e and ember.resolve_neg(e) is e
    assert ember.is_conj(e) is False and ember.is_neg(e) is False


def test_renamed_functions_keep_their_names():
    assert ember.arccos.__name__ == "arccos" and ember.concat.__name__ == "concat"
    assert ember.matrix_exp.__name__ == "matrix_exp"
    assert ember.arccos is not ember.acos and ember.matrix_exp is not ember.linalg.matrix_exp


_IN_PLACE_SCATTER_CALLS = {
    "reduce int": lambda x, i, s: x.scatter_reduce_(0, i, s, 5),
    "dim str": lambda x, i, s: x.scatter_reduce_("a", i, s, "sum"),
    "index list": lambda x, i, s: x.scatter_reduce_(0, [1], s, "sum"),
    "src list": lambda x, i, s: x.scatter_reduce_(0, i, [1.0], "sum"),
}


@pytest.mark.parametrize("case", list(_IN_PLACE_SCATTER_CALLS))
def test_in_place_scatter_reduce_names_itself(case, device):
    def call(T):
        kwargs = {"device": device} if T is ember else {}
        x, s = T.ones(2, 2, **kwargs), T.ones(2, 2, **kwargs)
        return _IN_PLACE_SCATTER_CALLS[case](x, T.zeros(2, 2, dtype=T.int64, **kwargs), s)

    same_error(call)


def _overload_error(call):
    """``call(ember)`` raises what ``call(torch)`` raises, PyTorch's "didn't match because ..." notes left out."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    expected_lines = [line for line in str(expected.value).splitlines() if "didn't match" not in line]
    assert str(got.value).splitlines() == expected_lines


_OVERLOADED_CALLS = {
    "squeeze(x, 0, 1)": lambda T, x: T.squeeze(x, 0, 1),
    "squeeze(x, 'a')": lambda T, x: T.squeeze(x, "a"),
    "all(x, 0, 1)": lambda T, x: T.all(x, 0, 1),
    "any(x, 0, 1)": lambda T, x: T.any(x, 0, 1),
    "all(x, dim='a')": lambda T, x: T.all(x, dim="a"),
    "max(x, 'a')": lambda T, x: T.max(x, "a"),
    "std(x, 'a')": lambda T, x: T.std(x, "a"),
    "std(x, 0, 1, 2, 3)": lambda T, x: T.std(x, 0, 1, 2, 3),
    "count_nonzero(x, 0, 1)": lambda T, x: T.count_nonzero(x, 0, 1),
    "count_nonzero(x, 'a')": lambda T, x: T.count_nonzero(x, "a"),
    "repeat_interleave(x, 'a')": lambda T, x: T.repeat_interleave(x, "a"),
    "bernoulli(x, 0.5, 1)": lambda T, x: T.bernoulli(x, 0.5, 1),
    "where(x > 0, x, 'a')": lambda T, x: T.where(x > 0, x, "a"),
    "view_copy(x, 2, 3)": lambda T, x: T.view_copy(x, 2, 3),
    "view_copy(x, 6)": lambda T, x: T.view_copy(x, 6),
}


@pytest.mark.parametrize("case", list(_OVERLOADED_CALLS))
def test_a_call_no_single_overload_takes_is_an_invalid_combination(case, device):
    _overload_error(
        lambda T: _OVERLOADED_CALLS[case](T, T.ones(2, 3) if T is torch else ember.ones(2, 3, device=device))
    )


@pytest.mark.parametrize("op", ["permute_copy", "expand_copy"])
def test_copy_functions_name_themselves_in_arity_errors(op, device):
    same_error(lambda T: getattr(T, op)(T.ones(2, 3) if T is torch else ember.ones(2, 3, device=device), 1, 0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_view_copy_takes_a_shape_or_a_dtype(dtype, device):
    t = torch.arange(6, dtype=getattr(torch, dtype)).reshape(2, 3)
    e = ember.arange(6, dtype=getattr(ember, dtype), device=device).reshape(2, 3)
    for args in [((3, 2),), ([6],), ((-1,),)]:
        got, expected = ember.view_copy(e, *args), torch.view_copy(t, *args)
        assert tuple(got.shape) == tuple(expected.shape) and tuple(got.stride()) == tuple(expected.stride())
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    assert ember.view_copy(e, size=(6,)).shape == (6,)
    assert ember.view_copy(e, ember.int32 if dtype == "float32" else ember.int64).dtype != e.dtype
    assert ember.permute_copy(e, (1, 0)).shape == (3, 2) and ember.expand_copy(e[:1], (4, 3)).shape == (4, 3)


_NORMAL_CALLS = {
    "list": lambda T, x: T.normal([1.0]),
    "str": lambda T, x: T.normal("a"),
    "None": lambda T, x: T.normal(None),
    "list, float": lambda T, x: T.normal([1.0], 1.0),
    "float, float": lambda T, x: T.normal(0.0, 1.0),
    "float, list": lambda T, x: T.normal(0.0, [1.0]),
    "tensor, list": lambda T, x: T.normal(x, [1.0]),
    "float, float, str": lambda T, x: T.normal(0.0, 1.0, "a"),
    "unknown keyword": lambda T, x: T.normal(x, 1.0, foo=1),
    "nothing": lambda T, x: T.normal(),
}


@pytest.mark.parametrize("case", list(_NORMAL_CALLS))
def test_normal_refuses_as_its_overloads(case, device):
    _overload_error(lambda T: _NORMAL_CALLS[case](T, T.ones(2) if T is torch else ember.ones(2, device=device)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_still_samples(dtype, device):
    x = ember.zeros(3, dtype=getattr(ember, dtype), device=device)
    assert ember.normal(x, 0.0).tolist() == [0.0, 0.0, 0.0] and ember.normal(x, 1.0).dtype == x.dtype
    assert ember.normal(2.0, 0.0, size=(2,), dtype=getattr(ember, dtype), device=device).tolist() == [2.0, 2.0]
    assert ember.normal(1.0, x).tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("op", ["sum", "amax", "amin", "prod", "nansum", "argmax", "logsumexp"])
def test_positional_keepdim_error_names_its_position(op, device):
    same_error(lambda T: getattr(T, op)(T.ones(2, 3) if T is torch else ember.ones(2, 3, device=device), 0, 1))


@pytest.mark.parametrize("call", [lambda T, x: T.sum(x, 0, keepdim=1), lambda T, x: T.logsumexp([1.0], 0)])
def test_keyword_and_first_argument_errors_of_reductions(call, device):
    same_error(lambda T: call(T, T.ones(2, 3) if T is torch else ember.ones(2, 3, device=device)))


_UNFLATTEN_CALLS = {
    "int sizes": lambda T, x: T.unflatten(x, 1, 3),
    "int sizes by keyword": lambda T, x: T.unflatten(x, 1, sizes=3),
    "float element": lambda T, x: T.unflatten(x, 1, [2.5]),
    "list input": lambda T, x: T.unflatten([1.0], 1, (2, 3)),
}


@pytest.mark.parametrize("case", list(_UNFLATTEN_CALLS))
def test_unflatten_sizes_as_torch(case, device):
    same_error(lambda T: _UNFLATTEN_CALLS[case](T, T.ones(2, 6) if T is torch else ember.ones(2, 6, device=device)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unflatten_still_splits(dtype, device):
    t = torch.arange(12, dtype=getattr(torch, dtype)).reshape(2, 6)
    e = ember.arange(12, dtype=getattr(ember, dtype), device=device).reshape(2, 6)
    for got, expected in [
        (ember.unflatten(e, 1, (2, 3)), torch.unflatten(t, 1, (2, 3))),
        (e.unflatten(-1, [-1, 2]), t.unflatten(-1, [-1, 2])),
        (ember.unflatten(e, 1, ember.Size([3, 2])), torch.unflatten(t, 1, torch.Size([3, 2]))),
    ]:
        assert tuple(got.shape) == tuple(expected.shape) and tuple(got.stride()) == tuple(expected.stride())
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
