"""Tensor creation and Python conversions off the main road, against PyTorch: dtype inference of
factories and constructors, memory sharing with NumPy, legacy constructors and Python protocols."""

import array
import copy
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def outcome(make, lib):
    """``make(lib)`` as comparable facts: a tensor's dtype name, shape and values, or the error type."""
    try:
        result = make(lib)
    except Exception as error:  # noqa: BLE001 - the error's type is the fact compared
        return type(error)
    if isinstance(result, (ember.Tensor, torch.Tensor)):
        return str(result.dtype).split(".")[-1], tuple(result.shape), result.detach().cpu().tolist()
    return result


def layout(x):
    """An uninitialised tensor's comparable facts: its dtype name and shape."""
    return str(x.dtype).split(".")[-1], tuple(x.shape)


def same(make):
    """``make`` gives the same outcome on ember as on torch."""
    expected, got = outcome(make, torch), outcome(make, ember)
    assert got == expected, f"ember {got!r}, torch {expected!r}"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.linspace(0, 1j, 3),
        lambda t: t.linspace(1j, 2j, 1),
        lambda t: t.linspace(0, 1 + 1j, 5, dtype=t.complex128),
        lambda t: t.linspace(t.tensor(1 + 1j, dtype=t.complex128), 1, 1),
        lambda t: t.linspace(0, 1j, 3, dtype=t.float32),
        lambda t: t.linspace(0, 1j, 3, dtype=t.int64),
        lambda t: t.logspace(0, 1j, 1),
        lambda t: t.logspace(0, 1j, 3, dtype=t.complex128),
        lambda t: t.logspace(0, 1j, 3, dtype=t.float64),
    ],
)
def test_linspace_logspace_complex_ends_infer_a_complex_dtype(make):
    same(make)


def test_logspace_complex_end_rounds_as_torch():
    expected = torch.logspace(0, 1j, 3)
    got = ember.logspace(0, 1j, 3)
    assert got.dtype is ember.complex64
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: layout(t.Tensor()),
        lambda t: t.Tensor(()),
        lambda t: t.Tensor((2, 3)),
        lambda t: t.Tensor([2, 3]),
        lambda t: layout(t.Tensor(t.Size([2, 3]))),
        lambda t: layout(t.Tensor(2, 3)),
        lambda t: layout(t.Tensor(np.int64(2))),
        lambda t: layout(t.Tensor(np.array(2))),
        lambda t: t.Tensor(np.array([1, 2])),
        lambda t: t.Tensor(t.tensor([1, 2])),
        lambda t: t.Tensor(t.tensor(2)),
        lambda t: t.Tensor(2.5),
        lambda t: t.Tensor(True),
        lambda t: t.Tensor(np.float64(2)),
        lambda t: t.Tensor(-1),
        lambda t: layout(t.zeros(np.array(2))),
        lambda t: layout(t.zeros(t.tensor(2))),
        lambda t: layout(t.zeros((np.array(2), 3))),
        lambda t: t.zeros(t.tensor(2.0)),
        lambda t: t.LongTensor((1, 2)),
        lambda t: t.LongTensor(2.5),
        lambda t: t.LongTensor(t.tensor([1.0, 2.0])),
        lambda t: t.FloatTensor(t.tensor([1.0, 2.0], dtype=t.float64)),
        lambda t: t.DoubleTensor(t.tensor([1.0, 2.0], dtype=t.float64)),
        lambda t: t.BFloat16Tensor([1, 2]),
        lambda t: t.tensor([1.0]).new(t.tensor([1, 2])),
        lambda t: t.tensor([1.0]).new((2, 3)),
        lambda t: t.tensor([1.0]).new(2.5),
    ],
)
def test_legacy_constructors_read_their_arguments_as_torch(make):
    same(make)


