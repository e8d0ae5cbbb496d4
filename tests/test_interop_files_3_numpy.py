"""NumPy's conversions of ember tensors as PyTorch's: ``np.asarray(t)`` and ``np.array(t)`` are ``t.numpy()``
(torch's ``Tensor.__array__`` calls it), so a tensor off the CPU raises numpy()'s TypeError (PyTorch's for a
CUDA tensor: "Use Tensor.cpu()") instead of copying silently, and a tensor that requires grad raises in
grad mode."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, lambda t: np.array(t, dtype=np.float64), lambda t: t.numpy(), np.asanyarray],
    ids=["asarray", "array", "array-dtype", "numpy", "asanyarray"],
)
def test_conversion_off_the_cpu_raises_as_torch(device, convert):
    t = ember.tensor([1.0, 2.0], device=device)
    if ember.device(device).type == "cpu":
        assert convert(t).tolist() == [1.0, 2.0]
        return
    with pytest.raises(TypeError, match=rf"can't convert {device} device type tensor to numpy\. Use Tensor\.cpu\(\)"):
        convert(t)
    assert convert(t.cpu()).tolist() == [1.0, 2.0]  # the remedy the message names
    assert t.numpy(force=True).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("lib", ["torch", "ember"])
def test_meta_tensors_raise_numpys_error(lib):
    module = torch if lib == "torch" else ember
    t = module.ones(2, device="meta")
    for convert in (np.asarray, np.array, lambda t: t.numpy()):
        with pytest.raises(TypeError, match=r"can't convert meta device type tensor to numpy\. Use Tensor\.cpu\(\)"):
            convert(t)


def test_requires_grad_raises_in_grad_mode_only_as_torch(device):
    for lib, dev in ((torch, "cpu"), (ember, device)):
        t = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            np.asarray(t)
        if ember.device(dev).type == "cpu":
            with lib.no_grad():
                assert np.asarray(t).tolist() == [1.0, 2.0]


_LAYOUTS = {
    "big-endian": (lambda: np.array([1.0, 2.0], ">f4"), "byte order different from the native byte order"),
    "negative-stride": (lambda: np.arange(4.0)[::-1], "At least one stride in the given numpy array is negative"),
    "negative-column-stride": (
        lambda: np.arange(6).reshape(2, 3)[:, ::-2],
        "At least one stride in the given numpy array is negative",
    ),
}
_BUILDERS = {
    "tensor": lambda lib, a: lib.tensor(a),
    "tensor-dtype": lambda lib, a: lib.tensor(a, dtype=lib.float64),
    "as_tensor-dtype": lambda lib, a: lib.as_tensor(a, dtype=lib.float32),
    "asarray": lambda lib, a: lib.asarray(a),
    "asarray-copy": lambda lib, a: lib.asarray(a, copy=True),
    "new_tensor": lambda lib, a: lib.ones(1).new_tensor(a),
    "from_numpy": lambda lib, a: lib.from_numpy(a),
}


@pytest.mark.parametrize("layout", list(_LAYOUTS))
@pytest.mark.parametrize("build", list(_BUILDERS))
def test_arrays_torch_takes_no_tensor_of_raise_its_valueerror(layout, build):
    make, message = _LAYOUTS[layout]
    for lib in (torch, ember):
        with pytest.raises(ValueError, match=message):
            _BUILDERS[build](lib, make())
    # nested in a list, PyTorch copies them as they are
    want = torch.tensor([make(), make()]).tolist()
    assert ember.tensor([make(), make()]).tolist() == want
    native = make().astype(make().dtype.newbyteorder("="))  # the remedy: a copy in the native order, strides > 0
    assert ember.tensor(native).tolist() == torch.tensor(native).tolist()
