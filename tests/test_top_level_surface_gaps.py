"""Names PyTorch programs reach that ember lacked, against torch: ``ember.functional``, ``ember.types``,
``ember.torch_version`` and ``ember.__version__``, the deprecated autocast setters, ``SymInt``/``SymFloat``/
``SymBool``, the top-level ``embedding_bag`` (4-tuple) and ``segment_reduce``, and the Tensor's flags and
methods for devices ember has no backend for."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close

import ember

torch = pytest.importorskip("torch")


def _outcome(fn, *args, **kwargs):
    """``fn``'s result, or its exception's type; and the categories and messages of the warnings it gave
    (``torch.``/``ember.`` and PyTorch's C++ location left out)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the type is compared
            result = type(exc)
    said = [
        (w.category, str(w.message).split(" (Triggered")[0].replace("torch.", "").replace("ember.", "")) for w in caught
    ]
    if isinstance(result, (torch.dtype, ember.dtype)):
        result = str(result).split(".")[1]
    return result, said


# --- ember.functional, ember.types ---------------------------------------------------------------


def test_functional_module_holds_the_top_level_functions():
    import torch.functional as torch_functional

    assert ember.functional.__all__ == torch_functional.__all__
    for name in torch_functional.__all__:
        assert getattr(ember.functional, name) is getattr(ember, name), name
    a, b = ember.functional.meshgrid(ember.arange(2.0), ember.arange(3.0), indexing="ij")
    ta, tb = torch.functional.meshgrid(torch.arange(2.0), torch.arange(3.0), indexing="ij")
    assert_close(a, ta)
    assert_close(b, tb)


def test_types_module_names():
    import torch.types

    for name in ("Number", "Device", "FileLike", "Storage", "_dtype", "_size", "_int", "_float", "_bool",
                 "_complex", "_str", "_bytes", "_layout", "_device", "_qscheme", "_TensorOrTensors",
                 "IntLikeType", "FloatLikeType", "BoolLikeType", "PySymType", "py_sym_types"):  # fmt: skip
        assert hasattr(torch.types, name) and hasattr(ember.types, name), name
    assert ember.types._dtype is ember.dtype and ember.types._layout is ember.layout
    assert ember.types.py_sym_types == (ember.SymInt, ember.SymFloat, ember.SymBool)
    assert ember.types.Number == torch.types.Number


# --- TorchVersion ----------------------------------------------------------------------------------

VERSIONS = ["2.13.0+cpu", "2.13", "2.13.0", "2.13.0a0", "2.13.0.post1", "parrot", "2.13.0rc1", "1.0.dev1",
            "1.0a1", "1.0", "1!0.5", "1.0+abc.5", "1.0+abc.xyz", "1.0+5", "1.0.post1.dev2", "1.0-1", "v1.0",
            "1.0.RC1", "1.0alpha2", "1.10", "1.9", "0.1.0"]  # fmt: skip
OTHERS = VERSIONS + [(2, 13), (2, 13, 0), (2, 14), (2,), [1, 10], (1, "x"), 3, None]


@pytest.mark.parametrize("version", VERSIONS)
def test_torch_version_compares_as_torchs(version):
    from torch.torch_version import TorchVersion

    from ember.torch_version import TorchVersion as EmberVersion

    for other in OTHERS:
        for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
            got = _outcome(getattr(EmberVersion(version), op), other)
            want = _outcome(getattr(TorchVersion(version), op), other)
            assert got == want, (version, other, op)


def test_version_is_a_torch_version():
    from torch._vendor.packaging.version import Version

    v = ember.__version__
    assert isinstance(v, ember.torch_version.TorchVersion) and isinstance(v, str)
    assert isinstance(torch.__version__, str) and type(torch.__version__).__name__ == "TorchVersion"
    assert v == "0.1.0" and v >= (0, 1) and v < (1,) and v > "0.0.9" and v == Version("0.1")
    assert hash(v) == hash("0.1.0") and {v: 1}["0.1.0"] == 1 and str(v) == "0.1.0"
    with pytest.raises(TypeError):
        v < 3  # noqa: B015 - as torch.__version__ < 3


# --- autocast -------------------------------------------------------------------------------------

AUTOCAST_CALLS = [
    ("set_autocast_cpu_dtype", ("float16",)),
    ("set_autocast_cpu_dtype", ("x",)),
    ("set_autocast_cpu_enabled", (True,)),
    ("set_autocast_cpu_enabled", (1,)),
    ("set_autocast_gpu_dtype", ("bfloat16",)),
    ("set_autocast_gpu_dtype", (None,)),
    ("set_autocast_ipu_enabled", (True,)),
    ("set_autocast_ipu_dtype", ("bfloat16",)),
    ("set_autocast_xla_enabled", (True,)),
    ("set_autocast_xla_dtype", ("float16",)),
    ("is_autocast_ipu_enabled", ()),
    ("is_autocast_xla_enabled", ()),
    ("get_autocast_ipu_dtype", ()),
    ("get_autocast_xla_dtype", ()),
]


@pytest.mark.parametrize("name, args", AUTOCAST_CALLS)
def test_deprecated_autocast_functions_as_torch(name, args):
    def run(T):
        real = [getattr(T, a) if a in ("float16", "bfloat16") else a for a in args]
        out = _outcome(getattr(T, name), *real)
        seen = [str(T.get_autocast_dtype(d)) for d in ("cpu", "cuda", "ipu", "xla")]
        seen += [T.is_autocast_enabled(d) for d in ("cpu", "ipu", "xla")]
        return out, [s.split(".")[-1] for s in seen[:4]] + seen[4:]

    try:
        assert run(ember) == run(torch)
    finally:  # back to the defaults
        for T in (torch, ember):
            for device, dtype in (("cpu", T.bfloat16), ("cuda", T.float16), ("ipu", T.float16), ("xla", T.bfloat16)):
                T.set_autocast_dtype(device, dtype)
                T.set_autocast_enabled(device, False)


def test_autocast_getters_see_the_setters_and_regions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ember.set_autocast_cpu_enabled(True)
        try:
            assert ember.is_autocast_enabled("cpu") and ember.is_autocast_cpu_enabled()
            x = ember.nn.functional.linear(ember.ones(2, 3), ember.ones(4, 3))
            assert x.dtype is ember.bfloat16  # the setter turns the policy on, as a region does
        finally:
            ember.set_autocast_cpu_enabled(False)
        assert not ember.is_autocast_enabled("cpu")
    for T in (torch, ember):
        assert [T.get_autocast_dtype(d) for d in ("ipu", "mtia", "privateuseone")] == [T.float16] * 3


def test_autocast_nesting_counts_as_torchs():
    results = []
    for T in (torch, ember):
        counts = [T.autocast_increment_nesting(), T.autocast_increment_nesting(), T.autocast_decrement_nesting()]
        with T.autocast("cpu"):
            counts.append(T.autocast_increment_nesting())
            counts.append(T.autocast_decrement_nesting())
        counts.append(T.autocast_decrement_nesting())
        results.append(counts)
    assert results[0] == results[1] == [1, 2, 1, 3, 2, 0]


# --- SymInt, SymFloat, SymBool --------------------------------------------------------------------


def test_sym_classes_are_not_plain_numbers():
    for name in ("SymInt", "SymFloat", "SymBool"):
        cls = getattr(ember, name)
        assert isinstance(cls, type)
        for value in (3, 2.5, True, ember.zeros(3).shape[0]):
            assert not isinstance(value, cls) and not isinstance(value, getattr(torch, name))
    assert not issubclass(ember.SymInt, int) and not issubclass(torch.SymInt, int)
    assert ember.SymInt("s0").node == "s0"
    with pytest.raises(TypeError):
        ember.SymInt()
    with pytest.raises(TypeError):
        torch.SymInt()


# --- embedding_bag (the top-level 4-tuple) --------------------------------------------------------

BAG_CASES = [
    ([0, 2, 1, 3, 3, 5], [0, 3, 3]),  # an empty bag in the middle
    ([0, 2, 1, 3, 3, 5], [0, 1, 2, 6]),
    ([], [0, 0]),  # no index at all
    ([4, 4, 1], [0]),
    ([1, 2, 3, 4], [0, 2, 4]),
]


def _bag_pair(device, dtype, weight):
    we = ember.tensor(weight, dtype=dtype, device=device, requires_grad=True)
    wt = torch.tensor(weight, dtype=getattr(torch, dtype.name), requires_grad=True)
    return we, wt


# include_last_offset where the last offset is the input's length (PyTorch's own kernels disagree otherwise)
BAG_CASES_LAST = [(i, o, False) for i, o in BAG_CASES] + [(i, o, True) for i, o in BAG_CASES if o[-1] == len(i)]


@pytest.mark.parametrize("indices, offsets, include_last_offset", BAG_CASES_LAST)
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("padding_idx", [None, 4, -2])
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_embedding_bag_four_results_as_torch(
    device, dtype, indices, offsets, include_last_offset, mode, padding_idx, index_dtype
):
    weight = np.random.default_rng(0).standard_normal((6, 3))
    we, wt = _bag_pair(device, dtype, weight)
    idx = np.array(indices, dtype=index_dtype)
    args = (mode, False, None, include_last_offset, padding_idx)
    got = ember.embedding_bag(
        we, ember.tensor(idx, device=device), ember.tensor(np.array(offsets, dtype=index_dtype), device=device), False,
        *args,
    )  # fmt: skip
    want = torch.embedding_bag(wt, torch.tensor(idx), torch.tensor(np.array(offsets, dtype=index_dtype)), False, *args)
    assert len(got) == 4
    assert_close(got[0], want[0], dtype)
    for name, a, b in zip(("offset2bag", "bag_size", "max_indices"), got[1:], want[1:]):
        assert a.dtype.name == str(b.dtype).split(".")[1], name
        assert_close(a, b, what=name)
        assert not a.requires_grad
    if want[0].numel():
        grad = np.random.default_rng(1).standard_normal(tuple(want[0].shape))
        got[0].backward(ember.tensor(grad, dtype=dtype, device=device))
        want[0].backward(torch.tensor(grad, dtype=wt.dtype))
        assert_close(we.grad, wt.grad, dtype, what="weight grad")


@pytest.mark.parametrize("weight_dtype", ["float32", "float16", "bfloat16"])
def test_embedding_bag_fast_sum_has_no_offset2bag(weight_dtype):
    """PyTorch's fast CPU sum (16/32-bit weight, unit column stride, no padding_idx) fills no offset2bag."""
    weight = np.arange(12.0).reshape(4, 3)
    for per_sample in (False, True):
        results = []
        for T in (torch, ember):
            w = T.tensor(weight).to(getattr(T, weight_dtype))
            psw = T.tensor([1.0, 2.0, 3.0, 4.0]).to(w.dtype) if per_sample else None
            out = T.embedding_bag(w, T.tensor([0, 2, 1, 3]), T.tensor([0, 2]), False, 0, False, psw)
            strided = T.embedding_bag(w.t().contiguous().t(), T.tensor([0, 2, 1, 3]), T.tensor([0, 2]), False, 0)
            results.append([(tuple(o.shape), o.float().tolist()) for o in (*out, strided[1])])
        assert results[0] == results[1]


def test_embedding_bag_sparse_and_keywords():
    weight = np.arange(12.0).reshape(4, 3)
    grads = []
    for T in (torch, ember):
        w = T.tensor(weight, requires_grad=True)
        T.embedding_bag(w, T.tensor([0, 2, 2]), T.tensor([0, 1]), False, 0, True)[0].sum().backward()
        assert w.grad.is_sparse
        grads.append(w.grad.to_dense().tolist())
        out = T.embedding_bag(weight=w.detach(), indices=T.tensor([0, 2]), offsets=T.tensor([0]), mode=1)
        grads.append([o.tolist() for o in out])
    assert grads[0] == grads[2] and grads[1] == grads[3]


EMBEDDING_BAG_ERRORS = [
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, 3),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, "sum"),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, True),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), None, False, 0),
    lambda T, w: T.embedding_bag(w[0], T.tensor([0, 2]), T.tensor([0]), False, 0),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([[0]]), False, 0),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, 1, False, T.ones(2, dtype=w.dtype)),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, 0, False, T.ones(3, dtype=w.dtype)),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, 0, False, T.ones(2, dtype=T.float32)),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([0]), False, 0, False, None, False, 4),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([1]), False, 0),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 9]), T.tensor([0]), False, 0),
    lambda T, w: T.embedding_bag(w, T.tensor([0.0, 2.0]), T.tensor([0]), False, 0),
    lambda T, w: T.embedding_bag(w.long(), T.tensor([0, 2]), T.tensor([0]), False, 0),
    lambda T, w: T.embedding_bag(w, T.tensor([0, 2]), T.tensor([], dtype=T.int64), False, 0, False, None, True),
]