@pytest.mark.parametrize("cls_name", ["Tensor", "FloatTensor"])
def test_legacy_constructor_of_a_tensor_aliases_it(cls_name):
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = getattr(lib, cls_name)(x)
        assert y is not x and y.requires_grad
        with lib.no_grad():
            y[0] = 5.0
        assert x.tolist() == [5.0, 2.0]


@pytest.mark.parametrize("dtype", ["bfloat16", "complex64", "complex128", "float16", "int8"])
def test_type_names_every_dtype(dtype):
    expected = torch.zeros(1, dtype=getattr(torch, dtype)).type()
    assert ember.zeros(1, dtype=getattr(ember, dtype)).type() == expected.replace("torch.", "ember.")


def test_bfloat16_legacy_type_answers_isinstance():
    assert isinstance(ember.zeros(1, dtype=ember.bfloat16), ember.BFloat16Tensor)
    assert not isinstance(ember.zeros(1), ember.BFloat16Tensor)
    assert ember.zeros(1).type(ember.BFloat16Tensor).dtype is ember.bfloat16


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_as_tensor_shares_a_numpy_arrays_memory(dtype):
    for lib in (torch, ember):
        array = np.array([1.0, 2.0])
        t = lib.as_tensor(array, dtype=None if dtype is None else getattr(lib, dtype))
        array[0] = 9.0
        assert t.tolist() == [9.0, 2.0], lib.__name__


def test_as_tensor_copies_into_another_dtype():
    array = np.array([1.0, 2.0])
    t = ember.as_tensor(array, dtype=ember.float32)
    array[0] = 9.0
    assert t.dtype is ember.float32 and t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.from_numpy(np.array([1, 2, 3])[::-1]),
        lambda t: t.as_tensor(np.array([1, 2, 3])[::-1]),
        lambda t: t.asarray(np.array([1, 2, 3])[::-1]),
        lambda t: t.from_numpy(np.array([1, 2], dtype=">f4")),
        lambda t: t.as_tensor(np.array([1, 2], dtype=">i4")),
        lambda t: t.from_numpy(np.array([1, 2, 3])[::2]),
        lambda t: t.frombuffer([1, 2], dtype=t.uint8),
    ],
)
def test_numpy_sharing_refuses_what_torch_refuses(make):
    same(make)


@pytest.mark.parametrize("convert", ["from_numpy", "as_tensor", "asarray"])
def test_sharing_a_read_only_array_warns(convert):
    array = np.array([1.0, 2.0])
    array.setflags(write=False)
    with pytest.warns(UserWarning, match="not writable"):
        getattr(ember, convert)(array)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize(
    "fill",
    [
        lambda t, v, d: t.full((2,), v, dtype=d),
        lambda t, v, d: t.zeros(2, dtype=d).fill_(v),
        lambda t, v, d: t.zeros(2, dtype=d).masked_fill(t.tensor([True, False]), v),
        lambda t, v, d: t.zeros(2, dtype=d).new_full((1,), v),
    ],
)
def test_non_finite_fill_of_an_integer_tensor_raises(fill, dtype, value):
    same(lambda t: fill(t, value, getattr(t, dtype)))


@pytest.mark.parametrize(
    "data",
    [
        [[1, 2], [3]],
        [[1.0, 2], 3.0],
        [1.0, [2.0, 3.0]],
        [[1, 2], [3, 4], [5]],
        [[[1], [2]], [[3], [4, 5]]],
        [[1, 2], (3,)],
        [[1], []],
    ],
)
def test_ragged_lists_raise_torchs_error(data):
    expected = outcome(lambda t: t.tensor(data), torch)
    try:
        ember.tensor(data)
    except expected as error:
        if expected is ValueError:
            assert str(error) == str(pytest.raises(ValueError, torch.tensor, data).value)
    else:
        pytest.fail("no error")


@pytest.mark.parametrize(
    "data",
    [
        lambda t: [t.tensor([1.0, 2]), t.tensor([3.0, 4])],
        lambda t: [t.tensor([1, 2])],
        lambda t: [t.tensor(1), t.tensor(2.5)],
        lambda t: [t.tensor([1]), t.tensor([2])],
    ],
)
def test_lists_of_tensors(data):
    same(lambda t: t.tensor(data(t)))


