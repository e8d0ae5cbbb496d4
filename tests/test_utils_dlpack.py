"""``ember.utils.dlpack`` and the legacy capsule API, round trips with torch and NumPy."""

import numpy as np
import pytest

import ember
from ember.utils import dlpack

torch = pytest.importorskip("torch")


def test_device_type_codes_match_torch():
    from torch.utils.dlpack import DLDeviceType

    assert {m.name: int(m) for m in dlpack.DLDeviceType} == {m.name: int(m) for m in DLDeviceType}
    assert dlpack.from_dlpack is ember.from_dlpack and dlpack.to_dlpack is ember.to_dlpack


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_capsule_round_trips_with_torch(dtype):
    e = ember.arange(6).reshape(2, 3).to(getattr(ember, dtype))
    t = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(e))
    assert t.dtype == getattr(torch, dtype) and t.stride() == e.stride()
    np.testing.assert_array_equal(t.numpy(), e.numpy())
    back = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(t.t()))
    assert back.dtype is e.dtype and back.stride() == t.t().stride()
    np.testing.assert_array_equal(back.numpy(), e.numpy().T)


def test_capsule_is_consumed_once():
    capsule = ember.to_dlpack(ember.ones(2))
    ember.from_dlpack(capsule)
    with pytest.raises(RuntimeError, match="consumed"):
        ember.from_dlpack(capsule)


def test_protocol_round_trip_shares_memory_with_numpy():
    e = ember.zeros(3)
    array = np.from_dlpack(e)
    shared = ember.from_dlpack(array)
    e[1] = 5.0
    assert array[1] == 5.0 and shared[1].item() == 5.0


def test_copy_and_device_arguments():
    source = torch.arange(3.0)
    copied = ember.from_dlpack(source, copy=True)
    assert copied.data_ptr() != source.data_ptr()
    assert ember.from_dlpack(source, device="cpu").data_ptr() == source.data_ptr()


def test_refuses_objects_without_the_protocol():
    with pytest.raises(TypeError, match="DLPack"):
        ember.from_dlpack([1.0, 2.0])


def test_versioned_capsule_imports_writable():
    source = torch.arange(4.0)
    e = ember.from_dlpack(source.__dlpack__(max_version=(1, 0)))
    e[0] = 9.0
    assert source[0].item() == 9.0