@pytest.mark.parametrize("case", range(len(EMBEDDING_BAG_ERRORS)))
def test_embedding_bag_errors_as_torch(device, case):
    weight = np.arange(12.0).reshape(4, 3)
    raised = []
    for T, kwargs in ((torch, {}), (ember, {"device": device})):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared with torch's below
            EMBEDDING_BAG_ERRORS[case](T, T.tensor(weight, **kwargs))
        raised.append(info.type)
    assert raised[0] is raised[1]


# --- the Tensor's flags and methods for absent devices; storages ------------------------------------

FLAGS = ["is_nested", "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_mkldnn", "name"]


def test_absent_device_flags_as_torch(device):
    x, t = ember.ones(2, device=device), torch.ones(2)
    for flag in FLAGS:
        assert getattr(x, flag) == getattr(t, flag), flag
        assert isinstance(getattr(ember.Tensor, flag), property), flag
    assert x.is_distributed() is t.is_distributed() is False
    assert ember.is_distributed(x) is torch.is_distributed(t) is False
    for T in (torch, ember):
        with pytest.raises(TypeError, match="must be Tensor"):
            T.is_distributed(3)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.xpu(),
        lambda x: x.xpu(0),
        lambda x: x.ipu(),
        lambda x: x.ipu(0),
        lambda x: x.mtia(),
        lambda x: x.mtia(0),
        lambda x: x.to_padded_tensor(0.0),
        lambda x: x.to_padded_tensor(0.0, [3]),
    ],
)
def test_absent_device_methods_raise_as_torch(call):
    with pytest.raises(Exception) as want:  # noqa: PT011 - compared below
        call(torch.ones(2))
    with pytest.raises(want.type):
        call(ember.ones(2))