@pytest.mark.parametrize("scalar", ["uint8", "int8", "int16", "float16", "bool_", "complex64"])
def test_numpy_scalars_keep_their_dtype(scalar):
    same(lambda t: t.tensor(getattr(np, scalar)(1)))


def test_deepcopy_of_views_copied_together_keeps_them_views_of_one_copy(device):
    for lib, dev in ((torch, "cpu"), (ember, device)):
        base = lib.tensor([1.0, 2.0, 3.0], device=dev)
        whole, tail, strided = copy.deepcopy([base, base[1:], base[::2]])
        whole[2] = 9.0
        assert tail.tolist() == [2.0, 9.0] and strided.tolist() == [1.0, 9.0], lib.__name__
        assert (tail.storage_offset(), tail.stride()) == (1, (1,))
        assert base.tolist() == [1.0, 2.0, 3.0]


def test_deepcopy_keeps_strides_requires_grad_and_grad(device):
    x = ember.ones(2, 3, device=device).t().requires_grad_()
    x.sum().backward()
    y = copy.deepcopy(x)
    assert y.stride() == (1, 3) and y.requires_grad and y.is_leaf
    assert y.grad is not x.grad and y.grad.tolist() == x.grad.tolist()


def test_attributes_set_on_a_tensor_survive_copy_deepcopy_and_pickle():
    for lib in (torch, ember):
        t = lib.tensor([1.0])
        t.tag = {"group": [1]}
        deep, shallow, pickled = copy.deepcopy(t), copy.copy(t), pickle.loads(pickle.dumps(t))
        assert deep.tag == shallow.tag == pickled.tag == {"group": [1]}, lib.__name__
        assert deep.tag is not t.tag and shallow.tag is t.tag


def test_copy_copy_shares_memory():
    for lib in (torch, ember):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        c = copy.copy(t)
        assert c is not t and c.requires_grad and c.grad_fn is None
        with lib.no_grad():
            c[0] = 5.0
        assert t.tolist() == [5.0, 2.0], lib.__name__


@pytest.mark.parametrize("convert", [np.asarray, np.array])
def test_numpy_conversion_of_a_tensor_requiring_grad_raises(convert):
    same(lambda t: convert(t.tensor([1.0, 2.0], requires_grad=True)))
    with ember.no_grad():
        assert convert(ember.tensor([1.0, 2.0], requires_grad=True)).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("data", [[1, 2, 3], [[1, 2], [3, 4]], 5])
def test_reversed_flips_the_first_dimension(data):
    same(lambda t: reversed(t.tensor(data)))


def test_numpy_conversion_of_a_tensor_that_requires_grad_or_is_off_the_cpu(device):
    t = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(t)
    with ember.no_grad():
        if device == "cpu":
            assert np.asarray(t).tolist() == [1.0, 2.0]
        else:  # torch's __array__ is numpy(): a CUDA tensor raises its TypeError
            with pytest.raises(TypeError, match=r"to numpy\. Use Tensor\.cpu\(\)"):
                np.asarray(t)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.arange(end=4),
        lambda t: t.arange(1, end=4),
        lambda t: t.arange(0, 2**63),
        lambda t: t.arange(0, 10, 2**63),
        lambda t: t.arange(0, 2**64),
        lambda t: t.arange(2**63 - 3, 2**63 - 1),
        lambda t: t.arange(-(2**63), -(2**63) + 2),
    ],
)
def test_arange_bounds_as_torch(make):
    same(make)


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([1e20], "int64"),
        ([9.3e18], "int64"),
        ([float("inf")], "int64"),
        ([float("nan")], "int32"),
        ([1, float("nan")], "int16"),
        ([float("nan")], "uint8"),
        ([-1.5], "uint8"),
        ([-1.0], "uint8"),
        ([255.5], "uint8"),
        ([127.9], "int8"),
        ([2.0**63], "int64"),
        ([-1], "uint8"),
        ([1.7, -1.7], "int64"),
        ([float("nan")], "bool"),
    ],
)
def test_python_floats_into_an_integer_dtype_must_fit(data, dtype):
    same(lambda t: t.tensor(data, dtype=getattr(t, dtype)))
    same(lambda t: t.zeros(1).new_tensor(data, dtype=getattr(t, dtype)))


