"""NumPy arrays into tensors (``from_numpy``, ``as_tensor``, ``tensor``) off the main road, against PyTorch:
element types without a dtype, byte-swapped, misaligned and read-only arrays, and ``np.asarray`` back."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_UNSUPPORTED = {
    "str": np.array(["a", "b"]),
    "object": np.array([1, None], dtype=object),
    "longdouble": np.zeros(2, dtype=np.longdouble),
    "datetime": np.zeros(2, dtype="datetime64[s]"),
    "structured": np.zeros(2, dtype=[("a", "f4")]),
}


@pytest.mark.parametrize("call", ["from_numpy", "as_tensor", "tensor"])
@pytest.mark.parametrize("kind", list(_UNSUPPORTED))
def test_element_types_without_a_dtype_raise_as_torch(kind, call):
    array = _UNSUPPORTED[kind]
    with pytest.raises(TypeError) as theirs:
        getattr(torch, call)(array)
    scalar = array.dtype.type.__name__
    with pytest.raises(TypeError, match=f"can't convert np.ndarray of type numpy.{scalar}. The only supported types"):
        getattr(ember, call)(array)
    assert f"numpy.{scalar}." in str(theirs.value)


def test_byte_swapped_misaligned_and_negative_strides_as_torch():
    swapped = np.arange(6, dtype=">f4")
    raw = np.zeros(25, dtype=np.uint8)
    misaligned = raw[1:].view(np.float32)
    reversed_ = np.arange(6.0)[::-1]
    for array, error in ((swapped, "byte order"), (reversed_, "negative")):
        for lib in (torch, ember):
            with pytest.raises(ValueError, match=error):
                lib.from_numpy(array)
    # a misaligned array shares its memory (PyTorch reads it as is)
    for lib in (torch, ember):
        t = lib.from_numpy(misaligned)
        raw[1:5] = np.frombuffer(np.float32(2.5).tobytes(), np.uint8)
        assert t[0].item() == 2.5 and t.stride() == (1,)


def test_read_only_arrays_warn_and_share():
    array = np.arange(4.0)
    array.flags.writeable = False
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = lib.from_numpy(array)
        assert any("not writable" in str(w.message) for w in caught)
        assert np.shares_memory(t.numpy(), array)


def test_asarray_of_a_tensor_shares_memory_and_strides():
    for lib in (torch, ember):
        t = lib.arange(6.0).reshape(2, 3).t()
        a = np.asarray(t)
        assert a.strides == (4, 12) and np.shares_memory(a, t.numpy())
        a[0, 0] = 7.0
        assert t[0, 0].item() == 7.0
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            np.asarray(lib.ones(2, requires_grad=True))


def test_writes_to_a_read_only_arrays_tensor_raise_naming_it():
    # PyTorch writes into the read-only array (its warning calls that undefined behaviour); ember's warning says
    # that writing raises, and an indexed write says why (it said the value did not broadcast)
    array = np.arange(3.0)
    array.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = ember.from_numpy(array)
    with pytest.raises(RuntimeError, match="index_put_: the tensor's memory is read-only.*clone"):
        t[0] = 5.0
    assert array.tolist() == [0.0, 1.0, 2.0]
    copy = t.clone()
    copy[0] = 5.0
    assert copy.tolist() == [5.0, 1.0, 2.0]


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")  # torch's
def test_np_array_copies_and_np_asarray_shares_as_in_torch():
    # np.array's copy=True (its default) must give memory of its own: ember handed out the tensor's, so
    # writes to the "copy" changed the tensor
    for lib in (torch, ember):
        t = lib.zeros(3)
        for made in (np.array(t), np.array(t, copy=True), np.array(t, dtype=np.float64)):
            made += 1
        assert t.tolist() == [0.0, 0.0, 0.0], lib.__name__
        for view in (np.asarray(t), np.asarray(t, dtype=np.float32)):
            view += 1
        assert t.tolist() == [2.0, 2.0, 2.0], lib.__name__
    shared = np.array(ember.zeros(2), copy=False)  # torch's __array__ takes no copy= (NumPy refuses it there)
    assert shared.flags.writeable
    with pytest.raises(ValueError, match="Unable to avoid copy while creating an array as requested"):
        np.array(ember.zeros(2), dtype=np.float64, copy=False)