def test_record_stream_refused_off_cuda_as_torch():
    with pytest.raises(NotImplementedError):
        torch.ones(2).record_stream(torch.Stream())
    with pytest.raises(NotImplementedError, match="record_stream"):
        ember.ones(2).record_stream(ember.Stream("cpu"))


def test_chalf_has_no_complex32():
    with pytest.raises(RuntimeError, match="complex32"):
        ember.ones(2).chalf()


@pytest.mark.parametrize("assign", [False, True])
def test_module_load_as_torch(assign):
    results = []
    for T in (torch, ember):
        param = T.nn.Parameter(T.zeros(3))
        other = T.arange(3.0, requires_grad=True)
        with T.no_grad():
            out = param.module_load(other, assign=assign)
        results.append((out.tolist(), param.tolist(), out.requires_grad, out is other, out is param))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16",
                                        "int8", "uint8", "bool", "complex64", "complex128", "uint16"])  # fmt: skip
def test_storage_type_as_torch(dtype_name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ember.ones(2, dtype=getattr(ember, dtype_name)).storage_type()
        want = torch.ones(2, dtype=getattr(torch, dtype_name)).storage_type()
    assert (got and got.__name__) == (want and want.__name__)
    if got is not None:
        assert got is getattr(ember, got.__name__)


def test_storage_names():
    assert ember.Storage is ember.FloatStorage and torch.Storage is torch.FloatStorage
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        assert ember.Storage is ember.DoubleStorage and torch.Storage is torch.DoubleStorage
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)
    assert ember.storage.TypedStorage is ember.TypedStorage and ember.storage.UntypedStorage is ember.UntypedStorage
    assert sorted(ember.storage.__all__) == sorted(torch.storage.__all__)


