"""What multi-result and shape ops return, checked against PyTorch on every test device: the
named-tuple types of ``max``/``sort``/... (name, module, fields, indexing, unpacking),
``broadcast_shapes`` giving a Size, and ``flip``'s argument rules."""

import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DATA = [[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]

MULTI_RESULTS = {
    "max": lambda T, x: T.max(x, 1),
    "min": lambda T, x: x.min(0),
    "sort": lambda T, x: T.sort(x, 1),
    "topk": lambda T, x: x.topk(2),
    "kthvalue": lambda T, x: T.kthvalue(x, 2, 1),
    "median": lambda T, x: T.median(x, 1),
    "aminmax": lambda T, x: T.aminmax(x, dim=1),
    "cummax": lambda T, x: T.cummax(x, 1),
    "cummin": lambda T, x: T.cummin(x, 0),
}


@pytest.mark.parametrize("name", list(MULTI_RESULTS))
def test_named_tuple_type_fields_indexing_unpacking(name, device, dtype):
    fn = MULTI_RESULTS[name]
    actual = fn(ember, ember.tensor(DATA, dtype=dtype, device=device))
    expected = fn(torch, torch.tensor(DATA, dtype=getattr(torch, str(dtype).split(".")[-1])))
    assert type(actual).__name__ == type(expected).__name__
    assert type(actual).__module__ == type(expected).__module__.replace("torch", "ember")
    assert getattr(ember.return_types, type(actual).__name__) is type(actual)
    assert isinstance(actual, tuple) and len(actual) == len(expected) == 2
    fields = ("min", "max") if name == "aminmax" else ("values", "indices")
    first, second = actual  # unpacking
    for i, field in enumerate(fields):
        got, want = getattr(actual, field), getattr(expected, field)
        assert got is actual[i] and got is (first, second)[i] and actual[i - 2] is got
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert [t.shape for t in actual[:]] == [tuple(t.shape) for t in expected[:]]


def test_named_tuple_pickles(device):
    result = ember.tensor(DATA, device=device).max(1)
    again = pickle.loads(pickle.dumps(result))
    assert type(again) is type(result)
    np.testing.assert_array_equal(again.values.cpu().numpy(), result.values.cpu().numpy())


SHAPES = [
    ((2, 1), (3,)),
    ((5, 1, 4), (3, 1)),
    (3, (2, 1)),
    (),
    ((),),
    ((0,), (1,)),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_broadcast_shapes_returns_size(shapes):
    actual, expected = ember.broadcast_shapes(*shapes), torch.broadcast_shapes(*shapes)
    assert type(actual) is ember.Size
    assert actual == tuple(expected)
    assert repr(actual) == repr(expected).replace("torch", "ember")


def test_broadcast_shapes_mismatch_raises():
    message = (
        "Attempting to broadcast a dimension of length 3 at -1! Mismatching argument at index 1 had (3,); but "
        "expected shape should be broadcastable to [2]"
    )
    with pytest.raises(RuntimeError) as theirs:
        torch.broadcast_shapes((2,), (3,))
    with pytest.raises(RuntimeError) as ours:
        ember.broadcast_shapes((2,), (3,))
    assert str(ours.value) == str(theirs.value) == message


FLIPS = {
    "tuple": lambda T, x: T.flip(x, (0,)),
    "list": lambda T, x: T.flip(x, [0, 1]),
    "negative": lambda T, x: T.flip(x, (-1,)),
    "keyword": lambda T, x: T.flip(x, dims=[1]),
    "size": lambda T, x: T.flip(x, T.Size([1])),
    "empty": lambda T, x: T.flip(x, ()),
    "method_int": lambda T, x: x.flip(0),
    "method_ints": lambda T, x: x.flip(1, 0),
    "method_tuple": lambda T, x: x.flip((0, 1)),
    "method_keyword": lambda T, x: x.flip(dims=(1,)),
}


@pytest.mark.parametrize("name", list(FLIPS))
def test_flip_matches_pytorch(name, device):
    fn = FLIPS[name]
    data = [[1, 2, 3], [4, 5, 6]]
    actual, expected = fn(ember, ember.tensor(data, device=device)), fn(torch, torch.tensor(data))
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


FLIP_ERRORS = {
    "int_dims": (lambda T, x: T.flip(x, 0), TypeError, "flip"),
    "int_dims_keyword": (lambda T, x: T.flip(x, dims=0), TypeError, "flip"),
    "method_int_keyword": (lambda T, x: x.flip(dims=1), TypeError, "flip"),
    "float_dim": (lambda T, x: T.flip(x, (0.0,)), TypeError, "flip"),
    "method_no_dims": (lambda T, x: x.flip(), TypeError, "flip"),
    "repeated_dim": (lambda T, x: T.flip(x, (0, -2)), RuntimeError, "flip.*multiple times"),
    "method_repeated_dim": (lambda T, x: x.flip(1, 1), RuntimeError, "flip.*multiple times"),
    "out_of_range": (lambda T, x: T.flip(x, (2,)), IndexError, "Dimension out of range"),
}


@pytest.mark.parametrize("name", list(FLIP_ERRORS))
def test_flip_errors_match_pytorch(name, device):
    fn, error, message = FLIP_ERRORS[name]
    data = [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(error):
        fn(torch, torch.tensor(data))
    with pytest.raises(error, match=message):
        fn(ember, ember.tensor(data, device=device))
