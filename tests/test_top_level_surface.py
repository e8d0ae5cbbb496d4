"""Smaller parts of PyTorch's surface against torch: the math constants and ``newaxis``,
``ember.version``, ``ember.GradScaler``, the legacy CUDA tensor types,
``set_default_tensor_type``, and ``Tensor.apply_``/``map_``."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def test_constants_are_torchs():
    for name in ("pi", "e", "inf", "nan"):
        a, b = getattr(ember, name), getattr(torch, name)
        assert type(a) is type(b) is float and (a == b or (np.isnan(a) and np.isnan(b))), name
    assert ember.newaxis is torch.newaxis is None
    x = ember.arange(3.0)
    assert tuple(x[:, ember.newaxis].shape) == tuple(torch.arange(3.0)[:, torch.newaxis].shape) == (3, 1)


def test_version_module_and_grad_scaler():
    import ember.version

    assert ember.version.__version__ == ember.__version__
    assert ember.version.hip is None and ember.version.debug is False
    assert ember.version.cuda is None or ember.version.cuda.count(".") == 1
    assert ember.GradScaler is ember.amp.GradScaler


def test_cuda_legacy_types_name_cuda_types():
    assert ember.cuda.FloatTensor._legacy_dtype is ember.float32
    assert ember.cuda.LongTensor.__module__ == "ember.cuda"
    x = ember.tensor([1.5])
    assert x.type(ember.DoubleTensor).dtype is ember.float64
    assert x.type("torch.IntTensor").dtype is ember.int32


@pytest.mark.parametrize("legacy", ["DoubleTensor", "FloatTensor", "HalfTensor"])
def test_set_default_tensor_type_as_torch(legacy):
    results = []
    for T in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                T.set_default_tensor_type(getattr(T, legacy))
                results.append((str(T.get_default_dtype()).split(".")[1], str(T.tensor([1.5]).dtype).split(".")[1]))
                T.set_default_tensor_type(f"torch.{legacy}")
                results.append(str(T.get_default_dtype()).split(".")[1])
            finally:
                T.set_default_dtype(T.float32)
        if T is ember:  # torch warns once per process
            assert {w.category for w in caught} == {UserWarning}
            assert "deprecated" in str(caught[0].message)
    assert results[:2] == results[2:]


@pytest.mark.parametrize("spec", ["LongTensor", "torch.IntTensor", "torch.cuda.FloatTensor"])
def test_set_default_tensor_type_errors_as_torch(spec):
    if spec.startswith("torch.cuda") and (ember.cuda.is_available() or torch.cuda.is_available()):
        pytest.skip("compares machines without CUDA")
    for T in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(TypeError, match="floating-point|not available"):
                T.set_default_tensor_type(getattr(T, spec) if "." not in spec else spec)
        assert T.get_default_dtype() is T.float32


APPLY_CASES = [
    ("float32", [1.5, -2.0, 3.25], lambda v: v * 10 - 1),
    ("float64", [1.5, -2.0, 3.25], lambda v: v / 3),
    ("float16", [1.5, -2.0, 3.25], lambda v: v / 3),
    ("bfloat16", [1.5, -2.0, 3.25], lambda v: v / 3),
    ("int64", [-7, 3, 10], lambda v: v / 2),  # truncated toward zero
    ("int32", [-7, 3, 10], lambda v: v * 3),
    ("uint8", [0, 3, 200], lambda v: v // 2),
    ("bool", [True, False, True], lambda v: 0.5 if v else 0),
]


@pytest.mark.parametrize("dtype, values, fn", APPLY_CASES, ids=[c[0] for c in APPLY_CASES])
def test_apply_as_torch(dtype, values, fn):
    out = []
    for T in (torch, ember):
        x = T.tensor(values, dtype=getattr(T, dtype))
        base = T.zeros(2, 3, dtype=getattr(T, dtype))
        view = base.t()  # a view: the writes go through to base
        view.apply_(lambda v: 1)
        y = x.apply_(fn)
        assert y is x
        out.append((x.tolist(), base.tolist(), str(x.dtype).split(".")[1]))
    assert out[0] == out[1]


def test_apply_on_a_computed_zero_dim_tensor():
    e, t = ember.tensor(2.0) * 1, torch.tensor(2.0) * 1
    assert e.apply_(lambda v: v + 1).item() == t.apply_(lambda v: v + 1).item() == 3.0


@pytest.mark.parametrize("other", [[10.0, 20.0, 30.0], [5.0]])
def test_map_as_torch(other):
    out = []
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0, 3.0])
        out.append(x.map_(T.tensor(other), lambda a, b: a * b + 1).tolist())
    assert out[0] == out[1]


ERROR_CASES = [
    (lambda T: T.tensor([200], dtype=T.uint8).apply_(lambda v: v + 100), RuntimeError, "without overflow"),
    (lambda T: T.tensor([1]).apply_(lambda v: 2**70), ValueError, "Overflow"),
    (lambda T: T.tensor([1.0]).apply_(lambda v: "a"), TypeError, "must be real number"),
    (lambda T: T.tensor([1.0], requires_grad=True).apply_(lambda v: v), RuntimeError, "requires grad"),
    (lambda T: T.tensor([1.0]).map_(T.tensor([1.0], requires_grad=True), lambda a, b: a), RuntimeError, "grad"),
    (lambda T: T.arange(4.0).map_(T.arange(4), lambda a, b: a), TypeError, "map_"),
    (lambda T: T.arange(4.0).map_([1.0] * 4, lambda a, b: a), TypeError, "must be Tensor"),
    (lambda T: T.arange(4.0).map_(T.ones(3), lambda a, b: a), RuntimeError, "size"),
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_apply_and_map_errors_as_torch(case):
    call, error, match = ERROR_CASES[case]
    with pytest.raises(error, match=match):
        call(torch)
    with pytest.raises(error, match=match):
        call(ember)


def test_apply_refuses_other_devices(device):
    if device == "cpu" or device.startswith("restricted"):
        pytest.skip("the device runs apply_ (cpu) or is checked on cpu")
    with pytest.raises(RuntimeError, match="only implemented on CPU"):
        ember.tensor([1.0], device=device).apply_(lambda v: v)


@pytest.mark.parametrize("args", [(2,), ((2,),), (2, 2), ([2, 2],), ((1, 2, 1),)])
def test_tile_method_takes_counts_as_torch(args, device):
    theirs = torch.arange(3).tile(*args)
    ours = ember.arange(3, device=device).tile(*args)
    assert ours.tolist() == theirs.tolist()


def test_tile_function_takes_a_tuple_as_torch():
    with pytest.raises(TypeError):
        torch.tile(torch.arange(3), 2)
    assert ember.tile(ember.arange(3), (2,)).tolist() == [0, 1, 2, 0, 1, 2]