def test_conj_physical_top_level_in_place():
    x = ember.tensor([1 + 2j, -3j])
    t = torch.tensor([1 + 2j, -3j])
    assert ember.conj_physical_(x) is x and torch.conj_physical_(t) is t
    assert x.tolist() == t.tolist()


# --- segment_reduce -------------------------------------------------------------------------------

_D1 = [1.0, 3.0, 2.0, 5.0, 5.0, 0.0, 4.0]
_D1_TIES = [5.0, 5.0, 1.0, 0.0, 0.0, 2.0, 2.0]  # ties for max/min, zeros for prod
SEGMENT_CASES = [
    (_D1, {"lengths": [2, 0, 3, 2]}),
    (_D1_TIES, {"lengths": [2, 0, 3, 2]}),
    (_D1_TIES, {"offsets": [0, 2, 2, 5, 7]}),
    (_D1, {"lengths": [0, 0, 7, 0]}),
    (_D1, {"lengths": [2, 2], "unsafe": True}),  # the positions past the last segment left out
    (_D1_TIES, {"offsets": [1, 3, 3]}),  # offsets need not start at 0 nor end at the length
    ("3d", {"lengths": [[1, 3], [2, 2], [0, 4]], "axis": 1}),
    ("3d", {"lengths": [1, 2], "axis": 0}),
    ("3d", {"offsets": [[0, 1, 4], [0, 0, 4], [0, 4, 4]], "axis": -2}),
    ("3d", {"lengths": [[[1, 1], [2, 0], [0, 2], [1, 1]]] * 3, "axis": 2}),
]


