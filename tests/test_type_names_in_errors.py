"""The type of a wrong argument as PyTorch's messages name it: a NumPy array or scalar with its module
("numpy.ndarray", "numpy.float64"), a built-in by its name alone ("list", "float"), in the argument parser's
"must be X, not Y", its "got (...)" listing (the recurrent layers' too) and the checks that print a type's
``tp_name``. Each case runs with a NumPy array, a NumPy scalar, a list and a float, and is compared with
PyTorch by exception type and message."""

from __future__ import annotations

import re

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")

#: the wrong arguments: each builds a fresh value (NumPy values are handed to both libraries)
BAD = {
    "ndarray": lambda: np.ones(3),
    "numpy.float64": lambda: np.float64(1.5),
    "list": lambda: [1.0, 2.0],
    "float": lambda: 1.5,
}


def _ones(lib, *shape):
    return lib.ones(*shape)


def _index(lib, *shape):
    return lib.zeros(*shape, dtype=lib.int64)


#: calls of public ops with the wrong argument ``b``, and the kinds of ``b`` each is checked with (the kinds
#: PyTorch takes, a float ``out`` of add, say, are left out)
CALLS = {
    "add_out": (lambda lib, b: lib.add(_ones(lib, 3), _ones(lib, 3), out=b), ("ndarray", "list")),
    "stride": (lambda lib, b: _ones(lib, 3).stride(b), tuple(BAD)),
    "scatter_reduce": (lambda lib, b: _ones(lib, 3).scatter_reduce(0, _index(lib, 3), b, "sum"), tuple(BAD)),
    "index_reduce_index": (lambda lib, b: _ones(lib, 3).index_reduce(0, b, _ones(lib, 3), "prod"), tuple(BAD)),
    "index_reduce_source": (
        lambda lib, b: _ones(lib, 3).index_reduce(0, _index(lib, 3), b, "prod"),
        tuple(BAD),
    ),
    "is_distributed": (lambda lib, b: lib.is_distributed(b), tuple(BAD)),
    "scalar_tensor": (lambda lib, b: lib.scalar_tensor(b), ("ndarray", "list")),
    "bincount": (lambda lib, b: lib.bincount(_index(lib, 3), minlength=b), tuple(BAD)),
    "svdvals": (lambda lib, b: lib.linalg.svdvals(b), tuple(BAD)),
    "split_with_sizes": (lambda lib, b: _ones(lib, 3).split_with_sizes(b), ("ndarray",)),
    "zeros_size": (lambda lib, b: lib.zeros(size=b), ("numpy.float64", "float")),
    "full": (lambda lib, b: lib.full((2,), b), ("ndarray", "list")),
    "zeros_like": (lambda lib, b: lib.zeros_like(b), tuple(BAD)),
    "matrix_power_n": (lambda lib, b: lib.linalg.matrix_power(_ones(lib, 2, 2), b), tuple(BAD)),
    "geqrf": (lambda lib, b: lib.geqrf(b), tuple(BAD)),
    "scatter_add": (lambda lib, b: _ones(lib, 3).scatter_add(0, _index(lib, 3), b), tuple(BAD)),
    "nonzero_static": (lambda lib, b: lib.nonzero_static(_ones(lib, 3), size=b), tuple(BAD)),
    "map_": (lambda lib, b: _ones(lib, 3).map_(b, lambda a, c: a), tuple(BAD)),
    "flip": (lambda lib, b: lib.flip(_ones(lib, 3), b), ("ndarray", "numpy.float64", "float")),
    "segment_reduce": (lambda lib, b: lib.segment_reduce(b, "sum", lengths=_index(lib, 1)), tuple(BAD)),
    "nan_to_num": (lambda lib, b: lib.nan_to_num(b), tuple(BAD)),
    "diff": (lambda lib, b: lib.diff(b), tuple(BAD)),
    "special_ndtr": (lambda lib, b: lib.special.ndtr(b), tuple(BAD)),
    "embedding_padding_idx": (
        lambda lib, b: lib.nn.functional.embedding(_index(lib, 3), _ones(lib, 5, 3), padding_idx=b),
        ("ndarray",),
    ),
    "one_hot": (lambda lib, b: lib.nn.functional.one_hot(_index(lib, 3), b), tuple(BAD)),
    "avg_pool2d_divisor": (
        lambda lib, b: lib.nn.functional.avg_pool2d(_ones(lib, 1, 4, 4), 2, divisor_override=b),
        tuple(BAD),
    ),
    "pixel_shuffle": (lambda lib, b: lib.nn.functional.pixel_shuffle(_ones(lib, 1, 4, 2, 2), b), tuple(BAD)),
    "layer_norm_shape": (
        lambda lib, b: lib.nn.functional.layer_norm(_ones(lib, 3), b),
        ("ndarray", "numpy.float64", "float"),
    ),
    "cross_entropy_ignore_index": (
        lambda lib, b: lib.nn.functional.cross_entropy(_ones(lib, 2, 3), _index(lib, 2), ignore_index=b),
        tuple(BAD),
    ),
    "dropout_train": (lambda lib, b: lib.dropout(_ones(lib, 3), 0.5, b), tuple(BAD)),
    "tensor_requires_grad": (lambda lib, b: lib.tensor([1.0], requires_grad=b), tuple(BAD)),
    "fft": (lambda lib, b: lib.fft.fft(b), tuple(BAD)),
    "contiguous_memory_format": (lambda lib, b: _ones(lib, 3).contiguous(memory_format=b), tuple(BAD)),
    "make_dual": (lambda lib, b: lib.autograd.forward_ad.make_dual(_ones(lib, 3), b), tuple(BAD)),
    "make_subclass": (lambda lib, b: lib.Tensor._make_subclass(lib.Tensor, b), tuple(BAD)),
    "device_index": (lambda lib, b: lib.device("cpu", b), ("numpy.float64", "list", "float")),
    "set_autocast_enabled": (lambda lib, b: lib.set_autocast_enabled(b, True), tuple(BAD)),
    "set_autocast_dtype": (lambda lib, b: lib.set_autocast_dtype("cpu", b), tuple(BAD)),
    "backward_inputs": (lambda lib, b: _ones(lib, 3).requires_grad_().sum().backward(inputs=b), tuple(BAD)),
    "untyped_storage_index": (lambda lib, b: _ones(lib, 3).untyped_storage()[b], tuple(BAD)),
    "norm_except_dim": (lambda lib, b: lib.norm_except_dim(_ones(lib, 3), b), tuple(BAD)),
    "grid_sampler_mode": (
        lambda lib, b: lib.grid_sampler(_ones(lib, 1, 1, 2, 2), _ones(lib, 1, 2, 2, 2), b, 0, False),
        tuple(BAD),
    ),
    "is_nonzero": (lambda lib, b: lib.is_nonzero(b), tuple(BAD)),
}


