"""Refused calls against PyTorch 2.13: the exception's type and message.

- A first argument that is no tensor (a list, a str, None, a NumPy array), given to the ops whose first argument
  PyTorch's argument parser requires to be one (``ember.ops.operands.tensor_input``): "X(): argument 'input'
  (position 1) must be Tensor, not list", the position left out where the call names the argument, and an
  overloaded op's "received an invalid combination of arguments" where more than one overload takes the call.
- The joining ops' ``tensors``: "must be tuple of Tensors, not str" for anything but a list or tuple.
- The function forms of ``reshape``/``permute``/``tile`` take their sizes as one argument, as PyTorch's.
- ``scatter_reduce``'s arguments checked in their order, positions as the function and the method count them;
  an overloaded op's unknown keyword lists its overloads.
"""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")

_NOT_TENSORS = {"list": [1.0, 2.0], "str": "ab", "None": None, "ndarray": np.ones(2)}

# ops whose non-tensor first argument PyTorch refuses, ember refusing it in the same words for each of the four
_REFUSING = [
    # the ops ember refused already, now through one decorator (a sample, each family)
    "sum", "mean", "prod", "amax", "argmax", "median", "nansum", "nonzero", "argwhere", "clone", "neg", "abs",
    "isnan", "real", "view_as_real", "angle", "reshape", "t", "squeeze", "tile", "unbind", "detach", "ravel",
    "cov", "histc", "frexp", "isreal", "sgn", "bincount", "rot90", "fliplr", "diagflat", "mode", "nanmedian",
    "unique_consecutive",
    # the ops that raised an AttributeError, a KeyError or another message
    "nanmean", "where", "view_as_complex", "unique", "vander", "trapezoid", "trapz", "cumulative_trapezoid",
    "gradient", "bernoulli", "repeat_interleave", "native_norm", "norm_except_dim", "numel", "is_floating_point",
    "to_dlpack", "hash_tensor", "std", "var", "std_mean", "var_mean", "all", "any", "max", "min",
]  # fmt: skip


@pytest.mark.parametrize("kind", list(_NOT_TENSORS))
@pytest.mark.parametrize("op", _REFUSING)
def test_non_tensor_first_argument_as_torch(op, kind):
    same_error(lambda T: getattr(T, op)(_NOT_TENSORS[kind]))


@pytest.mark.parametrize("op", ["flatten", "positive", "combinations", "count_nonzero"])
@pytest.mark.parametrize("kind", ["list", "str", "None"])
def test_non_tensor_first_argument_of_ops_that_read_it_late(op, kind):
    same_error(lambda T: getattr(T, op)(_NOT_TENSORS[kind]))


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.sum(input=[1.0]),
        lambda T: T.nanmean(input="a"),
        lambda T: T.where(condition=[True]),
        lambda T: T.argwhere(input=None),
    ],
    ids=["sum", "nanmean", "where", "argwhere"],
)
def test_non_tensor_named_argument_has_no_position(call):
    same_error(call)