@pytest.mark.parametrize("data, kwargs", SEGMENT_CASES)
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax"])
@pytest.mark.parametrize("initial", [None, 2.0, 5.0])
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_segment_reduce_as_torch(device, dtype, data, kwargs, reduce, initial, index_dtype):
    if isinstance(data, str):
        data = np.random.default_rng(0).standard_normal((3, 4, 2))
        data[0, 1] = data[0, 0]  # a tie
    data = np.asarray(data)
    tkw = {k: torch.tensor(np.array(v, dtype=index_dtype)) if isinstance(v, list) else v for k, v in kwargs.items()}
    ekw = {k: ember.tensor(np.array(v, dtype=index_dtype), device=device) if isinstance(v, list) else v
           for k, v in kwargs.items()}  # fmt: skip
    xt = torch.tensor(data, dtype=getattr(torch, dtype.name), requires_grad=True)
    xe = ember.tensor(data, dtype=dtype, device=device, requires_grad=True)
    want = torch.segment_reduce(xt, reduce, initial=initial, **tkw)
    got = ember.segment_reduce(xe, reduce, initial=initial, **ekw)
    assert got.dtype is dtype
    assert_close(got, want, dtype)
    grad = np.arange(1.0, 1.0 + want.numel()).reshape(tuple(want.shape))
    (gt,) = torch.autograd.grad(want, xt, torch.tensor(grad, dtype=xt.dtype))
    (ge,) = ember.autograd.grad(got, xe, ember.tensor(grad, dtype=dtype, device=device))
    assert_close(ge, gt, dtype, what="data grad")


def test_segment_reduce_half_precision():
    for name in ("float16", "bfloat16"):
        for reduce in ("mean", "prod", "max"):
            want = torch.segment_reduce(
                torch.tensor(_D1, dtype=getattr(torch, name)), reduce, lengths=torch.tensor([2, 0, 5])
            )
            got = ember.segment_reduce(
                ember.tensor(_D1, dtype=getattr(ember, name)), reduce, lengths=ember.tensor([2, 0, 5])
            )
            assert got.dtype.name == name
            assert_close(got.float(), want.float())


SEGMENT_ERRORS = [
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([2, 2])),
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([2, -1, 6])),
    lambda T, d: T.segment_reduce(d, "sum"),
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([2.0, 5.0])),
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([2, 5]), axis=1),
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([2, 5]), indices=T.tensor([2, 5])),
    lambda T, d: T.segment_reduce(d, "avg", lengths=T.tensor([2, 5])),
    lambda T, d: T.segment_reduce(d.long(), "sum", lengths=T.tensor([2, 5])),
    lambda T, d: T.segment_reduce(d, "sum", offsets=T.tensor([0, 2, 1, 7])),
    lambda T, d: T.segment_reduce(d[0], "sum", lengths=T.tensor([1])),
    lambda T, d: T.segment_reduce(d.reshape(1, 7), "sum", lengths=T.tensor([[1, 2], [3, 1]]), axis=0),
    lambda T, d: T.segment_reduce(d, "sum", T.tensor([2, 5])),
    lambda T, d: T.segment_reduce(d, "sum", lengths=T.tensor([], dtype=T.int64)),
]


@pytest.mark.parametrize("case", range(len(SEGMENT_ERRORS)))
def test_segment_reduce_errors_as_torch(case):
    raised = []
    for T in (torch, ember):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared with torch's below
            SEGMENT_ERRORS[case](T, T.tensor(_D1))
        raised.append(info.type)
    assert raised[0] is raised[1]


