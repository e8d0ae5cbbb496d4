"""DLPack exchange and ``ember.cuda`` (the CUDA tests skip cleanly without a GPU)."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

requires_cuda = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA backend/GPU")


def test_from_dlpack_numpy_and_torch_share_memory():
    array = np.arange(6.0).reshape(2, 3)
    t = ember.from_dlpack(array)
    assert t.shape == (2, 3) and t.dtype is ember.float64
    array[0, 0] = 42
    assert t[0, 0].item() == 42
    source = torch.arange(4, dtype=torch.float32)
    e = ember.from_dlpack(source)
    np.testing.assert_array_equal(e.numpy(), source.numpy())


def test_tensor_exports_dlpack_to_torch():
    e = ember.arange(5.0)
    t = torch.from_dlpack(e)
    np.testing.assert_array_equal(t.numpy(), e.numpy())
    assert e.__dlpack_device__() == (1, 0)


def test_dlpack_refuses_tensors_that_require_grad():
    with pytest.raises(BufferError, match="require gradient"):  # as torch.from_dlpack of a torch tensor
        torch.from_dlpack(ember.ones(2, requires_grad=True))


def test_from_dlpack_rejects_objects_without_protocol():
    with pytest.raises(TypeError, match="DLPack"):
        ember.from_dlpack([1, 2, 3])


def test_cuda_unavailable_is_reported_not_raised():
    assert isinstance(ember.cuda.is_available(), bool)
    if not ember.cuda.is_available():
        assert ember.cuda.device_count() == 0


@requires_cuda
def test_cuda_round_trip_and_memory_stats():
    x = ember.randn(64, 64)
    y = x.cuda()
    assert y.device == ember.device("cuda:0") and y.is_cuda
    ember.cuda.synchronize()
    assert ember.cuda.memory_allocated() > 0
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    assert isinstance(ember.cuda.get_device_name(), str)


@requires_cuda
def test_cuda_dlpack_with_torch_cuda():
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    source = torch.arange(8, dtype=torch.float32, device="cuda")
    e = ember.from_dlpack(source)
    assert e.device == ember.device("cuda:0")
    back = torch.from_dlpack(e * 2)
    assert torch.equal(back, source * 2)


@requires_cuda
def test_mixed_cpu_cuda_operands_raise_naming_both_devices():
    with pytest.raises(RuntimeError, match="cpu.*cuda:0|cuda:0.*cpu"):
        ember.ones(2) + ember.ones(2).cuda()


@requires_cuda
def test_module_cuda_moves_parameters_and_trains():
    model = ember.nn.Linear(4, 3).cuda()
    assert all(p.device.type == "cuda" for p in model.parameters())
    loss = model(ember.randn(5, 4, device="cuda")).pow(2).mean()
    loss.backward()
    assert model.weight.grad.device.type == "cuda"