def test_overflowing_casts_stay_silent(recwarn):
    assert ember.tensor([1e40], dtype=ember.float32).tolist() == [float("inf")]
    assert ember.tensor(np.array([np.nan]), dtype=ember.int64).dtype is ember.int64
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.zeros_like([1, 2]),
        lambda t: t.ones_like(np.array([1, 2])),
        lambda t: t.full_like([1.0], 2),
        lambda t: t.rand_like([1.0]),
        lambda t: t.full((2,), t.tensor([1.0])),
        lambda t: t.full((2,), t.tensor(1.5)),
        lambda t: t.linspace(0, 1, t.tensor(3)),
        lambda t: t.logspace(0, 1, t.tensor(2)),
        lambda t: t.linspace(0, 1, t.tensor(3.0)),
    ],
)
def test_factory_argument_types_as_torch(make):
    same(make)


@pytest.mark.parametrize(
    "array",
    [
        lambda: np.broadcast_to(np.arange(3.0), (2, 3)),
        lambda: np.arange(6.0).reshape(2, 3).T,
        lambda: np.zeros((2, 3), order="F"),
        lambda: np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)[:, ::2],
        lambda: np.broadcast_to(np.arange(3.0)[:, None], (3, 2)),
        lambda: np.arange(12.0).reshape(3, 4).T[:, ::2],
    ],
)
def test_tensor_of_a_numpy_array_keeps_its_strides_but_for_a_broadcast_one(array):
    expected = torch.tensor(array())
    got = ember.tensor(array())
    laid_out = [(n, s) for n, s in zip(expected.shape, expected.stride()) if n > 1]
    assert [(n, s) for n, s in zip(got.shape, got.stride()) if n > 1] == laid_out
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize(
    "buffer",
    [
        lambda: bytearray(b"\x00\x00\x80\x3f"),
        lambda: memoryview(bytearray(b"\x00\x00\x80\x3f\x00\x00\x00\x40")),
        lambda: array.array("f", [1.0, 2.0]),
        lambda: array.array("i", [1, 2]),
        lambda: bytearray(b"\x01\x02"),
    ],
)
@pytest.mark.parametrize("dtype", [None, "uint8", "int16"])
@pytest.mark.parametrize("copy_arg", [None, True])
def test_asarray_reads_a_buffer_as_elements_of_dtype(buffer, dtype, copy_arg):
    same(lambda t: t.asarray(buffer(), dtype=dtype and getattr(t, dtype), copy=copy_arg))


def test_asarray_of_a_buffer_shares_its_memory_unless_copied():
    data = bytearray(b"\x01\x02")
    shared, copied = ember.asarray(data, dtype=ember.uint8), ember.asarray(data, dtype=ember.uint8, copy=True)
    data[0] = 9
    assert shared.tolist() == [9, 2] and copied.tolist() == [1, 2]


@pytest.mark.parametrize("python_type", [float, int, bool, complex])
@pytest.mark.parametrize(
    "make",
    [
        lambda t, d: t.zeros(2, dtype=d),
        lambda t, d: t.tensor([1], dtype=d),
        lambda t, d: t.full((2,), 1, dtype=d),
        lambda t, d: t.ones(2).to(d),
        lambda t, d: t.ones(2).new_zeros(2, dtype=d),
        lambda t, d: t.eye(2, dtype=d),
    ],
)
def test_python_types_as_dtype_name_torchs(make, python_type):
    same(lambda t: make(t, python_type))


