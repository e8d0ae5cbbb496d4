"""Refused calls against PyTorch 2.13: the exception's type and message, method and function forms apart.

- Sizes given to ``reshape``/``view``/``permute``/``flip``/``repeat``/``tile``/``expand``/``roll``: the argument's
  own name (``shape``, ``dims``, ``repeats``, ``shifts``), its position as the form counts it, and the parser's
  three words ("must be tuple of ints, not str", "but found element of type str at pos 0", "failed to unpack").
- ``int`` arguments of ``transpose``/``select``/``size``, the overloads of ``narrow``/``movedim``, and the operands
  of ``matmul``/``mm``/``bmm``/``mv``/``dot``.
- ``max_pool{1,2,3}d(..., return_indices=True)`` name ``max_pool2d_with_indices``; reflection padding names its
  argument by the pair that is too large; ``fractional_max_pool2d`` with an empty kernel runs, as PyTorch's.
- ``x += array``: PyTorch's in-place operator refuses a NumPy array, so ``x`` is rebound to ``x + array``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")


def _ones(lib, device, *shape):
    return lib.ones(*shape, device=device) if lib is ember else lib.ones(*shape)


def _first_line_error(call):
    """PyTorch's and ember's error for ``call(lib)``: the same type and first line (PyTorch's "invalid combination"
    goes on to say which argument did not match, which ember does not)."""
    with pytest.raises(Exception) as expected:
        call(torch)
    first_line = str(expected.value).splitlines()[0]
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    assert str(got.value).splitlines()[0] == first_line


# -- sizes: the argument's name, position and the parser's words ---------------------------------------------
_SIZE_CALLS = {
    "reshape('a')": lambda x: x.reshape("a"),
    "reshape(None)": lambda x: x.reshape(None),
    "reshape(2.0)": lambda x: x.reshape(2.0),
    "reshape(2, 'a')": lambda x: x.reshape(2, "a"),
    "reshape('a', 2)": lambda x: x.reshape("a", 2),
    "reshape((2, 'a'))": lambda x: x.reshape((2, "a")),
    "reshape(('a', 2))": lambda x: x.reshape(("a", 2)),
    "reshape([2, 3.0])": lambda x: x.reshape([2, 3.0]),
    "reshape(shape='a')": lambda x: x.reshape(shape="a"),
    "reshape(shape=(2, 'a'))": lambda x: x.reshape(shape=(2, "a")),
    "permute('a')": lambda x: x.permute("a"),
    "permute('a', 0)": lambda x: x.permute("a", 0),
    "permute((0, 'a'))": lambda x: x.permute((0, "a")),
    "permute(('a', 0))": lambda x: x.permute(("a", 0)),
    "flip('a')": lambda x: x.flip("a"),
    "flip(0, 'a')": lambda x: x.flip(0, "a"),
    "flip(None)": lambda x: x.flip(None),
    "repeat('a')": lambda x: x.repeat("a"),
    "repeat(2.0)": lambda x: x.repeat(2.0),
    "repeat((1, 'a'))": lambda x: x.repeat((1, "a")),
    "tile('a')": lambda x: x.tile("a"),
    "tile(1, 'a')": lambda x: x.tile(1, "a"),
    "tile('a', 1)": lambda x: x.tile("a", 1),
    "expand('a')": lambda x: x.expand("a"),
    "expand(None)": lambda x: x.expand(None),
    "expand((2, 'a'))": lambda x: x.expand((2, "a")),
    "view((2, 'a'))": lambda x: x.view((2, "a")),
    "view(2, 'a')": lambda x: x.view(2, "a"),
    "roll('a')": lambda x: x.roll("a"),
    "roll(None)": lambda x: x.roll(None),
    "roll(1.5)": lambda x: x.roll(1.5),
    "roll(1, 'a')": lambda x: x.roll(1, "a"),
    "roll((1, 'a'), (0, 1))": lambda x: x.roll((1, "a"), (0, 1)),
}


@pytest.mark.parametrize("call", _SIZE_CALLS.values(), ids=_SIZE_CALLS.keys())
def test_size_argument_of_a_method_as_torch(device, call):
    same_error(lambda lib: call(_ones(lib, device, 2, 3)))


_SIZE_FUNCTION_CALLS = {
    "reshape(x, 'a')": lambda lib, x: lib.reshape(x, "a"),
    "reshape(x, None)": lambda lib, x: lib.reshape(x, None),
    "reshape(x, (2, 'a'))": lambda lib, x: lib.reshape(x, (2, "a")),
    "reshape(x, ('a', 2))": lambda lib, x: lib.reshape(x, ("a", 2)),
    "permute(x, 'a')": lambda lib, x: lib.permute(x, "a"),
    "permute(x, ('a', 0))": lambda lib, x: lib.permute(x, ("a", 0)),
    "flip(x, 'a')": lambda lib, x: lib.flip(x, "a"),
    "flip(x, (0, 'a'))": lambda lib, x: lib.flip(x, (0, "a")),
    "tile(x, 'a')": lambda lib, x: lib.tile(x, "a"),
    "tile(x, None)": lambda lib, x: lib.tile(x, None),
    "tile(x, (1, 'a'))": lambda lib, x: lib.tile(x, (1, "a")),
    "roll(x, 'a')": lambda lib, x: lib.roll(x, "a"),
    "roll(x, None)": lambda lib, x: lib.roll(x, None),
    "roll(x, 1, 'a')": lambda lib, x: lib.roll(x, 1, "a"),
    "roll(x, (1, 'a'), (0, 1))": lambda lib, x: lib.roll(x, (1, "a"), (0, 1)),
}


@pytest.mark.parametrize("call", _SIZE_FUNCTION_CALLS.values(), ids=_SIZE_FUNCTION_CALLS.keys())
def test_size_argument_of_a_function_as_torch(device, call):
    same_error(lambda lib: call(lib, _ones(lib, device, 2, 3)))


@pytest.mark.parametrize("bad", ["a", 2.0, None, ("a", 2)], ids=["str", "float", "None", "tuple"])
def test_view_of_no_shape_lists_its_overloads_as_torch(device, bad):
    _first_line_error(lambda lib: _ones(lib, device, 2, 3).view(bad))


def test_view_of_varargs_not_starting_with_an_int_as_torch(device):
    _first_line_error(lambda lib: _ones(lib, device, 2, 3).view("a", 2))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.reshape(3, 2),
        lambda x: x.reshape((np.int64(3), 2)),
        lambda x: x.permute([1, 0]),
        lambda x: x.roll((1, 1), (0, 1)),
        lambda x: x.roll(np.int64(1)),
        lambda x: x.tile((2, 1)),
        lambda x: x.flip([0, 1]),
        lambda x: x.expand(2, 2, 3),
    ],
)
def test_sizes_still_taken_as_torch(device, call):
    got, expected = call(ember.arange(6.0, device=device).reshape(2, 3)), call(torch.arange(6.0).reshape(2, 3))
    assert got.tolist() == expected.tolist()


# -- int arguments and overloads ------------------------------------------------------------------------------
_INT_CALLS = {
    "transpose('a', 1)": lambda lib, x: x.transpose("a", 1),
    "transpose(0, None)": lambda lib, x: x.transpose(0, None),
    "transpose(True, 1)": lambda lib, x: x.transpose(True, 1),
    "transpose(x, 'a', 1)": lambda lib, x: lib.transpose(x, "a", 1),
    "transpose(x, 0, 1.5)": lambda lib, x: lib.transpose(x, 0, 1.5),
    "swapdims(x, 'a', 1)": lambda lib, x: lib.swapdims(x, "a", 1),
    "swapaxes(x, 0, None)": lambda lib, x: lib.swapaxes(x, 0, None),
    "select('a', 1)": lambda lib, x: x.select("a", 1),
    "select(0, None)": lambda lib, x: x.select(0, None),
    "select(0, 1.5)": lambda lib, x: x.select(0, 1.5),
    "select(0, True)": lambda lib, x: x.select(0, True),
    "select(x, 0, None)": lambda lib, x: lib.select(x, 0, None),
    "size('a')": lambda lib, x: x.size("a"),
    "size(1.0)": lambda lib, x: x.size(1.0),
    "movedim((0, 'a'), (1, 0))": lambda lib, x: x.movedim((0, "a"), (1, 0)),
}


@pytest.mark.parametrize("call", _INT_CALLS.values(), ids=_INT_CALLS.keys())
def test_int_argument_as_torch(device, call):
    same_error(lambda lib: call(lib, _ones(lib, device, 2, 3)))


_OVERLOAD_CALLS = {
    "narrow('a', 0, 1)": lambda lib, x: x.narrow("a", 0, 1),
    "narrow(0, None, 1)": lambda lib, x: x.narrow(0, None, 1),
    "narrow(0, 0, 1.5)": lambda lib, x: x.narrow(0, 0, 1.5),
    "narrow(0, 0, True)": lambda lib, x: x.narrow(0, 0, True),
    "narrow(x, 'a', 0, 1)": lambda lib, x: lib.narrow(x, "a", 0, 1),
    "movedim('a', 1)": lambda lib, x: x.movedim("a", 1),
    "movedim(0, None)": lambda lib, x: x.movedim(0, None),
    "movedim(0, (1,))": lambda lib, x: x.movedim(0, (1,)),
    "movedim(x, 0, None)": lambda lib, x: lib.movedim(x, 0, None),
}


@pytest.mark.parametrize("call", _OVERLOAD_CALLS.values(), ids=_OVERLOAD_CALLS.keys())
def test_overloads_listed_as_torch(device, call):
    _first_line_error(lambda lib: call(lib, _ones(lib, device, 2, 3)))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.transpose(np.int64(0), 1),
        lambda lib, x: x.select(0, np.int64(1)),
        lambda lib, x: x.select(lib.tensor(0), lib.tensor(1)),
        lambda lib, x: x.narrow(np.int64(0), np.int64(0), np.int64(1)),
        lambda lib, x: x.narrow(0, lib.tensor(1), 1),
        lambda lib, x: x.movedim([0], [1]),
        lambda lib, x: lib.movedim(x, (0, 1), (1, 0)),
        lambda lib, x: lib.swapaxes(x, 0, 1),
    ],
)
def test_int_arguments_still_taken_as_torch(device, call):
    got = call(ember, ember.arange(6.0, device=device).reshape(2, 3))
    assert got.tolist() == call(torch, torch.arange(6.0).reshape(2, 3)).tolist()


@pytest.mark.parametrize("op", ["matmul", "mm", "bmm", "mv", "dot"])
@pytest.mark.parametrize("form", ["method", "function", "function first"])
def test_matrix_product_of_a_non_tensor_as_torch(device, op, form):
    def call(lib):
        x = _ones(lib, device, 2, 2)
        if form == "method":
            return getattr(x, op)("a")
        return getattr(lib, op)(x, "a") if form == "function" else getattr(lib, op)("a", x)

    same_error(call)


# -- pooling and padding ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda F, x: F.max_pool2d(x, "a", return_indices=True),
        lambda F, x: F.max_pool2d(x, 2, stride="a", return_indices=True),
        lambda F, x: F.max_pool2d(x, 2, ceil_mode=1, return_indices=True),
        lambda F, x: F.max_pool2d_with_indices(x, "a"),
        lambda F, x: F.max_pool2d(x, "a"),
        lambda F, x: F.max_pool2d(x, (2, 2, 2), return_indices=True),
        lambda F, x: F.max_pool2d(x, 2, stride=(1, 1, 1)),
        lambda F, x: F.max_pool2d(x, 2, dilation=(1, 1, 1), return_indices=True),
        lambda F, x: F.max_pool3d(x[None], (2, 2)),
        lambda F, x: F.avg_pool2d(x, 2, padding=(1, 1, 1)),
        lambda F, x: F.avg_pool3d(x[None], 2, padding=(1, 1)),
        lambda F, x: F.fractional_max_pool2d(x, (2, 2, 2), output_size=2),
        lambda F, x: F.max_pool1d(x[0], "a", return_indices=True),
        lambda F, x: F.max_pool1d(x[0], 2, ceil_mode=1, return_indices=True),
        lambda F, x: F.max_pool1d(x[0], "a"),
        lambda F, x: F.max_pool3d(x[None], "a", return_indices=True),
    ],
)
def test_max_pool_with_indices_named_as_torch(device, call):
    same_error(lambda lib: call(lib.nn.functional, _ones(lib, device, 1, 1, 4, 4)))


@pytest.mark.parametrize(
    ("shape", "pad"),
    [
        ((1, 1, 4, 4), (1,) * 6),
        ((1, 1, 4, 4), (5, 5, 1, 1)),
        ((1, 1, 4, 4), (1, 1, 5, 5)),
        ((1, 1, 4), (1, 1, 1, 1)),
        ((1, 1, 2, 2, 2), (3,) * 6),
        ((1, 1, 2, 2, 2), (1, 1, 1, 1, 2, 2)),
    ],
)
def test_reflection_padding_names_its_argument_as_torch(device, shape, pad):
    same_error(lambda lib: lib.nn.functional.pad(_ones(lib, device, *shape), pad, mode="reflect"))


@pytest.mark.parametrize("kernel", [0, -1, (0, 2), (2, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool_of_an_empty_kernel_as_torch(device, kernel, dtype):
    outputs = []
    for lib in (torch, ember):
        x = lib.arange(16.0, dtype=getattr(lib, dtype)).reshape(1, 1, 4, 4)
        samples = lib.full((1, 1, 2), 0.5, dtype=getattr(lib, dtype))
        if lib is ember:
            x, samples = x.to(device), samples.to(device)
        values, indices = lib.nn.functional.fractional_max_pool2d(
            x, kernel, output_size=2, return_indices=True, _random_samples=samples
        )
        outputs.append((str(values.dtype).split(".")[1], values.tolist(), indices.tolist()))
    assert outputs[1] == outputs[0]


def test_fractional_max_pool3d_of_an_empty_kernel_as_torch(device):
    outputs = []
    for lib in (torch, ember):
        x = lib.arange(64.0).reshape(1, 1, 4, 4, 4)
        samples = lib.full((1, 1, 3), 0.5)
        if lib is ember:
            x, samples = x.to(device), samples.to(device)
        values, indices = lib.nn.functional.fractional_max_pool3d(
            x, 0, output_size=2, return_indices=True, _random_samples=samples
        )
        outputs.append((values.tolist(), indices.tolist()))
    assert outputs[1] == outputs[0]


# -- in-place operators and NumPy arrays ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "array",
    [np.ones(2), np.ones(2, dtype=np.float32), np.ones(2, dtype=np.int64), np.ones((), dtype=np.float64)],
    ids=["float64", "float32", "int64", "0-d"],
)
@pytest.mark.parametrize("statement", ["x += a", "x -= a", "x *= a", "x /= a"])
def test_inplace_operator_with_an_array_rebinds_as_torch(device, array, statement):
    outcomes = []
    for lib in (torch, ember):
        x = _ones(lib, device, 2)
        scope = {"x": x, "a": array}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch's __array_wrap__ under NumPy 2
            exec(statement, scope)  # noqa: S102 - the statement tested
        result = scope["x"]
        outcomes.append(
            (type(result).__name__, str(result.dtype).split(".")[1], result is x, result.tolist(), x.tolist())
        )
    assert outcomes[1] == outcomes[0]


def test_inplace_operator_with_a_numpy_scalar_stays_in_place(device):
    outcomes = []
    for lib in (torch, ember):
        x = _ones(lib, device, 2)
        y = x
        y += np.float64(2.0)
        outcomes.append((y is x, str(y.dtype).split(".")[1], x.tolist()))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("name", ["__iadd__", "__isub__", "__imul__", "__itruediv__"])
def test_inplace_operator_method_gives_way_to_an_array(device, name):
    assert getattr(_ones(ember, device, 2), name)(np.ones(2)) is NotImplemented
    assert getattr(torch.ones(2), name)(np.ones(2)) is NotImplemented


# -- a top-level op given no tensor -----------------------------------------------------------------------------
_TENSOR_INPUT_OPS = """sum mean amax amin prod argmax argmin median nansum abs neg reshape flatten t conj conj_physical sort
argsort adjoint aminmax angle argwhere bincount bitwise_not clone combinations corrcoef count_nonzero cov deg2rad detach
diagflat fliplr flipud frac frexp get_device imag is_complex is_inference isfinite isinf isnan isneginf isposinf isreal
logical_not logit mode msort nanmedian nonzero positive rad2deg ravel real rot90 sgn signbit sinc square squeeze
unbind unique_consecutive view_as_real permute tile alias_copy detach_copy diagonal_copy squeeze_copy t_copy unbind_copy
view_as_real_copy permute_copy""".split()


@pytest.mark.parametrize("name", _TENSOR_INPUT_OPS)
@pytest.mark.parametrize("given", ["a", None, [1.0, 2.0]], ids=["str", "None", "list"])
def test_top_level_op_of_a_non_tensor_as_torch(name, given):
    if name == "msort" and isinstance(given, list):
        pytest.skip("PyTorch's msort calls a list's own sort")
    args = ((2,),) if name in ("reshape", "permute", "tile", "permute_copy") else ()
    same_error(lambda lib: getattr(lib, name)(given, *args))


@pytest.mark.parametrize("name", ["sum", "mean", "abs", "neg", "argmax", "t", "flatten", "conj", "nansum"])
def test_top_level_op_of_a_tensor_still_computes(device, name):
    got = getattr(ember, name)(ember.arange(6.0, device=device).reshape(2, 3))
    assert got.tolist() == getattr(torch, name)(torch.arange(6.0).reshape(2, 3)).tolist()


# -- the same %-formatting slip as roll's: rot90's k, segment_reduce's axis ------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.rot90(x, "a"),
        lambda lib, x: lib.rot90(x, 1.5),
        lambda lib, x: lib.rot90(x, 1, "a"),
        lambda lib, x: lib.rot90(x, 1, (0, "a")),
        lambda lib, x: lib.segment_reduce(x.flatten(), "sum", lengths=lib.tensor([2, 4]), axis="a"),
    ],
)
def test_rot90_and_segment_reduce_int_arguments_as_torch(device, call):
    same_error(lambda lib: call(lib, _ones(lib, device, 2, 3)))


@pytest.mark.parametrize("k", [-1, 1, 2, 3, np.int64(5)])
def test_rot90_still_turns_as_torch(device, k):
    got = ember.rot90(ember.arange(6.0, device=device).reshape(2, 3), k, [1, 0])
    assert got.tolist() == torch.rot90(torch.arange(6.0).reshape(2, 3), k, [1, 0]).tolist()