def _same_error_without_mismatch_notes(call):
    """``call(ember)`` raises what ``call(torch)`` raises, PyTorch's "didn't match because ..." notes under some
    overloads of an invalid combination left out (ember does not say which argument did not match)."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    expected_lines = [line for line in str(expected.value).splitlines() if "didn't match" not in line]
    assert str(got.value).splitlines() == expected_lines


def test_overloads_taking_the_call_decide_the_words(device):
    x = torch.ones(2)
    e = ember.ones(2, device=device)
    # several overloads take three arguments: the invalid combination, listing them
    _same_error_without_mismatch_notes(lambda T: T.where([True, False], *((x, x) if T is torch else (e, e))))
    _same_error_without_mismatch_notes(lambda T: T.std([1.0], 0))
    # one overload takes the call: its first parameter named (repeat_interleave's repeats)
    same_error(lambda T: T.repeat_interleave([1, 2]))
    same_error(lambda T: T.max(2, 3))


@pytest.mark.parametrize("op", ["stack", "hstack", "vstack", "dstack", "column_stack", "cat"])
@pytest.mark.parametrize("kind", ["str", "None", "ndarray", "tensor", "generator"])
def test_joining_ops_take_a_list_or_tuple(op, kind, device):
    def call(T):
        one = T.ones(2) if T is torch else ember.ones(2, device=device)
        given = {"str": "ab", "None": None, "ndarray": np.ones(2), "tensor": one, "generator": (t for t in [one])}
        return getattr(T, op)(given[kind])

    same_error(call)


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: T.reshape(x, 2, 3),
        lambda T, x: T.reshape(x, 6),
        lambda T, x: T.reshape(x, "a"),
        lambda T, x: T.permute(x, 1, 0),
        lambda T, x: T.permute(x, 1),
        lambda T, x: T.tile(x, 2, 2),
        lambda T, x: T.tile(x, 2),
        lambda T, x: T.flip(x, 0, 1),
        lambda T, x: T.flip(x, 0),
    ],
    ids=[
        "reshape-2-3",
        "reshape-6",
        "reshape-str",
        "permute-1-0",
        "permute-1",
        "tile-2-2",
        "tile-2",
        "flip-0-1",
        "flip-0",
    ],
)
def test_function_forms_take_sizes_as_one_argument(call, device):
    same_error(lambda T: call(T, T.ones(2, 3) if T is torch else ember.ones(2, 3, device=device)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sizes_as_one_argument_and_methods_varargs_agree_with_torch(dtype, device):
    data = np.arange(6.0).reshape(2, 3)
    t = torch.tensor(data, dtype=getattr(torch, dtype))
    e = ember.tensor(data, dtype=getattr(ember, dtype), device=device)
    pairs = [
        (torch.reshape(t, (3, 2)), ember.reshape(e, (3, 2))),
        (torch.reshape(t, [6]), ember.reshape(e, [6])),
        (torch.reshape(input=t, shape=(6,)), ember.reshape(input=e, shape=(6,))),
        (torch.permute(t, (1, 0)), ember.permute(e, (1, 0))),
        (torch.permute(t, dims=[1, 0]), ember.permute(e, dims=[1, 0])),
        (torch.tile(t, (2,)), ember.tile(e, (2,))),
        (torch.tile(t, dims=(2, 1)), ember.tile(e, dims=(2, 1))),
        (t.reshape(3, 2), e.reshape(3, 2)),
        (t.reshape(6), e.reshape(6)),
        (t.permute(1, 0), e.permute(1, 0)),
        (t.tile(2, 2), e.tile(2, 2)),
        (t.tile(2), e.tile(2)),
    ]
    for expected, got in pairs:
        assert got.dtype == getattr(ember, dtype)
        assert tuple(got.shape) == tuple(expected.shape)
        assert tuple(got.stride()) == tuple(expected.stride())
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def _scatter_operands(T, device):
    if T is torch:
        return torch.ones(2, 2), torch.zeros(2, 2, dtype=torch.int64)
    return ember.ones(2, 2, device=device), ember.zeros(2, 2, dtype=ember.int64, device=device)


_SCATTER_CALLS = {
    "reduce int": lambda T, x, i: T.scatter_reduce(x, 0, i, x, 5),
    "reduce unknown": lambda T, x, i: T.scatter_reduce(x, 0, i, x, "foo"),
    "dim str": lambda T, x, i: T.scatter_reduce(x, "a", i, x, "sum"),
    "index list": lambda T, x, i: T.scatter_reduce(x, 0, [1], x, "sum"),
    "src list": lambda T, x, i: T.scatter_reduce(x, 0, i, [1.0], "sum"),
    "include_self int": lambda T, x, i: T.scatter_reduce(x, 0, i, x, "sum", include_self=1),
    "input list": lambda T, x, i: T.scatter_reduce([1.0], 0, i, x, "sum"),
    "unknown keyword": lambda T, x, i: T.scatter_reduce(x, 0, i, x, "sum", foo=1),
    "method reduce int": lambda T, x, i: x.scatter_reduce(0, i, x, 5),
    "method dim str": lambda T, x, i: x.scatter_reduce("a", i, x, "sum"),
    "method index list": lambda T, x, i: x.scatter_reduce(0, [1], x, "sum"),
    "method src list": lambda T, x, i: x.scatter_reduce(0, i, [1.0], "sum"),
}


@pytest.mark.parametrize("case", list(_SCATTER_CALLS))
def test_scatter_reduce_arguments_as_torch(case, device):
    same_error(lambda T: _SCATTER_CALLS[case](T, *_scatter_operands(T, device)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scatter_reduce_still_reduces(dtype, device):
    src = np.array([5.0, 7.0, 4.0, 1.0])
    index = np.array([0, 0, 2, 2])
    for reduce in ("sum", "amax", "mean"):
        for how in ("function", "method"):
            results = []
            for T in (torch, ember):
                kwargs = {"device": device} if T is ember else {}
                x = T.tensor([1.0, 2.0, 3.0], dtype=getattr(T, dtype), **kwargs)
                s, i = T.tensor(src, dtype=getattr(T, dtype), **kwargs), T.tensor(index, **kwargs)
                out = T.scatter_reduce(x, 0, i, s, reduce) if how == "function" else x.scatter_reduce(0, i, s, reduce)
                results.append(out)
            assert results[1].dtype == getattr(ember, dtype)
            np.testing.assert_allclose(results[1].cpu().numpy(), results[0].numpy())


@pytest.mark.parametrize("op", ["max", "min", "sum", "mean", "prod", "std", "var", "all", "any", "count_nonzero"])
def test_unknown_keyword_of_an_overloaded_op_lists_its_overloads(op, device):
    def call(T):
        x = T.ones(2, 2) if T is torch else ember.ones(2, 2, device=device)
        return getattr(T, op)(x, foo=1)

    _same_error_without_mismatch_notes(call)


def test_unknown_keyword_of_an_op_of_one_signature_is_pythons(device):
    same_error(lambda T: T.exp(T.ones(2) if T is torch else ember.ones(2, device=device), foo=1))


def test_methods_and_calls_with_tensors_are_unchanged(device):
    x = ember.arange(6.0, device=device).reshape(2, 3)
    assert x.sum().item() == ember.sum(x).item() == 15.0
    assert ember.where(x > 2, x, 0.0).sum().item() == 12.0
    assert ember.stack((x, x)).shape == (2, 2, 3)
    assert ember.unique(ember.tensor([2, 1, 2], device=device)).tolist() == [1, 2]