@pytest.mark.parametrize("convert", [float, int, lambda t: ember.tensor([t])])
def test_a_number_of_a_tensor_requiring_grad_warns(convert):
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        convert(ember.tensor(1.5, requires_grad=True))


@pytest.mark.parametrize("spec", [float, object, "float", 3, "torch.DoubleTensor", "Tensor"])
def test_type_refuses_what_torch_refuses(spec):
    same(lambda t: t.zeros(1).type(spec))


def test_type_of_the_tensor_class_is_the_default_dtype():
    assert ember.zeros(1, dtype=ember.int64).type(ember.Tensor).dtype is ember.float32


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor", "BFloat16Tensor"])
def test_legacy_type_classes_name_their_dtype(name):
    assert str(getattr(ember, name).dtype) == str(getattr(torch, name).dtype).replace("torch.", "ember.")
    assert str(getattr(ember.cuda, name).dtype) == str(getattr(torch.cuda, name).dtype).replace("torch.", "ember.")


@pytest.mark.parametrize("data", [["a"], [["a"]], (("a",),), [1, "a"], "a", [b"a"]])
def test_text_is_refused_as_torch_refuses_it(data):
    same(lambda t: t.tensor(data))


# doubles just past a halfway point of the 16-bit type that float32 rounds onto it: PyTorch's two
# roundings (through float32) land on the even neighbour, one rounding goes up
_DOUBLE_ROUNDED = {"float16": 1 + 2**-11 + 2**-40, "bfloat16": 1 + 2**-8 + 2**-30}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "make",
    [
        lambda t, v, d: t.tensor([v], dtype=d),
        lambda t, v, d: t.tensor(np.array([v]), dtype=d),
        lambda t, v, d: t.tensor([v], dtype=t.float64).to(d),
        lambda t, v, d: t.full((1,), v, dtype=d),
        lambda t, v, d: t.zeros(1, dtype=d).fill_(v),
        lambda t, v, d: t.zeros(1, dtype=d).masked_fill(t.tensor([True]), v),
    ],
)
def test_doubles_reach_16_bit_floats_through_float32(make, dtype):
    same(lambda t: make(t, _DOUBLE_ROUNDED[dtype], getattr(t, dtype)))


def test_cast_from_float64_to_half_on_a_device(device):
    value = _DOUBLE_ROUNDED["float16"]
    x = ember.tensor([value], dtype=ember.float64, device=device)
    assert x.half().item() == torch.tensor([value], dtype=torch.float64).half().item()


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.arange(0, 3, dtype=t.complex64),
        lambda t: t.arange(0.0, 3, 0.5, dtype=t.complex128),
        lambda t: t.linspace(0, 1, 3, dtype=t.bool),
        lambda t: t.linspace(0, 1, 1, dtype=t.bool),
        lambda t: t.linspace(0, 1, 0, dtype=t.bool),
        lambda t: t.logspace(0, 1, 3, dtype=t.bool),
        lambda t: t.tensor(np.array([1, 2], dtype=object)),
        lambda t: t.as_tensor(np.array([1, "a"], dtype=object)),
    ],
)
def test_unsupported_element_types_raise_as_torch(make):
    same(make)


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda T: T.ones(2, requires_grad=1), TypeError),
        (lambda T: T.tensor([1.0], requires_grad=1), TypeError),
        (lambda T: T.tensor([1.0], requires_grad=None), TypeError),
        (lambda T: T.nn.Parameter(T.ones(1), requires_grad=1), TypeError),
        (lambda T: T.ones(2).requires_grad_("x"), TypeError),
        (lambda T: setattr(T.ones(2), "requires_grad", 1), RuntimeError),
    ],
)
def test_requires_grad_takes_a_bool_only(make, error):
    for T in (torch, ember):
        with pytest.raises(error):
            make(T)
    assert ember.ones(2, requires_grad=None).requires_grad is False  # the factories read None as False
    assert torch.ones(2, requires_grad=None).requires_grad is False