@pytest.mark.parametrize(
    "call, kind", [(name, kind) for name, (_, kinds) in CALLS.items() for kind in kinds], ids=lambda v: str(v)
)
def test_wrong_argument_named_as_torch_names_it(call, kind):
    same_error(CALLS[call][0], BAD[kind]())


def _summary(lib, fn, *args):
    """The first line of the TypeError ``fn(lib, *args)`` raises: the call's "got (...)" listing."""
    with pytest.raises(TypeError) as raised:
        fn(lib, *args)
    return str(raised.value).split("\n")[0]


def _lstm(lib, bad):
    x, h = lib.ones(3, 2, 4), lib.zeros(1, 2, 5)
    params = list(lib.nn.LSTM(4, 5)._flat_weights)
    return lib.lstm(x, (h, h), params, True, 1, 0.0, train=False, bidirectional=False, batch_first=bad)


def _gru(lib, bad):
    params = list(lib.nn.GRU(4, 5)._flat_weights)
    return lib.gru(bad, lib.zeros(1, 2, 5), params, True, 1, 0.0, False, False, False)


def _rnn_tanh_keywords(lib, bad):
    params = list(lib.nn.RNN(4, 5)._flat_weights)
    return lib.rnn_tanh(lib.ones(3, 2, 4), lib.zeros(1, 2, 5), params, True, 1, 0.0, False, bidirectional=bad)


@pytest.mark.parametrize("fn", [_lstm, _gru, _rnn_tanh_keywords], ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("kind", list(BAD))
def test_recurrent_layers_list_the_call_as_torch(fn, kind):
    """The overloads' "got (...)" listing: positional types, then the keywords in PyTorch's order."""
    expected = _summary(torch, fn, BAD[kind]())
    assert re.fullmatch(r".* received an invalid combination of arguments - got \(.*\), but expected one of:", expected)
    assert _summary(ember, fn, BAD[kind]()) == expected