# --- norm_except_dim, embedding_renorm_, native_norm, the sparse products --------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (3, 1)])
@pytest.mark.parametrize("pow_, dim", [(2, 0), (2, 1), (2, -1), (1, 0), (3, -2), (0, 0)])
def test_norm_except_dim_as_torch(device, dtype, shape, pow_, dim):
    if dim >= len(shape) or dim < -len(shape):
        with pytest.raises(IndexError):
            torch.norm_except_dim(torch.ones(shape), pow_, dim)
        with pytest.raises(IndexError):
            ember.norm_except_dim(ember.ones(shape, device=device), pow_, dim)
        return
    data = np.random.default_rng(0).standard_normal(shape)
    xt = torch.tensor(data, dtype=getattr(torch, dtype.name), requires_grad=True)
    xe = ember.tensor(data, dtype=dtype, device=device, requires_grad=True)
    want, got = torch.norm_except_dim(xt, pow_, dim), ember.norm_except_dim(xe, pow_, dim)
    assert_close(got, want, dtype)
    if pow_:
        grad = np.random.default_rng(1).standard_normal(tuple(want.shape))
        (gt,) = torch.autograd.grad(want, xt, torch.tensor(grad, dtype=xt.dtype))
        (ge,) = ember.autograd.grad(got, xe, ember.tensor(grad, dtype=dtype, device=device))
        assert_close(ge, gt, dtype, what="grad")


def test_norm_except_dim_errors_as_torch():
    for T in (torch, ember):
        with pytest.raises(TypeError, match="pow"):
            T.norm_except_dim(T.ones(2, 3), 2.0, 0)
        with pytest.raises(IndexError):
            T.norm_except_dim(T.tensor(3.0), 2, 0)
    assert ember.norm_except_dim(ember.ones(2, 3, dtype=ember.float16)).dtype is ember.float16


@pytest.mark.parametrize("indices", [[1, 3, 1], [[1], [2]], [0, 2]])
@pytest.mark.parametrize("max_norm, norm_type", [(5.0, 2.0), (5.0, 1.0), (100.0, 2.0)])
def test_embedding_renorm_as_torch(device, dtype, indices, max_norm, norm_type):
    weight = np.arange(12.0).reshape(4, 3)
    wt = torch.tensor(weight, dtype=getattr(torch, dtype.name))
    we = ember.tensor(weight, dtype=dtype, device=device)
    assert torch.embedding_renorm_(wt, torch.tensor(indices), max_norm, norm_type) is wt
    assert ember.embedding_renorm_(we, ember.tensor(indices, device=device), max_norm, norm_type) is we
    assert_close(we, wt, dtype)


@pytest.mark.parametrize(
    "call",
    [
        lambda T, w: T.embedding_renorm_(w.float(), T.tensor([1.0]), 1.0, 2.0),
        lambda T, w: T.embedding_renorm_(w, T.tensor([9]), 1.0, 2.0),
        lambda T, w: T.embedding_renorm_(w[0], T.tensor([1]), 1.0, 2.0),
        lambda T, w: T.embedding_renorm_(w.requires_grad_(), T.tensor([1]), 1.0, 2.0),
    ],
)
def test_embedding_renorm_errors_as_torch(call):
    raised = []
    for T in (torch, ember):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared with torch's below
            call(T, T.arange(12.0, dtype=T.float64).reshape(4, 3))
        raised.append(info.type)
    assert raised[0] is raised[1]


def test_native_norm_sparse_only_as_torch():
    results = []
    for T in (torch, ember):
        s = T.sparse_coo_tensor([[0, 2, 2]], [3.0, 4.0, -2.0], (3,))  # coalesced: 3 and 2
        results.append([round(float(T.native_norm(s, p)), 5) for p in (2, 1, 3)])
        with pytest.raises(NotImplementedError):
            T.native_norm(T.ones(3))
    assert results[0] == results[1]


def test_sparse_products_as_torch():
    results = []
    for T in (torch, ember):
        s = T.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        d = T.tensor([[1.0, 2.0], [3.0, 4.0]])
        products = [s.smm(d), s.sspaddmm(s, d), T.saddmm(s, s, d), T.sspaddmm(s, s, d, beta=2, alpha=3)]
        assert all(p.is_sparse for p in products)
        results.append([p.to_dense().tolist() for p in products])
        with pytest.raises(RuntimeError):
            d.smm(d)
        with pytest.raises(RuntimeError):
            d.sspaddmm(s, d)
        with pytest.raises(RuntimeError):  # a strided tensor where a sparse one goes
            T.smm(d, d)
        with pytest.raises(RuntimeError):
            T.sspaddmm(d, s, d)
        with pytest.raises(RuntimeError):
            T.saddmm(s, d, d)
    assert results[0] == results[1]


