"""DLPack exchange with PyTorch of the dtypes NumPy cannot exchange itself (bfloat16, float8): values,
strides and shared memory both ways, as between two PyTorch tensors."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_EXTENDED = ["bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
_VIEWS = {
    "whole": lambda t: t,
    "transposed": lambda t: t.t(),
    "sliced": lambda t: t[1:3, 2:],
    "stepped": lambda t: t[::2, ::3],
    "0-d": lambda t: t[1, 1],
    "empty": lambda t: t[:0],
    "expanded": lambda t: t[0:1].expand(3, 6),
}


def _values(t):
    """A torch or ember tensor's values as float32 NumPy (bfloat16/float8 have no NumPy type)."""
    return t.float().numpy()


@pytest.mark.parametrize("view", list(_VIEWS))
@pytest.mark.parametrize("dtype", _EXTENDED)
def test_torch_tensor_imports_sharing_memory(dtype, view):
    base = torch.arange(1, 25, dtype=torch.float32).reshape(4, 6).to(getattr(torch, dtype))
    theirs = _VIEWS[view](base)
    ours = ember.from_dlpack(theirs)
    assert ours.dtype is getattr(ember, dtype) and ours.shape == theirs.shape and ours.stride() == theirs.stride()
    np.testing.assert_array_equal(_values(ours), _values(theirs))
    if theirs.numel():
        assert ours.data_ptr() == theirs.data_ptr()
    # the legacy capsule of torch.utils.dlpack too
    capsule = ember.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
    assert capsule.dtype is ours.dtype and capsule.stride() == theirs.stride()
    np.testing.assert_array_equal(_values(capsule), _values(theirs))


@pytest.mark.parametrize("view", list(_VIEWS))
@pytest.mark.parametrize("dtype", _EXTENDED)
def test_ember_tensor_exports_sharing_memory(dtype, view):
    base = ember.arange(1, 25, dtype=ember.float32).reshape(4, 6).to(getattr(ember, dtype))
    ours = _VIEWS[view](base)
    theirs = torch.from_dlpack(ours)
    expected = _VIEWS[view](torch.arange(1, 25, dtype=torch.float32).reshape(4, 6).to(getattr(torch, dtype)))
    assert theirs.dtype == expected.dtype and theirs.shape == expected.shape and theirs.stride() == expected.stride()
    assert torch.equal(theirs.float(), expected.float())
    if ours.numel():
        assert theirs.data_ptr() == ours.data_ptr()
    back = torch.utils.dlpack.from_dlpack(ember.to_dlpack(ours))
    assert back.dtype == expected.dtype and torch.equal(back.float(), expected.float())


def test_writes_reach_the_other_side_both_ways():
    theirs = torch.zeros(4, dtype=torch.bfloat16)
    ours = ember.from_dlpack(theirs)
    ours[1:3] = 2.5
    assert theirs.tolist() == [0.0, 2.5, 2.5, 0.0]
    back = torch.from_dlpack(ember.zeros(3, dtype=ember.bfloat16))
    back.fill_(1.5)
    mine = ember.from_dlpack(back)
    assert mine.tolist() == [1.5, 1.5, 1.5]
    scalar = ember.tensor(1.5, dtype=ember.bfloat16)  # a 0-d tensor: its own memory, seen through the view
    torch.from_dlpack(scalar).fill_(3.0)
    assert scalar.item() == 3.0


def test_own_tensors_and_capsules_round_trip():
    e = ember.arange(6.0, dtype=ember.bfloat16).reshape(2, 3)
    for again in (ember.from_dlpack(e), ember.from_dlpack(ember.to_dlpack(e))):
        assert again.dtype is ember.bfloat16 and again.data_ptr() == e.data_ptr()
        assert again.tolist() == e.tolist()


def test_tensor_requiring_grad_is_refused_as_in_torch():
    for lib in (torch, ember):
        with pytest.raises(BufferError, match="Can.t export tensors that require gradient"):
            lib.ones(2, dtype=lib.bfloat16, requires_grad=True).__dlpack__()
    for lib in (torch, ember):  # the legacy capsule API exports it (without its grad)
        t = lib.utils.dlpack.to_dlpack(lib.ones(2, requires_grad=True))
        assert lib.utils.dlpack.from_dlpack(t).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "bfloat16"])
def test_legacy_capsules_import_writable_as_in_torch(dtype):
    # a capsule of torch.utils.dlpack.to_dlpack (DLPack before 1.0) has no read-only flag: PyTorch imports it
    # writable, so do ember's in-place ops; a read-only NumPy array (flagged by DLPack 1.0) stays read-only
    for theirs in (
        torch.zeros(4, 6, dtype=getattr(torch, dtype)),
        torch.zeros(4, 6, dtype=getattr(torch, dtype))[1:3, ::2].t(),
    ):
        ours = ember.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
        assert ours.stride() == theirs.stride() and ours.data_ptr() == theirs.data_ptr()
        ours.fill_(1)
        again = torch.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
        again.fill_(1)  # PyTorch's own import is writable too
        assert theirs.float().sum().item() == theirs.numel()
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    assert not ember.from_dlpack(frozen).numpy().flags.writeable


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_consumers_asking_for_a_copy_get_one(dtype):
    # torch.from_dlpack(x, copy=True) and np.from_dlpack(x, copy=True) pass copy=True to x.__dlpack__: the
    # result must not share x's memory (ember shared it: the consumer's writes reached the tensor)
    for lib in (torch, ember):
        source = lib.zeros(3, dtype=getattr(lib, dtype))
        copied = torch.from_dlpack(source, copy=True)
        copied.add_(1)
        shared = torch.from_dlpack(source, copy=False)
        assert source.tolist() == [0.0, 0.0, 0.0] and copied.tolist() == [1.0, 1.0, 1.0]
        shared.add_(2)
        assert source.tolist() == [2.0, 2.0, 2.0]
    source = ember.zeros(3)
    array = np.from_dlpack(source, copy=True)
    array += 1
    assert source.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(BufferError):
        source.__dlpack__(dl_device=(2, 0))  # CUDA: not reachable from a CPU tensor here


def test_a_backend_without_dlpack_raises_buffer_error():
    # the DLPack protocol's error, as PyTorch's for what it cannot export; ember raised
    # AttributeError: 'RestrictedArray' object has no attribute '__dlpack__'
    e = ember.arange(3.0, device="restricted")
    with pytest.raises(BufferError, match="the restricted backend does not export DLPack"):
        torch.from_dlpack(e)