def test_slice_inverse_as_torch(device, dtype):
    data = np.arange(12.0).reshape(3, 4)
    bt, be = torch.tensor(data, dtype=getattr(torch, dtype.name)), ember.tensor(data, dtype=dtype, device=device)
    for slicer, args in ((lambda b: b[1:3, ::2], (1, 0, None, 2)), (lambda b: b[1:], (0,)), (lambda b: b, (0,))):
        rt = slicer(bt).slice_inverse(bt, *args)
        re_ = slicer(be).slice_inverse(be, *args)
        assert (tuple(re_.shape), re_.stride(), re_.storage_offset()) == (
            tuple(rt.shape),
            rt.stride(),
            rt.storage_offset(),
        )
        assert_close(re_, rt, dtype)
    assert ember.slice_inverse(be[1:], be, 0).shape == (3, 4)
    for T in (torch, ember):
        with pytest.raises(RuntimeError):
            T.ones(2).slice_inverse(T.ones(5), 0)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_per_sample_weights_gradients_as_torch(device, dtype, padding_idx):
    weight = np.random.default_rng(0).standard_normal((5, 3))
    psw = np.array([0.5, -1.0, 2.0, 3.0])
    results = []
    for T, kwargs in ((torch, {"dtype": getattr(torch, dtype.name)}), (ember, {"dtype": dtype, "device": device})):
        w = T.tensor(weight, requires_grad=True, **kwargs)
        p = T.tensor(psw, requires_grad=True, **kwargs)
        index_kwargs = {"device": device} if T is ember else {}
        out = T.embedding_bag(
            w, T.tensor([0, 2, 2, 4], **index_kwargs), T.tensor([0, 1, 1], **index_kwargs), False, 0, False, p,
            False, padding_idx,
        )  # fmt: skip
        out[0].backward(T.ones(3, 3, **kwargs) * T.tensor([[1.0], [2.0], [3.0]], **kwargs))
        results.append((out[0], w.grad, p.grad, out[1]))
    for got, want in zip(results[1], results[0]):
        assert_close(got, want, dtype if got.dtype.is_floating_point else None)


_NAN, _INF = float("nan"), float("inf")
_NONFINITE_TABLE = [[1.0, 5.0], [_NAN, 3.0], [3.0, _NAN], [0.0, 0.0], [_NAN, _NAN], [-_INF, -_INF], [-_INF, 2.0]]


@pytest.mark.parametrize(
    "indices, offsets",
    [([0, 1, 2], [0]), ([1, 0, 2], [0]), ([0, 4], [0]), ([4, 0], [0]), ([5, 6, 5], [0]), ([3, 5, 6], [0, 1]),
     ([2, 5, 1], [0, 0, 1, 3])],
)  # fmt: skip
@pytest.mark.parametrize("padding_idx", [None, 1, 5])
def test_embedding_bag_max_with_nan_and_inf_as_torch(device, dtype, indices, offsets, padding_idx):
    """A bag's NaN counts only as its first entry, later ones are passed over (PyTorch's kernels move to a
    later entry only when it is greater); a bag of -inf keeps its first entry."""
    results = []
    for T, kwargs in ((torch, {"dtype": getattr(torch, dtype.name)}), (ember, {"dtype": dtype, "device": device})):
        index_kwargs = {"device": device} if T is ember else {}
        w = T.tensor(_NONFINITE_TABLE, requires_grad=True, **kwargs)
        out = T.embedding_bag(
            w, T.tensor(indices, **index_kwargs), T.tensor(offsets, **index_kwargs), False, 2, False, None, False,
            padding_idx,
        )  # fmt: skip
        out[0].sum().backward()
        results.append((out[0], out[3], w.grad))
        if T is ember:  # the functional form gives the same output
            f = ember.nn.functional.embedding_bag(
                ember.tensor(indices, device=device), w.detach(), ember.tensor(offsets, device=device), mode="max",
                padding_idx=padding_idx,
            )  # fmt: skip
            assert_close(f, out[0], dtype)
    for got, want in zip(results[1], results[0]):
        assert_close(got, want, dtype if got.dtype.is_floating_point else None)
